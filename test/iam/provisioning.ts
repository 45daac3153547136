import type {Facts} from './requests.js'

/**
 * CloudFormation creates and deletes a stack's resources with the credentials of whoever
 * calls CreateStack or DeleteStack (herogate passes no service role), so `create` and
 * `destroy` need each resource type's own permissions. These are the permissions of each
 * type's create and delete handlers (the CloudFormation registry's resource schemas), for
 * the types and properties herogate's templates use. A type missing here fails the contract
 * test with its name.
 */

export interface StackResource {
  /** Logical id in the template. */
  id: string
  type: string
  physicalId: string
  /** Properties with intrinsic functions resolved. */
  properties: Record<string, any>
}

export interface StackFacts {
  name: string
  id: string
  resources: StackResource[]
}

interface Permission {
  action: string
  resource: string
  context?: Record<string, string | string[]>
}

/** `update`: what an in-place change asks besides create and delete (which a replacement asks). */
type Handlers = (resource: StackResource, facts: Facts) => {create: Permission[]; delete: Permission[]; update?: Permission[]}

const on = (resource: string, ...actions: string[]): Permission[] => actions.map((action) => ({action, resource}))
const passRole = (role: string | undefined, service: string): Permission[] =>
  role ? [{action: 'iam:PassRole', resource: role, context: {'iam:PassedToService': service}}] : []

/** EC2 network pieces cannot be named before they exist: their permissions are on any resource. */
const ec2 = (create: string[], remove: string[]): Handlers => () => ({create: on('*', ...create), delete: on('*', ...remove)})

const arnOf = (resource: StackResource, facts: Facts, service: string, path: (id: string) => string) =>
  resource.physicalId.startsWith('arn:') ? resource.physicalId : facts.arn(service, path(resource.physicalId))

export const PROVISIONING: Record<string, Handlers> = {
  'AWS::EC2::VPC': ec2(['ec2:CreateVpc', 'ec2:DescribeVpcs', 'ec2:ModifyVpcAttribute', 'ec2:DescribeVpcAttribute', 'ec2:CreateTags'], ['ec2:DeleteVpc', 'ec2:DescribeVpcs']),
  'AWS::EC2::InternetGateway': ec2(['ec2:CreateInternetGateway', 'ec2:DescribeInternetGateways', 'ec2:CreateTags'], ['ec2:DeleteInternetGateway', 'ec2:DescribeInternetGateways']),
  'AWS::EC2::VPCGatewayAttachment': ec2(['ec2:AttachInternetGateway', 'ec2:DescribeInternetGateways'], ['ec2:DetachInternetGateway', 'ec2:DescribeInternetGateways']),
  // !GetAZs asks EC2 for the region's zones.
  'AWS::EC2::Subnet': ec2(['ec2:CreateSubnet', 'ec2:DescribeSubnets', 'ec2:ModifySubnetAttribute', 'ec2:DescribeAvailabilityZones', 'ec2:CreateTags'], ['ec2:DeleteSubnet', 'ec2:DescribeSubnets']),
  'AWS::EC2::RouteTable': ec2(['ec2:CreateRouteTable', 'ec2:DescribeRouteTables', 'ec2:CreateTags'], ['ec2:DeleteRouteTable', 'ec2:DescribeRouteTables']),
  'AWS::EC2::Route': ec2(['ec2:CreateRoute', 'ec2:DescribeRouteTables'], ['ec2:DeleteRoute', 'ec2:DescribeRouteTables']),
  'AWS::EC2::SubnetRouteTableAssociation': ec2(['ec2:AssociateRouteTable', 'ec2:DescribeRouteTables'], ['ec2:DisassociateRouteTable', 'ec2:DescribeRouteTables']),
  'AWS::EC2::SecurityGroup': ec2(
    ['ec2:CreateSecurityGroup', 'ec2:DescribeSecurityGroups', 'ec2:AuthorizeSecurityGroupIngress', 'ec2:AuthorizeSecurityGroupEgress', 'ec2:RevokeSecurityGroupEgress', 'ec2:CreateTags'],
    ['ec2:DeleteSecurityGroup', 'ec2:DescribeSecurityGroups'],
  ),
  'AWS::EC2::SecurityGroupIngress': ec2(['ec2:AuthorizeSecurityGroupIngress', 'ec2:DescribeSecurityGroupRules'], ['ec2:RevokeSecurityGroupIngress', 'ec2:DescribeSecurityGroupRules']),
  'AWS::ECS::Cluster': (r, facts) => {
    const arn = arnOf(r, facts, 'ecs', (id) => `cluster/${id}`)
    return {
      create: [...on(arn, 'ecs:CreateCluster', 'ecs:DescribeClusters', 'ecs:PutClusterCapacityProviders'), {action: 'ecs:TagResource', resource: arn, context: {'ecs:CreateAction': 'CreateCluster'}}],
      delete: on(arn, 'ecs:DeleteCluster', 'ecs:DescribeClusters', 'ecs:PutClusterCapacityProviders'),
    }
  },
  'AWS::ElasticLoadBalancingV2::LoadBalancer': (r, facts) => {
    const arn = arnOf(r, facts, 'elasticloadbalancing', (id) => `loadbalancer/app/${id}/0`)
    return {
      create: [
        ...on(arn, 'elasticloadbalancing:CreateLoadBalancer', 'elasticloadbalancing:ModifyLoadBalancerAttributes', 'elasticloadbalancing:AddTags'),
        ...on('*', 'elasticloadbalancing:DescribeLoadBalancers', 'elasticloadbalancing:DescribeLoadBalancerAttributes', 'ec2:DescribeSubnets', 'ec2:DescribeSecurityGroups', 'ec2:DescribeVpcs', 'ec2:DescribeInternetGateways', 'ec2:DescribeAccountAttributes'),
      ],
      delete: [...on(arn, 'elasticloadbalancing:DeleteLoadBalancer'), ...on('*', 'elasticloadbalancing:DescribeLoadBalancers')],
    }
  },
  'AWS::ElasticLoadBalancingV2::Listener': (r, facts) => {
    const arn = arnOf(r, facts, 'elasticloadbalancing', (id) => `listener/app/${id}`)
    // A listener is created on its load balancer.
    return {
      create: [...on(r.properties.LoadBalancerArn, 'elasticloadbalancing:CreateListener'), ...on('*', 'elasticloadbalancing:DescribeListeners')],
      delete: [...on(arn, 'elasticloadbalancing:DeleteListener'), ...on('*', 'elasticloadbalancing:DescribeListeners')],
    }
  },
  'AWS::ElasticLoadBalancingV2::ListenerRule': (r, facts) => {
    const arn = arnOf(r, facts, 'elasticloadbalancing', (id) => `listener-rule/app/${id}`)
    // A rule is created on its listener.
    return {
      create: [...on(r.properties.ListenerArn, 'elasticloadbalancing:CreateRule'), ...on('*', 'elasticloadbalancing:DescribeRules')],
      delete: [...on(arn, 'elasticloadbalancing:DeleteRule'), ...on('*', 'elasticloadbalancing:DescribeRules')],
    }
  },
  'AWS::ElasticLoadBalancingV2::TargetGroup': (r, facts) => {
    const arn = arnOf(r, facts, 'elasticloadbalancing', (id) => `targetgroup/${id}/0`)
    return {
      create: [
        ...on(arn, 'elasticloadbalancing:CreateTargetGroup', 'elasticloadbalancing:ModifyTargetGroupAttributes'),
        // The simulator's data (iam-data) gives AddTags no target group resource: asked for on any.
        ...on('*', 'elasticloadbalancing:AddTags', 'elasticloadbalancing:DescribeTargetGroups', 'elasticloadbalancing:DescribeTargetGroupAttributes'),
      ],
      delete: [...on(arn, 'elasticloadbalancing:DeleteTargetGroup'), ...on('*', 'elasticloadbalancing:DescribeTargetGroups')],
    }
  },
  'AWS::S3::Bucket': (r, facts) => {
    const arn = `arn:${facts.scope.partition}:s3:::${r.physicalId}`
    return {
      create: on(arn, 's3:CreateBucket', 's3:PutEncryptionConfiguration', 's3:PutBucketPublicAccessBlock', 's3:PutBucketOwnershipControls', 's3:PutLifecycleConfiguration'),
      delete: on(arn, 's3:DeleteBucket'),
    }
  },
  'AWS::S3::BucketPolicy': (r, facts) => {
    const arn = `arn:${facts.scope.partition}:s3:::${r.properties.Bucket}`
    return {create: on(arn, 's3:PutBucketPolicy', 's3:GetBucketPolicy'), delete: on(arn, 's3:DeleteBucketPolicy', 's3:GetBucketPolicy')}
  },
  'AWS::CodeCommit::Repository': (r, facts) => {
    const arn = facts.arn('codecommit', r.properties.RepositoryName)
    return {create: on(arn, 'codecommit:CreateRepository', 'codecommit:TagResource'), delete: on(arn, 'codecommit:DeleteRepository')}
  },
  'AWS::ECR::Repository': (r, facts) => {
    const arn = facts.arn('ecr', `repository/${r.properties.RepositoryName}`)
    return {
      create: on(arn, 'ecr:CreateRepository', 'ecr:PutLifecyclePolicy', 'ecr:PutImageScanningConfiguration', 'ecr:TagResource'),
      // EmptyOnDelete: the handler deletes the images first.
      delete: on(arn, 'ecr:DeleteRepository', 'ecr:ListImages', 'ecr:BatchDeleteImage'),
    }
  },
  // Pull-through cache rules have no resource-level permissions.
  'AWS::ECR::PullThroughCacheRule': () => ({
    create: on('*', 'ecr:CreatePullThroughCacheRule', 'ecr:DescribePullThroughCacheRules'),
    delete: on('*', 'ecr:DeletePullThroughCacheRule', 'ecr:DescribePullThroughCacheRules'),
  }),
  'AWS::Logs::LogGroup': (r, facts) => {
    const arn = facts.logGroupArn(r.properties.LogGroupName)
    return {
      create: [...on(arn, 'logs:CreateLogGroup', 'logs:PutRetentionPolicy', 'logs:TagResource'), ...on('*', 'logs:DescribeLogGroups')],
      delete: [...on(arn, 'logs:DeleteLogGroup'), ...on('*', 'logs:DescribeLogGroups')],
    }
  },
  'AWS::Logs::LogStream': (r, facts) => {
    const arn = `${facts.logGroupArn(r.properties.LogGroupName)}:log-stream:${r.properties.LogStreamName}`
    return {create: on(arn, 'logs:CreateLogStream'), delete: on(arn, 'logs:DeleteLogStream')}
  },
  'AWS::IAM::Role': (r, facts) => {
    const arn = `arn:${facts.scope.partition}:iam::${facts.scope.account}:role/${r.physicalId}`
    return {
      create: on(arn, 'iam:CreateRole', 'iam:GetRole', 'iam:PutRolePolicy', 'iam:GetRolePolicy', 'iam:TagRole'),
      delete: on(arn, 'iam:DeleteRole', 'iam:DeleteRolePolicy', 'iam:ListRolePolicies', 'iam:ListAttachedRolePolicies', 'iam:GetRole'),
    }
  },
  'AWS::CodeBuild::Project': (r, facts) => {
    const arn = facts.arn('codebuild', `project/${r.properties.Name}`)
    return {create: [...on(arn, 'codebuild:CreateProject'), ...passRole(r.properties.ServiceRole, 'codebuild.amazonaws.com')], delete: on(arn, 'codebuild:DeleteProject')}
  },
  'AWS::CodePipeline::Pipeline': (r, facts) => {
    const arn = facts.arn('codepipeline', r.properties.Name)
    return {
      create: [...on(arn, 'codepipeline:CreatePipeline', 'codepipeline:GetPipeline', 'codepipeline:TagResource'), ...passRole(r.properties.RoleArn, 'codepipeline.amazonaws.com')],
      delete: on(arn, 'codepipeline:DeletePipeline', 'codepipeline:GetPipeline'),
    }
  },
  // Its schema's handlers: the group, read back and tagged; deleting it deletes the schedules in it.
  'AWS::Scheduler::ScheduleGroup': (r, facts) => {
    const group = facts.arn('scheduler', `schedule-group/${r.properties.Name}`)
    const tags = Object.fromEntries(((r.properties.Tags ?? []) as Array<{Key: string; Value: string}>).map((t) => [t.Key, t.Value]))
    const tagged = {'aws:TagKeys': Object.keys(tags), ...Object.fromEntries(Object.entries(tags).map(([key, value]) => [`aws:RequestTag/${key}`, value]))}
    return {
      create: [{action: 'scheduler:CreateScheduleGroup', resource: group, context: tagged}, {action: 'scheduler:TagResource', resource: group, context: tagged}, ...on(group, 'scheduler:GetScheduleGroup', 'scheduler:ListTagsForResource')],
      delete: [...on(group, 'scheduler:DeleteScheduleGroup', 'scheduler:GetScheduleGroup'), ...on(facts.arn('scheduler', `schedule/${r.properties.Name}/*`), 'scheduler:DeleteSchedule')],
    }
  },
  'AWS::Events::Rule': (r, facts) => {
    const arn = arnOf(r, facts, 'events', (id) => `rule/${id}`)
    const roles = ((r.properties.Targets ?? []) as Array<{RoleArn?: string}>).flatMap((t) => passRole(t.RoleArn, 'events.amazonaws.com'))
    return {
      create: [...on(arn, 'events:PutRule', 'events:PutTargets', 'events:DescribeRule'), ...roles],
      delete: on(arn, 'events:DeleteRule', 'events:RemoveTargets', 'events:ListTargetsByRule', 'events:DescribeRule'),
    }
  },
  'AWS::ECS::TaskDefinition': (r, facts) => {
    const arn = r.physicalId.startsWith('arn:') ? r.physicalId : facts.arn('ecs', `task-definition/${r.properties.Family}:1`)
    const roles = [r.properties.ExecutionRoleArn, r.properties.TaskRoleArn].flatMap((role) => passRole(role, 'ecs-tasks.amazonaws.com'))
    return {
      create: [...on(arn, 'ecs:RegisterTaskDefinition'), {action: 'ecs:TagResource', resource: arn, context: {'ecs:CreateAction': 'RegisterTaskDefinition'}}, ...roles],
      delete: on('*', 'ecs:DeregisterTaskDefinition', 'ecs:DescribeTaskDefinition'),
    }
  },
  'AWS::ECS::Service': (r, facts) => {
    const arn = facts.serviceArn(r.properties.Cluster, r.properties.ServiceName)
    return {
      create: [...on(arn, 'ecs:CreateService', 'ecs:DescribeServices'), {action: 'ecs:TagResource', resource: arn, context: {'ecs:CreateAction': 'CreateService'}}],
      delete: on(arn, 'ecs:UpdateService', 'ecs:DeleteService', 'ecs:DescribeServices'),
    }
  },
  // Add-ons (issue 12). RDS and ElastiCache check the VPC pieces a database is placed in, use
  // KMS's AWS-managed key for encryption at rest, and make their service-linked role on first use.
  'AWS::RDS::DBSubnetGroup': (r, facts) => {
    const arn = facts.arn('rds', `subgrp:${(r.physicalId || 'herogate-platform-databasesubnetgroup').toLowerCase()}`)
    return {
      create: [...on(arn, 'rds:CreateDBSubnetGroup', 'rds:DescribeDBSubnetGroups', 'rds:AddTagsToResource'), ...on('*', 'ec2:DescribeSubnets', 'ec2:DescribeVpcs')],
      delete: on(arn, 'rds:DeleteDBSubnetGroup', 'rds:DescribeDBSubnetGroups'),
    }
  },
  'AWS::ElastiCache::SubnetGroup': (r, facts) => {
    const arn = facts.arn('elasticache', `subnetgroup:${(r.physicalId || 'herogate-platform-cachesubnetgroup').toLowerCase()}`)
    return {
      create: [...on(arn, 'elasticache:CreateCacheSubnetGroup', 'elasticache:DescribeCacheSubnetGroups', 'elasticache:AddTagsToResource'), ...on('*', 'ec2:DescribeSubnets', 'ec2:DescribeVpcs')],
      delete: on(arn, 'elasticache:DeleteCacheSubnetGroup', 'elasticache:DescribeCacheSubnetGroups'),
    }
  },
  'AWS::RDS::DBInstance': (r, facts) => {
    const arn = facts.arn('rds', `db:${r.physicalId}`)
    const subnetGroup = r.properties.DBSubnetGroupName ? on(facts.arn('rds', `subgrp:${String(r.properties.DBSubnetGroupName).toLowerCase()}`), 'rds:CreateDBInstance') : []
    const snapshot = r.properties.DBSnapshotIdentifier ? on(facts.arn('rds', `snapshot:${r.properties.DBSnapshotIdentifier}`), 'rds:RestoreDBInstanceFromDBSnapshot') : []
    const discovery = on('*', 'ec2:DescribeSecurityGroups', 'ec2:DescribeSubnets', 'ec2:DescribeVpcs', 'ec2:DescribeAccountAttributes', 'ec2:DescribeAvailabilityZones', 'kms:DescribeKey', 'kms:CreateGrant')
    const serviceLinked = [{action: 'iam:CreateServiceLinkedRole', resource: `arn:${facts.scope.partition}:iam::${facts.scope.account}:role/aws-service-role/rds.amazonaws.com/AWSServiceRoleForRDS`, context: {'iam:AWSServiceName': 'rds.amazonaws.com'}}]
    return {
      create: [...on(arn, 'rds:CreateDBInstance', 'rds:DescribeDBInstances', 'rds:AddTagsToResource', 'rds:ModifyDBInstance'), ...(snapshot.length > 0 ? on(arn, 'rds:RestoreDBInstanceFromDBSnapshot') : []), ...subnetGroup, ...snapshot, ...discovery, ...serviceLinked],
      // UpdateReplacePolicy: Snapshot: a replaced database is snapshotted before it goes.
      delete: [...on(arn, 'rds:DeleteDBInstance', 'rds:DescribeDBInstances'), ...on(arn, 'rds:CreateDBSnapshot')],
      update: on(arn, 'rds:ModifyDBInstance', 'rds:DescribeDBInstances'),
    }
  },
  'AWS::RDS::DBCluster': (r, facts) => {
    const arn = facts.arn('rds', `cluster:${r.physicalId}`)
    return {
      create: [...on(arn, 'rds:CreateDBCluster', 'rds:DescribeDBClusters', 'rds:AddTagsToResource', 'rds:ModifyDBCluster', 'rds:RestoreDBClusterFromSnapshot'), ...on('*', 'ec2:DescribeSecurityGroups', 'ec2:DescribeSubnets', 'ec2:DescribeVpcs', 'kms:DescribeKey', 'kms:CreateGrant')],
      delete: on(arn, 'rds:DeleteDBCluster', 'rds:DescribeDBClusters', 'rds:CreateDBClusterSnapshot'),
      update: on(arn, 'rds:ModifyDBCluster', 'rds:DescribeDBClusters'),
    }
  },
  'AWS::RDS::DBClusterParameterGroup': (r, facts) => {
    const arn = facts.arn('rds', `cluster-pg:${String(r.physicalId).toLowerCase()}`)
    return {create: on(arn, 'rds:CreateDBClusterParameterGroup', 'rds:ModifyDBClusterParameterGroup', 'rds:DescribeDBClusterParameterGroups', 'rds:DescribeDBClusterParameters', 'rds:AddTagsToResource'), delete: on(arn, 'rds:DeleteDBClusterParameterGroup')}
  },
  'AWS::ElastiCache::ReplicationGroup': (r, facts) => {
    const arn = facts.arn('elasticache', `replicationgroup:${r.physicalId}`)
    const subnetGroup = r.properties.CacheSubnetGroupName ? on(facts.arn('elasticache', `subnetgroup:${String(r.properties.CacheSubnetGroupName).toLowerCase()}`), 'elasticache:CreateReplicationGroup') : []
    return {
      create: [
        ...on(arn, 'elasticache:CreateReplicationGroup', 'elasticache:DescribeReplicationGroups', 'elasticache:AddTagsToResource'), ...subnetGroup,
        ...on('*', 'ec2:DescribeSecurityGroups', 'ec2:DescribeSubnets', 'ec2:DescribeVpcs'),
        {action: 'iam:CreateServiceLinkedRole', resource: `arn:${facts.scope.partition}:iam::${facts.scope.account}:role/aws-service-role/elasticache.amazonaws.com/AWSServiceRoleForElastiCache`, context: {'iam:AWSServiceName': 'elasticache.amazonaws.com'}},
      ],
      delete: on(arn, 'elasticache:DeleteReplicationGroup', 'elasticache:DescribeReplicationGroups'),
      // A new AUTH token (attaching an add-on whose first token herogate never kept) is a modification.
      update: on(arn, 'elasticache:ModifyReplicationGroup', 'elasticache:DescribeReplicationGroups'),
    }
  },
  'AWS::SSM::Parameter': (r, facts) => {
    const arn = facts.parameterArn(r.properties.Name)
    return {create: on(arn, 'ssm:PutParameter', 'ssm:GetParameters'), delete: on(arn, 'ssm:DeleteParameter')}
  },
}
