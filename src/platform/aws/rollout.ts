import type {Service, Task} from '@aws-sdk/client-ecs'

import type {Progress} from '../types.js'
import type {Clock} from './context.js'

/**
 * Watches a rollout of new task definitions across an app's services and gives up as soon
 * as a few new tasks crash or fail health checks, long before ECS's circuit breaker (which
 * waits for at least three failures and never counts a process that started, then crashed).
 * A slow but healthy rollout is waited for, up to a generous bound.
 */

/** The ECS reads the watcher needs (EcsRelease; in tests, over the ECS model of test/helpers/ecs-model.ts). */
export interface RolloutEcs {
  services(cluster: string, names: string[]): Promise<Map<string, Service>>
  stoppedTaskArns(cluster: string, serviceName: string): Promise<string[]>
  tasks(cluster: string, arns: string[]): Promise<Task[]>
}

export interface RolloutTarget {
  processType: string
  service: string
  taskDefinition: string
  desiredCount: number
}

export interface RolloutSettings {
  /** New tasks that may fail before the release is abandoned. */
  failFast: number
  /** A rollout still not complete after this long is abandoned. */
  timeoutMs: number
  pollMs: number
}

/** The reason of an outcome cut short by the caller's signal (Ctrl-C). */
export const INTERRUPTED = 'interrupted'

export const ROLLOUT_SETTINGS: RolloutSettings = {failFast: 2, timeoutMs: 15 * 60_000, pollMs: 3000}

export interface TaskFailure {
  processType: string
  taskId: string
  reason: string
  exitCode?: number
}

export interface RolloutOutcome {
  ok: boolean
  reason?: string
  failures: TaskFailure[]
  elapsedMs: number
}

export interface WatchOptions {
  clock: Clock
  settings?: Partial<RolloutSettings>
  onProgress?: Progress
  signal?: AbortSignal
  /** Called once per poll (e.g. to keep the app's lock alive). */
  onTick?: () => Promise<void>
  /**
   * The services as the caller's UpdateService calls returned them: their events are history,
   * and the watcher saves the DescribeServices it would otherwise make to learn that.
   */
  updated?: Map<string, Service>
}

/**
 * Why a stopped task counts against the release, or undefined when it stopped for an ordinary
 * reason. An essential container that exits is a crash whenever it happens, grace period or not;
 * a task stopped for failing health checks counts only once its grace period (the service's
 * healthCheckGracePeriodSeconds, from the task's start) was over, as ECS itself ignores health
 * checks until then.
 */
export function taskFailure(task: Task, graceMs = 0): string | undefined {
  const reason = task.stoppedReason ?? ''
  const container = task.containers?.find((c) => c.exitCode !== undefined && c.exitCode !== 0) ?? task.containers?.find((c) => c.reason)
  switch (task.stopCode) {
    case 'TaskFailedToStart':
      return `failed to start: ${container?.reason ?? reason}`.trim()
    case 'EssentialContainerExited': {
      const code = task.containers?.find((c) => c.exitCode !== undefined)?.exitCode
      return code === undefined ? `crashed: ${container?.reason ?? reason}` : `crashed with exit code ${code}`
    }

    case 'ServiceSchedulerInitiated':
      if (!/health ?check/i.test(reason) || withinGrace(task, graceMs)) return undefined
      return `failed health checks: ${reason}`
    default:
      return undefined
  }
}

function withinGrace(task: Task, graceMs: number): boolean {
  const started = task.startedAt?.getTime()
  const stopping = (task.stoppingAt ?? task.stoppedAt)?.getTime()
  return started !== undefined && stopping !== undefined && stopping - started < graceMs
}

function exitCodeOf(task: Task): number | undefined {
  return task.containers?.find((c) => c.exitCode !== undefined)?.exitCode
}

function taskId(arn: string): string {
  return arn.slice(arn.lastIndexOf('/') + 1)
}

/**
 * The target's deployment: the one running its task definition, the primary one first (a forced
 * new deployment of the same task definition sits next to the one it replaces).
 */
function deploymentOf(service: Service, target: RolloutTarget) {
  const deployments = service.deployments ?? []
  return deployments.find((d) => d.taskDefinition === target.taskDefinition && d.status === 'PRIMARY') ?? deployments.find((d) => d.taskDefinition === target.taskDefinition)
}

/** Whether the service runs the target's task definition everywhere (or has nothing to run). */
function rolledOut(service: Service, target: RolloutTarget): 'done' | 'waiting' | string {
  const deployments = service.deployments ?? []
  const ours = deploymentOf(service, target)
  if (!ours) return `ECS replaced the deployment of ${target.processType} (its circuit breaker rolled it back)`
  if (ours.rolloutState === 'FAILED') return `ECS stopped the ${target.processType} rollout: ${ours.rolloutStateReason ?? 'deployment failed'}`
  if (ours.status !== 'PRIMARY') return `another deployment of ${target.processType} replaced this one`
  if (ours.rolloutState === 'COMPLETED') return 'done'
  // No rollout state (older APIs, emulators): done when only our deployment is left with all its tasks running.
  if (!ours.rolloutState && deployments.length === 1 && (ours.runningCount ?? 0) >= (ours.desiredCount ?? 0)) return 'done'
  return 'waiting'
}

export async function watchRollout(ecs: RolloutEcs, cluster: string, targets: RolloutTarget[], options: WatchOptions): Promise<RolloutOutcome> {
  const settings = {...ROLLOUT_SETTINGS, ...options.settings}
  const {clock, onProgress} = options
  const start = clock.now().getTime()
  const seenTasks = new Set<string>()
  const seenEvents = new Set<string>()
  const failures: TaskFailure[] = []
  const done = new Set<string>()
  const names = targets.map((t) => t.service)
  const elapsed = () => clock.now().getTime() - start
  const finish = (ok: boolean, reason?: string): RolloutOutcome => {
    for (const target of targets) {
      if (!done.has(target.service)) onProgress?.({kind: 'step', id: `rollout:${target.processType}`, message: `Rolling out ${target.processType}`, status: ok ? 'done' : 'failed'})
    }

    return {ok, reason, failures, elapsedMs: elapsed()}
  }

  for (const target of targets) {
    onProgress?.({kind: 'step', id: `rollout:${target.processType}`, message: `Rolling out ${target.processType}`, status: 'start'})
  }

  // Events older than the rollout are history, not news.
  const initial = options.updated ?? (await ecs.services(cluster, names))
  for (const service of initial.values()) for (const event of service.events ?? []) if (event.id) seenEvents.add(event.id)

  // One DescribeServices a poll covers every service (EcsRelease batches 10 a call).
  for (let first = !options.updated; ; first = false) {
    const services = first ? initial : await ecs.services(cluster, names)
    for (const target of targets) {
      if (done.has(target.service)) continue
      const service = services.get(target.service)
      if (!service) return finish(false, `service ${target.service} is gone`)
      for (const event of [...(service.events ?? [])].reverse()) {
        if (!event.id || seenEvents.has(event.id)) continue
        seenEvents.add(event.id)
        onProgress?.({kind: 'output', stream: 'rollout', line: `${target.processType}: ${(event.message ?? '').replace(/^\(service [^)]+\) /, '')}`})
      }

      const state = rolledOut(service, target)
      // Until the rollout is done, the service's stopped tasks are read on every poll: ECS's
      // failedTasks resets to zero once a task of the deployment runs and never counts a task
      // that ran and then exited, so it cannot say that new processes keep crashing.
      if (state !== 'done') {
        const graceMs = (service.healthCheckGracePeriodSeconds ?? 0) * 1000
        const deployment = deploymentOf(service, target)?.id
        const arns = (await ecs.stoppedTaskArns(cluster, target.service)).filter((arn) => !seenTasks.has(arn))
        for (const task of arns.length > 0 ? await ecs.tasks(cluster, arns) : []) {
          if (!task.taskArn) continue
          // Tasks on their way down without a stop code yet are looked at again on the next poll.
          if (task.lastStatus !== 'STOPPED' && task.stopCode === undefined) continue
          seenTasks.add(task.taskArn)
          if (task.taskDefinitionArn !== target.taskDefinition) continue
          // A service's task carries its deployment's id as startedBy: after a forced new deployment
          // (a restart, a config change) the old deployment's tasks run the same task definition.
          if (deployment && task.startedBy?.startsWith('ecs-svc/') && task.startedBy !== deployment) continue
          const reason = taskFailure(task, graceMs)
          if (!reason) continue
          const failure: TaskFailure = {processType: target.processType, taskId: taskId(task.taskArn), reason, exitCode: exitCodeOf(task)}
          failures.push(failure)
          onProgress?.({kind: 'output', stream: 'rollout', line: `${target.processType}: task ${failure.taskId} ${reason}`})
        }
      }

      if (failures.length >= settings.failFast) {
        return finish(false, `${failures.length} new processes failed (${failureSummary(failures)})`)
      }

      if (state === 'done') {
        done.add(target.service)
        onProgress?.({kind: 'step', id: `rollout:${target.processType}`, message: `Rolling out ${target.processType}`, status: 'done'})
      } else if (state !== 'waiting') {
        return finish(false, state)
      }
    }

    if (done.size === targets.length) return finish(true)
    if (elapsed() >= settings.timeoutMs) {
      return finish(false, `the rollout did not finish within ${Math.round(settings.timeoutMs / 60_000)} minutes`)
    }

    if (options.signal?.aborted) return finish(false, INTERRUPTED)
    await options.onTick?.()
    try {
      await clock.sleep(settings.pollMs, options.signal)
    } catch (error) {
      if (options.signal?.aborted) return finish(false, INTERRUPTED)
      throw error
    }
  }
}

/** "web: crashed with exit code 1 (2 times); worker: failed to start: ...": each reason once, with how often. */
export function failureSummary(failures: TaskFailure[]): string {
  const counts = new Map<string, number>()
  for (const f of failures) counts.set(`${f.processType}: ${f.reason}`, (counts.get(`${f.processType}: ${f.reason}`) ?? 0) + 1)
  return [...counts].map(([reason, n]) => (n > 1 ? `${reason} (${n} times)` : reason)).join('; ')
}
