import {
  CloudFormationClient, CreateStackCommand, type CreateStackCommandInput, DeleteStackCommand, DescribeStackEventsCommand, DescribeStacksCommand, type Stack, type StackEvent,
} from '@aws-sdk/client-cloudformation'
import {
  DescribeAccountLimitsCommand, DescribeListenersCommand, DescribeLoadBalancersCommand, DescribeRulesCommand, ElasticLoadBalancingV2Client, type Listener, type Rule,
} from '@aws-sdk/client-elastic-load-balancing-v2'
import {CreateServiceLinkedRoleCommand, GetRoleCommand, IAMClient} from '@aws-sdk/client-iam'
import {ECSClient} from '@aws-sdk/client-ecs'
import {PutObjectCommand, S3Client} from '@aws-sdk/client-s3'
import {SSMClient} from '@aws-sdk/client-ssm'
import {GetCallerIdentityCommand, STSClient} from '@aws-sdk/client-sts'
import {type AwsClientStub, mockClient} from 'aws-sdk-client-mock'
import {expect} from 'chai'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {AwsClients} from '../../../src/aws/clients.js'
import {StackFailed} from '../../../src/aws/cloudformation.js'
import {LoadBalancerFull} from '../../../src/aws/elb.js'
import {Iam, ServiceLinkedRoleDenied} from '../../../src/aws/iam.js'
import {names} from '../../../src/lib/naming.js'
import {createApp} from '../../../src/platform/aws/apps.js'
import type {AwsContext} from '../../../src/platform/aws/context.js'
import type {ProgressEvent} from '../../../src/platform/types.js'
import {BUILD_TIMEOUT_MINUTES} from '../../../src/release/budget.js'
import {BUILDSPEC, installer, PLATFORM_OUTPUTS, REGION} from './apps.fixture.js'

const ACCOUNT = '123456789012'
const APP_OUTPUTS = {WebUrl: 'http://lb.example.com:10000', Cluster: 'herogate-cluster', LogGroup: '/herogate/demo', ImageRepositoryUri: 'repo'}
/** What CloudFormation reports when an ECS cluster with capacity providers meets an account without ECS's service-linked role. */
const NO_ROLE = 'Resource handler returned message: "Invalid request provided: CreateCluster Invalid Request: Unable to assume the service linked role. Please verify that the ECS service linked role exists." (RequestToken: 1, HandlerErrorCode: InvalidRequest)'

const awsError = (name: string, message: string) => Object.assign(new Error(message), {name, $metadata: {}})

/**
 * CloudFormation and IAM as a new account behaves: the platform stack's AWS::ECS::Cluster (with
 * FARGATE capacity providers) fails, and the stack rolls back, while ECS's service-linked role
 * does not exist, or was made so recently that ECS cannot use it yet (`lag` cluster creates fail
 * after it is made). IAM answers InvalidInput to creating the role when it exists, as AWS does.
 */
class NewAccount {
  role: 'missing' | 'made' = 'missing'
  lag = 0
  iamDenied = false
  readonly stacks = new Map<string, {stack: Stack; events: StackEvent[]}>()
  readonly created: string[] = []
  private sequence = 0

  constructor(readonly cfn: AwsClientStub<CloudFormationClient>, readonly iam: AwsClientStub<IAMClient>) {
    iam.on(CreateServiceLinkedRoleCommand).callsFake(() => {
      if (this.iamDenied) throw awsError('AccessDenied', 'User is not authorized to perform: iam:CreateServiceLinkedRole')
      if (this.role !== 'missing') throw awsError('InvalidInput', 'Service role name AWSServiceRoleForECS has been taken in this account, please try a different suffix.')
      this.role = 'made'
      return {Role: {RoleName: 'AWSServiceRoleForECS'}}
    })
    iam.on(GetRoleCommand).callsFake(() => {
      if (this.role === 'missing') throw awsError('NoSuchEntity', 'The role with name AWSServiceRoleForECS cannot be found.')
      return {Role: {RoleName: 'AWSServiceRoleForECS'}}
    })
    cfn.on(CreateStackCommand).callsFake((input: CreateStackCommandInput) => this.create(input))
    cfn.on(DescribeStacksCommand).callsFake(({StackName}: {StackName?: string}) => {
      // Without a name, as create's look for apps whose build artifacts would share a prefix asks: every stack there is.
      if (!StackName) return {Stacks: [...this.stacks.values()].map(({stack}) => stack).filter((stack) => stack.StackStatus !== 'DELETE_COMPLETE')}
      const found = [...this.stacks.values()].filter(({stack}) => stack.StackId === StackName || (stack.StackName === StackName && stack.StackStatus !== 'DELETE_COMPLETE'))
      if (found.length === 0) throw awsError('ValidationError', `Stack with id ${StackName} does not exist`)
      return {Stacks: [found.at(-1)!.stack]}
    })
    cfn.on(DescribeStackEventsCommand).callsFake(({StackName}: {StackName: string}) => ({StackEvents: [...(this.stacks.get(StackName)?.events ?? [])].reverse()}))
    cfn.on(DeleteStackCommand).callsFake(({StackName}: {StackName: string}) => {
      const entry = this.stacks.get(StackName)
      if (entry) {
        entry.stack.StackStatus = 'DELETE_COMPLETE'
        entry.events.push(this.event(entry.stack, entry.stack.StackName!, 'DELETE_COMPLETE'))
      }

      return {}
    })
  }

  private create(input: CreateStackCommandInput) {
    const name = input.StackName!
    const id = `arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/${name}/${++this.sequence}`
    this.created.push(name)
    const platform = name === names.platformStack()
    const clusterFails = platform && (this.role === 'missing' || this.lag-- > 0)
    const stack: Stack = {
      StackName: name, StackId: id, CreationTime: new Date(), StackStatus: clusterFails ? 'ROLLBACK_COMPLETE' : 'CREATE_COMPLETE',
      Outputs: Object.entries(clusterFails ? {} : platform ? PLATFORM_OUTPUTS : APP_OUTPUTS).map(([OutputKey, OutputValue]) => ({OutputKey, OutputValue})),
      Tags: input.Tags,
    }
    const events = [this.event(stack, name, 'CREATE_IN_PROGRESS')]
    if (clusterFails) {
      events.push(this.event(stack, 'Cluster', 'CREATE_FAILED', NO_ROLE, 'AWS::ECS::Cluster'), this.event(stack, name, 'ROLLBACK_COMPLETE'))
    } else {
      events.push(this.event(stack, name, 'CREATE_COMPLETE'))
    }

    this.stacks.set(id, {stack, events})
    return {StackId: id}
  }

  private event(stack: Stack, logical: string, status: string, reason?: string, type = 'AWS::CloudFormation::Stack'): StackEvent {
    return {
      EventId: `e${++this.sequence}`, StackId: stack.StackId, StackName: stack.StackName, LogicalResourceId: logical,
      ResourceStatus: status as never, ResourceStatusReason: reason, ResourceType: type, Timestamp: new Date(),
    }
  }
}

interface Setup {
  ctx: AwsContext
  cfn: AwsClientStub<CloudFormationClient>
  iam: AwsClientStub<IAMClient>
  elb: AwsClientStub<ElasticLoadBalancingV2Client>
}

function setUp(): Setup {
  const clients = new AwsClients({region: REGION})
  const make = installer(clients)

  const cfn = mockClient(make('cloudformation', new CloudFormationClient({region: REGION})))
  const iam = mockClient(make('iam', new IAMClient({region: REGION})))
  const elb = mockClient(make('elbv2', new ElasticLoadBalancingV2Client({region: REGION})))
  mockClient(make('sts', new STSClient({region: REGION}))).on(GetCallerIdentityCommand).resolves({Account: ACCOUNT, Arn: `arn:aws:iam::${ACCOUNT}:user/me`})
  mockClient(make('ecs', new ECSClient({region: REGION}))).onAnyCommand().resolves({})
  mockClient(make('ssm', new SSMClient({region: REGION}))).onAnyCommand().resolves({})
  mockClient(make('s3', new S3Client({region: REGION}))).on(PutObjectCommand).resolves({})
  elb.on(DescribeListenersCommand).resolves({Listeners: [{ListenerArn: 'arn:listener/80', Port: 80}]})
  elb.on(DescribeRulesCommand).resolves({Rules: [{Priority: 'default', IsDefault: true}]})
  elb.on(DescribeAccountLimitsCommand).resolves({Limits: [{Name: 'rules-per-application-load-balancer', Max: '100'}, {Name: 'listeners-per-application-load-balancer', Max: '50'}]})
  elb.on(DescribeLoadBalancersCommand).resolves({LoadBalancers: [{LoadBalancerArn: 'arn:lb', SecurityGroups: ['sg-lb']}]})
  return {ctx: {region: REGION, clients, clock: {now: () => new Date(), sleep: async () => {}}}, cfn, iam, elb}
}

describe('AWS create on a new account (CloudFormation and IAM as a new account answers)', () => {
  let cwd: string
  let s: Setup
  let account: NewAccount

  beforeEach(() => {
    cwd = mkdtempSync(join(tmpdir(), 'herogate-nogit-'))
    s = setUp()
    account = new NewAccount(s.cfn, s.iam)
  })
  afterEach(() => rmSync(cwd, {recursive: true, force: true}))

  it("makes ECS's service-linked role before the platform stack, so the cluster is created on the first try", async () => {
    const events: ProgressEvent[] = []
    const created = await createApp(s.ctx, {name: 'demo', cwd, onProgress: (e) => events.push(e)}, {buildSpec: BUILDSPEC})
    expect(created).to.include({name: 'demo', platformCreated: true})
    expect(account.created).to.deep.equal(['herogate-platform', 'herogate-demo'])
    expect(s.iam.commandCalls(CreateServiceLinkedRoleCommand).map((c) => c.args[0].input)).to.deep.equal([{AWSServiceName: 'ecs.amazonaws.com'}])
    expect(events.filter((e) => e.kind === 'warning')).to.deep.equal([])
  })

  it('takes "already exists" as the answer it is', async () => {
    account.role = 'made'
    const events: ProgressEvent[] = []
    await createApp(s.ctx, {name: 'demo', cwd, onProgress: (e) => events.push(e)}, {buildSpec: BUILDSPEC})
    expect(account.created).to.deep.equal(['herogate-platform', 'herogate-demo'])
    expect(s.iam.commandCalls(GetRoleCommand)).to.have.length(1)
    expect(events.filter((e) => e.kind === 'warning')).to.deep.equal([])
  })

  it('tries the platform once more, with one line saying why, when the new role is not usable yet', async () => {
    account.lag = 1
    const events: ProgressEvent[] = []
    const created = await createApp(s.ctx, {name: 'demo', cwd, onProgress: (e) => events.push(e)}, {buildSpec: BUILDSPEC})
    expect(created).to.include({platformCreated: true})
    expect(account.created).to.deep.equal(['herogate-platform', 'herogate-platform', 'herogate-demo'])
    expect(events.filter((e) => e.kind === 'warning').map((e) => e.kind === 'warning' && e.message)).to.deep.equal([
      `The ECS cluster could not be created yet (${NO_ROLE}); ECS's service-linked role is new in this account and takes a moment to work. Trying once more.`,
    ])
  })

  it('tries only once more, then says what to run', async () => {
    account.lag = 2
    const error = await createApp(s.ctx, {name: 'demo', cwd}, {buildSpec: BUILDSPEC}).catch((e: Error) => e)
    expect(error).to.be.instanceOf(StackFailed)
    expect((error as StackFailed).message).to.equal(`Could not create the herogate platform in ${REGION}: Cluster (AWS::ECS::Cluster) failed: ${NO_ROLE}. Its stack was deleted.`)
    expect((error as StackFailed).suggestions).to.deep.equal([`aws iam create-service-linked-role --aws-service-name ecs.amazonaws.com (if it does not exist yet), then herogate create --region ${REGION}`])
    expect(account.created).to.deep.equal(['herogate-platform', 'herogate-platform'])
  })

  it('without the IAM permission, goes on (the role may exist) with a warning naming the command', async () => {
    account.iamDenied = true
    account.role = 'made'
    const events: ProgressEvent[] = []
    await createApp(s.ctx, {name: 'demo', cwd, onProgress: (e) => events.push(e)}, {buildSpec: BUILDSPEC})
    expect(account.created).to.deep.equal(['herogate-platform', 'herogate-demo'])
    expect(events.filter((e) => e.kind === 'warning').map((e) => e.kind === 'warning' && e.message)).to.deep.equal([
      "Could not make sure ECS's service-linked role exists: AWS denied creating the service-linked role of ecs.amazonaws.com. If creating the ECS cluster fails, run: aws iam create-service-linked-role --aws-service-name ecs.amazonaws.com",
    ])
  })

  it('notes, when the region\'s platform predates add-ons, that platform:upgrade brings it up to date', async () => {
    await createApp(s.ctx, {name: 'demo', cwd}, {buildSpec: BUILDSPEC})
    // PLATFORM_OUTPUTS are a platform made before add-ons (no TemplateVersion output).
    const events: ProgressEvent[] = []
    await createApp(s.ctx, {name: 'other', cwd, onProgress: (e) => events.push(e)}, {buildSpec: BUILDSPEC})
    expect(events.filter((e) => e.kind === 'warning').map((e) => e.kind === 'warning' && e.message)).to.deep.equal([
      `The herogate platform of ${REGION} is older than this herogate (version 1 of 2): add-ons need the private data subnets an update adds. Run: herogate platform:upgrade --region ${REGION}`,
    ])
  })

  it('passes the platform its image cache prefix and the app its build timeout from the release budgets', async () => {
    await createApp(s.ctx, {name: 'demo', cwd}, {buildSpec: BUILDSPEC})
    const parameters = (stack: string) => Object.fromEntries(s.cfn.commandCalls(CreateStackCommand).find((c) => c.args[0].input.StackName === stack)!.args[0].input.Parameters!.map((p) => [p.ParameterKey, p.ParameterValue]))
    expect(parameters('herogate-platform')).to.include({PublicImageCachePrefix: 'herogate-public'})
    expect(parameters('herogate-demo')).to.include({BuildTimeoutMinutes: String(BUILD_TIMEOUT_MINUTES)})
  })
})

describe('Iam.ensureServiceLinkedRole', () => {
  const client = new IAMClient({region: REGION})
  const mock = mockClient(client)
  beforeEach(() => mock.reset())

  it('is "created", "exists", or a typed denial; other errors say what herogate was doing', async () => {
    const iam = new Iam(client)
    mock.on(CreateServiceLinkedRoleCommand).resolvesOnce({}).rejectsOnce(awsError('InvalidInput', 'taken')).rejectsOnce(awsError('AccessDenied', 'no')).rejectsOnce(awsError('ServiceFailure', 'boom'))
    mock.on(GetRoleCommand).resolves({})
    expect(await iam.ensureServiceLinkedRole('ecs.amazonaws.com')).to.equal('created')
    expect(await iam.ensureServiceLinkedRole('ecs.amazonaws.com')).to.equal('exists')
    expect(await iam.ensureServiceLinkedRole('ecs.amazonaws.com').catch((e) => e)).to.be.instanceOf(ServiceLinkedRoleDenied)
    expect(((await iam.ensureServiceLinkedRole('ecs.amazonaws.com').catch((e: Error) => e)) as Error).message).to.equal('AWS failed creating the service-linked role of ecs.amazonaws.com: ServiceFailure: boom.')
  })

  it('does not take an InvalidInput for "exists" when the role is not there', async () => {
    mock.on(CreateServiceLinkedRoleCommand).rejects(awsError('InvalidInput', 'Invalid service name'))
    mock.on(GetRoleCommand).rejects(awsError('NoSuchEntity', 'not found'))
    const error = await new Iam(client).ensureServiceLinkedRole('ecs.amazonaws.com').catch((e: Error) => e)
    expect((error as Error).message).to.equal('AWS failed creating the service-linked role of ecs.amazonaws.com: InvalidInput: Invalid service name.')
  })
})

describe('AWS create checks the shared load balancer\'s quotas first', () => {
  let cwd: string
  let s: Setup

  beforeEach(() => {
    cwd = mkdtempSync(join(tmpdir(), 'herogate-nogit-'))
    s = setUp()
    s.cfn.on(DescribeStacksCommand).callsFake(({StackName}: {StackName?: string}) => {
      // Listing every stack (create's look for apps sharing an artifact prefix) finds none.
      if (!StackName) return {Stacks: []}
      throw awsError('ValidationError', `Stack with id ${StackName} does not exist`)
    })
  })
  afterEach(() => rmSync(cwd, {recursive: true, force: true}))

  const platform = (outputs: Record<string, string>) =>
    s.cfn.on(DescribeStacksCommand, {StackName: 'herogate-platform'}).resolves({Stacks: [{
      StackName: 'herogate-platform', StackId: 'arn:platform', StackStatus: 'CREATE_COMPLETE', CreationTime: new Date(),
      Outputs: Object.entries({...PLATFORM_OUTPUTS, ...outputs}).map(([OutputKey, OutputValue]) => ({OutputKey, OutputValue})),
    }]})
  const rules = (count: number, from = 1): Rule[] => [{Priority: 'default', IsDefault: true}, ...Array.from({length: count}, (_, i) => ({Priority: String(from + i)}))]

  it('with HTTPS, counts rules across both listeners and refuses an app that needs two more than fit', async () => {
    platform({Domain: 'apps.example.com', HttpsListenerArn: 'arn:listener/443'})
    s.elb.on(DescribeListenersCommand).resolves({Listeners: [{ListenerArn: 'arn:listener/80', Port: 80}, {ListenerArn: 'arn:listener/443', Port: 443}]})
    // 49 apps with HTTPS: 49 HTTP redirects and 49 HTTPS rules, 98 of the 100 rules per load balancer.
    s.elb.on(DescribeRulesCommand, {ListenerArn: 'arn:listener/80'}).resolves({Rules: rules(49)})
    s.elb.on(DescribeRulesCommand, {ListenerArn: 'arn:listener/443'}).resolves({Rules: rules(49)})
    expect((await createApp(s.ctx, {name: 'demo', cwd}, {buildSpec: BUILDSPEC}).catch((e: Error) => e))).not.to.be.instanceOf(LoadBalancerFull)
    expect(s.cfn.commandCalls(CreateStackCommand)).to.have.length(1)

    s.cfn.resetHistory()
    s.elb.on(DescribeRulesCommand, {ListenerArn: 'arn:listener/443'}).resolves({Rules: rules(50)})
    const error = await createApp(s.ctx, {name: 'demo', cwd}, {buildSpec: BUILDSPEC}).catch((e: Error) => e)
    expect(error).to.be.instanceOf(LoadBalancerFull)
    expect((error as Error).message).to.equal(`The shared load balancer of ${REGION} has 99 of its 100 rules in use and demo needs 2 (HTTP redirect and HTTPS), so its stack would fail.`)
    expect((error as LoadBalancerFull).suggestions).to.deep.equal(['destroy apps you no longer use', `ask AWS for a higher quota: Service Quotas > Elastic Load Balancing (region ${REGION})`])
    expect(s.cfn.commandCalls(CreateStackCommand)).to.have.length(0)
  })

  it("honours the account's own (raised) rule quota", async () => {
    platform({Domain: 'apps.example.com'})
    s.elb.on(DescribeRulesCommand, {ListenerArn: 'arn:listener/80'}).resolves({Rules: rules(100)})
    s.elb.on(DescribeAccountLimitsCommand).resolves({Limits: [{Name: 'rules-per-application-load-balancer', Max: '200'}]})
    expect(await createApp(s.ctx, {name: 'demo', cwd}, {buildSpec: BUILDSPEC}).catch((e: Error) => e)).not.to.be.instanceOf(LoadBalancerFull)
    const parameters = Object.fromEntries(s.cfn.commandCalls(CreateStackCommand)[0].args[0].input.Parameters!.map((p) => [p.ParameterKey, p.ParameterValue]))
    expect(parameters).to.include({RulePriority: '101'})
  })

  it('without a domain, refuses the listener past the listener quota', async () => {
    platform({})
    const listeners: Listener[] = [{ListenerArn: 'arn:listener/80', Port: 80}, ...Array.from({length: 49}, (_, i) => ({ListenerArn: `arn:listener/${10_000 + i}`, Port: 10_000 + i}))]
    s.elb.on(DescribeListenersCommand).resolves({Listeners: listeners})
    const error = await createApp(s.ctx, {name: 'demo', cwd}, {buildSpec: BUILDSPEC}).catch((e: Error) => e)
    expect(error).to.be.instanceOf(LoadBalancerFull)
    expect((error as Error).message).to.equal(`The shared load balancer of ${REGION} has 50 of its 50 listeners in use (one per app without a domain), so the stack of demo would fail.`)
    expect(s.cfn.commandCalls(CreateStackCommand)).to.have.length(0)
  })

  it("falls back to AWS's documented defaults when the quotas cannot be read", async () => {
    platform({})
    s.elb.on(DescribeAccountLimitsCommand).rejects(awsError('AccessDenied', 'not authorized'))
    s.elb.on(DescribeListenersCommand).resolves({Listeners: Array.from({length: 50}, (_, i) => ({ListenerArn: `arn:listener/${i}`, Port: 10_000 + i}))})
    const error = await createApp(s.ctx, {name: 'demo', cwd}, {buildSpec: BUILDSPEC}).catch((e: Error) => e)
    expect((error as Error).message).to.match(/has 50 of its 50 listeners in use/)
  })
})
