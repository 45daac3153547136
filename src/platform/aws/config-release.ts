/**
 * A config change as a release, under the lock config.ts takes:
 *
 *     return withAppLock(ctx, app, 'config:set', async (lock) => {
 *       const delta = await configStore.set(app, vars, before)     // write SSM first
 *       return releaseConfigChange(ctx, app, delta, {...options, lock})
 *     }, {read: the keys' parameters, plan: (state) => configReleasePlan(...)})
 *
 * When the key set is the same, every service just starts a new deployment (ECS reads values at
 * task start); otherwise each process type gets a task definition revision with the new key set.
 * Before the first deploy there is nothing to roll out: the release is recorded and succeeds.
 */
import type {Service} from '@aws-sdk/client-ecs'

import type {NewRelease, ReleaseRecord} from '../../aws/release-store.js'
import type {ConfigDelta} from '../../aws/ssm.js'
import {names} from '../../lib/naming.js'
import type {Release} from '../types.js'
import {applyRelease, env, type Env, finish, hasCode, inherited, type ReleaseOptions, servicesOf, settle, undoConfig, watchAndSettle} from './apply.js'
import type {AwsContext} from './context.js'
import type {AppState} from './lock.js'
import type {RolloutTarget} from './rollout.js'
import {type ProcessSpec, specFromTaskDefinition} from './taskdef.js'
import {taskNetwork} from './resources.js'

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
      // Into the app's own security group as well (an add-on's config release follows an app upgrade).
      const service = await e.ecs.updateService(cluster, name, {forceNewDeployment: true, networkConfiguration: taskNetwork(e.resources)})
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

