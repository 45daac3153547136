import {commandRequests, Facts, type IamRequest, requestsOf, UnmappedCall} from './requests.js'
import {codeBuildRequests, eventsRequests, executionRoleRequests, pipelineRequests, schedulerRequests} from './roles.js'
import type {Recording, StackSnapshot} from './scenario.js'
import type {Identity} from './simulate.js'
import {type RolePolicy, rolePolicies} from './template.js'
import {iamMatches} from './user-policy.js'

/** Each principal's IAM requests, from the recorded calls and what AWS services do with the app's roles. */
export interface Analysis {
  /** Calls or commands no mapping knows (the contract test fails on each). */
  unmapped: string[]
  user: IamRequest[]
  /** By the app stack's role (logical id). */
  roles: Record<string, IamRequest[]>
  policies: RolePolicy[]
}

/** What the stack's services know before herogate calls anything: the web service it made, with its tags. */
function seed(facts: Facts, app: StackSnapshot): void {
  for (const resource of app.resources) {
    if (resource.type !== 'AWS::ECS::Service') continue
    const arn = facts.serviceArn(resource.properties.Cluster, resource.properties.ServiceName)
    facts.tags.set(arn, Object.fromEntries((resource.properties.Tags as Array<{Key: string; Value: string}>).map((t) => [t.Key, t.Value])))
    if (resource.properties.PropagateTags === 'SERVICE') facts.propagating.add(arn)
  }
}

export function analyse(recording: Recording): Analysis {
  const facts = new Facts({partition: 'aws', region: recording.app.values.region, account: recording.account})
  for (const stack of [recording.platform, recording.app, ...recording.addons, ...recording.upgraded]) facts.stacks.set(stack.name, {name: stack.name, id: stack.values.stackId, resources: stack.resources})
  seed(facts, recording.app)
  const unmapped: string[] = []
  const user: IamRequest[] = []
  const build: IamRequest[] = []
  const map = (work: () => IamRequest[]): IamRequest[] => {
    try {
      return work()
    } catch (error) {
      if (!(error instanceof UnmappedCall)) throw error
      unmapped.push(error.message)
      return []
    }
  }

  for (const call of recording.recorder.calls) {
    facts.learn(call)
    ;(call.principal === 'user' ? user : build).push(...map(() => requestsOf(call, facts)))
  }

  for (const run of recording.recorder.commands) build.push(...map(() => commandRequests(run, facts)))
  build.push(...codeBuildRequests(recording.app, facts))
  return {
    unmapped,
    user,
    roles: {
      BuildRole: build,
      ExecutionRole: executionRoleRequests(recording.recorder.calls, recording.app, facts),
      TaskRole: [],
      PipelineRole: pipelineRequests(recording.app, facts),
      EventsRole: eventsRequests(recording.app),
      SchedulerRole: schedulerRequests(recording.recorder.calls, recording.app, facts),
    },
    policies: rolePolicies('app.yml', recording.app.values),
  }
}

/** A role of the app stack as IAM sees it: its ARN and its inline policies. */
export function roleIdentity(analysis: Analysis, recording: Recording, role: string): Identity {
  return {
    principal: recording.app.values.attributes[`${role}.Arn`],
    account: recording.account,
    policies: analysis.policies.filter((p) => p.role === role).map((p) => ({name: p.name, policy: p.document})),
  }
}

export function userIdentity(recording: Recording, policy: unknown): Identity {
  return {principal: `arn:aws:iam::${recording.account}:user/herogate-dev`, account: recording.account, policies: [{name: 'herogate-user', policy}]}
}

/**
 * The same requests made for another app: every ARN, tag and name of `app` becomes `other`'s.
 * An app's roles must be refused all of them, but for the app-blind requests below.
 */
export function forOtherApp(requests: IamRequest[], app: string, other: string): IamRequest[] {
  const swap = (text: string) => text.replaceAll(new RegExp(`(?<![a-z0-9])${app}(?![a-z0-9])`, 'g'), other)
  return requests.map((request) => ({
    action: request.action,
    resource: swap(request.resource),
    context: Object.fromEntries(Object.entries(request.context).map(([key, value]) => [key, Array.isArray(value) ? value.map(swap) : swap(value)])),
    source: `${swap(request.source)} (as app ${other})`,
  }))
}

/** Grants that cannot name an app, with why each one reveals or changes nothing of another app. */
export const APP_BLIND: Record<string, string> = {
  'ecr:GetAuthorizationToken': 'a registry login token: every pull or push is still checked against the repository',
  'ecs:DescribeTaskDefinition': 'ECS has no resource-level permission for it; task definitions hold no config values',
  'ecs:ListTasks': 'only a cluster can limit it; it answers task ARNs, whose reading is tag-limited',
  'scheduler:ListSchedules': 'EventBridge Scheduler has no resource-level permission for it; it answers schedule names, whose reading is limited to the app\'s group',
  's3:GetBucketVersioning': 'the shared artifact bucket\'s settings, no object',
  's3:GetBucketLocation': 'the shared artifact bucket\'s region, no object',
}

/**
 * Resources all apps' roles share by design, with why reaching them reveals or changes
 * nothing of another app. Their ARNs name no app; the cross-app check leaves them out.
 */
export const SHARED_BY_DESIGN: Record<string, string> = {
  'arn:aws:ecr:*:*:repository/herogate-public/*': "the platform's pull-through cache of ECR Public: public images that no app can push to",
  'arn:aws:secretsmanager:*:*:secret:ecr-pullthroughcache/herogate-docker-hub*': "the account's Docker Hub login for builds (README: Docker Hub), one for every app",
}

export function sharedByDesign(resource: string): boolean {
  return Object.keys(SHARED_BY_DESIGN).some((pattern) => iamMatches(pattern, resource))
}
