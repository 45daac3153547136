import {AutoscalingUnreadable, resourceLabel, type ScalingTarget, ServiceScaling} from '../../aws/autoscaling.js'
import {LoadBalancer} from '../../aws/elb.js'
import {autoscaleText} from '../../lib/autoscale.js'
import {HerogateError, InvalidInput} from '../../lib/errors.js'
import {names} from '../../lib/naming.js'
import type {AutoscaleResult, Autoscaling} from '../autoscale.js'
import type {ProcessFormation, ScaleChange} from '../types.js'
import type {AwsContext} from './context.js'
import {formation, unknownTypes} from './formation.js'
import {appResources} from './resources.js'

/**
 * ps:autoscale on AWS: Application Auto Scaling target tracking on a process type's ECS
 * service. The autoscaler owns the service's desired count from then on; nothing else of
 * herogate sets it (deploys and rollbacks change task definitions only, scale refuses counts
 * of an autoscaled type), so nothing fights it.
 */

async function scaling(ctx: AwsContext): Promise<ServiceScaling> {
  return new ServiceScaling(await ctx.clients.applicationAutoScaling())
}

function targetOf(cluster: string, app: string, type: string): ScalingTarget {
  return {cluster, service: names.service(app, type), type}
}

export async function autoscaling(ctx: AwsContext, app: string): Promise<Autoscaling[]> {
  const resources = await appResources(ctx, app)
  try {
    return await (await scaling(ctx)).read(resources.cluster, app)
  } catch (error) {
    // Credentials whose policy predates ps:autoscale cannot have made any: ps, scale and info work as before.
    if (error instanceof AutoscalingUnreadable) return []
    throw error
  }
}

/** The formation with each autoscaled type's bounds (formation, scale and info show them). */
export async function withAutoscaling(ctx: AwsContext, app: string, shown: ProcessFormation[], known?: Autoscaling[]): Promise<ProcessFormation[]> {
  if (shown.length === 0) return shown
  const found = known ?? (await autoscaling(ctx, app))
  return shown.map((p) => {
    const autoscale = found.find((a) => a.type === p.type)
    return autoscale ? {...p, autoscale} : p
  })
}

/** The formation entry of a released process type, or the error naming the types the app has. */
async function processType(ctx: AwsContext, app: string, type: string): Promise<ProcessFormation> {
  const current = await formation(ctx, app)
  const found = current.find((p) => p.type === type)
  if (found) return found
  await unknownTypes(ctx, await appResources(ctx, app), [type], current.map((p) => p.type))
  throw new InvalidInput(`Unknown process type ${type} in ${app}.`)
}

export async function autoscale(ctx: AwsContext, app: string, settings: Autoscaling): Promise<AutoscaleResult> {
  const resources = await appResources(ctx, app)
  const current = await processType(ctx, app, settings.type)
  let label: string | undefined
  if (settings.metric === 'requests-per-process') {
    const [balancer] = await new LoadBalancer(await ctx.clients.elbv2()).balancersOf(resources.targetGroupArn)
    if (!balancer) throw new HerogateError(`No load balancer sends requests to the web processes of ${app}, so there are no requests per process to scale on.`, {suggestions: [`herogate ps:autoscale web --min ${settings.min} --max ${settings.max} --cpu 60`]})
    label = resourceLabel(balancer, resources.targetGroupArn)
  }

  await (await scaling(ctx)).set(targetOf(resources.cluster, app, settings.type), settings, label)
  const quantity = Math.min(Math.max(current.quantity, settings.min), settings.max)
  const notes = quantity === current.quantity ? [] : [`${settings.type} goes from ${current.quantity} to ${quantity} processes, within the new bounds.`]
  return {autoscaling: settings, quantity, notes}
}

export async function disableAutoscale(ctx: AwsContext, app: string, type: string): Promise<AutoscaleResult> {
  const resources = await appResources(ctx, app)
  const current = await processType(ctx, app, type)
  const service = await scaling(ctx)
  const target = targetOf(resources.cluster, app, type)
  const [found] = await service.read(resources.cluster, app, [type])
  if (!found) throw new InvalidInput(`${type} of ${app} is not autoscaled.`, {suggestions: [`herogate ps -a ${app}`, `herogate ps:autoscale ${type} --min 1 --max 4 -a ${app}`]})
  await service.remove(target)
  return {quantity: current.quantity, notes: [`${type} stays at ${current.quantity}; set it with: herogate scale ${type}=N -a ${app}`]}
}

/**
 * scale of an autoscaled type's count is refused, as the autoscaler would undo it within
 * minutes: the user is told to change the bounds or stop autoscaling. Sizes still change.
 */
export async function refuseAutoscaledCounts(ctx: AwsContext, app: string, changes: ScaleChange[]): Promise<Autoscaling[]> {
  const found = await autoscaling(ctx, app)
  const first = found.find((a) => changes.some((change) => change.type === a.type && (change.quantity !== undefined || change.delta !== undefined)))
  if (!first) return found
  throw new InvalidInput(`${first.type} is autoscaled (${autoscaleText(first)}): the autoscaler sets its count, and would undo this one within minutes.`, {
    suggestions: [`herogate ps:autoscale ${first.type} --min N --max M -a ${app} (new bounds)`, `herogate ps:autoscale:disable ${first.type} -a ${app} (then scale by hand)`],
  })
}

/** destroy: the app's scalable targets (and their policies and alarms) go first, as its stack knows nothing of them. */
export async function removeAutoscaling(ctx: AwsContext, app: string): Promise<string[]> {
  const resources = await appResources(ctx, app)
  const service = await scaling(ctx)
  const found = await service.read(resources.cluster, app)
  for (const autoscaled of found) await service.remove(targetOf(resources.cluster, app, autoscaled.type))
  return found.map((a) => a.type)
}
