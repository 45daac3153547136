/**
 * Releases on AWS: every deploy, config change and rollback makes an immutable release vN
 * (src/aws/release-store.ts), rolls it out service by service and watches it (rollout.ts).
 *
 * A release is made under the app's lock, and taking the lock is claiming the release's number
 * (withAppLock): one read (the head, plus whatever the caller wants read with it, such as the
 * config vars a change touches) and one create-only write. Ending the release writes the head,
 * which records how it ended and frees the lock. So the bookkeeping of a release is three calls.
 *
 * For config.ts, a config change:
 *
 *     return withAppLock(ctx, app, 'config:set', async (lock) => {
 *       const delta = await configStore.set(app, vars, before)     // write SSM first
 *       return releaseConfigChange(ctx, app, delta, {...options, lock})
 *     }, {read: the keys' parameters, plan: (state) => the pending release})
 *
 * releaseConfigChange restarts every service when the key set is the same (ECS reads values at
 * task start), or registers task definition revisions with the new key set, and watches the
 * rollout. When the rollout fails it puts back the previous values (by parameter version) and
 * task definitions and throws; the failed release stays in the history.
 * Before the first deploy there is nothing to roll out: the release is recorded and succeeds.
 */
import type {Service} from '@aws-sdk/client-ecs'
import type {Parameter} from '@aws-sdk/client-ssm'
import {hostname, userInfo} from 'node:os'

import {EcsRelease} from '../../aws/ecs-release.js'
import {LogsService} from '../../aws/logs.js'
import {
  type ClaimLock, type NewRelease, type ReleaseHead, type ReleaseRecord, type Slot, interrupted, lockHeld, parseHead, ReleaseStore, resolveReleases,
} from '../../aws/release-store.js'
import {type ConfigDelta, ConfigStore, readParameters, splitKeys} from '../../aws/ssm.js'
import {HerogateError, Interrupted, InvalidInput, LockHeld} from '../../lib/errors.js'
import {names} from '../../lib/naming.js'
import {DEFAULT_SIZE} from '../../lib/sizes.js'
import type {DeployOptions, OperationOptions, Progress, ProgressEvent, Release} from '../types.js'
import {authorName, knownAuthor} from './author.js'
import type {AwsContext} from './context.js'
import {type AppResources, appResources} from './resources.js'
import {INTERRUPTED, type RolloutSettings, type RolloutTarget, watchRollout} from './rollout.js'
import {type ProcessSpec, specFromTaskDefinition, taskDefinitionInput} from './taskdef.js'

/** A lock left behind by a crashed run is taken over after this long. */
export const LOCK_TTL_MS = 15 * 60_000
/** How long a CLI operation waits for another one to finish before failing with LockHeld. */
export const LOCK_WAIT_MS = 20_000
const LOCK_POLL_MS = 2000

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

export interface ReleaseOptions extends OperationOptions {
  /** The app's infrastructure, when the caller has it already. */
  resources?: AppResources
  /** Who the release is by; default: the caller's AWS identity. */
  author?: string
  /** The app lock the caller holds (required: releases are only made under it). */
  lock?: AppLock
  rollout?: Partial<RolloutSettings>
  /**
   * Also write the release's progress to the app's log group (stream herogate/deploy), so that
   * `logs --source herogate` shows it. Off inside CodeBuild, whose own log already has it.
   */
  journal?: boolean
}

/**
 * Runs `fn` holding the app's lock: one deploy, config change, rollback or size change at a
 * time. The lock is the slot of release latest+1, created only if it does not exist; see the
 * top of src/aws/release-store.ts. A slot whose holder stopped is taken over once it expires:
 * its release is recorded as failed (interrupted) and the next number is claimed.
 */
export async function withAppLock<T>(ctx: AwsContext, app: string, operation: string, fn: (lock: AppLock) => Promise<T>, options: LockOptions = {}): Promise<T> {
  const ssm = await ctx.clients.ssm()
  const store = new ReleaseStore(ssm)
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
      if (await store.claim(app, claim)) {
        slot = claim
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

        if (ctx.clock.now().getTime() - started >= (options.waitMs ?? LOCK_WAIT_MS)) {
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
  const headName = names.releaseHeadParameter(app)
  const found = await readParameters(await ctx.clients.ssm(), [headName, ...read], `reading the releases of ${app}`)
  const head = parseHead(found.get(headName))
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

/** What a release needs from AWS, made once per operation. */
interface Env {
  app: string
  ctx: AwsContext
  resources: AppResources
  ecs: EcsRelease
  config: ConfigStore
  lock: AppLock
  onProgress?: Progress
  journal?: Array<{timestamp: number; message: string}>
}

async function env(ctx: AwsContext, app: string, options: ReleaseOptions): Promise<Env> {
  const lock = requireLock(app, options)
  const ssm = await ctx.clients.ssm()
  const journal = options.journal === false ? undefined : ([] as Array<{timestamp: number; message: string}>)
  const onProgress: Progress | undefined = journal
    ? (event) => {
        const message = journalLine(event)
        if (message) journal.push({timestamp: ctx.clock.now().getTime(), message})
        options.onProgress?.(event)
      }
    : options.onProgress
  return {
    app,
    ctx,
    resources: options.resources ?? (await appResources(ctx, app)),
    ecs: new EcsRelease(await ctx.clients.ecs()),
    config: new ConfigStore(ssm),
    lock,
    onProgress,
    journal,
  }
}

function journalLine(event: ProgressEvent): string | undefined {
  switch (event.kind) {
    case 'step':
      return event.status === 'start' ? `${event.message}...` : `${event.message}: ${event.status}`
    case 'output':
      return event.line
    case 'warning':
      return `Warning: ${event.message}`
    default:
      return undefined
  }
}

/** Appends what the release did to herogate/deploy; a failure to write is a warning, not a failed release. */
async function flushJournal(e: Env, record: ReleaseRecord): Promise<void> {
  if (!e.journal) return
  const now = e.ctx.clock.now().getTime()
  const first = e.journal[0]?.timestamp ?? now
  const events = [
    {timestamp: first, message: `v${record.version}: ${record.description} by ${record.author}`},
    ...e.journal,
    {timestamp: now, message: `v${record.version} ${record.status}${record.failure ? `: ${record.failure}` : ''}`},
  ]
  e.journal.length = 0
  try {
    const logs = new LogsService(await e.ctx.clients.logs())
    await logs.put(e.resources.logGroup, names.releaseLogStream(), events)
  } catch (error) {
    e.onProgress?.({kind: 'warning', message: `Could not write the release's log: ${(error as Error).message}`})
  }
}

function requireLock(app: string, options: ReleaseOptions): AppLock {
  if (options.lock?.app !== app || !options.lock.record) throw new HerogateError(`Releases of ${app} are made under its lock (withAppLock with a plan).`)
  return options.lock
}

export function toRelease(record: ReleaseRecord, currentVersion?: number): Release {
  return {
    version: record.version,
    description: record.description,
    status: record.status,
    author: record.author,
    createdAt: record.createdAt,
    current: record.version === currentVersion,
    ...(record.commit ? {commit: record.commit} : {}),
    ...(record.image ? {image: record.image} : {}),
    ...(record.processTypes ? {processTypes: record.processTypes} : {}),
    ...(record.taskDefinitions ? {taskDefinitions: record.taskDefinitions} : {}),
    ...(record.status === 'failed' && record.failure ? {failure: record.failure} : {}),
  }
}

function step(e: Env, id: string, message: string, status: 'start' | 'done' | 'failed' | 'skipped'): void {
  e.onProgress?.({kind: 'step', id, message, status})
}

function note(e: Env, line: string): void {
  e.onProgress?.({kind: 'output', stream: 'release', line})
}

function inherited(current: ReleaseRecord | undefined): Partial<NewRelease> {
  if (!current) return {}
  return {
    ...(current.commit ? {commit: current.commit} : {}),
    ...(current.image ? {image: current.image} : {}),
    ...(current.processTypes ? {processTypes: current.processTypes} : {}),
    ...(current.taskDefinitions ? {taskDefinitions: current.taskDefinitions} : {}),
  }
}

/** The pending release of a config change (the `plan` of its lock): same code as the current release. */
export function configReleasePlan(ctx: AwsContext, state: AppState, description: string, author: string): NewRelease {
  return {
    kind: 'config',
    description,
    status: 'pending',
    author,
    createdAt: ctx.clock.now().toISOString(),
    ...inherited(state.current),
    // With code to roll out, the rollout is what comes next.
    ...(hasCode(state.current) ? {phase: 'rollout'} : {}),
  }
}

/** A config change as releaseConfigChange takes it: what changed by version, and how the key set changed. */
export interface ConfigChangeSet {
  delta: ConfigDelta
  /** Keys set now, apart by how ECS injects them (secret: from SSM; empty: plain ""). */
  secret: string[]
  empty: string[]
  unset: string[]
  /**
   * Whether the key set stayed the same (secret and empty alike): then the task definitions stay
   * as they are (their secrets name parameters, which ECS reads at task start) and every service
   * just starts a new deployment of them.
   */
  sameKeys: boolean
}

/** Config change: same code, the new config; see the comment at the top of this file. */
export async function releaseConfigChange(ctx: AwsContext, app: string, change: ConfigChangeSet, options: ReleaseOptions = {}): Promise<Release> {
  const e = await env(ctx, app, options)
  const record: ReleaseRecord = {...e.lock.record!, config: change.delta}
  const current = e.lock.state.current
  return settle(e, record, async () => {
    if (!hasCode(current)) return finish(e, record, 'succeeded', {})
    if (change.sameKeys) return restartRelease(e, record, current, options)
    const running = await servicesOf(e, Object.keys(current.taskDefinitions))
    const drop = new Set([...change.unset, ...change.secret, ...change.empty])
    const specs: ProcessSpec[] = []
    for (const [type, arn] of Object.entries(current.taskDefinitions)) {
      const base = specFromTaskDefinition(type, await e.ecs.describeTaskDefinition(running.get(type)?.taskDefinition ?? arn))
      specs.push({
        ...base,
        configKeys: [...base.configKeys.filter((key) => !drop.has(key)), ...change.secret].sort(),
        emptyKeys: [...(base.emptyKeys ?? []).filter((key) => !drop.has(key)), ...change.empty].sort(),
        release: record.version,
      })
    }

    return applyRelease(e, record, specs, current, options, running)
  })
}

function hasCode(release: ReleaseRecord | undefined): release is ReleaseRecord & {taskDefinitions: Record<string, string>} {
  return Boolean(release?.taskDefinitions && Object.keys(release.taskDefinitions).length > 0)
}

/** Puts back the config vars a release changed, by the versions they had before it. */
async function undoConfig(e: Env, record: ReleaseRecord): Promise<void> {
  if (!record.config || Object.keys(record.config).length === 0) return
  await e.config.restoreVersions(e.app, Object.fromEntries(Object.entries(record.config).map(([key, [before]]) => [key, before])))
}

/**
 * A config change that keeps the key set: every process type's service starts a new deployment
 * of the task definition it runs (ECS reads the new values at task start), watched like any
 * rollout; when it fails, the previous config is put back and the services redeploy it.
 */
async function restartRelease(e: Env, record: ReleaseRecord, previous: ReleaseRecord & {taskDefinitions: Record<string, string>}, options: ReleaseOptions): Promise<Release> {
  const {cluster} = e.resources
  const updated = new Map<string, Service>()
  const taskDefinitions: Record<string, string> = {}
  const targets: RolloutTarget[] = []
  const redeploy = async () => {
    for (const type of Object.keys(previous.taskDefinitions)) {
      const name = names.service(e.app, type)
      const service = await e.ecs.updateService(cluster, name, {forceNewDeployment: true})
      updated.set(name, service)
      taskDefinitions[type] = service.taskDefinition ?? previous.taskDefinitions[type]
      targets.push({processType: type, service: name, taskDefinition: taskDefinitions[type], desiredCount: service.desiredCount ?? 0})
    }
  }

  const putBack = async () => {
    await undoConfig(e, record)
    for (const type of Object.keys(taskDefinitions)) await e.ecs.updateService(cluster, names.service(e.app, type), {forceNewDeployment: true})
  }

  try {
    await redeploy()
  } catch (error) {
    await putBack().catch(() => undefined)
    throw error
  }

  return watchAndSettle(e, record, previous, options, targets, updated, {
    succeeded: () => finish(e, record, 'succeeded', {taskDefinitions}),
    putBack,
    taskDefinitions,
  })
}

/** Watches a rollout, then marks the release succeeded, or puts the previous one back and marks it failed. */
async function watchAndSettle(
  e: Env, record: ReleaseRecord, previous: ReleaseRecord | undefined, options: ReleaseOptions,
  targets: RolloutTarget[], updated: Map<string, Service>,
  then: {succeeded: () => Promise<Release>; putBack: () => Promise<void>; taskDefinitions: Record<string, string>},
): Promise<Release> {
  const outcome = await watchRollout(e.ecs, e.resources.cluster, targets.filter((t) => t.desiredCount > 0), {
    clock: e.ctx.clock,
    settings: options.rollout,
    onProgress: e.onProgress,
    signal: options.signal,
    onTick: () => e.lock.keepAlive(),
    updated,
  })
  if (outcome.ok) return then.succeeded()
  step(e, 'rollback', previous ? `Rolling back to v${previous.version}` : 'Stopping the failed release', 'start')
  await then.putBack()
  step(e, 'rollback', previous ? `Rolling back to v${previous.version}` : 'Stopping the failed release', 'done')
  const failure = outcome.reason ?? 'the rollout failed'
  await finish(e, record, 'failed', {taskDefinitions: then.taskDefinitions, failure})
  if (failure === INTERRUPTED) {
    throw new Interrupted(`Interrupted: release v${record.version} of ${e.app} was rolled back${previous ? `; v${previous.version} keeps serving` : ''}.`)
  }

  throw new HerogateError(`Release v${record.version} of ${e.app} failed: ${failure}. ${previous ? `v${previous.version} keeps serving.` : 'Nothing is serving yet.'}`, {
    suggestions: [`herogate logs -a ${e.app}`, `herogate releases:info v${record.version} -a ${e.app}`],
  })
}

/** Services of the given process types that exist, by type. */
async function servicesOf(e: Env, types: string[]): Promise<Map<string, Service>> {
  const services = await e.ecs.services(e.resources.cluster, types.map((type) => names.service(e.app, type)))
  const byType = new Map<string, Service>()
  for (const type of types) {
    const service = services.get(names.service(e.app, type))
    if (service) byType.set(type, service)
  }

  return byType
}

/** Runs the rest of a release; an unexpected error marks it failed, so no record stays pending. */
async function settle(e: Env, record: ReleaseRecord, fn: () => Promise<Release>): Promise<Release> {
  e.lock.started = true
  try {
    return await fn()
  } catch (error) {
    if (!e.lock.ended) {
      const failure = error instanceof Error ? error.message.split('\n')[0].slice(0, 300) : 'the release stopped'
      await finish(e, {...record, phase: undefined}, 'failed', {failure}).catch(() => undefined)
    }

    throw error
  }
}

/** Records how the release ended (in the head, which frees the lock) and appends its journal. */
async function finish(e: Env, record: ReleaseRecord, status: 'succeeded' | 'failed', extra: Partial<ReleaseRecord>): Promise<Release> {
  const final: ReleaseRecord = {...record, ...extra, status, finishedAt: e.ctx.clock.now().toISOString()}
  delete final.phase
  const current = e.lock.state.current
  await e.lock.end({latest: final, ...(status !== 'succeeded' && current ? {current} : {})})
  await flushJournal(e, final)
  return toRelease(final, status === 'succeeded' ? final.version : undefined)
}

/**
 * Registers the specs' task definitions, points each process type's service at them
 * (creating services for new types at zero processes), watches the rollout, and either
 * removes the types that are gone and marks the release succeeded, or puts the previous
 * release back and marks it failed.
 */
async function applyRelease(e: Env, record: ReleaseRecord, specs: ProcessSpec[], previous: ReleaseRecord | undefined, options: ReleaseOptions, running?: Map<string, Service>): Promise<Release> {
  const {cluster} = e.resources
  const taskDefinitions: Record<string, string> = {}
  for (const spec of specs) {
    taskDefinitions[spec.processType] = await e.ecs.registerTaskDefinition(taskDefinitionInput(e.app, e.resources, spec))
  }

  const types = specs.map((s) => s.processType)
  const gone = Object.keys(previous?.taskDefinitions ?? {}).filter((type) => !types.includes(type))
  const existing = running ?? (await servicesOf(e, types))
  const created: string[] = []
  const started: string[] = []
  const targets: RolloutTarget[] = []
  const updated = new Map<string, Service>()
  if (record.phase !== 'rollout') {
    record.phase = 'rollout'
    await e.lock.update(record)
  }

  if (!existing.has('web') && types.includes('web')) {
    throw new HerogateError(`The web service of ${e.app} is missing from its stack.`, {suggestions: [`herogate info -a ${e.app}`]})
  }

  try {
    for (const spec of specs) {
      const type = spec.processType
      const service = existing.get(type)
      const name = names.service(e.app, type)
      let desiredCount = service?.desiredCount ?? 0
      if (service) {
        // The first release starts one web process, as Heroku does; other types wait for `scale`.
        const first = type === 'web' && desiredCount === 0 && !previous?.taskDefinitions?.web
        if (first) desiredCount = 1
        updated.set(name, await e.ecs.updateService(cluster, name, {taskDefinition: taskDefinitions[type], ...(first ? {desiredCount} : {})}))
        if (first) started.push(type)
      } else {
        updated.set(name, await e.ecs.createService(serviceInput(e, type, taskDefinitions[type])))
        created.push(type)
        note(e, `New process type ${type}: start it with herogate scale ${type}=1 -a ${e.app}`)
      }

      targets.push({processType: type, service: name, taskDefinition: taskDefinitions[type], desiredCount})
    }
  } catch (error) {
    // Some services may run the new release already: put them all back before giving up.
    await putBack(e, record, previous, {created, started}).catch(() => undefined)
    throw error
  }

  return watchAndSettle(e, record, previous, options, targets, updated, {
    async succeeded() {
      for (const type of gone) {
        await e.ecs.deleteService(cluster, names.service(e.app, type))
        note(e, `Process type ${type} is no longer in the Procfile: its service was removed`)
      }

      return finish(e, record, 'succeeded', {taskDefinitions})
    },
    putBack: () => putBack(e, record, previous, {created, started}),
    taskDefinitions,
  })
}

/** Undoes a failed release: the previous config, the previous task definitions, no new services. */
async function putBack(e: Env, record: ReleaseRecord, previous: ReleaseRecord | undefined, changes: {created: string[]; started: string[]}): Promise<void> {
  const {cluster} = e.resources
  await undoConfig(e, record)
  for (const type of changes.created) await e.ecs.deleteService(cluster, names.service(e.app, type))
  const prior = previous?.taskDefinitions ?? {}
  for (const spec of Object.keys(prior)) {
    if (changes.created.includes(spec)) continue
    await e.ecs.updateService(cluster, names.service(e.app, spec), {taskDefinition: prior[spec]})
  }

  for (const type of changes.started) {
    if (!prior[type]) await e.ecs.updateService(cluster, names.service(e.app, type), {desiredCount: 0})
  }
}

function serviceInput(e: Env, type: string, taskDefinition: string) {
  return {
    cluster: e.resources.cluster,
    serviceName: names.service(e.app, type),
    taskDefinition,
    desiredCount: 0,
    launchType: 'FARGATE' as const,
    enableECSManagedTags: true,
    propagateTags: 'SERVICE' as const,
    networkConfiguration: {
      awsvpcConfiguration: {subnets: e.resources.subnets, securityGroups: [e.resources.securityGroup], assignPublicIp: 'ENABLED' as const},
    },
    // The same rollout settings as the stack's web service.
    deploymentConfiguration: {
      minimumHealthyPercent: 100,
      maximumPercent: 200,
      deploymentCircuitBreaker: {enable: true, rollback: true},
    },
    tags: [{key: names.appTag(), value: e.app}, {key: 'herogate:process-type', value: type}],
  }
}

// ---------------------------------------------------------------------------------------------
// Deploy (runs inside CodeBuild, from `herogate internal:release`)

export interface BuiltImage {
  /** repo@sha256:... */
  image: string
  commit?: string
  /** Buildpack images run process types through the CNB launcher. */
  buildpacks?: boolean
}

/** Procfile to process specs' commands; without a Procfile, web runs the image's default command. */
export function processCommands(types: Record<string, string>, buildpacks: boolean): Record<string, Pick<ProcessSpec, 'command' | 'entryPoint'>> {
  const result: Record<string, Pick<ProcessSpec, 'command' | 'entryPoint'>> = {}
  for (const [type, command] of Object.entries(types)) {
    if (!command) result[type] = {}
    else if (buildpacks) result[type] = {entryPoint: [`/cnb/process/${type}`]}
    else result[type] = {command: ['/bin/sh', '-c', command]}
  }

  return result
}

/**
 * Releases a built image: takes the app's lock (the caller says how long to wait for it), runs
 * the Procfile's release command as a one-off task, then rolls every process type out.
 */
export async function releaseImage(ctx: AwsContext, app: string, built: BuiltImage, options: ReleaseOptions & {processTypes: Record<string, string>; lockOptions?: Pick<LockOptions, 'holder' | 'waitMs' | 'ttlMs'>}): Promise<Release> {
  const {release: releaseCommand, ...types} = options.processTypes
  if (Object.keys(types).length === 0) throw new InvalidInput('The Procfile has no process types besides release.')
  const short = built.commit ? built.commit.slice(0, 7) : built.image.slice(built.image.indexOf('@sha256:') + 8, built.image.indexOf('@sha256:') + 15)
  const author = options.author ?? (await authorName(ctx))
  const plan = (): NewRelease => ({
    kind: 'deploy',
    description: `Deploy ${short}`,
    status: 'pending',
    author,
    createdAt: ctx.clock.now().toISOString(),
    image: built.image,
    processTypes: options.processTypes,
    ...(built.commit ? {commit: built.commit} : {}),
  })
  return withAppLock(ctx, app, 'deploy', async (lock) => {
    const e = await env(ctx, app, {...options, lock})
    const record: ReleaseRecord = {...lock.record!}
    const current = lock.state.current
    return settle(e, record, async () => {
      const live = await e.config.get(app)
      const commands = processCommands(options.processTypes, built.buildpacks ?? false)
      const keys = splitKeys(live)
      const running = await servicesOf(e, Object.keys(types))
      const sizeOf = async (type: string) => {
        const arn = running.get(type)?.taskDefinition
        return arn ? specFromTaskDefinition(type, await e.ecs.describeTaskDefinition(arn)).size : DEFAULT_SIZE
      }

      if (releaseCommand) {
        record.phase = 'release phase'
        await lock.update(record)
        const spec: ProcessSpec = {processType: 'release', image: built.image, ...commands.release, size: await sizeOf('web'), configKeys: keys.secret, emptyKeys: keys.empty, release: record.version}
        const outcome = await runReleasePhase(e, spec, options.signal)
        if (!outcome.ok) {
          await finish(e, record, 'failed', {failure: outcome.reason})
          throw new HerogateError(`Release phase of v${record.version} failed: ${outcome.reason}. ${current ? `v${current.version} keeps serving.` : ''}`.trim(), {
            suggestions: [`herogate logs --source herogate -a ${app}`, `herogate run -a ${app} -- <the release command> (to try it by hand)`],
          })
        }
      }

      const specs: ProcessSpec[] = []
      for (const type of Object.keys(types)) {
        specs.push({processType: type, image: built.image, ...commands[type], size: await sizeOf(type), configKeys: keys.secret, emptyKeys: keys.empty, release: record.version})
      }

      // Without a release phase in between, the services read above are still current.
      return applyRelease(e, record, specs, current, options, releaseCommand ? undefined : running)
    })
  }, {...options.lockOptions, onProgress: options.onProgress, plan})
}

export const RELEASE_PHASE_TIMEOUT_MS = 30 * 60_000

/** Runs the release command to its end, copying its output to the progress (and so to the build log). */
async function runReleasePhase(e: Env, spec: ProcessSpec, signal?: AbortSignal): Promise<{ok: boolean; reason?: string}> {
  const {cluster, subnets, securityGroup, logGroup} = e.resources
  step(e, 'release-phase', 'Running the release command', 'start')
  const taskDefinition = await e.ecs.registerTaskDefinition(taskDefinitionInput(e.app, e.resources, spec))
  const arn = await e.ecs.runTask({cluster, taskDefinition, subnets, securityGroup, startedBy: `herogate-release-v${spec.release}`})
  const id = arn.slice(arn.lastIndexOf('/') + 1)
  const logs = new LogsService(await e.ctx.clients.logs())
  const stream = `${names.logStreamPrefix('release')}/release/${id}`
  note(e, `Release command running as task ${id} (log stream ${stream})`)
  let token: string | undefined
  const copy = async () => {
    const page = await logs.readStream(logGroup, stream, token)
    token = page.nextToken
    for (const event of page.events) e.onProgress?.({kind: 'output', stream: 'release', line: event.message})
  }

  const start = e.ctx.clock.now().getTime()
  for (;;) {
    const [task] = await e.ecs.tasks(cluster, [arn])
    await copy()
    if (task?.lastStatus === 'STOPPED') {
      // Lines can arrive a moment after the task stops.
      await copy()
      const container = task.containers?.[0]
      const code = container?.exitCode
      if (code === 0) {
        step(e, 'release-phase', 'Running the release command', 'done')
        return {ok: true}
      }

      step(e, 'release-phase', 'Running the release command', 'failed')
      return {ok: false, reason: code === undefined ? `the release task stopped: ${container?.reason ?? task.stoppedReason ?? 'no exit code'}` : `the release command exited with ${code}`}
    }

    if (e.ctx.clock.now().getTime() - start > RELEASE_PHASE_TIMEOUT_MS) {
      step(e, 'release-phase', 'Running the release command', 'failed')
      return {ok: false, reason: `the release command ran longer than ${RELEASE_PHASE_TIMEOUT_MS / 60_000} minutes`}
    }

    await e.lock.keepAlive()
    await e.ctx.clock.sleep(3000, signal)
  }
}

// ---------------------------------------------------------------------------------------------
// Platform methods

export async function releases(ctx: AwsContext, app: string, options: {num: number}): Promise<Release[]> {
  const all = await new ReleaseStore(await ctx.clients.ssm()).all(app, ctx.clock.now())
  const current = all.find((r) => r.status === 'succeeded')
  return all.slice(0, Math.max(options.num, 0)).map((r) => toRelease(r, current?.version))
}

export async function releaseInfo(ctx: AwsContext, app: string, version?: number): Promise<Release> {
  const all = await new ReleaseStore(await ctx.clients.ssm()).all(app, ctx.clock.now())
  const current = all.find((r) => r.status === 'succeeded')
  const record = version === undefined ? all[0] : all.find((r) => r.version === version)
  if (!record) {
    throw new InvalidInput(version === undefined ? `${app} has no releases yet.` : `Release v${version} of ${app} not found.`, {
      suggestions: version === undefined ? ['git push herogate main', `herogate deploy -a ${app}`] : [`herogate releases -a ${app}`],
    })
  }

  return toRelease(record, current?.version)
}

/**
 * The parameter version each config var had at `target`: for every var a release after it
 * changed (releases that failed put theirs back), the version before the first such change.
 * Vars no later release touched (set outside herogate, or unchanged since) are left alone.
 */
export function configAt(all: ReleaseRecord[], target: ReleaseRecord): Record<string, number> {
  const wanted: Record<string, number> = {}
  // Newest first: the oldest change after the target is written last.
  for (const record of all) {
    if (record.version <= target.version || record.status !== 'succeeded') continue
    for (const [key, [before]] of Object.entries(record.config ?? {})) wanted[key] = before
  }

  return wanted
}

/** Restores a release's code and config as a new release; no rebuild. Default: the release before the current one. */
export async function rollback(ctx: AwsContext, app: string, version?: number, options: ReleaseOptions = {}): Promise<Release> {
  const store = new ReleaseStore(await ctx.clients.ssm())
  const author = options.author ?? (await authorName(ctx))
  let all: ReleaseRecord[] = []
  let target: ReleaseRecord | undefined
  const plan = async (state: AppState): Promise<NewRelease> => {
    // The listing must be as new as the head: a release may have ended since it was read.
    if (all.length === 0 || all[0].version !== state.latest?.version) all = (await store.all(app, ctx.clock.now())).filter((r) => r.status !== 'pending')
    target = rollbackTarget(app, all, version)
    if (target.status === 'failed') options.onProgress?.({kind: 'warning', message: `v${target.version} failed when it was released.`})
    return {
      kind: 'rollback',
      description: `Rollback to v${target.version}`,
      status: 'pending',
      author,
      createdAt: ctx.clock.now().toISOString(),
      rollbackTo: target.version,
      ...inherited(target),
    }
  }

  return withAppLock(ctx, app, 'rollback', async (lock) => {
    const e = await env(ctx, app, {...options, lock})
    const current = lock.state.current
    const definitions = target!.taskDefinitions!
    step(e, 'config', `Restoring the config of v${target!.version}`, 'start')
    const delta = await e.config.restoreVersions(app, configAt(all, target!))
    step(e, 'config', `Restoring the config of v${target!.version}`, 'done')
    const record: ReleaseRecord = {...lock.record!, config: delta}
    return settle(e, record, async () => {
      const keys = splitKeys(await e.config.get(app))
      const running = await servicesOf(e, Object.keys(definitions))
      const specs: ProcessSpec[] = []
      for (const [type, arn] of Object.entries(definitions)) {
        const spec = specFromTaskDefinition(type, await e.ecs.describeTaskDefinition(arn))
        // Code and config come from the target; the process size stays what it is now.
        const runningArn = running.get(type)?.taskDefinition
        const size = runningArn ? specFromTaskDefinition(type, await e.ecs.describeTaskDefinition(runningArn)).size : spec.size
        specs.push({...spec, size, configKeys: keys.secret, emptyKeys: keys.empty, release: record.version})
      }

      return applyRelease(e, record, specs, current, options, running)
    })
  }, {onProgress: options.onProgress, plan})
}

function rollbackTarget(app: string, all: ReleaseRecord[], version: number | undefined): ReleaseRecord {
  const current = all.find((r) => r.status === 'succeeded')
  if (!current) throw new InvalidInput(`${app} has no release to roll back from.`, {suggestions: [`herogate releases -a ${app}`]})
  const target = version === undefined ? all.find((r) => r.status === 'succeeded' && r.version < current.version) : all.find((r) => r.version === version)
  if (!target) {
    throw new InvalidInput(version === undefined ? `${app} has no earlier release to roll back to.` : `Release v${version} of ${app} not found.`, {
      suggestions: [`herogate releases -a ${app}`],
    })
  }

  if (!target.taskDefinitions || Object.keys(target.taskDefinitions).length === 0) {
    throw new InvalidInput(`v${target.version} has no code to roll back to (it was made before the first deploy).`, {suggestions: [`herogate releases -a ${app}`]})
  }

  return target
}

export async function deploy(ctx: AwsContext, app: string, options: DeployOptions): Promise<Release> {
  const {deploy: run} = await import('./deploy.js')
  return run(ctx, app, options)
}
