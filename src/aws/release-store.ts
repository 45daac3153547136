import type {Parameter, SSMClient} from '@aws-sdk/client-ssm'

import {HerogateError} from '../lib/errors.js'
import {names} from '../lib/naming.js'
import type {ReleaseStatus} from '../platform/types.js'
import {awsFailure, isAwsError} from './errors.js'
import type {ConfigDelta} from './ssm.js'

/**
 * herogate's release history in SSM Parameter Store, laid out so that a release costs two
 * writes besides its work: the claim and the head.
 *
 * - `releases/NNNNNN`, the slot of release N, is created (PutParameter without Overwrite, so
 *   only one run can) by the run that makes release N: creating it takes the app's lock and
 *   the number at once. It holds the pending release, who holds the lock and until when, and
 *   how release N-1 ended (which the head held until then).
 * - `head` holds how the newest release ended and the current (newest succeeded) release. A run
 *   reads it to learn the next number, and writing it at the end is what frees the lock: a slot
 *   whose release the head (or the next slot) records as ended holds no lock any more.
 *
 * So every release's final record is in the slot after it, or in the head for the newest one.
 * A claim that makes no release (a size change) deletes its slot when it is done.
 */


/** What a release record holds (String parameters: no config values are ever in them). */
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
  /** The config vars this release changed, by parameter version (a rollback restores them from these). */
  config?: ConfigDelta
  processTypes?: Record<string, string>
  taskDefinitions?: Record<string, string>
  /** For a rollback: the release it restored. */
  rollbackTo?: number
  /** While pending: 'release phase', 'rollout'. */
  phase?: string
  /** Why it failed, one line (never config values). */
  failure?: string
}

export type NewRelease = Omit<ReleaseRecord, 'version'>

/** Who holds a slot's lock. */
export interface ClaimLock {
  holder: string
  operation: string
  since: string
  expiresAt: string
  token: string
}

/** One release parameter: the claim on version N. */
export interface Slot {
  version: number
  /** The release made under this claim (pending while it runs); none for a claim that makes no release. */
  record?: ReleaseRecord
  /** Absent in slots written by herogate before claims, which hold a finished record. */
  lock?: ClaimLock
  /** How release N-1 ended. */
  previous?: ReleaseRecord
}

export interface ReleaseHead {
  /** How the newest release ended. */
  latest: ReleaseRecord
  /** The newest succeeded release, when it is not `latest`. */
  current?: ReleaseRecord
}

/** Intelligent-Tiering keeps a parameter Standard up to 4 KB and moves a bigger one to the Advanced tier, up to 8 KB. */
export const ADVANCED_PARAMETER_LIMIT = 8192
/** What one record may take of a slot or the head, which hold two. */
export const RECORD_BUDGET = 3800

export const INTERRUPTED_FAILURE = 'the run making it stopped before it ended'

function wrap(error: unknown, what: string): never {
  // AWS's message is left out: SSM validation errors can echo a parameter value back.
  throw awsFailure(error, what, {keepMessage: false})
}

function versionOf(name: string): number {
  return Number(name.slice(name.lastIndexOf('/') + 1))
}

/** Shrinks a record until its JSON fits `limit` bytes: long commands are cut (the task definitions keep them whole). */
export function fitRecord(record: ReleaseRecord, limit = RECORD_BUDGET): ReleaseRecord {
  if (Buffer.byteLength(JSON.stringify(record)) <= limit) return record
  const copy: ReleaseRecord = {...record, processTypes: {...record.processTypes}}
  for (let keep = 200; keep >= 0; keep = keep > 20 ? Math.floor(keep / 2) : keep - 10) {
    for (const [type, command] of Object.entries(record.processTypes ?? {})) {
      copy.processTypes![type] = command.length > keep ? `${command.slice(0, Math.max(keep, 0))}…` : command
    }

    if (Buffer.byteLength(JSON.stringify(copy)) <= limit) return copy
  }

  if (copy.failure) copy.failure = copy.failure.slice(0, 200)
  if (Buffer.byteLength(JSON.stringify(copy)) > limit) throw new HerogateError(`Release v${record.version} is too big to record (over ${limit} bytes): it has too many process types or config changes.`)
  return copy
}

/** Whether a config change of these keys can be recorded: each key takes its name and two version numbers. */
export function configDeltaFits(keys: string[]): boolean {
  const widest: ConfigDelta = Object.fromEntries(keys.map((key) => [key, [999_999, 999_999]]))
  return Buffer.byteLength(JSON.stringify(widest)) <= RECORD_BUDGET - 1000
}

function serialize(value: object): string {
  const text = JSON.stringify(value)
  if (Buffer.byteLength(text) > ADVANCED_PARAMETER_LIMIT) throw new HerogateError('A release record is over 8 KB, the most SSM holds.')
  return text
}

export function parseSlot(parameter: Parameter): Slot | undefined {
  try {
    const value = JSON.parse(parameter.Value ?? '') as Record<string, unknown>
    const version = versionOf(parameter.Name ?? '')
    // Written before claims: the parameter is the record itself.
    if (typeof value.kind === 'string' && typeof value.version === 'number') return {version, record: value as unknown as ReleaseRecord}
    if (value.version !== version) return undefined
    return value as unknown as Slot
  } catch {
    return undefined
  }
}

export function parseHead(parameter: Parameter | undefined): ReleaseHead | undefined {
  try {
    const head = JSON.parse(parameter?.Value ?? '') as ReleaseHead
    // A head written before claims held numbers only: it is ignored (the slots are listed instead).
    return typeof head.latest?.version === 'number' ? head : undefined
  } catch {
    return undefined
  }
}

/** Whether a slot's lock has not expired (slots written before claims have none). Whether its release ended is the head's to say. */
export function lockHeld(slot: Slot, now: Date): boolean {
  return Boolean(slot.lock && new Date(slot.lock.expiresAt).getTime() > now.getTime())
}

/** A release whose run stopped before it ended, as it is recorded once its lock has expired. */
export function interrupted(record: ReleaseRecord, now: Date): ReleaseRecord {
  const failed: ReleaseRecord = {...record, status: 'failed', failure: INTERRUPTED_FAILURE, finishedAt: now.toISOString()}
  delete failed.phase
  return failed
}

/**
 * Every release, newest first, from the slots and the head: a release's final record is in the
 * next slot or the head; a slot without either is pending, or interrupted once its lock has expired.
 */
export function resolveReleases(slots: Slot[], head: ReleaseHead | undefined, now: Date): ReleaseRecord[] {
  const ended = new Map<number, ReleaseRecord>()
  for (const slot of slots) if (slot.previous) ended.set(slot.previous.version, slot.previous)
  if (head?.current) ended.set(head.current.version, head.current)
  if (head) ended.set(head.latest.version, head.latest)
  const records: ReleaseRecord[] = []
  for (const slot of slots) {
    const record = ended.get(slot.version) ?? slot.record
    if (!record) continue
    records.push(record.status === 'pending' && slot.lock && !lockHeld(slot, now) ? interrupted(record, now) : record)
  }

  // A head can name a release whose slot is gone (slots are never deleted once a release ended, but be lenient).
  for (const [version, record] of ended) if (!slots.some((s) => s.version === version)) records.push(record)
  return records.sort((a, b) => b.version - a.version)
}

export class ReleaseStore {
  constructor(private readonly ssm: SSMClient) {}

  /**
   * Every release, newest first. GetParametersByPath (10 a call) rather than
   * DescribeParameters, because it can be granted on the app's path alone.
   */
  async all(app: string, now: Date = new Date()): Promise<ReleaseRecord[]> {
    const [slots, head] = await Promise.all([this.slots(app), this.head(app)])
    return resolveReleases(slots, head, now)
  }

  async slots(app: string): Promise<Slot[]> {
    const {GetParametersByPathCommand} = await import('@aws-sdk/client-ssm')
    const slots: Slot[] = []
    let nextToken: string | undefined
    try {
      do {
        const page = await this.ssm.send(new GetParametersByPathCommand({Path: names.releasesPath(app), Recursive: false, MaxResults: 10, NextToken: nextToken}))
        for (const parameter of page.Parameters ?? []) {
          const slot = parseSlot(parameter)
          if (slot) slots.push(slot)
        }

        nextToken = page.NextToken
      } while (nextToken)
    } catch (error) {
      wrap(error, `reading the releases of ${app}`)
    }

    return slots.sort((a, b) => a.version - b.version)
  }

  /** Release versions that exist, newest first. */
  async versions(app: string): Promise<number[]> {
    return (await this.all(app)).map((r) => r.version)
  }

  async get(app: string, version: number): Promise<ReleaseRecord | undefined> {
    return (await this.all(app)).find((r) => r.version === version)
  }

  /** The newest `num` releases, newest first. */
  async list(app: string, num: number): Promise<ReleaseRecord[]> {
    return (await this.all(app)).slice(0, Math.max(num, 0))
  }

  /** The newest release with the given status (default: succeeded). */
  async latest(app: string, status: ReleaseStatus = 'succeeded'): Promise<ReleaseRecord | undefined> {
    return (await this.all(app)).find((r) => r.status === status)
  }

  async head(app: string): Promise<ReleaseHead | undefined> {
    const {GetParameterCommand} = await import('@aws-sdk/client-ssm')
    try {
      const result = await this.ssm.send(new GetParameterCommand({Name: names.releaseHeadParameter(app)}))
      return parseHead(result.Parameter)
    } catch (error) {
      if (isAwsError(error, 'ParameterNotFound')) return undefined
      wrap(error, `reading the releases of ${app}`)
    }
  }

  async slot(app: string, version: number): Promise<Slot | undefined> {
    const {GetParameterCommand} = await import('@aws-sdk/client-ssm')
    try {
      const result = await this.ssm.send(new GetParameterCommand({Name: names.releaseParameter(app, version)}))
      return result.Parameter ? parseSlot(result.Parameter) : undefined
    } catch (error) {
      if (isAwsError(error, 'ParameterNotFound')) return undefined
      wrap(error, `reading release v${version} of ${app}`)
    }
  }

  /** Creates the slot; false when it exists (another run claimed that version). */
  async claim(app: string, slot: Slot): Promise<boolean> {
    try {
      await this.putSlot(app, slot, false)
      return true
    } catch (error) {
      if (isAwsError(error, 'ParameterAlreadyExists')) return false
      wrap(error, `recording a release of ${app}`)
    }
  }

  /** Rewrites a slot this run holds (a new expiry, the release's phase). */
  async update(app: string, slot: Slot): Promise<void> {
    try {
      await this.putSlot(app, slot, true)
    } catch (error) {
      wrap(error, `updating release v${slot.version} of ${app}`)
    }
  }

  /** Deletes a slot whose claim made no release. */
  async drop(app: string, version: number): Promise<void> {
    const {DeleteParameterCommand} = await import('@aws-sdk/client-ssm')
    try {
      await this.ssm.send(new DeleteParameterCommand({Name: names.releaseParameter(app, version)}))
    } catch (error) {
      if (!isAwsError(error, 'ParameterNotFound')) wrap(error, `unlocking ${app}`)
    }
  }

  async writeHead(app: string, head: ReleaseHead): Promise<void> {
    const {PutParameterCommand} = await import('@aws-sdk/client-ssm')
    const value: ReleaseHead = {latest: fitRecord(head.latest), ...(head.current ? {current: fitRecord(head.current)} : {})}
    try {
      await this.ssm.send(new PutParameterCommand({
        Name: names.releaseHeadParameter(app),
        Value: serialize(value),
        Type: 'String',
        Overwrite: true,
        Tier: 'Intelligent-Tiering',
      }))
    } catch (error) {
      wrap(error, `recording the releases of ${app}`)
    }
  }

  private async putSlot(app: string, slot: Slot, overwrite: boolean): Promise<void> {
    const {PutParameterCommand} = await import('@aws-sdk/client-ssm')
    const value: Slot = {
      version: slot.version,
      ...(slot.record ? {record: fitRecord(slot.record)} : {}),
      ...(slot.lock ? {lock: slot.lock} : {}),
      ...(slot.previous ? {previous: fitRecord(slot.previous)} : {}),
    }
    await this.ssm.send(new PutParameterCommand({
      Name: names.releaseParameter(app, slot.version),
      Value: serialize(value),
      Type: 'String',
      Overwrite: overwrite,
      Tier: 'Intelligent-Tiering',
      ...(overwrite ? {} : {Description: `herogate release v${slot.version} of ${app}`}),
    }))
  }
}

/** The last part of an identity ARN: the user name, or the role session name. */
export function nameFromArn(arn: string): string {
  const resource = arn.slice(arn.lastIndexOf(':') + 1)
  return resource.slice(resource.lastIndexOf('/') + 1) || 'unknown'
}
