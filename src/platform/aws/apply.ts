/**
 * A release's lifecycle once its lock is held: register the task definitions, point each
 * process type's service at them, watch the rollout (rollout.ts), then record how it ended in
 * the head (which frees the lock) and the release log. A failed rollout puts the previous
 * release back (task definitions and config, by parameter version) before it is recorded.
 * An unexpected error also ends the release as failed, so no record stays pending.
 *
 * The releases that go through it: config-release.ts (config changes), release-image.ts
 * (deploys of a built image, with the release phase) and rollback.ts.
 */
import type {Service} from '@aws-sdk/client-ecs'

import {EcsRelease, ServiceDraining} from '../../aws/ecs-release.js'
import {LogsService} from '../../aws/logs.js'
import type {NewRelease, ReleaseRecord} from '../../aws/release-store.js'
import {ConfigStore} from '../../aws/ssm.js'
import {HerogateError, Interrupted} from '../../lib/errors.js'
import {names} from '../../lib/naming.js'
import {configMasker, cutLine, FAILURE_LINES, failureDetails} from '../../lib/process-output.js'
import type {FailureOutput, OperationOptions, Progress, ProgressEvent, Release} from '../types.js'
import type {AwsContext} from './context.js'
import {DRAIN_WAIT_MS, pollUntil} from './draining.js'
import type {AppLock} from './lock.js'
import {toRelease} from './releases.js'
import {type AppResources, appResources, taskNetwork} from './resources.js'
import {INTERRUPTED, type RolloutSettings, type RolloutTarget, type TaskFailure, watchRollout} from './rollout.js'
import {syncJobs} from './scheduler.js'
import {type ProcessSpec, taskDefinitionInput, taskLogStream} from './taskdef.js'

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


/** What a release needs from AWS, made once per operation. */
export interface Env {
  app: string
  ctx: AwsContext
  resources: AppResources
  ecs: EcsRelease
  config: ConfigStore
  lock: AppLock
  onProgress?: Progress
  journal?: Array<{timestamp: number; message: string}>
}

export async function env(ctx: AwsContext, app: string, options: ReleaseOptions): Promise<Env> {
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
    config: new ConfigStore(ssm, (ms) => ctx.clock.sleep(ms)),
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

export function step(e: Env, id: string, message: string, status: 'start' | 'done' | 'failed' | 'skipped'): void {
  e.onProgress?.({kind: 'step', id, message, status})
}

export function note(e: Env, line: string): void {
  e.onProgress?.({kind: 'output', stream: 'release', line})
}

export function inherited(current: ReleaseRecord | undefined): Partial<NewRelease> {
  if (!current) return {}
  return {
    ...(current.commit ? {commit: current.commit} : {}),
    ...(current.image ? {image: current.image} : {}),
    ...(current.processTypes ? {processTypes: current.processTypes} : {}),
    ...(current.taskDefinitions ? {taskDefinitions: current.taskDefinitions} : {}),
    ...(current.jobs ? {jobs: current.jobs} : {}),
  }
}


export function hasCode(release: ReleaseRecord | undefined): release is ReleaseRecord & {taskDefinitions: Record<string, string>} {
  return Boolean(release?.taskDefinitions && Object.keys(release.taskDefinitions).length > 0)
}

/** Puts back the config vars a release changed, by the versions they had before it. */
export async function undoConfig(e: Env, record: ReleaseRecord): Promise<void> {
  if (!record.config || Object.keys(record.config).length === 0) return
  await e.config.restoreVersions(e.app, Object.fromEntries(Object.entries(record.config).map(([key, [before]]) => [key, before])))
}


/** Watches a rollout, then marks the release succeeded, or puts the previous one back and marks it failed. */
export async function watchAndSettle(
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
  // Read while the failed release's config is still in place: what its tasks printed is hidden with it.
  const failureOutput = outcome.reason === INTERRUPTED ? undefined : await lastWords(e, outcome.failures)
  step(e, 'rollback', previous ? `Rolling back to v${previous.version}` : 'Stopping the failed release', 'start')
  await then.putBack()
  step(e, 'rollback', previous ? `Rolling back to v${previous.version}` : 'Stopping the failed release', 'done')
  const failure = outcome.reason ?? 'the rollout failed'
  await finish(e, record, 'failed', {taskDefinitions: then.taskDefinitions, failure, ...(failureOutput ? {failureOutput} : {})})
  if (failure === INTERRUPTED) {
    throw new Interrupted(`Interrupted: release v${record.version} of ${e.app} was rolled back${previous ? `; v${previous.version} keeps serving` : ''}.`)
  }

  throw new HerogateError(`Release v${record.version} of ${e.app} failed: ${failure}. ${previous ? `v${previous.version} keeps serving.` : 'Nothing is serving yet.'}`, {
    details: failureDetails(failureOutput),
    suggestions: [failureOutput?.more ?? `herogate logs -a ${e.app}`, `herogate releases:info v${record.version} -a ${e.app}`],
  })
}

/**
 * The last lines of the first failed task that printed any (its log stream, as the awslogs
 * driver names it), config values hidden; the task's stopped reason when it printed nothing.
 * Best effort: a release fails the same whether or not its tasks' words can be read.
 */
async function lastWords(e: Env, failures: TaskFailure[]): Promise<FailureOutput | undefined> {
  if (failures.length === 0) return undefined
  try {
    const logs = new LogsService(await e.ctx.clients.logs())
    const mask = configMasker(await e.config.get(e.app))
    for (const failed of failures) {
      const events = await logs.lastEvents(e.resources.logGroup, taskLogStream(failed.processType, failed.taskId), FAILURE_LINES)
      const lines = events.flatMap((event) => event.message.replace(/\n$/, '').split('\n')).slice(-FAILURE_LINES).map((line) => cutLine(mask(line)))
      if (lines.length === 0) continue
      const name = `${failed.processType}.${failed.taskId.slice(0, 7)}`
      return {process: name, lines, more: `herogate logs -a ${e.app} --task ${name}`}
    }
  } catch (error) {
    e.onProgress?.({kind: 'warning', message: `Could not read what the failed processes printed: ${(error as Error).message}`})
  }

  return undefined
}

/** Services of the given process types that exist, by type. */
export async function servicesOf(e: Env, types: string[]): Promise<Map<string, Service>> {
  const services = await e.ecs.services(e.resources.cluster, types.map((type) => names.service(e.app, type)))
  const byType = new Map<string, Service>()
  for (const type of types) {
    const service = services.get(names.service(e.app, type))
    if (service) byType.set(type, service)
  }

  return byType
}

/** Runs the rest of a release; an unexpected error marks it failed, so no record stays pending. */
export async function settle(e: Env, record: ReleaseRecord, fn: () => Promise<Release>): Promise<Release> {
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
export async function finish(e: Env, record: ReleaseRecord, status: 'succeeded' | 'failed', extra: Partial<ReleaseRecord>): Promise<Release> {
  const final: ReleaseRecord = {...record, ...extra, status, finishedAt: e.ctx.clock.now().toISOString()}
  delete final.phase
  if (status === 'succeeded' && hasCode(final)) await scheduleJobs(e, final)
  const current = e.lock.state.current
  await e.lock.end({latest: final, ...(status !== 'succeeded' && current ? {current} : {})})
  await flushJournal(e, final)
  return toRelease(final, status === 'succeeded' ? final.version : undefined)
}

/**
 * Points the app's scheduled jobs at a release that went live (still under its lock), so that
 * they run its code and config. The release stands whatever happens here: a failure is a warning.
 */
async function scheduleJobs(e: Env, record: ReleaseRecord & {taskDefinitions: Record<string, string>}): Promise<void> {
  try {
    for (const line of await syncJobs(e.ctx, e.resources, record.taskDefinitions, record.jobs ?? [])) note(e, line)
  } catch (error) {
    e.onProgress?.({kind: 'warning', message: `Scheduled jobs were not moved to v${record.version}: ${(error as Error).message.replace(/\.$/, '')}. They run the release before it until the next release.`})
  }
}

/**
 * Registers the specs' task definitions, points each process type's service at them
 * (creating services for new types at zero processes), watches the rollout, and either
 * removes the types that are gone and marks the release succeeded, or puts the previous
 * release back and marks it failed.
 */
export async function applyRelease(e: Env, record: ReleaseRecord, specs: ProcessSpec[], previous: ReleaseRecord | undefined, options: ReleaseOptions, running?: Map<string, Service>): Promise<Release> {
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
        // The network too: a web service made by the app stack, or one from before the app had a
        // security group of its own, moves into the app's group (app-upgrade.ts).
        updated.set(name, await e.ecs.updateService(cluster, name, {taskDefinition: taskDefinitions[type], networkConfiguration: taskNetwork(e.resources), ...(first ? {desiredCount} : {})}))
        if (first) started.push(type)
      } else {
        updated.set(name, await createService(e, type, taskDefinitions[type], options.signal))
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

/**
 * Creates a process type's service. When a release just removed that type (a type taken out of
 * the Procfile and brought back, a rollback, the put-back of a failed release, an app destroyed
 * and created again), ECS still drains the deleted service and refuses its name: wait until it
 * is INACTIVE (draining.ts says why waiting rather than another name), with a step and a deadline.
 */
async function createService(e: Env, type: string, taskDefinition: string, signal?: AbortSignal): Promise<Service> {
  const name = names.service(e.app, type)
  const message = `Waiting for ECS to finish draining the removed ${type} service`
  let waited = false
  for (;;) {
    try {
      const service = await e.ecs.createService(serviceInput(e, type, taskDefinition))
      if (waited) step(e, `drain:${type}`, message, 'done')
      return service
    } catch (error) {
      if (!(error instanceof ServiceDraining)) throw error
    }

    if (!waited) step(e, `drain:${type}`, message, 'start')
    waited = true
    const drained = await pollUntil(e.ctx.clock, async () => (await e.ecs.describeServices(e.resources.cluster, [name])).get(name)?.status !== 'DRAINING', {
      signal,
      onTick: () => e.lock.keepAlive(),
    })
    if (!drained) {
      step(e, `drain:${type}`, message, 'failed')
      throw new HerogateError(`ECS is still draining the removed ${type} service of ${e.app} after ${DRAIN_WAIT_MS / 60_000} minutes, so it cannot be created again yet.`, {
        suggestions: [`deploy again in a few minutes, once ECS has drained it: herogate deploy -a ${e.app} (in the app's git repo)`],
      })
    }
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
    networkConfiguration: taskNetwork(e.resources),
    // The same rollout settings as the stack's web service.
    deploymentConfiguration: {
      minimumHealthyPercent: 100,
      maximumPercent: 200,
      deploymentCircuitBreaker: {enable: true, rollback: true},
    },
    tags: [{key: names.appTag(), value: e.app}, {key: 'herogate:process-type', value: type}],
  }
}

