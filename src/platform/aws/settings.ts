import {EcsService} from '../../aws/ecs.js'
import {LoadBalancer} from '../../aws/elb.js'
import {SettingsStore} from '../../aws/settings-store.js'
import {readParameters} from '../../aws/ssm.js'
import {HerogateError, Interrupted} from '../../lib/errors.js'
import {names} from '../../lib/naming.js'
import {changeSettings, defaultsOf, effectiveSettings, gracePeriodSeconds, HEALTHY_AFTER_SECONDS, nothingChanged, settingsView} from '../../lib/settings.js'
import type {AppSetting, AppSettings, OperationOptions, Progress, SettingName, SettingsChange} from '../types.js'
import type {AwsContext} from './context.js'
import {type AppResources, resourcesRead} from './resources.js'

/**
 * App settings on AWS. Stored in SSM (aws/settings-store.ts) and applied by direct calls,
 * never a stack update: boot-timeout is the web service's health-check grace period
 * (UpdateService, which starts no deployment), health-check-path the target group's health
 * check (ModifyTargetGroup). A change is not a release and takes no lock.
 */

/**
 * How long a new health check path is watched on the running web processes: a target turns
 * unhealthy after two failed checks 5 s apart, each allowed 4 s (templates/app.yml).
 */
export const PATH_CHECK = {windowMs: 20_000, pollMs: 2000}

export async function settings(ctx: AwsContext, app: string): Promise<AppSetting[]> {
  const {stored} = await read(ctx, app)
  return settingsView(stored)
}

export function setSettings(ctx: AwsContext, app: string, wanted: Partial<AppSettings>, options: OperationOptions = {}): Promise<SettingsChange> {
  return change(ctx, app, wanted, options)
}

export function unsetSettings(ctx: AwsContext, app: string, settingNames: SettingName[], options: OperationOptions = {}): Promise<SettingsChange> {
  return change(ctx, app, defaultsOf(settingNames), options)
}

/** The create's template parameters for the settings: every one explicit, so the stack never relies on the template's defaults. */
export function templateParameters(wanted: Partial<AppSettings> | undefined): Record<string, string> {
  const settings = effectiveSettings(wanted)
  return {HealthCheckPath: settings['health-check-path'], HealthCheckGracePeriodSeconds: String(gracePeriodSeconds(settings['boot-timeout']))}
}

/** Records the settings a create was given (its stack already applies them). */
export async function recordCreated(ctx: AwsContext, app: string, wanted: Partial<AppSettings> | undefined): Promise<void> {
  const {stored, changed} = changeSettings({}, wanted ?? {})
  if (changed.length > 0) await new SettingsStore(await ctx.clients.ssm()).write(app, stored, changed)
}

/** The app's resources (which also says whether it exists) and its stored settings, in one SSM read. */
async function read(ctx: AwsContext, app: string): Promise<{resources: AppResources; stored: Partial<AppSettings>}> {
  const found = await readParameters(await ctx.clients.ssm(), [names.appResourcesParameter(app), ...SettingsStore.parameterNames(app)], `reading the settings of ${app}`)
  return {resources: await resourcesRead(ctx, app, found), stored: SettingsStore.storedIn(app, found)}
}

async function change(ctx: AwsContext, app: string, wanted: Partial<AppSettings>, options: OperationOptions): Promise<SettingsChange> {
  const progress: Progress = options.onProgress ?? (() => {})
  const {resources, stored} = await read(ctx, app)
  const next = changeSettings(stored, wanted)
  const {before, after, changed} = next
  if (changed.length === 0) {
    return {settings: settingsView(next.stored), changed, takesEffect: 'now', notes: [nothingChanged(Object.keys(wanted) as SettingName[], after)]}
  }

  const ecs = new EcsService(await ctx.clients.ecs())
  const elb = new LoadBalancer(await ctx.clients.elbv2())
  const web = names.service(app, 'web')
  const notes: string[] = []
  // Each call that took effect, and how to take it back should a later one fail.
  const undo: Array<{what: string; run: () => Promise<void>}> = []
  try {
    if (changed.includes('boot-timeout')) {
      const grace = gracePeriodSeconds(after['boot-timeout'])
      await ecs.updateService(resources.cluster, web, {healthCheckGracePeriodSeconds: grace})
      undo.push({what: 'the grace period of the web service', run: () => ecs.updateService(resources.cluster, web, {healthCheckGracePeriodSeconds: gracePeriodSeconds(before['boot-timeout'])})})
      notes.push(`The web service's health-check grace period is now ${grace} s (boot-timeout ${after['boot-timeout']} s + ${HEALTHY_AFTER_SECONDS} s for the load balancer's two passing checks): processes started from now on get it; running ones keep running.`)
    }

    if (changed.includes('health-check-path')) {
      const path = after['health-check-path']
      await elb.setHealthCheckPath(resources.targetGroupArn, path)
      undo.push({what: 'the health check path of the load balancer', run: () => elb.setHealthCheckPath(resources.targetGroupArn, before['health-check-path'])})
      const checked = await checkRunningAnswer(ctx, elb, app, resources.targetGroupArn, path, before['health-check-path'], progress, options.signal)
      notes.push(`The load balancer checks GET ${path} from now on; ${checked ? 'the running web processes answer it' : 'the web processes of the next deploy must answer it with 200-399'}.`)
    }

    await new SettingsStore(await ctx.clients.ssm()).write(app, next.stored, changed)
  } catch (error) {
    const notUndone: string[] = []
    for (const step of undo.reverse()) await step.run().catch(() => notUndone.push(step.what))
    if (notUndone.length > 0) {
      throw new HerogateError(`${(error as Error).message} Putting back ${notUndone.join(' and ')} failed too: run the command again.`, {cause: error, suggestions: [`herogate apps:settings -a ${app}`]})
    }

    if (options.signal?.aborted) throw new Interrupted(`Interrupted: the settings of ${app} are as they were.`)
    throw error
  }

  return {settings: settingsView(next.stored), changed, takesEffect: 'now', notes}
}

/**
 * Watches the web processes that were healthy when the load balancer's health check moved
 * to `path` for as long as it takes a failing check to turn one unhealthy. A release that
 * does not answer the new path would otherwise have every process replaced by ECS, again
 * and again. False when no process runs (nothing to check).
 */
async function checkRunningAnswer(
  ctx: AwsContext, elb: LoadBalancer, app: string, targetGroupArn: string, path: string, previous: string, progress: Progress, signal?: AbortSignal,
): Promise<boolean> {
  const healthy = new Set((await elb.targetHealth(targetGroupArn)).filter((target) => target.state === 'healthy').map((target) => target.id))
  if (healthy.size === 0) return false
  const message = `Checking that the running web processes answer GET ${path}`
  progress({kind: 'step', id: 'health-check-path', message, status: 'start'})
  const refused = (why: string) => {
    progress({kind: 'step', id: 'health-check-path', message, status: 'failed'})
    return new HerogateError(`The running web processes of ${app} do not answer GET ${path} with 200-399 (${why}), so health-check-path stays ${previous}.`, {
      suggestions: [`deploy a release that answers GET ${path}, then: herogate apps:settings:set health-check-path=${path} -a ${app}`],
    })
  }

  const start = ctx.clock.now().getTime()
  let watched: Array<{id: string; state: string; description?: string}> = []
  while (ctx.clock.now().getTime() - start < PATH_CHECK.windowMs) {
    await ctx.clock.sleep(PATH_CHECK.pollMs, signal)
    watched = (await elb.targetHealth(targetGroupArn)).filter((target) => healthy.has(target.id))
    const failing = watched.find((target) => target.state === 'unhealthy')
    if (failing) throw refused(failing.description ?? 'its health checks fail')
  }

  // ECS may have replaced a process that turned unhealthy between two looks.
  if (!watched.some((target) => target.state === 'healthy')) throw refused('none of them stayed healthy')
  progress({kind: 'step', id: 'health-check-path', message, status: 'done'})
  return true
}
