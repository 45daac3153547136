import type {ElasticLoadBalancingV2Client} from '@aws-sdk/client-elastic-load-balancing-v2'

import {awsFailure, isAwsError} from './errors.js'

/** The Application Load Balancer quotas a new app can run into (what AWS allows this account). */
export interface LoadBalancerLimits {
  /** Listener rules per load balancer, default rules not counted. */
  rules: number
  listeners: number
}

/** AWS's documented defaults, used where the account's own limits cannot be read. */
export const DEFAULT_LIMITS: LoadBalancerLimits = {rules: 100, listeners: 50}

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

/** The lowest value >= `from` not in `taken`, or undefined past `to`. */
export function lowestFree(taken: number[], from: number, to: number): number | undefined {
  const used = new Set(taken)
  for (let value = from; value <= to; value++) if (!used.has(value)) return value
  return undefined
}
