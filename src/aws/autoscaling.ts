import type {ApplicationAutoScalingClient, DescribeScalingPoliciesCommandOutput} from '@aws-sdk/client-application-auto-scaling'

import {HerogateError} from '../lib/errors.js'
import {names, PROCESS_TYPE} from '../lib/naming.js'
import type {Autoscaling} from '../platform/autoscale.js'
import {awsFailure, isAwsError} from './errors.js'

/**
 * Application Auto Scaling of ECS services in herogate's words: a process type's bounds and
 * its target tracking policy (one per service, named by herogate), read, set and removed.
 */

const NAMESPACE = 'ecs'
const DIMENSION = 'ecs:service:DesiredCount'

/** What a service is scaled on; the ALB metric needs the target group's resource label. */
export interface ScalingTarget {
  cluster: string
  service: string
  type: string
}

export const policyName = (service: string) => `herogate-${service}-target-tracking`
const resourceId = (target: {cluster: string; service: string}) => `service/${target.cluster}/${target.service}`

/** ELBv2 resource label of a target group: app/LB-NAME/LB-ID/targetgroup/TG-NAME/TG-ID (ALBRequestCountPerTarget's dimension). */
export function resourceLabel(loadBalancerArn: string, targetGroupArn: string): string {
  const balancer = loadBalancerArn.split(':loadbalancer/')[1] ?? ''
  const group = targetGroupArn.split(':')[5] ?? ''
  return `${balancer}/${group}`
}

/** The credentials may not read Application Auto Scaling (a user policy from before ps:autoscale). */
export class AutoscalingUnreadable extends HerogateError {}

export class ServiceScaling {
  constructor(private readonly client: ApplicationAutoScalingClient) {}

  /**
   * The autoscaled process types of an app: the ECS scalable targets of its services (one
   * listing, filtered by the services' names), then their policies (only when there is one).
   */
  async read(cluster: string, app: string, types?: string[]): Promise<Autoscaling[]> {
    const {DescribeScalableTargetsCommand, DescribeScalingPoliciesCommand} = await import('@aws-sdk/client-application-auto-scaling')
    const prefix = `service/${cluster}/${names.service(app, '')}`
    try {
      const bounds = new Map<string, {type: string; min: number; max: number}>()
      let next: string | undefined
      do {
        const page = await this.client.send(new DescribeScalableTargetsCommand({ServiceNamespace: NAMESPACE, ScalableDimension: DIMENSION, NextToken: next}))
        for (const found of page.ScalableTargets ?? []) {
          const type = found.ResourceId?.startsWith(prefix) ? found.ResourceId.slice(prefix.length) : undefined
          if (type && PROCESS_TYPE.test(type) && (!types || types.includes(type))) bounds.set(found.ResourceId!, {type, min: found.MinCapacity ?? 0, max: found.MaxCapacity ?? 0})
        }

        next = page.NextToken
      } while (next)

      if (bounds.size === 0) return []
      const policies = new Map<string, {metric: Autoscaling['metric']; target: number}>()
      next = undefined
      do {
        const policyPage: DescribeScalingPoliciesCommandOutput = await this.client.send(new DescribeScalingPoliciesCommand({
          ServiceNamespace: NAMESPACE, ScalableDimension: DIMENSION, PolicyNames: [...bounds.values()].map((b) => policyName(names.service(app, b.type))), NextToken: next,
        }))
        for (const policy of policyPage.ScalingPolicies ?? []) {
          const config = policy.TargetTrackingScalingPolicyConfiguration
          const metric = config?.PredefinedMetricSpecification?.PredefinedMetricType === 'ALBRequestCountPerTarget' ? 'requests-per-process' : 'cpu'
          policies.set(policy.ResourceId!, {metric, target: config?.TargetValue ?? 0})
        }

        next = policyPage.NextToken
      } while (next)

      // A target without herogate's policy (made by hand) is not herogate's autoscaling.
      return [...bounds].flatMap(([id, found]) => {
        const policy = policies.get(id)
        return policy ? [{...found, ...policy}] : []
      }).sort((a, b) => a.type.localeCompare(b.type))
    } catch (error) {
      if (isAwsError(error, 'AccessDeniedException', 'AccessDenied')) throw new AutoscalingUnreadable('AWS denied reading the autoscaling of the app.', {cause: error})
      throw awsFailure(error, 'reading the autoscaling of the app')
    }
  }

  /**
   * Registers the service's bounds, then its target tracking policy. `label` is the target
   * group's resource label, needed for requests per process.
   */
  async set(target: ScalingTarget, settings: Autoscaling, label?: string): Promise<void> {
    const {PutScalingPolicyCommand, RegisterScalableTargetCommand} = await import('@aws-sdk/client-application-auto-scaling')
    const ResourceId = resourceId(target)
    try {
      await this.client.send(new RegisterScalableTargetCommand({ServiceNamespace: NAMESPACE, ResourceId, ScalableDimension: DIMENSION, MinCapacity: settings.min, MaxCapacity: settings.max}))
    } catch (error) {
      throw awsFailure(error, `registering ${target.type} with Application Auto Scaling`)
    }

    try {
      await this.client.send(new PutScalingPolicyCommand({
        PolicyName: policyName(target.service),
        ServiceNamespace: NAMESPACE,
        ResourceId,
        ScalableDimension: DIMENSION,
        PolicyType: 'TargetTrackingScaling',
        TargetTrackingScalingPolicyConfiguration: {
          TargetValue: settings.target,
          PredefinedMetricSpecification: settings.metric === 'cpu'
            ? {PredefinedMetricType: 'ECSServiceAverageCPUUtilization'}
            : {PredefinedMetricType: 'ALBRequestCountPerTarget', ResourceLabel: label},
          // Out within a minute of the target being passed, in more slowly: a burst does not make processes come and go.
          ScaleOutCooldown: 60,
          ScaleInCooldown: 300,
        },
      }))
    } catch (error) {
      throw awsFailure(error, `setting the autoscaling target of ${target.type}`)
    }
  }

  /** Removes the service's scalable target, and with it its policy and alarms. */
  async remove(target: ScalingTarget): Promise<void> {
    const {DeregisterScalableTargetCommand} = await import('@aws-sdk/client-application-auto-scaling')
    try {
      await this.client.send(new DeregisterScalableTargetCommand({ServiceNamespace: NAMESPACE, ResourceId: resourceId(target), ScalableDimension: DIMENSION}))
    } catch (error) {
      if (isAwsError(error, 'ObjectNotFoundException')) return
      throw awsFailure(error, `removing the autoscaling of ${target.type}`)
    }
  }
}
