import type {StackSummary} from '../../aws/cloudformation.js'
import {LoadBalancer, LoadBalancerFull, type LoadBalancerLimits} from '../../aws/elb.js'
import type {AwsContext} from './context.js'

/**
 * The platform's shared load balancer as apps and domains use it: what the platform stack
 * publishes of it, and the room its quotas leave.
 */

/**
 * The load balancer's security group, the one source an app's processes admit (templates/app.yml):
 * the platform stack's output, or ELB's answer for a platform made before the stack had it.
 */
export async function loadBalancerSecurityGroup(ctx: AwsContext, platform: StackSummary): Promise<string> {
  return platform.outputs.LoadBalancerSecurityGroup || new LoadBalancer(await ctx.clients.elbv2()).securityGroup(platform.outputs.LoadBalancerArn)
}

/** The Route 53 zone of the load balancer's DNS name, which an alias record to it names (as loadBalancerSecurityGroup reads it). */
export async function loadBalancerZone(ctx: AwsContext, platform: StackSummary): Promise<string> {
  return platform.outputs.LoadBalancerCanonicalHostedZoneId || new LoadBalancer(await ctx.clients.elbv2()).canonicalZone(platform.outputs.LoadBalancerArn)
}

/** The suggestion every quota refusal ends with. */
export function higherQuota(region: string): string {
  return `ask AWS for a higher quota: Service Quotas > Elastic Load Balancing (region ${region})`
}

/**
 * Refuses, before anything is made, what needs `needed` rules more than the quota leaves: rules
 * are counted per load balancer, across its listeners, and CloudFormation or CreateRule would fail.
 */
export function checkRuleRoom(region: string, limits: LoadBalancerLimits, inUse: number, what: {name: string; needed: number; why?: string; otherwise: string; suggestion: string}): void {
  if (inUse + what.needed <= limits.rules) return
  throw new LoadBalancerFull(`The shared load balancer of ${region} has ${inUse} of its ${limits.rules} rules in use and ${what.name} needs ${what.needed}${what.why ? ` (${what.why})` : ''}, ${what.otherwise}.`, {
    suggestions: [what.suggestion, higherQuota(region)],
  })
}
