/**
 * Rollback: restores a release's code (its task definitions) and config (every var a later
 * successful release changed, at the parameter version it had then) as a new release; no rebuild.
 */
import type {NewRelease, ReleaseRecord} from '../../aws/release-store.js'
import {splitKeys} from '../../aws/ssm.js'
import {InvalidInput} from '../../lib/errors.js'
import type {Release} from '../types.js'
import {applyRelease, env, inherited, type ReleaseOptions, servicesOf, settle, step} from './apply.js'
import {authorName} from './author.js'
import type {AwsContext} from './context.js'
import {type AppState, withAppLock} from './lock.js'
import {knownReleases, releaseNotFound, releaseStore} from './releases.js'
import {type ProcessSpec, specFromTaskDefinition} from './taskdef.js'

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
  const store = await releaseStore(ctx)
  const author = options.author ?? (await authorName(ctx))
  let all: ReleaseRecord[] = []
  let target: ReleaseRecord | undefined
  const plan = async (state: AppState): Promise<NewRelease> => {
    // The listing must be as new as the head: a release may have ended since it was read.
    if (all.length === 0 || all[0].version !== state.latest?.version) all = (await knownReleases(ctx, app, await store.all(app, ctx.clock.now()))).filter((r) => r.status !== 'pending')
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
    if (version !== undefined) throw releaseNotFound(app, version, all)
    throw new InvalidInput(`${app} has no earlier release to roll back to.`, {suggestions: [`herogate releases -a ${app}`]})
  }

  if (!target.taskDefinitions || Object.keys(target.taskDefinitions).length === 0) {
    throw new InvalidInput(`v${target.version} has no code to roll back to (it was made before the first deploy).`, {suggestions: [`herogate releases -a ${app}`]})
  }

  return target
}

