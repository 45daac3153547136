import type {ElasticLoadBalancingV2Client} from '@aws-sdk/client-elastic-load-balancing-v2'

import {awsFailure} from './errors.js'

/** The shared load balancer in herogate's words: which app ports and rule priorities are taken. */
export class LoadBalancer {
  constructor(private readonly client: ElasticLoadBalancingV2Client) {}

  /** Ports of every listener of the load balancer. */
  async listenerPorts(loadBalancerArn: string): Promise<number[]> {
    const {DescribeListenersCommand} = await import('@aws-sdk/client-elastic-load-balancing-v2')
    const ports: number[] = []
    let Marker: string | undefined
    try {
      do {
        const response = await this.client.send(new DescribeListenersCommand({LoadBalancerArn: loadBalancerArn, Marker}))
        for (const listener of response.Listeners ?? []) if (listener.Port !== undefined) ports.push(listener.Port)
        Marker = response.NextMarker
      } while (Marker)
    } catch (error) {
      throw awsFailure(error, 'reading the listeners of the shared load balancer')
    }

    return ports
  }

  /** Priorities of the rules of a listener (the default rule has none). */
  async rulePriorities(listenerArn: string): Promise<number[]> {
    const {DescribeRulesCommand} = await import('@aws-sdk/client-elastic-load-balancing-v2')
    const priorities: number[] = []
    let Marker: string | undefined
    try {
      do {
        const response = await this.client.send(new DescribeRulesCommand({ListenerArn: listenerArn, Marker}))
        for (const rule of response.Rules ?? []) {
          const priority = Number(rule.Priority)
          if (Number.isInteger(priority)) priorities.push(priority)
        }

        Marker = response.NextMarker
      } while (Marker)
    } catch (error) {
      throw awsFailure(error, 'reading the rules of the shared load balancer')
    }

    return priorities
  }
}

/** The lowest value >= `from` not in `taken`, or undefined past `to`. */
export function lowestFree(taken: number[], from: number, to: number): number | undefined {
  const used = new Set(taken)
  for (let value = from; value <= to; value++) if (!used.has(value)) return value
  return undefined
}
