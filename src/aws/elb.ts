import type {ElasticLoadBalancingV2Client} from '@aws-sdk/client-elastic-load-balancing-v2'

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

/** The shared load balancer in herogate's words: which app ports and rule priorities are taken, an app's health check. */
export class LoadBalancer {
  constructor(private readonly client: ElasticLoadBalancingV2Client) {}

  /** Ports of every listener of the load balancer. */
  async listenerPorts(loadBalancerArn: string): Promise<number[]> {
    return (await this.listeners(loadBalancerArn)).map((listener) => listener.port)
  }

  /** Every listener of the load balancer, with its port. */
  async listeners(loadBalancerArn: string): Promise<Array<{arn: string; port: number}>> {
    const {DescribeListenersCommand} = await import('@aws-sdk/client-elastic-load-balancing-v2')
    const listeners = await markerPages('reading the listeners of the shared load balancer', async (Marker) => {
      const response = await this.client.send(new DescribeListenersCommand({LoadBalancerArn: loadBalancerArn, Marker}))
      return {items: response.Listeners ?? [], next: response.NextMarker}
    })
    return listeners.flatMap((listener) => (listener.Port === undefined ? [] : [{arn: listener.ListenerArn ?? '', port: listener.Port}]))
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

  /** Priorities of the rules of a listener (the default rule has none). */
  async rulePriorities(listenerArn: string): Promise<number[]> {
    const {DescribeRulesCommand} = await import('@aws-sdk/client-elastic-load-balancing-v2')
    const rules = await markerPages('reading the rules of the shared load balancer', async (Marker) => {
      const response = await this.client.send(new DescribeRulesCommand({ListenerArn: listenerArn, Marker}))
      return {items: response.Rules ?? [], next: response.NextMarker}
    })
    return rules.map((rule) => Number(rule.Priority)).filter((priority) => Number.isInteger(priority))
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

  // Custom domains (platform/aws/domains.ts): host-header rules and the HTTPS listener's certificates.

  /** The non-default rules of a listener: priority, host names and the target group they forward to. */
  async hostRules(listenerArn: string): Promise<HostRule[]> {
    const {DescribeRulesCommand} = await import('@aws-sdk/client-elastic-load-balancing-v2')
    const rules = await markerPages('reading the rules of the shared load balancer', async (Marker) => {
      const response = await this.client.send(new DescribeRulesCommand({ListenerArn: listenerArn, Marker}))
      return {items: response.Rules ?? [], next: response.NextMarker}
    })
    return rules.filter((rule) => !rule.IsDefault).map((rule) => {
      const forward = rule.Actions?.find((action) => action.Type === 'forward')
      return {
        arn: rule.RuleArn ?? '',
        priority: Number(rule.Priority),
        hosts: (rule.Conditions ?? []).filter((c) => c.Field === 'host-header').flatMap((c) => c.HostHeaderConfig?.Values ?? c.Values ?? []),
        ...(forward ? {targetGroupArn: forward.TargetGroupArn ?? forward.ForwardConfig?.TargetGroups?.[0]?.TargetGroupArn} : {}),
      }
    })
  }

  /** A rule sending requests for `host` to the target group (forward) or to HTTPS (redirect, 301). */
  async createHostRule(input: {listenerArn: string; priority: number; host: string; action: RuleAction; tags: Record<string, string>}): Promise<string> {
    const {CreateRuleCommand} = await import('@aws-sdk/client-elastic-load-balancing-v2')
    try {
      const response = await this.client.send(new CreateRuleCommand({
        ListenerArn: input.listenerArn,
        Priority: input.priority,
        Conditions: [{Field: 'host-header', HostHeaderConfig: {Values: [input.host]}}],
        Actions: [ruleAction(input.action)],
        Tags: Object.entries(input.tags).map(([Key, Value]) => ({Key, Value})),
      }))
      return response.Rules?.[0]?.RuleArn ?? ''
    } catch (error) {
      if (isAwsError(error, 'PriorityInUse', 'PriorityInUseException')) throw new PriorityTaken(`Rule priority ${input.priority} was taken meanwhile.`, {cause: error})
      throw awsFailure(error, `routing ${input.host} on the shared load balancer`)
    }
  }

  async setRuleAction(ruleArn: string, action: RuleAction): Promise<void> {
    const {ModifyRuleCommand} = await import('@aws-sdk/client-elastic-load-balancing-v2')
    try {
      await this.client.send(new ModifyRuleCommand({RuleArn: ruleArn, Actions: [ruleAction(action)]}))
    } catch (error) {
      throw awsFailure(error, 'changing a rule of the shared load balancer')
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
export async function markerPages<T>(doing: string, page: (marker?: string) => Promise<{items: T[]; next?: string}>): Promise<T[]> {
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

/** A listener rule by host name, as the domains of apps use them. */
export interface HostRule {
  arn: string
  priority: number
  hosts: string[]
  targetGroupArn?: string
}

export type RuleAction = {forward: string} | {redirectToHttps: true}

/** Another rule took the priority between reading the rules and creating one: pick again. */
export class PriorityTaken extends HerogateError {}

function ruleAction(action: RuleAction) {
  if ('forward' in action) return {Type: 'forward' as const, TargetGroupArn: action.forward}
  return {
    Type: 'redirect' as const,
    RedirectConfig: {Protocol: 'HTTPS', Port: '443', Host: '#{host}', Path: '/#{path}', Query: '#{query}', StatusCode: 'HTTP_301' as const},
  }
}

/** The lowest value >= `from` not in `taken`, or undefined past `to`. */
export function lowestFree(taken: number[], from: number, to: number): number | undefined {
  const used = new Set(taken)
  for (let value = from; value <= to; value++) if (!used.has(value)) return value
  return undefined
}
