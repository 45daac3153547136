/**
 * Releases on AWS: every deploy, config change and rollback makes an immutable release vN
 * (src/aws/release-store.ts), rolls it out service by service and watches it (rollout.ts).
 *
 * For config.ts (issue 4): a config change is a release, made under the app's lock:
 *
 *     return withAppLock(ctx, app, 'config:set', async (lock) => {
 *       const changed = await configStore.set(app, vars)          // write SSM first
 *       const release = await releaseConfigChange(ctx, app, {set: changed}, {...options, lock})
 *       return {keys: changed, release}
 *     }, {onProgress: options.onProgress})
 *
 * releaseConfigChange snapshots the live config as a new config version, registers a new
 * task definition revision (same image, the new key set) for every process type, updates every
 * service and watches the rollout. When the rollout fails it puts back the previous release's
 * config and task definitions and throws; the failed release stays in the history.
 * Before the first deploy there is nothing to roll out: the release is recorded and succeeds.
 */
import type {Service} from '@aws-sdk/client-ecs'
import {hostname, userInfo} from 'node:os'

import {EcsRelease} from '../../aws/ecs-release.js'
import {callerIdentity} from '../../aws/identity.js'
import {LogsService} from '../../aws/logs.js'
import {
  type LockInfo, type NewRelease, type ReleaseRecord, ConfigVersionStore, LockStore, nameFromArn, ReleaseStore, sameConfig,
} from '../../aws/release-store.js'
import {type ConfigKeys, ConfigStore, splitKeys} from '../../aws/ssm.js'
import {HerogateError, Interrupted, InvalidInput, LockHeld} from '../../lib/errors.js'
import {names} from '../../lib/naming.js'
import {DEFAULT_SIZE} from '../../lib/sizes.js'
import type {DeployOptions, OperationOptions, Progress, ProgressEvent, Release} from '../types.js'
import type {AwsContext} from './context.js'
import {type AppResources, loadAppResources} from './resources.js'
import {INTERRUPTED, type RolloutSettings, type RolloutTarget, watchRollout} from './rollout.js'
import {type ProcessSpec, specFromTaskDefinition, taskDefinitionInput} from './taskdef.js'

/** A lock left behind by a crashed run is taken over after this long. */
export const LOCK_TTL_MS = 15 * 60_000
/** How long a CLI operation waits for another one to finish before failing with LockHeld. */
export const LOCK_WAIT_MS = 20_000
const LOCK_POLL_MS = 2000

export interface AppLock {
  app: string
  info: LockInfo
  /** Pushes the expiry forward when a third of the TTL has passed; long operations call it as they poll. */
  keepAlive(): Promise<void>
}

export interface LockOptions {
  holder?: string
  waitMs?: number
  ttlMs?: number
  onProgress?: Progress
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
   * Also write the release's progress to the app's log group (herogate/deploy/vN), so that
   * `logs --source herogate` shows it. Off inside CodeBuild, whose own log already has it.
   */
  journal?: boolean
}

/** Runs `fn` holding the app's lock: one deploy, config change or rollback at a time. */
export async function withAppLock<T>(ctx: AwsContext, app: string, operation: string, fn: (lock: AppLock) => Promise<T>, options: LockOptions = {}): Promise<T> {
  const store = new LockStore(await ctx.clients.ssm())
  const ttl = options.ttlMs ?? LOCK_TTL_MS
  const holder = options.holder ?? (await lockHolder(ctx))
  const started = ctx.clock.now().getTime()
  const token = `${holder}:${started}:${Math.random().toString(36).slice(2, 10)}`
  let since = started
  const infoAt = (now: Date): LockInfo => ({holder, operation, since: new Date(since).toISOString(), expiresAt: new Date(now.getTime() + ttl).toISOString(), token})
  let warned = false
  for (;;) {
    try {
      since = ctx.clock.now().getTime()
      await store.acquire(app, infoAt(ctx.clock.now()), ctx.clock.now())
      break
    } catch (error) {
      if (!(error instanceof LockHeld) || ctx.clock.now().getTime() - started >= (options.waitMs ?? LOCK_WAIT_MS)) throw error
      if (!warned) options.onProgress?.({kind: 'warning', message: `${error.message} Waiting for it to finish…`})
      warned = true
      await ctx.clock.sleep(LOCK_POLL_MS)
    }
  }

  let refreshed = ctx.clock.now().getTime()
  const lock: AppLock = {
    app,
    info: infoAt(ctx.clock.now()),
    async keepAlive() {
      const now = ctx.clock.now()
      if (now.getTime() - refreshed < ttl / 3) return
      refreshed = now.getTime()
      lock.info = infoAt(now)
      if (!(await store.refresh(app, lock.info))) {
        throw new HerogateError(`Lost the lock of ${app}: another run took it over after it expired.`, {suggestions: [`herogate releases -a ${app}`]})
      }
    },
  }
  try {
    return await fn(lock)
  } finally {
    // Nobody takes a lock over before it expires: a lock refreshed less than half its TTL ago is still ours.
    await store.release(app, token, ctx.clock.now().getTime() - refreshed < ttl / 2)
  }
}

const authors = new WeakMap<AwsContext, Promise<string>>()

/**
 * Who a lock names when the caller does not say: the AWS identity when this context knows it
 * already, else the local user and host, so that an operation that makes no release (a size
 * change) asks STS for nothing.
 */
async function lockHolder(ctx: AwsContext): Promise<string> {
  const known = authors.get(ctx)
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

/** The last part of the caller's identity ARN (user name, or role session name); asked once per context. */
export function authorName(ctx: AwsContext): Promise<string> {
  let name = authors.get(ctx)
  if (!name) {
    name = ctx.clients.sts().then(async (sts) => nameFromArn((await callerIdentity(sts)).arn))
    name.catch(() => authors.delete(ctx))
    authors.set(ctx, name)
  }

  return name
}

export async function appResources(ctx: AwsContext, app: string): Promise<AppResources> {
  return (ctx.appResources ?? loadAppResources)(ctx, app)
}

/** What a release needs from AWS, made once per operation. */
interface Env {
  app: string
  ctx: AwsContext
  resources: AppResources
  ecs: EcsRelease
  store: ReleaseStore
  configVersions: ConfigVersionStore
  config: ConfigStore
  onProgress?: Progress
  journal?: Array<{timestamp: number; message: string}>
  /** What the head parameter will say when this release ends (set when the release is created). */
  head?: {current?: ReleaseRecord; configVersion?: number}
}

async function env(ctx: AwsContext, app: string, options: ReleaseOptions): Promise<Env> {
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
    store: new ReleaseStore(ssm),
    configVersions: new ConfigVersionStore(ssm),
    config: new ConfigStore(ssm),
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

/** Writes what the release did to herogate/deploy/vN; a failure to write is a warning, not a failed release. */
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
    await logs.put(e.resources.logGroup, `${names.herogateLogStreamPrefix()}/deploy/v${record.version}`, events)
  } catch (error) {
    e.onProgress?.({kind: 'warning', message: `Could not write the release's log: ${(error as Error).message}`})
  }
}

function requireLock(app: string, options: ReleaseOptions): AppLock {
  if (options.lock?.app !== app) throw new HerogateError(`Releases of ${app} are made under its lock (withAppLock).`)
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
    ...(record.configVersion === undefined ? {} : {configVersion: record.configVersion}),
    ...(record.processTypes ? {processTypes: record.processTypes} : {}),
    ...(record.taskDefinitions ? {taskDefinitions: record.taskDefinitions} : {}),
    ...(record.status === 'failed' && record.failure ? {failure: record.failure} : {}),
  }
}

/**
 * The live config as a config version: the latest snapshot when it still matches, else a new one.
 * `latest`: the newest version when the caller knows it (0: none yet); undefined lists them.
 */
async function currentConfigVersion(e: Env, live: Record<string, string>, latest?: number): Promise<number> {
  const newest = latest ?? (await e.configVersions.latestVersion(e.app)) ?? 0
  if (newest > 0 && sameConfig(await e.configVersions.read(e.app, newest), live)) return newest
  return e.configVersions.write(e.app, live, newest)
}

function step(e: Env, id: string, message: string, status: 'start' | 'done' | 'failed' | 'skipped'): void {
  e.onProgress?.({kind: 'step', id, message, status})
}

function note(e: Env, line: string): void {
  e.onProgress?.({kind: 'output', stream: 'release', line})
}

export interface ConfigReleaseOptions extends ReleaseOptions {
  /** The config after the change, when the caller has it (saves reading it again). */
  live?: Record<string, string>
  /**
   * The config's keys before the change. When the change keeps them (secret and empty alike),
   * the task definitions stay as they are (their secrets name parameters, which ECS reads at
   * task start) and every service just starts a new deployment of them.
   */
  keysBefore?: ConfigKeys
}

/** Config change: same code, the live config; see the comment at the top of this file. */
export async function releaseConfigChange(ctx: AwsContext, app: string, change: {set?: string[]; unset?: string[]}, options: ConfigReleaseOptions = {}): Promise<Release> {
  const lock = requireLock(app, options)
  const e = await env(ctx, app, options)
  const description = [
    change.set?.length ? `Set ${change.set.join(', ')} config vars` : '',
    change.unset?.length ? `Remove ${change.unset.join(', ')} config vars` : '',
  ].filter(Boolean).join('; ') || 'Config change'
  const live = options.live ?? (await e.config.get(app))
  const author = options.author ?? (await authorName(ctx))
  const keys = splitKeys(live)
  const {record, current} = await createRelease(e, (current, configVersion) => ({
    kind: 'config',
    description,
    status: 'pending',
    author,
    createdAt: ctx.clock.now().toISOString(),
    configVersion,
    ...inherited(current),
    // With code to roll out, the rollout is what comes next.
    ...(hasCode(current) ? {phase: 'rollout'} : {}),
  }), async (latest) => (options.live ? e.configVersions.write(app, live, latest) : currentConfigVersion(e, live, latest)))
  return settle(e, record, async () => {
    if (!hasCode(current)) return finish(e, record, 'succeeded', {})
    if (options.keysBefore && sameKeys(options.keysBefore, keys)) return restartRelease(e, lock, record, current, options)
    const running = await servicesOf(e, Object.keys(current.taskDefinitions))
    const specs: ProcessSpec[] = []
    for (const [type, arn] of Object.entries(current.taskDefinitions)) {
      const base = specFromTaskDefinition(type, await e.ecs.describeTaskDefinition(running.get(type)?.taskDefinition ?? arn))
      specs.push({...base, configKeys: keys.secret, emptyKeys: keys.empty, release: record.version})
    }

    return applyRelease(e, lock, record, specs, current, options, running)
  })
}

function hasCode(release: ReleaseRecord | undefined): release is ReleaseRecord & {taskDefinitions: Record<string, string>} {
  return Boolean(release?.taskDefinitions && Object.keys(release.taskDefinitions).length > 0)
}

function sameKeys(a: ConfigKeys, b: ConfigKeys): boolean {
  const same = (x: string[], y: string[]) => x.length === y.length && [...x].sort().every((key, i) => key === [...y].sort()[i])
  return same(a.secret, b.secret) && same(a.empty, b.empty)
}

/**
 * A config change that keeps the key set: every process type's service starts a new deployment
 * of the task definition it runs (ECS reads the new values at task start), watched like any
 * rollout; when it fails, the previous config is put back and the services redeploy it.
 */
async function restartRelease(e: Env, lock: AppLock, record: ReleaseRecord, previous: ReleaseRecord & {taskDefinitions: Record<string, string>}, options: ReleaseOptions): Promise<Release> {
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
    if (previous.configVersion !== undefined && previous.configVersion !== record.configVersion) await restoreConfig(e, previous.configVersion)
    for (const type of Object.keys(taskDefinitions)) await e.ecs.updateService(cluster, names.service(e.app, type), {forceNewDeployment: true})
  }

  try {
    await redeploy()
  } catch (error) {
    await putBack().catch(() => undefined)
    throw error
  }

  return watchAndSettle(e, lock, record, previous, options, targets, updated, {
    succeeded: () => finish(e, record, 'succeeded', {taskDefinitions}),
    putBack,
    taskDefinitions,
  })
}

/** Watches a rollout, then marks the release succeeded, or puts the previous one back and marks it failed. */
async function watchAndSettle(
  e: Env, lock: AppLock, record: ReleaseRecord, previous: ReleaseRecord | undefined, options: ReleaseOptions,
  targets: RolloutTarget[], updated: Map<string, Service>,
  then: {succeeded: () => Promise<Release>; putBack: () => Promise<void>; taskDefinitions: Record<string, string>},
): Promise<Release> {
  const outcome = await watchRollout(e.ecs, e.resources.cluster, targets.filter((t) => t.desiredCount > 0), {
    clock: e.ctx.clock,
    settings: options.rollout,
    onProgress: e.onProgress,
    signal: options.signal,
    onTick: () => lock.keepAlive(),
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

function inherited(current: ReleaseRecord | undefined): Partial<NewRelease> {
  if (!current) return {}
  return {
    ...(current.commit ? {commit: current.commit} : {}),
    ...(current.image ? {image: current.image} : {}),
    ...(current.processTypes ? {processTypes: current.processTypes} : {}),
  }
}

/**
 * Creates the next release from what the head says (one read), or from the listing of every
 * record when there is no head or it is stale. `make` builds the record from the current release;
 * `config` snapshots the config (given the newest known config version) when the release needs it.
 */
async function createRelease(
  e: Env,
  make: (current: ReleaseRecord | undefined, configVersion: number | undefined) => NewRelease,
  config?: (latestConfig: number | undefined) => Promise<number>,
): Promise<{record: ReleaseRecord; current?: ReleaseRecord}> {
  const head = await e.store.head(e.app)
  let configVersion: number | undefined
  if (head) {
    configVersion = config ? await config(head.configVersion ?? 0) : undefined
    const record = await e.store.createAt(e.app, head.latest + 1, make(head.current, configVersion))
    if (record) {
      e.head = {current: head.current, configVersion: Math.max(head.configVersion ?? 0, configVersion ?? 0) || undefined}
      return {record, current: head.current}
    }
  }

  // No head (an app released before there was one) or a stale one: list the records.
  const all = await e.store.all(e.app)
  const current = all.find((r) => r.status === 'succeeded')
  const newestConfig = Math.max(0, ...all.map((r) => r.configVersion ?? 0)) || undefined
  if (config && configVersion === undefined) configVersion = await config(newestConfig)
  const record = await e.store.create(e.app, make(current, configVersion), all[0]?.version ?? 0)
  e.head = {current, configVersion: Math.max(newestConfig ?? 0, configVersion ?? 0) || undefined}
  return {record, current}
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
  try {
    return await fn()
  } catch (error) {
    const stored = await e.store.get(e.app, record.version).catch(() => undefined)
    if (stored?.status === 'pending') {
      const failure = error instanceof Error ? error.message.split('\n')[0].slice(0, 300) : 'the release stopped'
      await finish(e, {...stored, phase: undefined}, 'failed', {failure}).catch(() => undefined)
    }

    throw error
  }
}

async function finish(e: Env, record: ReleaseRecord, status: 'succeeded' | 'failed', extra: Partial<ReleaseRecord>): Promise<Release> {
  const final: ReleaseRecord = {...record, ...extra, status, finishedAt: e.ctx.clock.now().toISOString()}
  delete final.phase
  await e.store.update(e.app, final)
  if (e.head) {
    const configVersion = Math.max(e.head.configVersion ?? 0, final.configVersion ?? 0) || undefined
    await e.store.writeHead(e.app, {latest: final.version, current: status === 'succeeded' ? final : e.head.current, configVersion})
  }

  await flushJournal(e, final)
  return toRelease(final, status === 'succeeded' ? final.version : undefined)
}

/**
 * Registers the specs' task definitions, points each process type's service at them
 * (creating services for new types at zero processes), watches the rollout, and either
 * removes the types that are gone and marks the release succeeded, or puts the previous
 * release back and marks it failed.
 */
async function applyRelease(e: Env, lock: AppLock, record: ReleaseRecord, specs: ProcessSpec[], previous: ReleaseRecord | undefined, options: ReleaseOptions, running?: Map<string, Service>): Promise<Release> {
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
    await e.store.update(e.app, record)
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

  return watchAndSettle(e, lock, record, previous, options, targets, updated, {
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
  if (previous?.configVersion !== undefined && previous.configVersion !== record.configVersion) {
    await restoreConfig(e, previous.configVersion)
  }

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

/** Makes the live config equal a snapshot: sets what differs, removes what is not in it. */
async function restoreConfig(e: Env, version: number): Promise<void> {
  const wanted = await e.configVersions.read(e.app, version)
  const live = await e.config.get(e.app)
  const differing = Object.fromEntries(Object.entries(wanted).filter(([key, value]) => live[key] !== value))
  if (Object.keys(differing).length > 0) await e.config.set(e.app, differing)
  const extra = Object.keys(live).filter((key) => !Object.hasOwn(wanted, key))
  if (extra.length > 0) await e.config.unset(e.app, extra)
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
 * Releases a built image: runs the Procfile's release command as a one-off task, then rolls
 * every process type out. Takes the app's lock; the caller passes how long to wait for it.
 */
export async function releaseImage(ctx: AwsContext, app: string, built: BuiltImage, options: ReleaseOptions & {processTypes: Record<string, string>}): Promise<Release> {
  const lock = requireLock(app, options)
  const e = await env(ctx, app, options)
  const {release: releaseCommand, ...types} = options.processTypes
  if (Object.keys(types).length === 0) throw new InvalidInput('The Procfile has no process types besides release.')
  const live = await e.config.get(app)
  const short = built.commit ? built.commit.slice(0, 7) : built.image.slice(built.image.indexOf('@sha256:') + 8, built.image.indexOf('@sha256:') + 15)
  const author = options.author ?? (await authorName(ctx))
  const {record, current} = await createRelease(e, (_current, configVersion) => ({
    kind: 'deploy',
    description: `Deploy ${short}`,
    status: 'pending',
    author,
    createdAt: ctx.clock.now().toISOString(),
    image: built.image,
    configVersion,
    processTypes: options.processTypes,
    ...(built.commit ? {commit: built.commit} : {}),
  }), (latest) => currentConfigVersion(e, live, latest))
  return settle(e, record, async () => {
    const commands = processCommands(options.processTypes, built.buildpacks ?? false)
    const keys = splitKeys(live)
    const running = await servicesOf(e, Object.keys(types))
    const sizeOf = async (type: string) => {
      const arn = running.get(type)?.taskDefinition
      return arn ? specFromTaskDefinition(type, await e.ecs.describeTaskDefinition(arn)).size : DEFAULT_SIZE
    }

    if (releaseCommand) {
      record.phase = 'release phase'
      await e.store.update(app, record)
      const spec: ProcessSpec = {processType: 'release', image: built.image, ...commands.release, size: await sizeOf('web'), configKeys: keys.secret, emptyKeys: keys.empty, release: record.version}
      const outcome = await runReleasePhase(e, lock, spec, options.signal)
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
    return applyRelease(e, lock, record, specs, current, options, releaseCommand ? undefined : running)
  })
}

export const RELEASE_PHASE_TIMEOUT_MS = 30 * 60_000

/** Runs the release command to its end, copying its output to the progress (and so to the build log). */
async function runReleasePhase(e: Env, lock: AppLock, spec: ProcessSpec, signal?: AbortSignal): Promise<{ok: boolean; reason?: string}> {
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

    await lock.keepAlive()
    await e.ctx.clock.sleep(3000, signal)
  }
}

// ---------------------------------------------------------------------------------------------
// Platform methods

export async function releases(ctx: AwsContext, app: string, options: {num: number}): Promise<Release[]> {
  const all = await new ReleaseStore(await ctx.clients.ssm()).all(app)
  const current = all.find((r) => r.status === 'succeeded')
  return all.slice(0, Math.max(options.num, 0)).map((r) => toRelease(r, current?.version))
}

export async function releaseInfo(ctx: AwsContext, app: string, version?: number): Promise<Release> {
  const all = await new ReleaseStore(await ctx.clients.ssm()).all(app)
  const current = all.find((r) => r.status === 'succeeded')
  const record = version === undefined ? all[0] : all.find((r) => r.version === version)
  if (!record) {
    throw new InvalidInput(version === undefined ? `${app} has no releases yet.` : `Release v${version} of ${app} not found.`, {
      suggestions: version === undefined ? ['git push herogate main', `herogate deploy -a ${app}`] : [`herogate releases -a ${app}`],
    })
  }

  return toRelease(record, current?.version)
}

/** Restores a release's code and config as a new release; no rebuild. Default: the release before the current one. */
export async function rollback(ctx: AwsContext, app: string, version?: number, options: ReleaseOptions = {}): Promise<Release> {
  return withAppLock(ctx, app, 'rollback', (lock) => rollbackLocked(ctx, app, version, {...options, lock}), {onProgress: options.onProgress})
}

export async function rollbackLocked(ctx: AwsContext, app: string, version: number | undefined, options: ReleaseOptions): Promise<Release> {
  const lock = requireLock(app, options)
  const e = await env(ctx, app, options)
  const all = await e.store.all(app)
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

  if (target.status === 'failed') {
    e.onProgress?.({kind: 'warning', message: `v${target.version} failed when it was released.`})
  }

  step(e, 'config', `Restoring the config of v${target.version}`, 'start')
  if (target.configVersion !== undefined) await restoreConfig(e, target.configVersion)
  step(e, 'config', `Restoring the config of v${target.version}`, 'done')
  const live = await e.config.get(app)
  const keys = splitKeys(live)
  const record = await e.store.create(app, {
    kind: 'rollback',
    description: `Rollback to v${target.version}`,
    status: 'pending',
    author: options.author ?? (await authorName(ctx)),
    createdAt: ctx.clock.now().toISOString(),
    rollbackTo: target.version,
    ...inherited(target),
    ...(target.configVersion === undefined ? {} : {configVersion: target.configVersion}),
  }, all[0]?.version ?? 0)
  e.head = {current, configVersion: Math.max(0, ...all.map((r) => r.configVersion ?? 0)) || undefined}
  const definitions = target.taskDefinitions
  return settle(e, record, async () => {
    const running = await servicesOf(e, Object.keys(definitions))
    const specs: ProcessSpec[] = []
    for (const [type, arn] of Object.entries(definitions)) {
      const spec = specFromTaskDefinition(type, await e.ecs.describeTaskDefinition(arn))
      // Code and config come from the target; the process size stays what it is now.
      const runningArn = running.get(type)?.taskDefinition
      const size = runningArn ? specFromTaskDefinition(type, await e.ecs.describeTaskDefinition(runningArn)).size : spec.size
      specs.push({...spec, size, configKeys: keys.secret, emptyKeys: keys.empty, release: record.version})
    }

    return applyRelease(e, lock, record, specs, current, options, running)
  })
}

export async function deploy(ctx: AwsContext, app: string, options: DeployOptions): Promise<Release> {
  const {deploy: run} = await import('./deploy.js')
  return run(ctx, app, options)
}
