/**
 * The app's lock on AWS: one deploy, config change, rollback or size change at a time.
 *
 * Taking the lock is claiming the next release's number (see the top of
 * src/aws/release-store.ts): one read (the head, plus whatever the caller wants read with it,
 * such as the config vars a change touches) and one create-only write. Ending the release
 * writes the head, which records how it ended and frees the lock.
 */
import type {Parameter} from '@aws-sdk/client-ssm'
import {hostname, userInfo} from 'node:os'

import {
  type ClaimLock, COMPACT_EVERY, type NewRelease, type ReleaseHead, type ReleaseRecord, type Slot, interrupted, lockHeld, type ReleaseStore, resolveReleases,
} from '../../aws/release-store.js'
import {readParameters} from '../../aws/ssm.js'
import {HerogateError, LockHeld} from '../../lib/errors.js'
import {names} from '../../lib/naming.js'
import type {Progress} from '../types.js'
import {knownAuthor} from './author.js'
import type {AwsContext} from './context.js'
import {releaseStore} from './releases.js'

/** A lock left behind by a crashed run is taken over after this long. */
export const LOCK_TTL_MS = 15 * 60_000
/** How long a CLI operation waits for another one to finish before failing with LockHeld. */
export const LOCK_WAIT_MS = 20_000
const LOCK_POLL_MS = 2000
/** After losing a claim to TooManyUpdates: long enough for the winner's write to land, varied so that two losers part. */
const CONTENDED_MS = 500

/** What a run knows of the app's releases when it takes the lock. */
export interface AppState {
  /** How the newest release ended; undefined before the first. */
  latest?: ReleaseRecord
  /** The current release (the newest that succeeded). */
  current?: ReleaseRecord
  /** The parameters read along with the head (LockOptions.read), by name. */
  found: Map<string, Parameter>
}

export interface AppLock {
  app: string
  /** The release number this lock claimed. */
  version: number
  state: AppState
  /** The release being made (pending), when the lock makes one. */
  record?: ReleaseRecord
  info: ClaimLock
  /** Pushes the expiry forward when a third of the TTL has passed; long operations call it as they poll. */
  keepAlive(): Promise<void>
  /** Records the pending release's progress (its phase); also pushes the expiry forward. */
  update(record: ReleaseRecord): Promise<void>
  /** Records how the release ended: this writes the head, which frees the lock. */
  end(head: ReleaseHead): Promise<void>
  /** Set once the release starts changing services: from then on it ends recorded, never dropped. */
  started: boolean
  /** Whether end() recorded the release. */
  readonly ended: boolean
}

export interface LockOptions {
  holder?: string
  waitMs?: number
  ttlMs?: number
  onProgress?: Progress
  /** SSM parameters to read in the same call as the head (AppState.found). */
  read?: string[]
  /**
   * The release this lock makes, from what was read; undefined makes none (the claim is deleted
   * when the operation ends). May throw (nothing is claimed then), and runs again after a wait.
   */
  plan?: (state: AppState) => NewRelease | undefined | Promise<NewRelease | undefined>
}


/**
 * Runs `fn` holding the app's lock: one deploy, config change, rollback or size change at a
 * time. The lock is the slot of release latest+1, created only if it does not exist; see the
 * top of src/aws/release-store.ts. A slot whose holder stopped is taken over once it expires:
 * its release is recorded as failed (interrupted) and the next number is claimed.
 */
export async function withAppLock<T>(ctx: AwsContext, app: string, operation: string, fn: (lock: AppLock) => Promise<T>, options: LockOptions = {}): Promise<T> {
  const store = await releaseStore(ctx)
  const ttl = options.ttlMs ?? LOCK_TTL_MS
  const holder = options.holder ?? (await lockHolder(ctx))
  const started = ctx.clock.now().getTime()
  const token = `${holder}:${started}:${Math.random().toString(36).slice(2, 10)}`
  const infoAt = (since: Date, now: Date): ClaimLock => ({holder, operation, since: since.toISOString(), expiresAt: new Date(now.getTime() + ttl).toISOString(), token})
  let warned = false
  let recheck = true
  let slot: Slot | undefined
  let state: AppState | undefined
  while (!slot) {
    const read = await readState(ctx, store, app, options.read ?? [])
    state = read.state
    let next = read.next
    for (;;) {
      const pending = await options.plan?.(state)
      const now = ctx.clock.now()
      const claim: Slot = {
        version: next,
        ...(pending ? {record: {version: next, ...pending}} : {}),
        lock: infoAt(now, now),
        // How the head's newest release ended is kept here before the head is overwritten.
        ...(read.headLatest ? {previous: read.headLatest} : {}),
      }
      const claimed = await store.claim(app, claim)
      if (claimed === 'claimed') {
        slot = claim
        break
      }

      const waited = ctx.clock.now().getTime() - started
      if (claimed === 'contended') {
        // Another run's claim of this number was in flight: it has most likely won. Read again in a moment.
        if (waited >= (options.waitMs ?? LOCK_WAIT_MS)) {
          throw new HerogateError(`App ${app} is busy: another run is taking release number v${next}.`, {suggestions: ['wait for it to finish and try again', `herogate releases -a ${app}`]})
        }

        await ctx.clock.sleep(CONTENDED_MS + Math.floor(Math.random() * CONTENDED_MS))
        break
      }

      const taken = await store.slot(app, next)
      if (!taken) break
      if (lockHeld(taken, ctx.clock.now())) {
        // It may have ended a moment ago: read the head again once before waiting.
        if (recheck) {
          recheck = false
          break
        }

        if (waited >= (options.waitMs ?? LOCK_WAIT_MS)) {
          throw new LockHeld(app, taken.lock!.holder, new Date(taken.lock!.since), taken.lock!.operation)
        }

        if (!warned) options.onProgress?.({kind: 'warning', message: `${new LockHeld(app, taken.lock!.holder, new Date(taken.lock!.since), taken.lock!.operation).message} Waiting for it to finish…`})
        warned = true
        await ctx.clock.sleep(LOCK_POLL_MS, undefined)
        break
      }

      if (!taken.record) {
        // An expired claim that made no release: remove it and claim its number.
        await store.drop(app, next)
        continue
      }

      // A release the head does not know: recorded by a herogate from before claims (it ended),
      // or its holder stopped and the lock expired (it ends as failed). The next number is ours.
      const record = taken.lock ? interrupted(taken.record, ctx.clock.now()) : taken.record
      state = {...state, latest: record, ...(record.status === 'succeeded' ? {current: record} : {})}
      next += 1
    }
  }

  const claimed: Slot = slot
  let refreshed = ctx.clock.now().getTime()
  let ended = false
  const since = new Date(claimed.lock!.since)
  // Whether nobody can have taken the lock over: it was refreshed less than half its TTL ago.
  const surelyOurs = () => ctx.clock.now().getTime() - refreshed < ttl / 2
  const stillOurs = async () => surelyOurs() || ((await store.slot(app, claimed.version))?.lock?.token === token && !(await store.slot(app, claimed.version + 1)))
  const rewrite = async () => {
    const now = ctx.clock.now()
    if (!(await stillOurs())) {
      throw new HerogateError(`Lost the lock of ${app}: another run took it over after it expired.`, {suggestions: [`herogate releases -a ${app}`]})
    }

    refreshed = now.getTime()
    lock.info = infoAt(since, now)
    claimed.lock = lock.info
    await store.update(app, claimed)
  }

  // Keeps the history bounded (release-store.ts) while the lock is still held; a failure only delays it to the next time.
  const compact = async (head: ReleaseHead) => {
    try {
      await store.compact(app, claimed.version, head, ctx.clock.now())
    } catch (error) {
      options.onProgress?.({kind: 'warning', message: `Could not compact the release history of ${app} (${(error as Error).message}); a later release will.`})
    }
  }

  const lock: AppLock = {
    app,
    version: claimed.version,
    state: state!,
    record: claimed.record,
    info: claimed.lock!,
    async keepAlive() {
      if (ctx.clock.now().getTime() - refreshed >= ttl / 3) await rewrite()
    },
    async update(record) {
      lock.record = record
      claimed.record = record
      await rewrite()
    },
    started: false,
    get ended() {
      return ended
    },
    async end(head) {
      if (!(await stillOurs())) {
        throw new HerogateError(`Lost the lock of ${app}: another run took it over after it expired, so v${claimed.version} could not be recorded as ended.`, {suggestions: [`herogate releases -a ${app}`]})
      }

      if (claimed.version % COMPACT_EVERY === 0) await compact(head)
      await store.writeHead(app, head)
      ended = true
    },
  }
  try {
    return await fn(lock)
  } finally {
    // A claim whose release never started (or that makes none) is removed if it is still ours,
    // so its number is free again. A started release that could not be recorded stays pending
    // and is recorded as interrupted once its lock expires.
    if (!ended && !lock.started && (await stillOurs().catch(() => false))) await store.drop(app, claimed.version).catch(() => undefined)
  }
}

/**
 * The head and the caller's parameters in one call. Without a head (an app with no release yet,
 * or released by a herogate from before claims), the slots are listed instead.
 */
async function readState(ctx: AwsContext, store: ReleaseStore, app: string, read: string[]): Promise<{state: AppState; next: number; headLatest?: ReleaseRecord}> {
  const found = await readParameters(await ctx.clients.ssm(), [names.releaseHeadParameter(app), ...read], `reading the releases of ${app}`)
  const head = store.headIn(app, found)
  if (head) {
    const current = head.current ?? (head.latest.status === 'succeeded' ? head.latest : undefined)
    return {state: {latest: head.latest, current, found}, next: head.latest.version + 1, headLatest: head.latest}
  }

  const slots = await store.slots(app)
  const newest = slots.at(-1)
  if (!newest) return {state: {found}, next: 1}
  const now = ctx.clock.now()
  const records = resolveReleases(slots, undefined, now)
  // The newest slot's holder may still be at work (or it made no release): claiming its number makes the wait, or the takeover, happen.
  const busy = lockHeld(newest, now) || !newest.record
  return {state: {latest: records[0], current: records.find((r) => r.status === 'succeeded'), found}, next: busy ? newest.version : newest.version + 1}
}

/**
 * Who a lock names when the caller does not say: the AWS identity when this context knows it
 * already, else the local user and host, so that an operation that makes no release (a size
 * change) asks STS for nothing.
 */
async function lockHolder(ctx: AwsContext): Promise<string> {
  const known = knownAuthor(ctx)
  if (known) return known.catch(() => localUser())
  return localUser()
}

function localUser(): string {
  try {
    return `${userInfo().username}@${hostname()}`
  } catch {
    return hostname() || 'unknown'
  }
}

