import {CloudFormationClient, CreateStackCommand, DescribeStacksCommand} from '@aws-sdk/client-cloudformation'
import {CloudWatchLogsClient, CreateLogGroupCommand, CreateLogStreamCommand, PutLogEventsCommand} from '@aws-sdk/client-cloudwatch-logs'
import {CreateClusterCommand, CreateServiceCommand, ECSClient, RegisterTaskDefinitionCommand, type Service} from '@aws-sdk/client-ecs'

import {SSMClient} from '@aws-sdk/client-ssm'

import {AwsClients} from '../../../src/aws/clients.js'
import {type NewRelease, type ReleaseRecord, ReleaseStore} from '../../../src/aws/release-store.js'
import {AppNotFound} from '../../../src/lib/errors.js'
import {names} from '../../../src/lib/naming.js'
import type {AwsContext, Clock} from '../../../src/platform/aws/context.js'
import type {AppResources} from '../../../src/platform/aws/resources.js'
import {type ProcessSpec, taskDefinitionInput} from '../../../src/platform/aws/taskdef.js'

export const REGION = 'us-east-1'
export const IMAGE = '123456789012.dkr.ecr.us-east-1.amazonaws.com/herogate/demo@sha256:' + 'a'.repeat(64)

/** A clock whose sleeps return at once (and advance time), so pollers run in zero time. */
export function fakeClock(start = Date.parse('2026-11-21T10:00:00.000Z')): Clock & {sleeps: number[]; advance(ms: number): void} {
  let now = start
  const sleeps: number[] = []
  return {
    sleeps,
    now: () => new Date(now),
    advance(ms) {
      now += ms
    },
    async sleep(ms, signal) {
      if (signal?.aborted) throw signal.reason
      sleeps.push(ms)
      now += ms
      await new Promise((resolve) => setImmediate(resolve))
      if (signal?.aborted) throw signal.reason
    },
  }
}

const NETWORK_TEMPLATE = `
Resources:
  Vpc:
    Type: AWS::EC2::VPC
    Properties: {CidrBlock: 10.0.0.0/16, EnableDnsHostnames: true, EnableDnsSupport: true}
  Subnet:
    Type: AWS::EC2::Subnet
    Properties: {VpcId: !Ref Vpc, CidrBlock: 10.0.1.0/24}
  Tasks:
    Type: AWS::EC2::SecurityGroup
    Properties: {GroupDescription: tasks, VpcId: !Ref Vpc}
Outputs:
  Vpc: {Value: !Ref Vpc}
  Subnet: {Value: !Ref Subnet}
  SecurityGroup: {Value: !Ref Tasks}
`

/** The resources an app stack would give, made directly in moto: network, cluster, log group. */
export async function makeResources(app = 'demo'): Promise<AppResources> {
  const cfn = new CloudFormationClient({region: REGION})
  const stackName = `net-${app}`
  await cfn.send(new CreateStackCommand({StackName: stackName, TemplateBody: NETWORK_TEMPLATE}))
  const stack = (await cfn.send(new DescribeStacksCommand({StackName: stackName}))).Stacks![0]
  const output = (key: string) => stack.Outputs!.find((o) => o.OutputKey === key)!.OutputValue!
  await enableDnsHostnames(output('Vpc'))
  const cluster = 'herogate'
  await new ECSClient({region: REGION}).send(new CreateClusterCommand({clusterName: cluster}))
  await new CloudWatchLogsClient({region: REGION}).send(new CreateLogGroupCommand({logGroupName: names.logGroup(app)}))
  return {
    app,
    region: REGION,
    stackName: names.appStack(app),
    cluster,
    subnets: [output('Subnet')],
    securityGroup: output('SecurityGroup'),
    executionRoleArn: 'arn:aws:iam::123456789012:role/exec',
    taskRoleArn: 'arn:aws:iam::123456789012:role/task',
    logGroup: names.logGroup(app),
    ecrRepositoryUri: IMAGE.split('@')[0],
    targetGroupArn: 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/hg-demo/abc',
    webUrl: 'http://demo.example.com',
    gitUrl: 'https://git-codecommit.us-east-1.amazonaws.com/v1/repos/herogate-demo',
    artifactBucket: 'artifacts',
    pipeline: names.pipeline(app),
    codeBuildProject: names.codeBuildProject(app),
  }
}

/**
 * RunTask needs a VPC with DNS host names, which moto's CloudFormation leaves off. No EC2 SDK
 * client is installed, so this one call is made in EC2's query protocol (moto checks no signature).
 */
export async function enableDnsHostnames(vpc: string): Promise<void> {
  const body = new URLSearchParams({Action: 'ModifyVpcAttribute', Version: '2016-11-15', VpcId: vpc, 'EnableDnsHostnames.Value': 'true'})
  const response = await fetch(process.env.AWS_ENDPOINT_URL!, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
      authorization: `AWS4-HMAC-SHA256 Credential=testing/20260101/${REGION}/ec2/aws4_request, SignedHeaders=host, Signature=0`,
    },
    body,
  })
  if (!response.ok) throw new Error(`ModifyVpcAttribute: HTTP ${response.status}`)
}

/** Registers a task definition and a service per process type (desired count `count`). */
export async function deployProcesses(
  resources: AppResources,
  types: Record<string, Partial<ProcessSpec> & {count?: number}>,
): Promise<Record<string, string>> {
  const ecs = new ECSClient({region: REGION})
  const arns: Record<string, string> = {}
  for (const [type, extra] of Object.entries(types)) {
    const {count = 1, ...overrides} = extra
    const spec: ProcessSpec = {processType: type, image: IMAGE, command: ['/bin/sh', '-c', `run-${type}`], size: 'standard-1x', configKeys: [], release: 1, ...overrides}
    const definition = (await ecs.send(new RegisterTaskDefinitionCommand(taskDefinitionInput(resources.app, resources, spec)))).taskDefinition!
    arns[type] = definition.taskDefinitionArn!
    await ecs.send(
      new CreateServiceCommand({
        cluster: resources.cluster,
        serviceName: names.service(resources.app, type),
        taskDefinition: definition.taskDefinitionArn,
        desiredCount: count,
        launchType: 'FARGATE',
        networkConfiguration: {awsvpcConfiguration: {subnets: resources.subnets, securityGroups: [resources.securityGroup]}},
      }),
    )
  }

  return arns
}

/**
 * moto keeps a service's deployments as they were when it was created; AWS replaces them on
 * UpdateService and completes the rollout once the new tasks run. This middleware reports the
 * latter, so that release rollouts watched by apply.ts complete against moto.
 */
export function completingRollouts(client: ECSClient): ECSClient {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args)
      if (context.commandName === 'DescribeServicesCommand') {
        for (const service of (result.output as {services?: Service[]}).services ?? []) {
          service.deployments = [{id: `ecs-svc/${service.taskDefinition}`, status: 'PRIMARY', taskDefinition: service.taskDefinition, desiredCount: service.desiredCount, runningCount: service.desiredCount, rolloutState: 'COMPLETED'}]
        }
      }

      return result
    },
    {step: 'initialize', name: 'completingRollouts'},
  )
  return client
}

export function makeContext(resources: AppResources, options: {clock?: Clock; extra?: Record<string, unknown>} = {}): AwsContext {
  const clients = new AwsClients({region: REGION, extra: options.extra})
  clients.set('ecs', completingRollouts(new ECSClient({region: REGION, ...options.extra})))
  return {
    region: REGION,
    clients,
    clock: options.clock ?? fakeClock(),
    appResources: async (_ctx, app) => {
      if (app !== resources.app) throw new AppNotFound(app, REGION)

      return resources
    },
  }
}

/** Puts log events into a stream of the app's log group (creating the stream). */
export async function putLogs(group: string, stream: string, events: Array<{timestamp: number; message: string}>): Promise<void> {
  const logs = new CloudWatchLogsClient({region: REGION})
  await logs.send(new CreateLogStreamCommand({logGroupName: group, logStreamName: stream})).catch((error: Error) => {
    if (error.name !== 'ResourceAlreadyExistsException') throw error
  })
  await logs.send(new PutLogEventsCommand({logGroupName: group, logStreamName: stream, logEvents: events}))
}

/**
 * Records a release as a run of herogate does: its slot (the claim, held until 2100 while the
 * release is pending), then for an ended release the head. Returns the record.
 */
export async function recordRelease(app: string, release: NewRelease): Promise<ReleaseRecord> {
  const store = new ReleaseStore(new SSMClient({region: REGION}))
  const head = await store.head(app)
  const version = (head?.latest.version ?? 0) + 1
  const record: ReleaseRecord = {version, ...release}
  const lock = {holder: 'test', operation: release.kind, since: release.createdAt, expiresAt: '2100-01-01T00:00:00.000Z', token: `test-${version}`}
  await store.claim(app, {version, record: {...record, status: 'pending'}, lock, ...(head ? {previous: head.latest} : {})})
  if (record.status !== 'pending') await endRelease(app, record)
  return record
}

/** Records how a release recorded by recordRelease ended: the head, as herogate writes it. */
export async function endRelease(app: string, record: ReleaseRecord): Promise<void> {
  const store = new ReleaseStore(new SSMClient({region: REGION}))
  const head = await store.head(app)
  const current = head ? head.current ?? (head.latest.status === 'succeeded' && head.latest.version !== record.version ? head.latest : undefined) : undefined
  await store.writeHead(app, {latest: record, ...(record.status !== 'succeeded' && current ? {current} : {})})
}

/** A succeeded deploy release pointing at these task definitions: what a config change rolls from. */
export async function recordDeploy(app: string, taskDefinitions: Record<string, string>): Promise<ReleaseRecord> {
  return recordRelease(app, {
    kind: 'deploy',
    description: 'Deploy 1a2b3c4',
    status: 'succeeded',
    author: 'dev',
    createdAt: '2026-11-21T09:00:00.000Z',
    image: IMAGE,
    processTypes: Object.fromEntries(Object.keys(taskDefinitions).map((type) => [type, `run-${type}`])),
    taskDefinitions,
  })
}
