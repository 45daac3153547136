import type {Service, Task} from '@aws-sdk/client-ecs'

import type {Progress} from '../types.js'
import type {Clock} from './context.js'

/**
 * Watches a rollout of new task definitions across an app's services and gives up as soon
 * as a few new tasks crash or fail health checks, long before ECS's circuit breaker (which
 * waits for ten failures). A slow but healthy rollout is waited for, up to a generous bound.
 */

/** The ECS reads the watcher needs (EcsRelease in production, a simulation in tests). */
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

/** Why a stopped task counts against the release, or undefined when it stopped for an ordinary reason. */
export function taskFailure(task: Task): string | undefined {
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
      return /health ?check/i.test(reason) ? `failed health checks: ${reason}` : undefined
    default:
      return undefined
  }
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

      // Stopped tasks are only listed when the deployment reports failed tasks not yet accounted for (to learn why).
      const reported = deploymentOf(service, target)?.failedTasks ?? 0
      const counted = failures.filter((f) => f.processType === target.processType).length
      const arns = reported > counted ? (await ecs.stoppedTaskArns(cluster, target.service)).filter((arn) => !seenTasks.has(arn)) : []
      for (const task of arns.length > 0 ? await ecs.tasks(cluster, arns) : []) {
        if (!task.taskArn) continue
        // Tasks still on their way down are looked at again once they have stopped.
        if (task.lastStatus !== 'STOPPED' && task.stopCode === undefined) continue
        seenTasks.add(task.taskArn)
        if (task.taskDefinitionArn !== target.taskDefinition) continue
        const reason = taskFailure(task)
        if (!reason) continue
        const failure: TaskFailure = {processType: target.processType, taskId: taskId(task.taskArn), reason, exitCode: exitCodeOf(task)}
        failures.push(failure)
        onProgress?.({kind: 'output', stream: 'rollout', line: `${target.processType}: task ${failure.taskId} ${reason}`})
      }

      if (failures.length >= settings.failFast) {
        return finish(false, `${failures.length} new processes failed (${failures.map((f) => `${f.processType}: ${f.reason}`).join('; ')})`)
      }

      const state = rolledOut(service, target)
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
