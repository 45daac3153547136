import {fileURLToPath} from 'node:url'

import type {IamRequest} from './requests.js'
import type {PolicyStatement} from './template.js'

/**
 * The least-privilege policy of a herogate user, generated from the IAM requests of every
 * recorded command: each action any command needs, on the herogate-named resources it
 * touches (any app, region and account), and nothing else. Regenerate with
 * `npm run iam:user-policy` after a change in the AWS calls herogate makes.
 */

export const USER_POLICY_FILE = fileURLToPath(new URL('../../docs/iam/herogate-user-policy.json', import.meta.url))
export const REGENERATE = 'npm run iam:user-policy'

/**
 * The resources herogate makes, by the names naming.ts and the templates give them, in any
 * app, region and account. Resources CloudFormation names with a random suffix keep the
 * stack's name in front (herogate-platform-..., herogate-APP-...). A recorded ARN outside
 * every family fails the generation: add its family here.
 */
export const FAMILIES: string[] = [
  'arn:aws:cloudformation:*:*:stack/herogate-*/*',
  'arn:aws:ssm:*:*:parameter/herogate/*',
  'arn:aws:ecs:*:*:cluster/herogate-platform-*',
  'arn:aws:ecs:*:*:service/herogate-platform-*/*',
  'arn:aws:ecs:*:*:task/herogate-platform-*/*',
  'arn:aws:ecs:*:*:task-definition/herogate-*',
  'arn:aws:logs:*:*:log-group:/herogate/*',
  // CodeBuild's default log group, which destroy removes for builds made before LogsConfig.
  'arn:aws:logs:*:*:log-group:/aws/codebuild/herogate-*',
  'arn:aws:ecr:*:*:repository/herogate/*',
  // The repositories the platform's pull-through cache makes (platform:destroy deletes them).
  'arn:aws:ecr:*:*:repository/herogate-public/*',
  'arn:aws:s3:::herogate-platform-artifactbucket-*',
  'arn:aws:codecommit:*:*:herogate-*',
  'arn:aws:codebuild:*:*:project/herogate-*',
  'arn:aws:codepipeline:*:*:herogate-*',
  'arn:aws:iam::*:role/herogate-*',
  // ECS's service-linked role, which create makes sure of before the first cluster.
  'arn:aws:iam::*:role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS',
  // Application Auto Scaling's service-linked role for ECS, made by the first ps:autoscale of the account.
  'arn:aws:iam::*:role/aws-service-role/ecs.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_ECSService',
  'arn:aws:events:*:*:rule/herogate-*',
  // Scheduled jobs: the app's schedule group and its schedules (names.scheduleGroup).
  'arn:aws:scheduler:*:*:schedule-group/herogate-*',
  'arn:aws:scheduler:*:*:schedule/herogate-*/*',
  'arn:aws:elasticloadbalancing:*:*:targetgroup/hg-*/*',
  // The shared load balancer, its listeners and rules carry CloudFormation's generated name.
  'arn:aws:elasticloadbalancing:*:*:loadbalancer/app/*',
  'arn:aws:elasticloadbalancing:*:*:listener/app/*',
  'arn:aws:elasticloadbalancing:*:*:listener-rule/app/*',
  // Custom domains: ACM names certificates by a random id; the user's own Route 53 zones hold their records.
  'arn:aws:acm:*:*:certificate/*',
  'arn:aws:route53:::hostedzone/*',
  // Add-ons (naming.ts addonDatabaseBase): databases, caches and their snapshots are hg-NAME-HASH...
  'arn:aws:rds:*:*:db:hg-*',
  'arn:aws:rds:*:*:cluster:hg-*',
  'arn:aws:rds:*:*:snapshot:hg-*',
  'arn:aws:rds:*:*:cluster-snapshot:hg-*',
  'arn:aws:elasticache:*:*:replicationgroup:hg-*',
  // ...and the platform's subnet groups carry CloudFormation's generated name.
  'arn:aws:rds:*:*:subgrp:herogate-platform-*',
  'arn:aws:rds:*:*:cluster-pg:herogate-*',
  'arn:aws:elasticache:*:*:subnetgroup:herogate-platform-*',
  // RDS's and ElastiCache's service-linked roles, made on their first use in an account.
  'arn:aws:iam::*:role/aws-service-role/rds.amazonaws.com/AWSServiceRoleForRDS',
  'arn:aws:iam::*:role/aws-service-role/elasticache.amazonaws.com/AWSServiceRoleForElastiCache',
]

/** Condition keys a user's grant keeps, with the values the recorded requests used. */
const KEPT_CONDITIONS: Record<string, string> = {
  'iam:PassRole': 'iam:PassedToService',
  'ecs:TagResource': 'ecs:CreateAction',
  'cloudformation:TagResource': 'cloudformation:CreateAction',
  'iam:CreateServiceLinkedRole': 'iam:AWSServiceName',
}

/** IAM's wildcard match of a resource pattern (* any run, ? one character). */
export function iamMatches(pattern: string, arn: string): boolean {
  const regex = pattern.split('').map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^$()|[\]\\{}]/, '\\$&'))).join('')
  return new RegExp(`^${regex}$`).test(arn)
}

/** A listing of every resource of a kind (ECR's DescribeRepositories: ...:repository/*). */
const LISTING = /^arn:aws:([a-z0-9-]+):[a-z0-9-]*:\d{12}:([a-z-]+)\/\*$/

function familyOf(request: IamRequest): string {
  if (request.resource === '*') return '*'
  // A listing names no resource but the kind, in any region and account.
  const listing = LISTING.exec(request.resource)
  if (listing) return `arn:aws:${listing[1]}:*:*:${listing[2]}/*`
  // A pattern's * spans slashes: the artifact bucket's pattern holds its objects too.
  const family = FAMILIES.find((pattern) => iamMatches(pattern, request.resource))
  if (!family) throw new Error(`No resource family of test/iam/user-policy.ts holds ${request.resource} (${request.source}): add herogate's name for it to FAMILIES`)
  return family
}

/** The user's policy document for these requests, in a stable order. */
export function userPolicy(requests: IamRequest[]): {Version: string; Statement: PolicyStatement[]} {
  const resources = new Map<string, Set<string>>()
  const conditions = new Map<string, Set<string>>()
  for (const request of requests) {
    if (!resources.has(request.action)) resources.set(request.action, new Set())
    resources.get(request.action)!.add(familyOf(request))
    const key = KEPT_CONDITIONS[request.action]
    if (key) {
      if (!conditions.has(request.action)) conditions.set(request.action, new Set())
      conditions.get(request.action)!.add(String(request.context[key]))
    }
  }

  // Actions on the same resources share a statement; conditioned actions get their own.
  const groups = new Map<string, {actions: string[]; resources: string[]}>()
  const statements: PolicyStatement[] = []
  for (const [action, set] of [...resources].sort(([a], [b]) => a.localeCompare(b))) {
    // An action some call makes on any resource needs no narrower pattern beside it.
    const patterns = set.has('*') ? ['*'] : [...set].sort()
    const key = KEPT_CONDITIONS[action]
    if (key) {
      statements.push({Effect: 'Allow', Action: [action], Resource: patterns, Condition: {StringEquals: {[key]: [...conditions.get(action)!].sort()}}})
      continue
    }

    const group = groups.get(patterns.join(' ')) ?? {actions: [], resources: patterns}
    group.actions.push(action)
    groups.set(patterns.join(' '), group)
  }

  const grouped = [...groups.values()].map((g): PolicyStatement => ({Effect: 'Allow', Action: g.actions, Resource: g.resources}))
  const order = (s: PolicyStatement) => `${s.Action[0]} ${s.Resource.join(' ')}`
  return {Version: '2012-10-17', Statement: [...grouped, ...statements].sort((a, b) => order(a).localeCompare(order(b)))}
}
