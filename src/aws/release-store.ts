import type {Parameter, SSMClient} from '@aws-sdk/client-ssm'

import {HerogateError, LockHeld} from '../lib/errors.js'
import {names} from '../lib/naming.js'
import {awsFailure, isAwsError} from './errors.js'
import type {ReleaseStatus} from '../platform/types.js'

/**
 * herogate's own state in SSM Parameter Store: release records, config snapshots and the
 * per-app lock. Every "create" is PutParameter without Overwrite, which fails when the name
 * exists: that makes version numbers and the lock race-free without any other service.
 */

/** What a release record holds (a String parameter: no config values are ever in it). */
export interface ReleaseRecord {
  version: number
  kind: 'deploy' | 'config' | 'rollback'
  description: string
  status: ReleaseStatus
  author: string
  createdAt: string
  finishedAt?: string
  commit?: string
  image?: string
  configVersion?: number
  processTypes?: Record<string, string>
  taskDefinitions?: Record<string, string>
  /** For a rollback: the release it restored. */
  rollbackTo?: number
  /** While pending: 'build', 'release phase', 'rollout'. */
  phase?: string
  /** Why it failed, one line (never config values). */
  failure?: string
}

export type NewRelease = Omit<ReleaseRecord, 'version'>

/**
 * The head parameter: what a new release needs to know, in one read instead of a listing of
 * every record. Written when a release ends; a release made without writing it (a crashed run,
 * an older herogate) makes it stale, which creating v(latest + 1) finds out (that name exists).
 */
export interface ReleaseHead {
  /** The newest release's version. */
  latest: number
  /** The newest succeeded release. */
  current?: ReleaseRecord
  /** The newest config version (snapshot). */
  configVersion?: number
}

/** Standard-tier parameters hold at most 4 KB. */
export const PARAMETER_LIMIT = 4096
const MAX_CREATE_ATTEMPTS = 20

function wrap(error: unknown, what: string): never {
  // AWS's message is left out: SSM validation errors can echo a parameter value back.
  throw awsFailure(error, what, {keepMessage: false})
}

function versionOf(name: string): number {
  return Number(name.slice(name.lastIndexOf('/') + 1))
}

/** Shrinks a record until its JSON fits a standard parameter: long commands are cut (the task definitions keep them whole). */
export function fitRecord(record: ReleaseRecord, limit = PARAMETER_LIMIT): string {
  let text = JSON.stringify(record)
  if (Buffer.byteLength(text) <= limit) return text
  const copy: ReleaseRecord = {...record, processTypes: {...record.processTypes}}
  for (let keep = 200; keep >= 0; keep = keep > 20 ? Math.floor(keep / 2) : keep - 10) {
    for (const [type, command] of Object.entries(record.processTypes ?? {})) {
      copy.processTypes![type] = command.length > keep ? `${command.slice(0, Math.max(keep, 0))}…` : command
    }

    text = JSON.stringify(copy)
    if (Buffer.byteLength(text) <= limit) return text
  }

  if (copy.failure) copy.failure = copy.failure.slice(0, 200)
  text = JSON.stringify(copy)
  if (Buffer.byteLength(text) > limit) throw new HerogateError(`Release v${record.version} has too many process types to record (over 4 KB).`)
  return text
}

export class ReleaseStore {
  constructor(private readonly ssm: SSMClient) {}

  /**
   * Every release record, newest first. GetParametersByPath (10 a call) rather than
   * DescribeParameters, because it can be granted on the app's path alone.
   */
  async all(app: string): Promise<ReleaseRecord[]> {
    const {GetParametersByPathCommand} = await import('@aws-sdk/client-ssm')
    const records: ReleaseRecord[] = []
    let nextToken: string | undefined
    try {
      do {
        const page = await this.ssm.send(new GetParametersByPathCommand({Path: names.releasesPath(app), Recursive: false, MaxResults: 10, NextToken: nextToken}))
        for (const parameter of page.Parameters ?? []) {
          const record = parseRecord(parameter)
          if (record) records.push(record)
        }

        nextToken = page.NextToken
      } while (nextToken)
    } catch (error) {
      wrap(error, `reading the releases of ${app}`)
    }

    return records.sort((a, b) => b.version - a.version)
  }

  /** Release versions that exist, newest first. */
  async versions(app: string): Promise<number[]> {
    return (await this.all(app)).map((r) => r.version)
  }

  async get(app: string, version: number): Promise<ReleaseRecord | undefined> {
    const {GetParameterCommand} = await import('@aws-sdk/client-ssm')
    try {
      const result = await this.ssm.send(new GetParameterCommand({Name: names.releaseParameter(app, version)}))
      return result.Parameter ? parseRecord(result.Parameter) : undefined
    } catch (error) {
      if (isAwsError(error, 'ParameterNotFound')) return undefined
      wrap(error, `reading release v${version} of ${app}`)
    }
  }

  /** The newest `num` releases, newest first. */
  async list(app: string, num: number): Promise<ReleaseRecord[]> {
    return (await this.all(app)).slice(0, Math.max(num, 0))
  }

  /** The newest release with the given status (default: succeeded), optionally older than `before`. */
  async latest(app: string, status: ReleaseStatus = 'succeeded', before?: number): Promise<ReleaseRecord | undefined> {
    return (await this.all(app)).find((r) => r.status === status && (before === undefined || r.version < before))
  }

  /** The head (see ReleaseHead); undefined when there is none or it cannot be read as one. */
  async head(app: string): Promise<ReleaseHead | undefined> {
    const {GetParameterCommand} = await import('@aws-sdk/client-ssm')
    try {
      const result = await this.ssm.send(new GetParameterCommand({Name: names.releaseHeadParameter(app)}))
      const head = JSON.parse(result.Parameter?.Value ?? '') as ReleaseHead
      return typeof head.latest === 'number' && (head.current === undefined || typeof head.current.version === 'number') ? head : undefined
    } catch (error) {
      if (isAwsError(error, 'ParameterNotFound') || error instanceof SyntaxError) return undefined
      wrap(error, `reading the releases of ${app}`)
    }
  }

  async writeHead(app: string, head: ReleaseHead): Promise<void> {
    const {PutParameterCommand} = await import('@aws-sdk/client-ssm')
    // The current record is cut to leave room for the rest (its own parameter keeps it whole).
    const current = head.current ? JSON.parse(fitRecord(head.current, PARAMETER_LIMIT - 200)) as ReleaseRecord : undefined
    try {
      await this.ssm.send(new PutParameterCommand({
        Name: names.releaseHeadParameter(app),
        Value: JSON.stringify({...head, current}),
        Type: 'String',
        Overwrite: true,
      }))
    } catch (error) {
      wrap(error, `recording the releases of ${app}`)
    }
  }

  /** Creates release v`version` exactly; undefined when that version exists already. */
  async createAt(app: string, version: number, release: NewRelease): Promise<ReleaseRecord | undefined> {
    const {PutParameterCommand} = await import('@aws-sdk/client-ssm')
    const record: ReleaseRecord = {version, ...release}
    try {
      await this.ssm.send(new PutParameterCommand({
        Name: names.releaseParameter(app, version),
        Value: fitRecord(record),
        Type: 'String',
        Overwrite: false,
        Description: `herogate release v${version} of ${app}`,
      }))
      return record
    } catch (error) {
      if (isAwsError(error, 'ParameterAlreadyExists')) return undefined
      wrap(error, `recording a release of ${app}`)
    }
  }

  /**
   * Creates the next release vN; a concurrent creator of the same N makes this one take N+1.
   * `after`: the newest version the caller knows of (saves listing them).
   */
  async create(app: string, release: NewRelease, after?: number): Promise<ReleaseRecord> {
    let version = (after ?? (await this.versions(app))[0] ?? 0) + 1
    for (let attempt = 0; attempt < MAX_CREATE_ATTEMPTS; attempt++, version++) {
      const record = await this.createAt(app, version, release)
      if (record) return record
    }

    throw new HerogateError(`Could not record a release of ${app}: too many releases were created at the same time.`, {
      suggestions: ['try again'],
    })
  }

  /** Records how a pending release ended (status, phase, failure); everything else stays as created. */
  async update(app: string, record: ReleaseRecord): Promise<void> {
    const {PutParameterCommand} = await import('@aws-sdk/client-ssm')
    try {
      await this.ssm.send(new PutParameterCommand({
        Name: names.releaseParameter(app, record.version),
        Value: fitRecord(record),
        Type: 'String',
        Overwrite: true,
      }))
    } catch (error) {
      wrap(error, `updating release v${record.version} of ${app}`)
    }
  }
}

function parseRecord(parameter: Parameter): ReleaseRecord | undefined {
  try {
    const record = JSON.parse(parameter.Value ?? '') as ReleaseRecord
    return typeof record.version === 'number' ? record : undefined
  } catch {
    return undefined
  }
}

/**
 * Config vars as they were at one moment (SecureString JSON in chunks under
 * names.configVersionsPath); releases point at these by number, and a rollback restores one
 * through the live ConfigStore (src/aws/ssm.ts).
 */
export class ConfigVersionStore {
  /** Chunk size in characters; JSON.stringify escapes non-ASCII so that bytes equal characters. */
  static readonly CHUNK = 4000

  constructor(private readonly ssm: SSMClient) {}

  async latestVersion(app: string): Promise<number | undefined> {
    const {GetParametersByPathCommand} = await import('@aws-sdk/client-ssm')
    let latest: number | undefined
    let nextToken: string | undefined
    try {
      do {
        // Names are all that is needed: the values stay encrypted.
        const page = await this.ssm.send(new GetParametersByPathCommand({Path: names.configVersionsPath(app), Recursive: true, WithDecryption: false, MaxResults: 10, NextToken: nextToken}))
        for (const parameter of page.Parameters ?? []) {
          const version = Number((parameter.Name ?? '').split('/').at(-2))
          if (Number.isInteger(version) && (latest === undefined || version > latest)) latest = version
        }

        nextToken = page.NextToken
      } while (nextToken)
    } catch (error) {
      wrap(error, `listing the config versions of ${app}`)
    }

    return latest
  }

  async read(app: string, version: number): Promise<Record<string, string>> {
    const path = names.configVersionParameter(app, version, 0).replace(/0$/, '')
    const chunks = (await this.byPath(path, `reading config version ${version} of ${app}`))
      .map((p) => ({index: Number((p.Name ?? '').slice(path.length)), value: p.Value ?? ''}))
      .sort((a, b) => a.index - b.index)
    if (chunks.length === 0) {
      throw new HerogateError(`Config version ${version} of ${app} is missing, so that release cannot be restored.`, {
        suggestions: [`herogate releases -a ${app}`],
      })
    }

    return JSON.parse(chunks.map((c) => c.value).join('')) as Record<string, string>
  }

  /**
   * Snapshots `values` as the next config version and returns its number.
   * `after`: the newest version the caller knows of (saves listing them; a newer one that exists is skipped over).
   */
  async write(app: string, values: Record<string, string>, after?: number): Promise<number> {
    const {PutParameterCommand} = await import('@aws-sdk/client-ssm')
    const text = JSON.stringify(sortKeys(values)).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
    const chunks: string[] = []
    for (let i = 0; i < text.length || chunks.length === 0; i += ConfigVersionStore.CHUNK) chunks.push(text.slice(i, i + ConfigVersionStore.CHUNK))
    let version = (after ?? (await this.latestVersion(app)) ?? 0) + 1
    for (let attempt = 0; attempt < MAX_CREATE_ATTEMPTS; attempt++, version++) {
      try {
        // Chunk 0 claims the version number; the app lock keeps anyone else from reading it half written.
        for (const [index, chunk] of chunks.entries()) {
          await this.ssm.send(new PutParameterCommand({
            Name: names.configVersionParameter(app, version, index),
            Value: chunk,
            Type: 'SecureString',
            Overwrite: index > 0,
          }))
        }

        return version
      } catch (error) {
        if (!isAwsError(error, 'ParameterAlreadyExists')) wrap(error, `snapshotting the config of ${app}`)
      }
    }

    throw new HerogateError(`Could not snapshot the config of ${app}.`, {suggestions: ['try again']})
  }

  private async byPath(path: string, what: string): Promise<Parameter[]> {
    const {GetParametersByPathCommand} = await import('@aws-sdk/client-ssm')
    const parameters: Parameter[] = []
    let nextToken: string | undefined
    try {
      do {
        const page = await this.ssm.send(new GetParametersByPathCommand({Path: path, Recursive: false, WithDecryption: true, NextToken: nextToken}))
        parameters.push(...(page.Parameters ?? []))
        nextToken = page.NextToken
      } while (nextToken)
    } catch (error) {
      wrap(error, what)
    }

    return parameters
  }
}

function sortKeys(values: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(values).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
}

/** Whether two configs hold the same keys and values. */
export function sameConfig(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a)
  return keys.length === Object.keys(b).length && keys.every((key) => Object.hasOwn(b, key) && a[key] === b[key])
}

export interface LockInfo {
  holder: string
  operation: string
  since: string
  expiresAt: string
  token: string
}

/** The app's lock: one deploy, config change or rollback at a time. */
export class LockStore {
  constructor(private readonly ssm: SSMClient) {}

  /** Takes the lock or throws LockHeld; a lock past its expiry (a crashed run) is deleted and taken. */
  async acquire(app: string, info: LockInfo, now: Date): Promise<void> {
    const {PutParameterCommand} = await import('@aws-sdk/client-ssm')
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await this.ssm.send(new PutParameterCommand({
          Name: names.lockParameter(app),
          Value: JSON.stringify(info),
          Type: 'String',
          Overwrite: false,
          Description: `herogate lock of ${app}`,
        }))
        return
      } catch (error) {
        if (!isAwsError(error, 'ParameterAlreadyExists')) wrap(error, `locking ${app}`)
      }

      const held = await this.read(app)
      if (!held) continue
      if (new Date(held.expiresAt).getTime() > now.getTime()) {
        throw new LockHeld(app, held.holder, new Date(held.since), held.operation)
      }

      await this.deleteIf(app, held.token)
    }

    const held = await this.read(app)
    throw new LockHeld(app, held?.holder ?? 'another run', new Date(held?.since ?? now), held?.operation ?? 'an operation')
  }

  /** Moves the expiry forward while a long operation still runs; false when the lock is no longer ours. */
  async refresh(app: string, info: LockInfo): Promise<boolean> {
    const {PutParameterCommand} = await import('@aws-sdk/client-ssm')
    const held = await this.read(app)
    if (held?.token !== info.token) return false
    try {
      await this.ssm.send(new PutParameterCommand({Name: names.lockParameter(app), Value: JSON.stringify(info), Type: 'String', Overwrite: true}))
    } catch (error) {
      wrap(error, `refreshing the lock of ${app}`)
    }

    return true
  }

  /**
   * `stillOurs`: the caller knows its lock cannot have expired yet (nobody can have taken it
   * over), which saves reading it before deleting it.
   */
  async release(app: string, token: string, stillOurs = false): Promise<void> {
    if (stillOurs) return this.delete(app)
    await this.deleteIf(app, token)
  }

  async read(app: string): Promise<LockInfo | undefined> {
    const {GetParameterCommand} = await import('@aws-sdk/client-ssm')
    try {
      const result = await this.ssm.send(new GetParameterCommand({Name: names.lockParameter(app)}))
      return JSON.parse(result.Parameter?.Value ?? '{}') as LockInfo
    } catch (error) {
      if (isAwsError(error, 'ParameterNotFound')) return undefined
      wrap(error, `reading the lock of ${app}`)
    }
  }

  private async deleteIf(app: string, token: string): Promise<void> {
    const held = await this.read(app)
    if (held?.token !== token) return
    await this.delete(app)
  }

  private async delete(app: string): Promise<void> {
    const {DeleteParameterCommand} = await import('@aws-sdk/client-ssm')
    try {
      await this.ssm.send(new DeleteParameterCommand({Name: names.lockParameter(app)}))
    } catch (error) {
      if (!isAwsError(error, 'ParameterNotFound')) wrap(error, `unlocking ${app}`)
    }
  }
}

/** The last part of an identity ARN: the user name, or the role session name. */
export function nameFromArn(arn: string): string {
  const resource = arn.slice(arn.lastIndexOf(':') + 1)
  return resource.slice(resource.lastIndexOf('/') + 1) || 'unknown'
}
