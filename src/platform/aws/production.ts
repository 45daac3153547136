import {AppNotFound, HerogateError, StackBusy} from '../../lib/errors.js'
import type {AppInfo, Progress} from '../types.js'
import * as autoscale from './autoscale.js'
import type {AwsContext} from './context.js'
import * as maintenance from './maintenance.js'

/**
 * What maintenance mode and autoscaling add to the driver's other commands: info shows them,
 * destroy removes what herogate made of them by API (no stack knows of it).
 */

/**
 * Before an app's stacks go: its maintenance rules (on the shared listener they would outlive
 * the app, answering 503 for its host) and its scalable targets, which herogate made by API.
 * An app that is not there or not ready has none to remove; destroy then says what it finds.
 */
export async function productionTeardown(ctx: AwsContext, app: string, progress?: Progress): Promise<string[]> {
  const removed: string[] = []
  try {
    const rules = await maintenance.removeMaintenance(ctx, app)
    if (rules > 0) removed.push(`maintenance rule${rules > 1 ? 's' : ''} of the load balancer (${rules})`)
    const types = await autoscale.removeAutoscaling(ctx, app)
    if (types.length > 0) removed.push(`autoscaling of ${types.join(', ')}`)
  } catch (error) {
    if (!(error instanceof HerogateError)) throw error
    if (!(error instanceof AppNotFound) && !(error instanceof StackBusy)) progress?.({kind: 'warning', message: `Could not remove the maintenance rules or autoscaling of ${app}: ${error.message}`})
  }

  return removed
}

/** info of a running app: whether it is in maintenance mode and which types are autoscaled (read side by side). */
export async function productionState(ctx: AwsContext, info: AppInfo): Promise<AppInfo> {
  // A maintenance state that cannot be read (the credentials' policy, the load balancer) leaves it out: info shows the rest.
  const [state, shown] = await Promise.all([
    maintenance.maintenance(ctx, info.name).catch((error) => {
      if (error instanceof HerogateError) return undefined
      throw error
    }),
    autoscale.withAutoscaling(ctx, info.name, info.formation),
  ])
  return {...info, formation: shown, ...(state ? {maintenance: state.enabled} : {})}
}
