import type {Action, ElasticLoadBalancingV2Client, Rule, RuleCondition} from '@aws-sdk/client-elastic-load-balancing-v2'

import {HerogateError} from '../lib/errors.js'
import {LoadBalancer, markerPages} from './elb.js'
import {awsFailure, isAwsError} from './errors.js'

/**
 * The rules of the shared load balancer's listeners, in herogate's words: which route (a
 * listener's default action or a rule) forwards to an app's target group, and the
 * fixed-response rules put in front of them (maintenance mode).
 */

/** A way requests reach a target group: a rule (with its priority and conditions) or a listener's default action. */
export interface Route {
  listenerArn: string
  /** Undefined for a listener's default action. */
  ruleArn?: string
  priority?: number
  conditions: RuleCondition[]
}

/** A non-default rule as DescribeRules gives it, with what it does. */
export interface ListenerRule {
  arn: string
  listenerArn: string
  priority: number
  conditions: RuleCondition[]
  /** Target groups it forwards to (none for redirects and fixed responses). */
  forwardsTo: string[]
  /** The body of a fixed response, when it is one. */
  fixedResponse?: {status: string; body: string}
}

export interface ListenerInfo {
  arn: string
  port: number
  /** Target groups its default action forwards to. */
  defaultForwardsTo: string[]
}

/** The load balancer has no room for another rule (its rules-per-load-balancer quota). */
export class RulesFull extends HerogateError {}
/** Another rule took the priority between reading and creating (a concurrent change): read again. */
export class PriorityTaken extends HerogateError {}

export function forwardsOf(actions: Action[] | undefined): string[] {
  return (actions ?? []).flatMap((action) => {
    if (action.Type !== 'forward') return []
    const groups = action.ForwardConfig?.TargetGroups?.flatMap((group) => (group.TargetGroupArn ? [group.TargetGroupArn] : [])) ?? []
    return action.TargetGroupArn ? [action.TargetGroupArn, ...groups] : groups
  })
}

/**
 * A rule's conditions as CreateRule takes them back: DescribeRules answers each in two forms
 * (the legacy Values and the typed *Config), and CreateRule refuses both at once.
 */
export function reusableConditions(conditions: RuleCondition[]): RuleCondition[] {
  return conditions.map(({Values, ...condition}) => {
    const typed = Object.entries(condition).some(([key, value]) => key.endsWith('Config') && value !== undefined)
    return typed ? condition : {...condition, Values}
  })
}

/** Two lists of conditions that match the same requests (order of conditions and values aside). */
export function sameConditions(a: RuleCondition[], b: RuleCondition[]): boolean {
  const key = (conditions: RuleCondition[]) => JSON.stringify(reusableConditions(conditions).map((c) => canonical(c)).sort())
  return key(a) === key(b)
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => canonical(v)).sort().join(',')}]`
  if (value && typeof value === 'object') {
    return `{${Object.entries(value).filter(([, v]) => v !== undefined).sort(([x], [y]) => x.localeCompare(y)).map(([k, v]) => `${k}:${canonical(v)}`).join(',')}}`
  }

  return JSON.stringify(value)
}

export class ListenerRules {
  constructor(private readonly client: ElasticLoadBalancingV2Client) {}

  /** The load balancers that send requests to the target group. */
  async balancersOf(targetGroupArn: string): Promise<string[]> {
    const {DescribeTargetGroupsCommand} = await import('@aws-sdk/client-elastic-load-balancing-v2')
    try {
      const response = await this.client.send(new DescribeTargetGroupsCommand({TargetGroupArns: [targetGroupArn]}))
      return response.TargetGroups?.[0]?.LoadBalancerArns ?? []
    } catch (error) {
      throw awsFailure(error, 'reading the target group of the web processes')
    }
  }

  async listeners(loadBalancerArn: string): Promise<ListenerInfo[]> {
    const {DescribeListenersCommand} = await import('@aws-sdk/client-elastic-load-balancing-v2')
    const found = await markerPages('reading the listeners of the shared load balancer', async (Marker) => {
      const response = await this.client.send(new DescribeListenersCommand({LoadBalancerArn: loadBalancerArn, Marker}))
      return {items: response.Listeners ?? [], next: response.NextMarker}
    })
    return found.map((listener) => ({arn: listener.ListenerArn!, port: listener.Port ?? 0, defaultForwardsTo: forwardsOf(listener.DefaultActions)}))
  }

  /** The listener's rules, its default rule left out. */
  async rules(listenerArn: string): Promise<ListenerRule[]> {
    const {DescribeRulesCommand} = await import('@aws-sdk/client-elastic-load-balancing-v2')
    const found: Rule[] = await markerPages('reading the rules of the shared load balancer', async (Marker) => {
      const response = await this.client.send(new DescribeRulesCommand({ListenerArn: listenerArn, Marker}))
      return {items: response.Rules ?? [], next: response.NextMarker}
    })
    return found
      .filter((rule) => !rule.IsDefault && Number.isInteger(Number(rule.Priority)))
      .map((rule) => {
        const fixed = rule.Actions?.find((action) => action.Type === 'fixed-response')?.FixedResponseConfig
        return {
          arn: rule.RuleArn!,
          listenerArn,
          priority: Number(rule.Priority),
          conditions: rule.Conditions ?? [],
          forwardsTo: forwardsOf(rule.Actions),
          ...(fixed ? {fixedResponse: {status: fixed.StatusCode ?? '', body: fixed.MessageBody ?? ''}} : {}),
        }
      })
  }

  /** Tags of rules (DescribeTags takes 20 at a time). */
  async tags(arns: string[]): Promise<Map<string, Record<string, string>>> {
    const {DescribeTagsCommand} = await import('@aws-sdk/client-elastic-load-balancing-v2')
    const tags = new Map<string, Record<string, string>>()
    try {
      for (let i = 0; i < arns.length; i += 20) {
        const response = await this.client.send(new DescribeTagsCommand({ResourceArns: arns.slice(i, i + 20)}))
        for (const description of response.TagDescriptions ?? []) {
          tags.set(description.ResourceArn!, Object.fromEntries((description.Tags ?? []).map((tag) => [tag.Key!, tag.Value ?? ''])))
        }
      }
    } catch (error) {
      throw awsFailure(error, 'reading the tags of the load balancer rules')
    }

    return tags
  }

  /** A rule answering every request it matches with `status` and an HTML body. */
  async createFixedResponse(listenerArn: string, priority: number, conditions: RuleCondition[], response: {status: string; body: string}, tags: Record<string, string>): Promise<string> {
    const {CreateRuleCommand} = await import('@aws-sdk/client-elastic-load-balancing-v2')
    try {
      const created = await this.client.send(new CreateRuleCommand({
        ListenerArn: listenerArn,
        Priority: priority,
        Conditions: reusableConditions(conditions),
        Actions: [fixedResponse(response)],
        Tags: Object.entries(tags).map(([Key, Value]) => ({Key, Value})),
      }))
      return created.Rules![0].RuleArn!
    } catch (error) {
      if (isAwsError(error, 'PriorityInUseException', 'PriorityInUse')) throw new PriorityTaken(`Rule priority ${priority} was taken meanwhile.`, {cause: error})
      if (isAwsError(error, 'TooManyRulesException', 'TooManyRules')) {
        throw new RulesFull('The shared load balancer has no room for another rule (its rules-per-load-balancer quota is reached).', {
          cause: error,
          suggestions: ['destroy apps you no longer use', 'ask AWS for a higher quota: Service Quotas > Elastic Load Balancing > Rules per Application Load Balancer'],
        })
      }

      throw awsFailure(error, 'creating a rule on the shared load balancer')
    }
  }

  /** Gives a fixed-response rule a new body. */
  async setFixedResponse(ruleArn: string, response: {status: string; body: string}): Promise<void> {
    const {ModifyRuleCommand} = await import('@aws-sdk/client-elastic-load-balancing-v2')
    try {
      await this.client.send(new ModifyRuleCommand({RuleArn: ruleArn, Actions: [fixedResponse(response)]}))
    } catch (error) {
      throw awsFailure(error, 'changing a rule of the shared load balancer')
    }
  }

  async setPriority(ruleArn: string, priority: number): Promise<void> {
    const {SetRulePrioritiesCommand} = await import('@aws-sdk/client-elastic-load-balancing-v2')
    try {
      await this.client.send(new SetRulePrioritiesCommand({RulePriorities: [{RuleArn: ruleArn, Priority: priority}]}))
    } catch (error) {
      if (isAwsError(error, 'PriorityInUseException', 'PriorityInUse')) throw new PriorityTaken(`Rule priority ${priority} was taken meanwhile.`, {cause: error})
      throw awsFailure(error, 'moving a rule of the shared load balancer')
    }
  }

  /** Deletes a rule; one already gone is no error (as custom domains delete theirs). */
  deleteRule(ruleArn: string): Promise<void> {
    return new LoadBalancer(this.client).deleteRule(ruleArn)
  }
}

function fixedResponse(response: {status: string; body: string}): Action {
  return {Type: 'fixed-response', FixedResponseConfig: {StatusCode: response.status, ContentType: 'text/html', MessageBody: response.body}}
}

/** The highest value in [from, to] not in `taken`, or undefined. */
export function highestFree(taken: number[], from: number, to: number): number | undefined {
  const used = new Set(taken)
  for (let value = to; value >= from; value--) if (!used.has(value)) return value
  return undefined
}
