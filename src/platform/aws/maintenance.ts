import {firstFree, type ListenerRule, LoadBalancer, PriorityTaken, sameConditions} from '../../aws/elb.js'
import {HerogateError} from '../../lib/errors.js'
import {AWS_PAGE_LIMIT, DEFAULT_MAINTENANCE_PAGE, readMaintenancePage} from '../../lib/maintenance-page.js'
import {names} from '../../lib/naming.js'
import type {Maintenance, MaintenanceOptions} from '../maintenance.js'
import type {AwsContext} from './context.js'
import {appResources} from './resources.js'

/**
 * Maintenance mode on AWS: for every route of the load balancer to the app's target group (the
 * app's own listener, its host rule, any other rule forwarding to it), a fixed-response rule
 * with the same conditions and a higher priority answers 503 with the page. A rule in front,
 * rather than the app's own rule changed to a fixed response: the app's rule keeps forwarding
 * to the target group, so the load balancer keeps health-checking the web processes (a target
 * group no rule forwards to has its targets "unused" and unchecked) and deploys, rollbacks and
 * the rollout watcher work as usual behind the page. The app's rule, made by its stack, is not
 * changed; off deletes the rules in front and requests reach the app again at once.
 *
 * Priorities: apps take the lowest free priority of the shared listener, so there is often no
 * free one in front of an app's rule. Then the maintenance rule is made behind it (no effect
 * yet) and the app's rule moves behind that, in one SetRulePriorities call: the switch is
 * atomic. The maintenance rule remembers where the app's rule was (a tag), and off puts it back
 * there when that priority is still free. The maintenance rules are found by their tags.
 */

const MAINTENANCE_TAG = 'herogate:maintenance'
const MOVED_TAG = 'herogate:moved-from'
/** Every path: the condition of the rule in front of a listener's default action. */
const EVERY_PATH = [{Field: 'path-pattern', PathPatternConfig: {Values: ['/*']}}]
const MAX_PRIORITY = 50_000

/** A way requests reach the app's target group: a rule (with its priority and conditions) or a listener's default action. */
interface Route {
  listenerArn: string
  /** Undefined for a listener's default action. */
  ruleArn?: string
  priority?: number
  conditions: ListenerRule['conditions']
}

interface Gate {
  rule: ListenerRule
  movedFrom?: number
}

interface Layout {
  routes: Route[]
  gates: Gate[]
  /** Every rule of the listeners that matter, by listener. */
  rules: Map<string, ListenerRule[]>
}

async function layout(ctx: AwsContext, app: string, elb: LoadBalancer): Promise<Layout> {
  const {targetGroupArn} = await appResources(ctx, app)
  const balancers = await elb.balancersOf(targetGroupArn)
  const routes: Route[] = []
  const rules = new Map<string, ListenerRule[]>()
  for (const balancer of balancers) {
    // The app's own listener (forwards to it by default) and the shared ones (forward to no one
    // by default: their rules route apps by host). Other apps' own listeners are not read.
    const listeners = (await elb.listeners(balancer)).filter((l) => l.defaultForwardsTo.includes(targetGroupArn) || l.defaultForwardsTo.length === 0)
    for (const listener of listeners) {
      const found = await elb.rules(listener.arn)
      rules.set(listener.arn, found)
      if (listener.defaultForwardsTo.includes(targetGroupArn)) routes.push({listenerArn: listener.arn, conditions: EVERY_PATH})
      for (const rule of found) if (rule.forwardsTo.includes(targetGroupArn)) routes.push({listenerArn: listener.arn, ruleArn: rule.arn, priority: rule.priority, conditions: rule.conditions})
    }
  }

  const fixed = [...rules.values()].flat().filter((rule) => rule.fixedResponse?.status === '503')
  const tags = fixed.length > 0 ? await elb.tags(fixed.map((rule) => rule.arn)) : new Map<string, Record<string, string>>()
  const gates = fixed.flatMap((rule): Gate[] => {
    const tagged = tags.get(rule.arn) ?? {}
    if (tagged[MAINTENANCE_TAG] !== app) return []
    const moved = Number(tagged[MOVED_TAG])
    return [{rule, ...(Number.isInteger(moved) && moved > 0 ? {movedFrom: moved} : {})}]
  })
  return {routes, gates, rules}
}

/** The maintenance rule answering in front of a route, if there is one. */
function gateOf(route: Route, gates: Gate[]): Gate | undefined {
  return gates.find((gate) => gate.rule.listenerArn === route.listenerArn && sameConditions(gate.rule.conditions, route.conditions) && (route.priority === undefined || gate.rule.priority < route.priority))
}

function stateOf(app: string, {routes, gates}: Layout): Maintenance {
  const enabled = routes.length > 0 && routes.every((route) => gateOf(route, gates))
  if (!enabled) return {app, enabled}
  const body = gates[0]?.rule.fixedResponse?.body
  return {app, enabled, page: body === DEFAULT_MAINTENANCE_PAGE ? 'default' : 'custom'}
}

export async function maintenance(ctx: AwsContext, app: string): Promise<Maintenance> {
  return stateOf(app, await layout(ctx, app, new LoadBalancer(await ctx.clients.elbv2())))
}

/**
 * Routes to the app made while it is in maintenance mode (a custom domain's rules) get the 503
 * rule in front of them too: an app is in maintenance while any of its routes has that rule.
 */
export async function coverNewRoutes(ctx: AwsContext, app: string): Promise<void> {
  const elb = new LoadBalancer(await ctx.clients.elbv2())
  const found = await layout(ctx, app, elb)
  if (found.gates.length === 0 || found.routes.every((route) => gateOf(route, found.gates))) return
  try {
    // With what was just read: the rules in front of the new routes, the page the others show.
    await turnOn(app, elb, found, undefined)
  } catch (error) {
    // A priority taken meanwhile: maintenance:on's way, which reads again and retries.
    if (!(error instanceof PriorityTaken)) throw error
    await setMaintenance(ctx, app, true)
  }
}

export async function setMaintenance(ctx: AwsContext, app: string, enabled: boolean, options: MaintenanceOptions = {}): Promise<Maintenance & {changed: boolean}> {
  // The page is checked before anything is read or changed.
  const page = options.page === undefined ? undefined : readMaintenancePage(options.page, AWS_PAGE_LIMIT, 'a load balancer fixed response')
  const elb = new LoadBalancer(await ctx.clients.elbv2())
  let before: Maintenance | undefined
  // A priority taken by a concurrent change (another app's create, another maintenance:on) is read again.
  for (let attempt = 1; ; attempt++) {
    const found = await layout(ctx, app, elb)
    if (enabled && found.routes.length === 0) {
      throw new HerogateError(`No rule of the load balancer sends requests to the web processes of ${app}, so there is nothing to put maintenance mode in front of.`, {
        suggestions: [`herogate info -a ${app}`],
      })
    }

    before ??= stateOf(app, found)
    try {
      if (enabled) await turnOn(app, elb, found, page?.body)
      else await turnOff(elb, found)
      break
    } catch (error) {
      if (!(error instanceof PriorityTaken) || attempt === 3) throw error
    }
  }

  const after = await maintenance(ctx, app)
  return {...after, changed: before.enabled !== after.enabled}
}

async function turnOn(app: string, elb: LoadBalancer, {routes, gates, rules}: Layout, page: string | undefined): Promise<void> {
  const response = {status: '503', body: page ?? gates[0]?.rule.fixedResponse?.body ?? DEFAULT_MAINTENANCE_PAGE}
  if (page !== undefined) {
    for (const gate of gates) if (gate.rule.fixedResponse?.body !== page) await elb.setRuleAction(gate.rule.arn, {fixedResponse: response})
  }

  for (const route of routes) {
    if (gateOf(route, gates)) continue
    // Free on every listener read, not only this one: a new app takes the same priority on the HTTP and the HTTPS listener.
    const taken = [...rules.values()].flat().map((rule) => rule.priority)
    const tags: Record<string, string> = {[names.appTag()]: app, [MAINTENANCE_TAG]: app}
    const create = (priority: number, extra: Record<string, string> = {}) => {
      taken.push(priority)
      return elb.createRule({listenerArn: route.listenerArn, priority, conditions: route.conditions, action: {fixedResponse: response}, tags: {...tags, ...extra}})
    }

    if (route.priority === undefined) {
      await create(firstFree(taken, 1, MAX_PRIORITY) ?? full())
      continue
    }

    // Made behind on an earlier try that stopped before moving the app's rule: move it now.
    const behindAlready = gates.find((gate) => gate.rule.listenerArn === route.listenerArn && sameConditions(gate.rule.conditions, route.conditions))
    if (behindAlready) {
      await elb.setPriority(route.ruleArn!, firstFree(taken, behindAlready.rule.priority + 1, MAX_PRIORITY) ?? full())
      continue
    }

    const inFront = firstFree(taken, 1, route.priority - 1, 'highest')
    if (inFront !== undefined) {
      await create(inFront)
      continue
    }

    // No room in front: made behind the app's rule, then the app's rule moves behind it.
    const behind = firstFree(taken, route.priority + 1, MAX_PRIORITY) ?? full()
    await create(behind, {[MOVED_TAG]: String(route.priority)})
    const moved = firstFree(taken, behind + 1, MAX_PRIORITY) ?? full()
    await elb.setPriority(route.ruleArn!, moved)
  }
}

async function turnOff(elb: LoadBalancer, {routes, gates, rules}: Layout): Promise<void> {
  for (const gate of gates) {
    await elb.deleteRule(gate.rule.arn)
    if (gate.movedFrom === undefined) continue
    // Back where its stack put it, when nothing took that priority meanwhile.
    const route = routes.find((r) => r.ruleArn && r.listenerArn === gate.rule.listenerArn && sameConditions(r.conditions, gate.rule.conditions))
    const taken = (rules.get(gate.rule.listenerArn) ?? []).filter((rule) => rule.arn !== gate.rule.arn).map((rule) => rule.priority)
    if (route?.ruleArn && route.priority !== gate.movedFrom && !taken.includes(gate.movedFrom)) {
      await elb.setPriority(route.ruleArn, gate.movedFrom).catch((error) => {
        if (!(error instanceof PriorityTaken)) throw error
      })
    }
  }
}

function full(): never {
  throw new HerogateError('The shared load balancer has no free rule priority left.', {suggestions: ['destroy apps you no longer use']})
}

/** destroy: the app's maintenance rules go first, as its stack knows nothing of them. The number removed. */
export async function removeMaintenance(ctx: AwsContext, app: string): Promise<number> {
  const elb = new LoadBalancer(await ctx.clients.elbv2())
  const {gates} = await layout(ctx, app, elb)
  for (const gate of gates) await elb.deleteRule(gate.rule.arn)
  return gates.length
}
