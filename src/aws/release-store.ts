import type {Parameter, SSMClient} from '@aws-sdk/client-ssm'

import {HerogateError} from '../lib/errors.js'
import {names} from '../lib/naming.js'
import type {FailureOutput, ReleaseStatus} from '../platform/types.js'
import {awsFailure, isAwsError} from './errors.js'
import {type ConfigDelta, ParameterWriter, readParameters, type Sleep, STANDARD_VALUE_LIMIT, type Tier} from './ssm.js'

/**
 * herogate's release history in SSM Parameter Store, laid out so that a release costs two
 * writes besides its work (the claim and the head), and so that what any command reads stays
 * the same size however many releases an app has made.
 *
 * - `releases/NNNNNN`, the slot of release N, is created (PutParameter without Overwrite, so
 *   only one run can) by the run that makes release N: creating it takes the app's lock and
 *   the number at once. It holds the pending release, who holds the lock and until when, and
 *   how release N-1 ended (which the head held until then).
 * - `head` holds how the newest release ended and the current (newest succeeded) release. A run
 *   reads it to learn the next number, and writing it at the end is what frees the lock: a slot
 *   whose release the head (or the next slot) records as ended holds no lock any more.
 * - `archive/NNNNNN` holds the final records of older releases, from release N on, compressed
 *   (gzip, base64) into as few parameters as hold them. Every COMPACT_EVERY releases, the run
 *   ending one moves the records of all but the newest SLOTS_KEPT slots into a new archive
 *   parameter (created, never rewritten) and deletes those slots, and deletes the archive
 *   parameters whose releases are all older than the newest HISTORY_KEPT. An app's history is
 *   so at most about 20 slots, the head and about 10 archive parameters, whatever its age.
 *
 * So every release's final record is in the slot after it, in the head for the newest one, or
 * in an archive. A claim that makes no release (a size change) deletes its slot when it is done.
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
  /** A failed release: the last lines of the process that made it fail (config values hidden), and where to read more. */
  failureOutput?: FailureOutput
  /** A deploy: the CodeBuild build that made it (project:uuid), whose log is its output (releases:output). */
  build?: string
  /** The scheduled jobs its app.json declares (platform/scheduler.ts), applied when it goes live. */
  jobs?: DeclaredJob[]
}

export interface DeclaredJob {
  id: string
  schedule: string
  command: string
  size?: string
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
  /**
   * Set when the head parameter is in SSM's Advanced tier (it once held more than 4 KB), which
   * it can never leave: the next run writes it as Advanced without being refused first.
   */
  advanced?: true
}

/** A parameter is Standard up to 4 KB; a slot or head that holds more goes to the Advanced tier, up to 8 KB. */
export const ADVANCED_PARAMETER_LIMIT = 8192
/** What one record may take of a slot or the head, which hold two. */
export const RECORD_BUDGET = 3800
/** Releases kept in slots of their own when the older ones are compacted into an archive. */
export const SLOTS_KEPT = 10
/** The run that ends a release whose number is a multiple of this compacts the history. */
export const COMPACT_EVERY = 10
/** Releases kept in all: older ones are dropped from the archive (what they did stays in the app's log group, `logs --source herogate`). */
export const HISTORY_KEPT = 100

export const INTERRUPTED_FAILURE = 'the run making it stopped before it ended'

function wrap(error: unknown, what: string): never {
  // AWS's message is left out: SSM validation errors can echo a parameter value back.
  throw awsFailure(error, what, {keepMessage: false})
}

function versionOf(name: string): number {
  return Number(name.slice(name.lastIndexOf('/') + 1))
}

/**
 * Shrinks a record until its JSON fits `limit` bytes: the oldest of a failure's last lines go
 * first (the log stream keeps them all), then long commands are cut (the task definitions keep them whole).
 */
export function fitRecord(record: ReleaseRecord, limit = RECORD_BUDGET): ReleaseRecord {
  if (Buffer.byteLength(JSON.stringify(record)) <= limit) return record
  if (record.failureOutput && record.failureOutput.lines.length > 0) {
    const lines = [...record.failureOutput.lines]
    let fitted: ReleaseRecord = record
    while (lines.length > 0 && Buffer.byteLength(JSON.stringify(fitted)) > limit) {
      lines.shift()
      fitted = {...record, failureOutput: {...record.failureOutput, lines: [...lines]}}
    }

    if (Buffer.byteLength(JSON.stringify(fitted)) <= limit) return fitted
    record = fitted
  }

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
 * Every release, newest first, from the slots, the head and the archive: a release's final
 * record is in the next slot, the head or the archive; a slot without any is pending, or
 * interrupted once its lock has expired.
 */
export function resolveReleases(slots: Slot[], head: ReleaseHead | undefined, now: Date, archived: ReleaseRecord[] = []): ReleaseRecord[] {
  const ended = new Map<number, ReleaseRecord>()
  for (const record of archived) ended.set(record.version, record)
  for (const slot of slots) if (slot.previous) ended.set(slot.previous.version, slot.previous)
  if (head?.current) ended.set(head.current.version, head.current)
  if (head) ended.set(head.latest.version, head.latest)
  const records: ReleaseRecord[] = []
  for (const slot of slots) {
    const record = ended.get(slot.version) ?? slot.record
    if (!record) continue
    records.push(record.status === 'pending' && slot.lock && !lockHeld(slot, now) ? interrupted(record, now) : record)
  }

  // Archived releases, and a current release older than every slot, have no slot.
  const inSlots = new Set(slots.map((s) => s.version))
  for (const [version, record] of ended) if (!inSlots.has(version)) records.push(record)
  return records.sort((a, b) => b.version - a.version)
}

/** An archive parameter: the final records of releases `from` to `to`, gzip-compressed JSON in base64. */
export interface ArchiveChunk {
  name: string
  from: number
  to: number
  records: ReleaseRecord[]
}

async function packChunk(records: ReleaseRecord[]): Promise<string> {
  const {gzipSync} = await import('node:zlib')
  return JSON.stringify({from: records[0].version, to: records.at(-1)!.version, records: gzipSync(JSON.stringify(records)).toString('base64')})
}

export async function unpackChunk(parameter: Parameter): Promise<ArchiveChunk | undefined> {
  try {
    const {gunzipSync} = await import('node:zlib')
    const value = JSON.parse(parameter.Value ?? '') as {from: number; to: number; records: string}
    const records = JSON.parse(gunzipSync(Buffer.from(value.records, 'base64')).toString('utf8')) as ReleaseRecord[]
    return {name: parameter.Name!, from: value.from, to: value.to, records}
  } catch {
    return undefined
  }
}

/**
 * Splits records (oldest first) into archive values: each holds as many as fit the Standard
 * tier (4 KB), or one alone in the Advanced tier (8 KB) when it does not fit there by itself.
 */
export async function packChunks(records: ReleaseRecord[]): Promise<Array<{from: number; value: string}>> {
  const chunks: Array<{from: number; value: string}> = []
  let start = 0
  while (start < records.length) {
    let end = start + 1
    let value = await packChunk(records.slice(start, end))
    while (end < records.length) {
      const bigger = await packChunk(records.slice(start, end + 1))
      if (Buffer.byteLength(bigger) > STANDARD_VALUE_LIMIT) break
      value = bigger
      end += 1
    }

    if (Buffer.byteLength(value) > ADVANCED_PARAMETER_LIMIT) throw new HerogateError(`Release v${records[start].version} is too big to archive (over ${ADVANCED_PARAMETER_LIMIT} bytes compressed).`)
    chunks.push({from: records[start].version, value})
    start = end
  }

  return chunks
}

/** How a claim went: made; the slot exists (another run claimed the number); another write of it was in flight (TooManyUpdates). */
export type ClaimResult = 'claimed' | 'taken' | 'contended'

export class ReleaseStore {
  private readonly writer: ParameterWriter

  constructor(private readonly ssm: SSMClient, sleep?: Sleep) {
    this.writer = new ParameterWriter(ssm, sleep)
  }

  /**
   * Every release kept, newest first. The archive is read after the slots, so that a compaction
   * running meanwhile (archive written, then slots deleted) cannot hide a release from both.
   * GetParametersByPath rather than DescribeParameters, because it can be granted on the app's path alone.
   */
  async all(app: string, now: Date = new Date()): Promise<ReleaseRecord[]> {
    const [slots, head] = await Promise.all([this.slots(app), this.head(app)])
    return resolveReleases(slots, head, now, await this.archived(app))
  }

  /**
   * Releases newest first, at least the newest `num` of those kept (and the current one): the
   * archive is read only when the slots hold fewer.
   */
  async recent(app: string, num: number, now: Date = new Date()): Promise<ReleaseRecord[]> {
    const [slots, head] = await Promise.all([this.slots(app), this.head(app)])
    const records = resolveReleases(slots, head, now)
    if (records.length >= num || !mayHaveArchive(slots, head)) return records
    return resolveReleases(slots, head, now, await this.archived(app))
  }

  /** Records as recent() read them, with the archive's added: what the slots no longer hold. */
  async withArchive(app: string, records: ReleaseRecord[]): Promise<ReleaseRecord[]> {
    const read = new Set(records.map((r) => r.version))
    const older = (await this.archived(app)).filter((r) => !read.has(r.version))
    return [...records, ...older].sort((a, b) => b.version - a.version)
  }

  async get(app: string, version: number, now: Date = new Date()): Promise<ReleaseRecord | undefined> {
    const [slots, head] = await Promise.all([this.slots(app), this.head(app)])
    const found = resolveReleases(slots, head, now).find((r) => r.version === version)
    if (found || !mayHaveArchive(slots, head)) return found
    return resolveReleases(slots, head, now, await this.archived(app)).find((r) => r.version === version)
  }

  /**
   * Releases `from` to `from + count - 1` as they stand, with the head, in one call whatever the
   * history's length: for pollers. Each release's final record is in the next slot (read too) or the head.
   */
  async window(app: string, from: number, count: number, now: Date = new Date()): Promise<ReleaseRecord[]> {
    const headName = names.releaseHeadParameter(app)
    const slotNames = Array.from({length: count + 1}, (_, i) => names.releaseParameter(app, from + i))
    const found = await readParameters(this.ssm, [headName, ...slotNames], `reading the releases of ${app}`)
    const head = this.headIn(app, found)
    const slots = slotNames.map((name) => found.get(name)).filter((p): p is Parameter => p !== undefined).map(parseSlot).filter((slot): slot is Slot => slot !== undefined)
    return resolveReleases(slots, head, now).filter((r) => r.version >= from && r.version < from + count)
  }

  /** The newest release number that has ended (0: none), from the head alone when there is one. */
  async latestVersion(app: string, now: Date = new Date()): Promise<number> {
    const head = await this.head(app)
    if (head) return head.latest.version
    return (await this.all(app, now)).find((r) => r.status !== 'pending')?.version ?? 0
  }

  /** The current release (the newest that succeeded), from the head alone when there is one. */
  async current(app: string, now: Date = new Date()): Promise<ReleaseRecord | undefined> {
    const head = await this.head(app)
    if (head) return head.current ?? (head.latest.status === 'succeeded' ? head.latest : undefined)
    return (await this.all(app, now)).find((r) => r.status === 'succeeded')
  }

  async slots(app: string): Promise<Slot[]> {
    const slots: Slot[] = []
    for (const parameter of await this.byPath(names.releasesPath(app), `reading the releases of ${app}`)) {
      const slot = parseSlot(parameter)
      if (slot) slots.push(slot)
    }

    return slots.sort((a, b) => a.version - b.version)
  }

  /** The records in the archive, oldest first. */
  async archived(app: string): Promise<ReleaseRecord[]> {
    return (await this.chunks(app)).flatMap((chunk) => chunk.records)
  }

  async head(app: string): Promise<ReleaseHead | undefined> {
    const {GetParameterCommand} = await import('@aws-sdk/client-ssm')
    try {
      const result = await this.ssm.send(new GetParameterCommand({Name: names.releaseHeadParameter(app)}))
      return this.headIn(app, new Map(result.Parameter ? [[names.releaseHeadParameter(app), result.Parameter]] : []))
    } catch (error) {
      if (isAwsError(error, 'ParameterNotFound')) return undefined
      wrap(error, `reading the releases of ${app}`)
    }
  }

  /** The head out of parameters read with others (readParameters), noting its tier for the next write. */
  headIn(app: string, found: Map<string, Parameter>): ReleaseHead | undefined {
    const head = parseHead(found.get(names.releaseHeadParameter(app)))
    const value = found.get(names.releaseHeadParameter(app))?.Value ?? ''
    if (head?.advanced || Buffer.byteLength(value) > STANDARD_VALUE_LIMIT) this.writer.knownAdvanced(names.releaseHeadParameter(app))
    return head
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

  /**
   * Creates the slot. A create-only write that loses the race for the number is answered
   * ParameterAlreadyExists, or TooManyUpdates while the winner's write is still in flight:
   * either way the caller reads again (and waits) rather than fails.
   */
  async claim(app: string, slot: Slot): Promise<ClaimResult> {
    try {
      await this.putSlot(app, slot, false)
      return 'claimed'
    } catch (error) {
      if (isAwsError(error, 'ParameterAlreadyExists')) return 'taken'
      if (isAwsError(error, 'TooManyUpdates')) return 'contended'
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
    try {
      await this.writer.delete([names.releaseParameter(app, version)])
    } catch (error) {
      wrap(error, `unlocking ${app}`)
    }
  }

  async writeHead(app: string, head: ReleaseHead): Promise<void> {
    const fitted: ReleaseHead = {latest: fitRecord(head.latest), ...(head.current ? {current: fitRecord(head.current)} : {})}
    try {
      await this.writer.put({
        name: names.releaseHeadParameter(app),
        value: (tier: Tier) => serialize(tier === 'Advanced' ? {...fitted, advanced: true} : fitted),
        type: 'String',
        overwrite: true,
      })
    } catch (error) {
      wrap(error, `recording the releases of ${app}`)
    }
  }

  /**
   * Keeps the history bounded (see the top of this file): the final records of every slot but the
   * newest SLOTS_KEPT before `latest` go to new archive parameters, then those slots are deleted,
   * then archive parameters holding only releases older than the newest HISTORY_KEPT. Run by the
   * lock's holder. Each step can be repeated, so a compaction that stops halfway is finished by
   * the next one. Returns how many releases were archived and how many parameters deleted.
   */
  async compact(app: string, latest: number, head: ReleaseHead | undefined, now: Date): Promise<{archived: number; deleted: number}> {
    const slots = await this.slots(app)
    const old = slots.filter((slot) => slot.version <= latest - SLOTS_KEPT)
    const chunks = await this.chunks(app)
    const stale = chunks.filter((chunk) => chunk.to <= latest - HISTORY_KEPT)
    if (old.length === 0 && stale.length === 0) return {archived: 0, deleted: 0}
    const inArchive = new Set(chunks.flatMap((chunk) => chunk.records.map((r) => r.version)))
    const oldVersions = new Set(old.map((slot) => slot.version))
    const records = resolveReleases(slots, head, now)
      .filter((r) => oldVersions.has(r.version) && r.version > latest - HISTORY_KEPT && !inArchive.has(r.version) && r.status !== 'pending')
      .sort((a, b) => a.version - b.version)
    try {
      for (const chunk of await packChunks(records)) {
        try {
          await this.writer.put({name: names.releaseArchiveParameter(app, chunk.from), value: chunk.value, type: 'String', overwrite: false, description: `herogate releases of ${app} from v${chunk.from}`})
        } catch (error) {
          // Written by a compaction that stopped before deleting its slots: the same records.
          if (!isAwsError(error, 'ParameterAlreadyExists')) throw error
        }
      }

      const gone = [...old.map((slot) => names.releaseParameter(app, slot.version)), ...stale.map((chunk) => chunk.name)]
      await this.writer.delete(gone)
      return {archived: records.length, deleted: gone.length}
    } catch (error) {
      wrap(error, `compacting the release history of ${app}`)
    }
  }

  private async chunks(app: string): Promise<ArchiveChunk[]> {
    const chunks: ArchiveChunk[] = []
    for (const parameter of await this.byPath(names.releaseArchivePath(app), `reading the release history of ${app}`)) {
      const chunk = await unpackChunk(parameter)
      if (chunk) chunks.push(chunk)
    }

    return chunks.sort((a, b) => a.from - b.from)
  }

  private async byPath(path: string, what: string): Promise<Parameter[]> {
    const {GetParametersByPathCommand} = await import('@aws-sdk/client-ssm')
    const parameters: Parameter[] = []
    let nextToken: string | undefined
    try {
      do {
        const page = await this.ssm.send(new GetParametersByPathCommand({Path: path, Recursive: false, MaxResults: 10, NextToken: nextToken}))
        parameters.push(...(page.Parameters ?? []))
        nextToken = page.NextToken
      } while (nextToken)
    } catch (error) {
      wrap(error, what)
    }

    return parameters
  }

  private async putSlot(app: string, slot: Slot, overwrite: boolean): Promise<void> {
    const value: Slot = {
      version: slot.version,
      ...(slot.record ? {record: fitRecord(slot.record)} : {}),
      ...(slot.lock ? {lock: slot.lock} : {}),
      ...(slot.previous ? {previous: fitRecord(slot.previous)} : {}),
    }
    await this.writer.put({
      name: names.releaseParameter(app, slot.version),
      value: serialize(value),
      type: 'String',
      overwrite,
      // A claim that loses the race must hear so at once (ClaimResult), not after retries.
      ...(overwrite ? {} : {tries: 1, description: `herogate release v${slot.version} of ${app}`}),
    })
  }
}

/** Whether older releases may be in the archive: the slots do not reach back to v1. */
function mayHaveArchive(slots: Slot[], head: ReleaseHead | undefined): boolean {
  return head !== undefined && (slots.length === 0 || slots[0].version > 1)
}

/** The last part of an identity ARN: the user name, or the role session name. */
export function nameFromArn(arn: string): string {
  const resource = arn.slice(arn.lastIndexOf(':') + 1)
  return resource.slice(resource.lastIndexOf('/') + 1) || 'unknown'
}
