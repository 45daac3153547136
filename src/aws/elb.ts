import type {Action, ElasticLoadBalancingV2Client, Rule, RuleCondition} from '@aws-sdk/client-elastic-load-balancing-v2'

import {HerogateError} from '../lib/errors.js'
import {awsFailure, isAwsError} from './errors.js'

/** The Application Load Balancer quotas a new app can run into (what AWS allows this account). */
export interface LoadBalancerLimits {
  /** Listener rules per load balancer, default rules not counted. */
  rules: number
  listeners: number
  /** Certificates per load balancer, default certificates not counted. */
  certificates: number
}

/** AWS's documented defaults, used where the account's own limits cannot be read. */
export const DEFAULT_LIMITS: LoadBalancerLimits = {rules: 100, listeners: 50, certificates: 25}

/** A registered target of a target group and what its health checks say. */
export interface TargetState {
  /** ip:port */
  id: string
  /** initial | healthy | unhealthy | unused | draining | unavailable */
  state: string
  /** Why, when it is not healthy: e.g. "Health checks failed with these codes: [404]". */
  description?: string
}

/** A listener of the load balancer. */
export interface Listener {
  arn: string
  port: number
  /** Target groups its default action forwards to (none for the shared listeners, which answer 404 by default). */
  defaultForwardsTo: string[]
}

/** A listener's rule (its default rule left out), with what every caller reads of it. */
export interface ListenerRule {
  arn: string
  listenerArn: string
  priority: number
  conditions: RuleCondition[]
  /** The host names of its host-header conditions. */
  hosts: string[]
  /** Target groups it forwards to (none for redirects and fixed responses). */
  forwardsTo: string[]
  /** The status and body of a fixed response, when it is one. */
  fixedResponse?: FixedResponse
}

export interface FixedResponse {
  status: string
  /** HTML */
  body: string
}

/** What a rule does with the requests it matches. */
export type RuleAction = {forward: string} | {redirectToHttps: true} | {fixedResponse: FixedResponse}

export interface NewRule {
  listenerArn: string
  priority: number
  conditions: RuleCondition[]
  action: RuleAction
  tags: Record<string, string>
}

/** A new app or domain would take the shared load balancer past one of its quotas. */
export class LoadBalancerFull extends HerogateError {}
/** CreateRule met the rules-per-load-balancer quota (a concurrent change took the last room). */
export class RulesFull extends LoadBalancerFull {}
/** Another rule took the priority between reading the rules and creating or moving one: read again and pick again. */
export class PriorityTaken extends HerogateError {}

/** The shared load balancer in herogate's words: its listeners and rules, the quotas they count against, an app's health check. */
export class LoadBalancer {
  constructor(private readonly client: ElasticLoadBalancingV2Client) {}

  /** Every listener of the load balancer. */
  async listeners(loadBalancerArn: string): Promise<Listener[]> {
    const {DescribeListenersCommand} = await import('@aws-sdk/client-elastic-load-balancing-v2')
    const listeners = await markerPages('reading the listeners of the shared load balancer', async (Marker) => {
      const response = await this.client.send(new DescribeListenersCommand({LoadBalancerArn: loadBalancerArn, Marker}))
      return {items: response.Listeners ?? [], next: response.NextMarker}
    })
    return listeners.map((listener) => ({arn: listener.ListenerArn ?? '', port: listener.Port ?? 0, defaultForwardsTo: forwardsOf(listener.DefaultActions)}))
  }

  /** The rules of a listener, its default rule left out. */
  async rules(listenerArn: string): Promise<ListenerRule[]> {
    const {DescribeRulesCommand} = await import('@aws-sdk/client-elastic-load-balancing-v2')
    const found: Rule[] = await markerPages('reading the rules of the shared load balancer', async (Marker) => {
      const response = await this.client.send(new DescribeRulesCommand({ListenerArn: listenerArn, Marker}))
      return {items: response.Rules ?? [], next: response.NextMarker}
    })
    return found
      .filter((rule) => !rule.IsDefault && Number.isInteger(Number(rule.Priority)))
      .map((rule) => {
        const conditions = rule.Conditions ?? []
        const fixed = rule.Actions?.find((action) => action.Type === 'fixed-response')?.FixedResponseConfig
        return {
          arn: rule.RuleArn ?? '',
          listenerArn,
          priority: Number(rule.Priority),
          conditions,
          hosts: conditions.filter((c) => c.Field === 'host-header').flatMap((c) => c.HostHeaderConfig?.Values ?? c.Values ?? []),
          forwardsTo: forwardsOf(rule.Actions),
          ...(fixed ? {fixedResponse: {status: fixed.StatusCode ?? '', body: fixed.MessageBody ?? ''}} : {}),
        }
      })
  }

  /** The rules of every listener given (rules count against the quota across them). */
  async rulesOf(listeners: Array<{arn: string}>): Promise<ListenerRule[]> {
    return (await Promise.all(listeners.map((listener) => this.rules(listener.arn)))).flat()
  }

  /**
   * The account's rule and listener quotas for Application Load Balancers. Reading them needs
   * elasticloadbalancing:DescribeAccountLimits; without it, AWS's defaults stand in.
   */
  async limits(): Promise<LoadBalancerLimits> {
    const {DescribeAccountLimitsCommand} = await import('@aws-sdk/client-elastic-load-balancing-v2')
    let found: Array<{Name?: string; Max?: string}>
    try {
      found = await markerPages('reading the load balancer quotas of the account', async (Marker) => {
        const response = await this.client.send(new DescribeAccountLimitsCommand({Marker}))
        return {items: response.Limits ?? [], next: response.NextMarker}
      })
    } catch (error) {
      if (isAwsError((error as {cause?: unknown}).cause, 'AccessDenied', 'AccessDeniedException')) return DEFAULT_LIMITS
      throw error
    }

    const limit = (name: string, fallback: number) => {
      const max = Number(found.find((item) => item.Name === name)?.Max)
      return Number.isInteger(max) && max > 0 ? max : fallback
    }

    return {
      rules: limit('rules-per-application-load-balancer', DEFAULT_LIMITS.rules),
      listeners: limit('listeners-per-application-load-balancer', DEFAULT_LIMITS.listeners),
      certificates: limit('certificates-per-application-load-balancer', DEFAULT_LIMITS.certificates),
    }
  }

  /**
   * A rule doing `action` with the requests its conditions match. `doing` names it in an
   * error AWS answers (as "AWS denied ... on the shared load balancer").
   */
  async createRule(rule: NewRule, doing = 'creating a rule'): Promise<string> {
    const {CreateRuleCommand} = await import('@aws-sdk/client-elastic-load-balancing-v2')
    try {
      const created = await this.client.send(new CreateRuleCommand({
        ListenerArn: rule.listenerArn,
        Priority: rule.priority,
        Conditions: reusableConditions(rule.conditions),
        Actions: [actionOf(rule.action)],
        Tags: Object.entries(rule.tags).map(([Key, Value]) => ({Key, Value})),
      }))
      return created.Rules?.[0]?.RuleArn ?? ''
    } catch (error) {
      if (isAwsError(error, 'PriorityInUseException', 'PriorityInUse')) throw new PriorityTaken(`Rule priority ${rule.priority} was taken meanwhile.`, {cause: error})
      if (isAwsError(error, 'TooManyRulesException', 'TooManyRules')) {
        throw new RulesFull('The shared load balancer has no room for another rule (its rules-per-load-balancer quota is reached).', {
          cause: error,
          suggestions: ['destroy apps you no longer use', 'ask AWS for a higher quota: Service Quotas > Elastic Load Balancing > Rules per Application Load Balancer'],
        })
      }

      throw awsFailure(error, `${doing} on the shared load balancer`)
    }
  }

  /** Gives a rule another action (its conditions and priority stay). */
  async setRuleAction(ruleArn: string, action: RuleAction): Promise<void> {
    const {ModifyRuleCommand} = await import('@aws-sdk/client-elastic-load-balancing-v2')
    try {
      await this.client.send(new ModifyRuleCommand({RuleArn: ruleArn, Actions: [actionOf(action)]}))
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

  /** Deletes a rule; one already gone is fine. */
  async deleteRule(ruleArn: string): Promise<void> {
    const {DeleteRuleCommand} = await import('@aws-sdk/client-elastic-load-balancing-v2')
    try {
      await this.client.send(new DeleteRuleCommand({RuleArn: ruleArn}))
    } catch (error) {
      if (isAwsError(error, 'RuleNotFound', 'RuleNotFoundException')) return
      throw awsFailure(error, 'deleting a rule of the shared load balancer')
    }
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

  /** Points the target group's health check at `path`; targets are checked on it from their next check. */
  async setHealthCheckPath(targetGroupArn: string, path: string): Promise<void> {
    const {ModifyTargetGroupCommand} = await import('@aws-sdk/client-elastic-load-balancing-v2')
    try {
      await this.client.send(new ModifyTargetGroupCommand({TargetGroupArn: targetGroupArn, HealthCheckPath: path}))
    } catch (error) {
      throw awsFailure(error, 'changing the health check path of the load balancer')
    }
  }

  /** The registered targets of a target group and their health. */
  async targetHealth(targetGroupArn: string): Promise<TargetState[]> {
    const {DescribeTargetHealthCommand} = await import('@aws-sdk/client-elastic-load-balancing-v2')
    try {
      const response = await this.client.send(new DescribeTargetHealthCommand({TargetGroupArn: targetGroupArn}))
      return (response.TargetHealthDescriptions ?? []).map((target) => ({
        id: `${target.Target?.Id ?? '?'}:${target.Target?.Port ?? target.HealthCheckPort ?? '?'}`,
        state: target.TargetHealth?.State ?? 'unavailable',
        ...(target.TargetHealth?.Description || target.TargetHealth?.Reason ? {description: target.TargetHealth.Description ?? target.TargetHealth.Reason} : {}),
      }))
    } catch (error) {
      throw awsFailure(error, 'reading the health of the web processes')
    }
  }

  // Custom domains (platform/aws/domains.ts): the HTTPS listener's certificates.

  /** The certificates of a listener, the default one marked. */
  async listenerCertificates(listenerArn: string): Promise<Array<{arn: string; isDefault: boolean}>> {
    const {DescribeListenerCertificatesCommand} = await import('@aws-sdk/client-elastic-load-balancing-v2')
    const certificates = await markerPages('reading the certificates of the HTTPS listener', async (Marker) => {
      const response = await this.client.send(new DescribeListenerCertificatesCommand({ListenerArn: listenerArn, Marker}))
      return {items: response.Certificates ?? [], next: response.NextMarker}
    })
    return certificates.map((c) => ({arn: c.CertificateArn ?? '', isDefault: Boolean(c.IsDefault)}))
  }

  async addListenerCertificate(listenerArn: string, certificateArn: string): Promise<void> {
    const {AddListenerCertificatesCommand} = await import('@aws-sdk/client-elastic-load-balancing-v2')
    try {
      await this.client.send(new AddListenerCertificatesCommand({ListenerArn: listenerArn, Certificates: [{CertificateArn: certificateArn}]}))
    } catch (error) {
      throw awsFailure(error, 'adding a certificate to the HTTPS listener')
    }
  }

  async removeListenerCertificate(listenerArn: string, certificateArn: string): Promise<void> {
    const {RemoveListenerCertificatesCommand} = await import('@aws-sdk/client-elastic-load-balancing-v2')
    try {
      await this.client.send(new RemoveListenerCertificatesCommand({ListenerArn: listenerArn, Certificates: [{CertificateArn: certificateArn}]}))
    } catch (error) {
      if (isAwsError(error, 'ListenerNotFound', 'ListenerNotFoundException', 'CertificateNotFound', 'CertificateNotFoundException')) return
      throw awsFailure(error, 'removing a certificate from the HTTPS listener')
    }
  }

  /** The Route 53 zone of the load balancer's DNS name, which an alias record to it names. */
  async canonicalZone(loadBalancerArn: string): Promise<string> {
    return (await this.describe(loadBalancerArn))?.CanonicalHostedZoneId ?? ''
  }

  /** The load balancer's security group, the source an app's processes admit (templates/app.yml). */
  async securityGroup(loadBalancerArn: string): Promise<string> {
    const group = (await this.describe(loadBalancerArn))?.SecurityGroups?.[0]
    if (!group) throw new HerogateError(`The shared load balancer ${loadBalancerArn} has no security group.`, {suggestions: ['herogate platform:upgrade (repairs the platform stack)']})
    return group
  }

  private async describe(loadBalancerArn: string) {
    const {DescribeLoadBalancersCommand} = await import('@aws-sdk/client-elastic-load-balancing-v2')
    try {
      const response = await this.client.send(new DescribeLoadBalancersCommand({LoadBalancerArns: [loadBalancerArn]}))
      return response.LoadBalancers?.[0]
    } catch (error) {
      throw awsFailure(error, 'reading the shared load balancer')
    }
  }
}

/** Every page of a Marker-paginated ELB call; failures say what herogate was doing. */
async function markerPages<T>(doing: string, page: (marker?: string) => Promise<{items: T[]; next?: string}>): Promise<T[]> {
  const items: T[] = []
  let marker: string | undefined
  try {
    do {
      const result = await page(marker)
      items.push(...result.items)
      marker = result.next
    } while (marker)
  } catch (error) {
    throw awsFailure(error, doing)
  }

  return items
}

function forwardsOf(actions: Action[] | undefined): string[] {
  return (actions ?? []).flatMap((action) => {
    if (action.Type !== 'forward') return []
    const groups = action.ForwardConfig?.TargetGroups?.flatMap((group) => (group.TargetGroupArn ? [group.TargetGroupArn] : [])) ?? []
    return action.TargetGroupArn ? [action.TargetGroupArn, ...groups] : groups
  })
}

function actionOf(action: RuleAction): Action {
  if ('forward' in action) return {Type: 'forward', TargetGroupArn: action.forward}
  if ('fixedResponse' in action) {
    return {Type: 'fixed-response', FixedResponseConfig: {StatusCode: action.fixedResponse.status, ContentType: 'text/html', MessageBody: action.fixedResponse.body}}
  }

  return {Type: 'redirect', RedirectConfig: {Protocol: 'HTTPS', Port: '443', Host: '#{host}', Path: '/#{path}', Query: '#{query}', StatusCode: 'HTTP_301'}}
}

/** The condition of a rule matching requests for one host name. */
export function hostCondition(host: string): RuleCondition {
  return {Field: 'host-header', HostHeaderConfig: {Values: [host]}}
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

/**
 * The first value in [from, to] not in `taken`, searched from the lowest end (a new app's
 * priority or port) or the highest (a rule just in front of another), or undefined.
 */
export function firstFree(taken: number[], from: number, to: number, end: 'lowest' | 'highest' = 'lowest'): number | undefined {
  const used = new Set(taken)
  const step = end === 'lowest' ? 1 : -1
  for (let value = end === 'lowest' ? from : to; value >= from && value <= to; value += step) if (!used.has(value)) return value
  return undefined
}
