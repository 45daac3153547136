import {
  CloudFormationClient, CreateStackCommand, DeleteStackCommand, DescribeStackEventsCommand, DescribeStacksCommand, type StackEvent,
} from '@aws-sdk/client-cloudformation'
import {CloudWatchLogsClient, DeleteLogGroupCommand} from '@aws-sdk/client-cloudwatch-logs'
import {BatchDeleteImageCommand, DeleteRepositoryCommand, DescribeRepositoriesCommand, ECRClient, ListImagesCommand} from '@aws-sdk/client-ecr'
import {CreateServiceCommand, DeleteServiceCommand, ECSClient, RegisterTaskDefinitionCommand, UpdateServiceCommand} from '@aws-sdk/client-ecs'
import {DescribeAccountLimitsCommand, DescribeListenersCommand, DescribeLoadBalancersCommand, DescribeRulesCommand, ElasticLoadBalancingV2Client} from '@aws-sdk/client-elastic-load-balancing-v2'
import {IAMClient} from '@aws-sdk/client-iam'
import {DeleteObjectsCommand, ListObjectsV2Command, PutObjectCommand, S3Client} from '@aws-sdk/client-s3'
import {DeleteParametersCommand, GetParametersByPathCommand, SSMClient} from '@aws-sdk/client-ssm'
import {GetCallerIdentityCommand, STSClient} from '@aws-sdk/client-sts'
import {type AwsClientStub, mockClient} from 'aws-sdk-client-mock'
import {expect} from 'chai'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {parse} from 'yaml'

import {AwsClients} from '../../../src/aws/clients.js'
import {StackFailed} from '../../../src/aws/cloudformation.js'
import {EcsRelease} from '../../../src/aws/ecs-release.js'
import {AppExists, HerogateError, Interrupted, InvalidInput, NoCredentials, StackBusy} from '../../../src/lib/errors.js'
import {names} from '../../../src/lib/naming.js'
import {appStatus, createApp, credentialHelper, destroyApp, destroyPlatform, pipelineArtifactPrefix} from '../../../src/platform/aws/apps.js'
import type {AwsContext} from '../../../src/platform/aws/context.js'
import {run} from '../../../src/platform/aws/run.js'
import {taskDefinitionInput} from '../../../src/platform/aws/taskdef.js'
import type {ProgressEvent} from '../../../src/platform/types.js'
import {EcsModel} from '../../helpers/ecs-model.js'
import {BUILDSPEC, installer, PLATFORM_OUTPUTS, REGION} from './apps.fixture.js'
import {modelResources, stackWebService} from './ecs-model.fixture.js'
import {fakeClock} from './formation.fixture.js'

const APP_ID = 'arn:aws:cloudformation:eu-west-1:123456789012:stack/herogate-demo/new'
const OLD_ID = 'arn:aws:cloudformation:eu-west-1:123456789012:stack/herogate-demo/old'
const missing = () => Object.assign(new Error('Stack with id herogate-demo does not exist'), {name: 'ValidationError'})

function stack(id: string, name: string, status: string, outputs: Record<string, string> = {}, app?: string) {
  return {
    Stacks: [{
      StackName: name, StackId: id, StackStatus: status as never, CreationTime: new Date('2026-11-21T10:00:00Z'),
      Outputs: Object.entries(outputs).map(([OutputKey, OutputValue]) => ({OutputKey, OutputValue})),
      Tags: app ? [{Key: 'herogate:app', Value: app}] : [],
    }],
  }
}

const TYPES: Record<string, string> = {TargetGroup: 'AWS::ElasticLoadBalancingV2::TargetGroup', Repository: 'AWS::CodeCommit::Repository'}

function event(id: string, stackId: string, logical: string, status: string, reason?: string): StackEvent {
  return {EventId: id, StackId: stackId, StackName: 'herogate-demo', LogicalResourceId: logical, ResourceStatus: status as never, ResourceStatusReason: reason, ResourceType: TYPES[logical] ?? 'AWS::CloudFormation::Stack', Timestamp: new Date()}
}

const APP_OUTPUTS = {WebUrl: 'http://lb.example.com:10001', Cluster: 'herogate-cluster', ExecutionRoleArn: 'arn:exec', TaskRoleArn: 'arn:task', LogGroup: '/herogate/demo', TargetGroupArn: 'arn:tg', ImageRepositoryUri: 'repo'}

describe('AWS createApp (mocked AWS)', () => {
  let ctx: AwsContext
  let cfn: AwsClientStub<CloudFormationClient>
  let sts: AwsClientStub<STSClient>
  let elb: AwsClientStub<ElasticLoadBalancingV2Client>
  let s3: AwsClientStub<S3Client>
  let cwd: string

  beforeEach(() => {
    const clients = new AwsClients({region: REGION})
    const make = installer(clients)

    cfn = mockClient(make('cloudformation', new CloudFormationClient({region: REGION})))
    sts = mockClient(make('sts', new STSClient({region: REGION})))
    elb = mockClient(make('elbv2', new ElasticLoadBalancingV2Client({region: REGION})))
    mockClient(make('ecs', new ECSClient({region: REGION}))).onAnyCommand().resolves({})
    mockClient(make('ssm', new SSMClient({region: REGION}))).onAnyCommand().resolves({})
    s3 = mockClient(make('s3', new S3Client({region: REGION})))
    s3.on(PutObjectCommand).resolves({})
    sts.on(GetCallerIdentityCommand).resolves({Account: '123456789012', Arn: 'arn:aws:iam::123456789012:user/me'})
    // The listing create makes to find apps that would share its build artifacts: none.
    cfn.on(DescribeStacksCommand).resolves({Stacks: []})
    cfn.on(DescribeStacksCommand, {StackName: 'herogate-platform'}).resolves(stack('arn:platform', 'herogate-platform', 'CREATE_COMPLETE', PLATFORM_OUTPUTS))
    elb.on(DescribeListenersCommand).resolves({Listeners: [{ListenerArn: 'arn:listener/80', Port: 80}, {ListenerArn: 'arn:listener/10000', Port: 10_000}]})
    elb.on(DescribeAccountLimitsCommand).resolves({Limits: [{Name: 'rules-per-application-load-balancer', Max: '100'}, {Name: 'listeners-per-application-load-balancer', Max: '50'}]})
    elb.on(DescribeLoadBalancersCommand).resolves({LoadBalancers: [{LoadBalancerArn: 'arn:lb', SecurityGroups: ['sg-lb']}]})
    cfn.on(CreateStackCommand).resolves({StackId: APP_ID})
    cfn.on(DeleteStackCommand).resolves({})
    ctx = {region: REGION, clients, clock: {now: () => new Date(), sleep: async () => {}}}
    cwd = mkdtempSync(join(tmpdir(), 'herogate-nogit-'))
  })

  afterEach(() => rmSync(cwd, {recursive: true, force: true}))

  it('refuses an invalid name before calling AWS', async () => {
    try {
      await createApp(ctx, {name: 'Bad_Name', cwd}, {buildSpec: BUILDSPEC})
      expect.fail('expected InvalidInput')
    } catch (error) {
      expect(error).to.be.instanceOf(InvalidInput)
    }

    expect(sts.calls()).to.have.length(0)
  })

  it('without credentials says so and points to --local, changing nothing', async () => {
    sts.on(GetCallerIdentityCommand).rejects(Object.assign(new Error('Could not load credentials from any providers'), {name: 'CredentialsProviderError'}))
    try {
      await createApp(ctx, {name: 'demo', cwd}, {buildSpec: BUILDSPEC})
      expect.fail('expected NoCredentials')
    } catch (error) {
      expect(error).to.be.instanceOf(NoCredentials)
      expect((error as NoCredentials).suggestions.join('\n')).to.contain('herogate create --local')
    }

    expect(cfn.commandCalls(CreateStackCommand)).to.have.length(0)
  })

  it('refuses a name that is taken without touching its stack', async () => {
    cfn.on(DescribeStacksCommand, {StackName: 'herogate-demo'}).resolves(stack(APP_ID, 'herogate-demo', 'CREATE_COMPLETE', APP_OUTPUTS, 'demo'))
    try {
      await createApp(ctx, {name: 'demo', cwd}, {buildSpec: BUILDSPEC})
      expect.fail('expected AppExists')
    } catch (error) {
      expect(error).to.be.instanceOf(AppExists)
      expect((error as Error).message).to.equal('Name demo is already taken in eu-west-1.')
    }

    expect(cfn.commandCalls(CreateStackCommand)).to.have.length(0)
    expect(cfn.commandCalls(DeleteStackCommand)).to.have.length(0)
  })

  it('shows the failing resource and its reason, and deletes the failed app stack', async () => {
    cfn.on(DescribeStacksCommand, {StackName: 'herogate-demo'}).rejects(missing())
    cfn.on(DescribeStacksCommand, {StackName: APP_ID})
      .resolvesOnce(stack(APP_ID, 'herogate-demo', 'ROLLBACK_COMPLETE', {}, 'demo'))
      .resolves(stack(APP_ID, 'herogate-demo', 'DELETE_COMPLETE', {}, 'demo'))
    cfn.on(DescribeStackEventsCommand, {StackName: APP_ID}).resolves({
      StackEvents: [
        event('e3', APP_ID, 'herogate-demo', 'ROLLBACK_COMPLETE'),
        event('e2', APP_ID, 'TargetGroup', 'CREATE_FAILED', 'A target group with the same name already exists'),
        event('e1', APP_ID, 'herogate-demo', 'CREATE_IN_PROGRESS'),
      ],
    })
    const rows: ProgressEvent[] = []
    try {
      await createApp(ctx, {name: 'demo', cwd, branch: 'master', onProgress: (e) => rows.push(e)}, {buildSpec: BUILDSPEC})
      expect.fail('expected StackFailed')
    } catch (error) {
      expect(error).to.be.instanceOf(StackFailed)
      expect((error as Error).message).to.equal(
        'Could not create demo: TargetGroup (AWS::ElasticLoadBalancingV2::TargetGroup) failed: A target group with the same name already exists. Its stack was deleted.',
      )
    }

    expect(cfn.commandCalls(DeleteStackCommand).map((c) => c.args[0].input.StackName)).to.deep.equal([APP_ID])
    expect(rows.some((r) => r.kind === 'resource' && r.status === 'CREATE_FAILED' && r.reason === 'A target group with the same name already exists')).to.equal(true)
    // Parameters: the next free port, and the pipeline's artifact prefix.
    const input = cfn.commandCalls(CreateStackCommand)[0].args[0].input
    const parameters = Object.fromEntries(input.Parameters!.map((p) => [p.ParameterKey, p.ParameterValue]))
    expect(parameters).to.include({AppName: 'demo', ListenerPort: '10001', Cluster: 'herogate-cluster', Subnets: 'subnet-a,subnet-b', PipelineArtifactPrefix: 'herogate-demo', BuildSpec: BUILDSPEC, Branch: 'master'})
    expect(parameters).to.not.have.property('RulePriority')
    // herogate's own release code, pinned to this version, uploaded under the app's prefix for its builds.
    const upload = s3.commandCalls(PutObjectCommand)[0].args[0].input
    expect(upload.Bucket).to.equal('artifacts')
    expect(upload.Key).to.match(/^herogate\/demo\/release-code\/herogate-[\d.]+-[0-9a-f]{12}\.tgz$/)
    expect(parameters.HerogatePackage).to.equal(`s3://artifacts/${upload.Key}`)
    expect(input.Tags).to.deep.equal([{Key: 'herogate:app', Value: 'demo'}])
    expect(input.Capabilities).to.deep.equal(['CAPABILITY_IAM'])
  })

  it('reports a stack left in ROLLBACK_COMPLETE by an earlier create, replaces it, and creates the app', async () => {
    cfn.on(DescribeStacksCommand, {StackName: 'herogate-demo'})
      .resolvesOnce(stack(OLD_ID, 'herogate-demo', 'ROLLBACK_COMPLETE', {}, 'demo'))
      .resolves(stack(APP_ID, 'herogate-demo', 'CREATE_COMPLETE', APP_OUTPUTS, 'demo'))
    cfn.on(DescribeStackEventsCommand, {StackName: OLD_ID}).resolves({
      StackEvents: [event('o2', OLD_ID, 'herogate-demo', 'ROLLBACK_COMPLETE'), event('o1', OLD_ID, 'Repository', 'CREATE_FAILED', 'CodeCommit is not available for this account')],
    })
    cfn.on(DescribeStacksCommand, {StackName: OLD_ID}).resolves(stack(OLD_ID, 'herogate-demo', 'DELETE_COMPLETE', {}, 'demo'))
    cfn.on(DescribeStackEventsCommand, {StackName: APP_ID}).resolves({StackEvents: [event('n1', APP_ID, 'herogate-demo', 'CREATE_COMPLETE')]})
    cfn.on(DescribeStacksCommand, {StackName: APP_ID}).resolves(stack(APP_ID, 'herogate-demo', 'CREATE_COMPLETE', APP_OUTPUTS, 'demo'))
    const rows: ProgressEvent[] = []
    const created = await createApp(ctx, {name: 'demo', cwd, onProgress: (e) => rows.push(e)}, {buildSpec: BUILDSPEC})
    expect(created).to.include({name: 'demo', status: 'idle', webUrl: 'http://lb.example.com:10001', platformCreated: false})
    expect(rows).to.deep.include({
      kind: 'warning',
      message: 'A previous create of app demo failed (ROLLBACK_COMPLETE): Repository (AWS::CodeCommit::Repository): CodeCommit is not available for this account. Replacing it.',
    })
    expect(cfn.commandCalls(DeleteStackCommand).map((c) => c.args[0].input.StackName)).to.deep.equal([OLD_ID])
    expect(cfn.commandCalls(CreateStackCommand)).to.have.length(1)
  })

  it('on Ctrl-C stops waiting, deletes the app stack and says so', async () => {
    cfn.on(DescribeStacksCommand, {StackName: 'herogate-demo'}).rejects(missing())
    cfn.on(DescribeStackEventsCommand).resolves({StackEvents: []})
    cfn.on(DescribeStacksCommand, {StackName: APP_ID}).resolves(stack(APP_ID, 'herogate-demo', 'CREATE_IN_PROGRESS', {}, 'demo'))
    const controller = new AbortController()
    ctx.clock = {
      now: () => new Date(),
      async sleep() {
        controller.abort(new Error('interrupted'))
        throw new Error('interrupted')
      },
    }
    try {
      await createApp(ctx, {name: 'demo', cwd, signal: controller.signal}, {buildSpec: BUILDSPEC})
      expect.fail('expected Interrupted')
    } catch (error) {
      expect(error).to.be.instanceOf(Interrupted)
      expect((error as Error).message).to.equal('Interrupted: stopped creating demo; its stack herogate-demo is being deleted, so nothing is left behind.')
      expect((error as Interrupted).exitCode).to.equal(130)
    }

    expect(cfn.commandCalls(DeleteStackCommand).map((c) => c.args[0].input.StackName)).to.deep.equal([APP_ID])
  })

  it('with a platform domain, routes by host header at the lowest free rule priority', async () => {
    cfn.on(DescribeStacksCommand, {StackName: 'herogate-platform'}).resolves(stack('arn:platform', 'herogate-platform', 'CREATE_COMPLETE', {...PLATFORM_OUTPUTS, Domain: 'apps.example.com'}))
    elb.on(DescribeRulesCommand).resolves({Rules: [{Priority: 'default', IsDefault: true}]})
    elb.on(DescribeRulesCommand, {ListenerArn: 'arn:listener/80'}).resolves({Rules: [{Priority: 'default'}, {Priority: '1'}, {Priority: '3'}]})
    cfn.on(DescribeStacksCommand, {StackName: 'herogate-demo'}).rejects(missing())
    cfn.on(DescribeStackEventsCommand).resolves({StackEvents: []})
    cfn.on(DescribeStacksCommand, {StackName: APP_ID}).resolves(stack(APP_ID, 'herogate-demo', 'ROLLBACK_COMPLETE', {}, 'demo'))
    await createApp(ctx, {name: 'demo', cwd}, {buildSpec: BUILDSPEC}).catch(() => {})
    const parameters = Object.fromEntries(cfn.commandCalls(CreateStackCommand)[0].args[0].input.Parameters!.map((p) => [p.ParameterKey, p.ParameterValue]))
    expect(parameters).to.include({Domain: 'apps.example.com', RulePriority: '2'})
    expect(parameters).to.not.have.property('ListenerPort')
  })

  it('with HTTPS, takes a priority free on both listeners (maintenance mode holds some on the HTTPS one only)', async () => {
    cfn.on(DescribeStacksCommand, {StackName: 'herogate-platform'}).resolves(stack('arn:platform', 'herogate-platform', 'CREATE_COMPLETE', {...PLATFORM_OUTPUTS, Domain: 'apps.example.com', HttpsListenerArn: 'arn:listener/443'}))
    elb.on(DescribeListenersCommand).resolves({Listeners: [{ListenerArn: 'arn:listener/80', Port: 80}, {ListenerArn: 'arn:listener/443', Port: 443}]})
    elb.on(DescribeRulesCommand, {ListenerArn: 'arn:listener/80'}).resolves({Rules: [{Priority: 'default'}, {Priority: '1'}, {Priority: '3'}]})
    elb.on(DescribeRulesCommand, {ListenerArn: 'arn:listener/443'}).resolves({Rules: [{Priority: 'default'}, {Priority: '2'}, {Priority: '3'}, {Priority: '4'}]})
    cfn.on(DescribeStacksCommand, {StackName: 'herogate-demo'}).rejects(missing())
    cfn.on(DescribeStackEventsCommand).resolves({StackEvents: []})
    cfn.on(DescribeStacksCommand, {StackName: APP_ID}).resolves(stack(APP_ID, 'herogate-demo', 'ROLLBACK_COMPLETE', {}, 'demo'))
    await createApp(ctx, {name: 'demo', cwd}, {buildSpec: BUILDSPEC}).catch(() => {})
    const parameters = Object.fromEntries(cfn.commandCalls(CreateStackCommand)[0].args[0].input.Parameters!.map((p) => [p.ParameterKey, p.ParameterValue]))
    expect(parameters).to.include({RulePriority: '5'})
  })

  it("admits the load balancer's security group the platform stack publishes; asks ELB only for a platform made before that output", async () => {
    cfn.on(DescribeStacksCommand, {StackName: 'herogate-demo'}).rejects(missing())
    cfn.on(DescribeStackEventsCommand).resolves({StackEvents: []})
    cfn.on(DescribeStacksCommand, {StackName: APP_ID}).resolves(stack(APP_ID, 'herogate-demo', 'ROLLBACK_COMPLETE', {}, 'demo'))
    const created = async () => {
      cfn.resetHistory()
      await createApp(ctx, {name: 'demo', cwd}, {buildSpec: BUILDSPEC}).catch(() => {})
      return Object.fromEntries(cfn.commandCalls(CreateStackCommand)[0].args[0].input.Parameters!.map((p) => [p.ParameterKey, p.ParameterValue]))
    }

    cfn.on(DescribeStacksCommand, {StackName: 'herogate-platform'}).resolves(stack('arn:platform', 'herogate-platform', 'CREATE_COMPLETE', {...PLATFORM_OUTPUTS, LoadBalancerSecurityGroup: 'sg-published'}))
    expect(await created()).to.include({LoadBalancerSecurityGroup: 'sg-published'})
    expect(elb.commandCalls(DescribeLoadBalancersCommand)).to.have.length(0)

    cfn.on(DescribeStacksCommand, {StackName: 'herogate-platform'}).resolves(stack('arn:platform', 'herogate-platform', 'CREATE_COMPLETE', PLATFORM_OUTPUTS))
    expect(await created()).to.include({LoadBalancerSecurityGroup: 'sg-lb'})
    expect(elb.commandCalls(DescribeLoadBalancersCommand).map((c) => c.args[0].input)).to.deep.equal([{LoadBalancerArns: ['arn:lb']}])
  })
})

/**
 * moto ignores CodeCommit, CodeBuild and CodePipeline resources, so their names and the
 * push trigger are checked in the template itself against naming.ts.
 */
describe('app template: the parts moto does not emulate', () => {
  const template = parse(readFileSync(new URL('../../../templates/app.yml', import.meta.url), 'utf8'), {logLevel: 'silent'}) as {Resources: Record<string, {Type: string; Properties: Record<string, any>}>}
  const sub = (value: unknown) => String(value).replaceAll('${AppName}', 'demo')

  it('names the repo, build project and pipeline as naming.ts does', () => {
    expect(sub(template.Resources.Repository.Properties.RepositoryName)).to.equal(names.codeCommitRepo('demo'))
    expect(sub(template.Resources.BuildProject.Properties.Name)).to.equal(names.codeBuildProject('demo'))
    expect(sub(template.Resources.Pipeline.Properties.Name)).to.equal(names.pipeline('demo'))
    expect(sub(template.Resources.ImageRepository.Properties.RepositoryName)).to.equal(names.ecrRepo('demo'))
    expect(sub(template.Resources.LogGroup.Properties.LogGroupName)).to.equal(names.logGroup('demo'))
    expect(sub(template.Resources.TargetGroup.Properties.Name)).to.equal(names.targetGroup('demo'))
    expect(sub(template.Resources.WebService.Properties.ServiceName)).to.equal(names.service('demo', 'web'))
    expect(sub(template.Resources.WebTaskDefinition.Properties.Family)).to.equal(names.taskFamily('demo', 'web'))
  })

  it('starts a V2 pipeline from the push event, not by polling', () => {
    const pipeline = template.Resources.Pipeline.Properties
    expect(pipeline.PipelineType).to.equal('V2')
    expect(pipeline.Stages[0].Actions[0].Configuration.PollForSourceChanges).to.equal(false)
    const rule = template.Resources.PushRule.Properties
    expect(rule.EventPattern.source).to.deep.equal(['aws.codecommit'])
    expect(rule.EventPattern.detail.event).to.include('referenceUpdated')
    expect(sub(rule.Targets[0].Arn)).to.match(/:codepipeline:.*:herogate-demo$/)
  })

  it('builds privileged with the app and package in the environment, logging to the app log group', () => {
    const project = template.Resources.BuildProject.Properties
    expect(project.Environment.PrivilegedMode).to.equal(true)
    expect(project.Environment.EnvironmentVariables.map((v: {Name: string}) => v.Name)).to.include.members(['HEROGATE_APP', 'HEROGATE_PACKAGE'])
    expect(project.Source).to.deep.equal({Type: 'CODEPIPELINE', BuildSpec: 'BuildSpec'})
    expect(project.LogsConfig.CloudWatchLogs).to.include({Status: 'ENABLED', GroupName: 'LogGroup'})
  })

  it('keeps the web container consistent with the task definition builder', () => {
    const container = template.Resources.WebTaskDefinition.Properties.ContainerDefinitions[0]
    expect(container.Name).to.equal('web')
    expect(container.PortMappings[0].ContainerPort).to.equal(5000)
    expect(container.LogConfiguration.Options['awslogs-stream-prefix']).to.equal(names.logStreamPrefix('web'))
    const service = template.Resources.WebService.Properties
    expect(service.DesiredCount).to.equal(0)
    expect(service.DeploymentConfiguration).to.deep.equal({MinimumHealthyPercent: 100, MaximumPercent: 200, DeploymentCircuitBreaker: {Enable: true, Rollback: true}})
  })
})

describe('AWS app helpers', () => {
  it('derives the status from the stack and the services', () => {
    const svc = (desiredCount: number, runningCount: number) => ({name: 'demo--web', desiredCount, runningCount, pendingCount: 0})
    expect(appStatus('CREATE_IN_PROGRESS', [])).to.equal('creating')
    expect(appStatus('ROLLBACK_COMPLETE', [])).to.equal('failed')
    expect(appStatus('DELETE_IN_PROGRESS', [])).to.equal('deleting')
    expect(appStatus('CREATE_COMPLETE', [svc(0, 0)])).to.equal('idle')
    expect(appStatus('UPDATE_COMPLETE', [svc(2, 2)])).to.equal('running')
    expect(appStatus('CREATE_COMPLETE', [svc(1, 0)])).to.equal('crashed')
  })

  it("cuts the pipeline's artifact prefix to 20 characters as CodePipeline does", () => {
    expect(pipelineArtifactPrefix('demo')).to.equal('herogate-demo')
    expect(pipelineArtifactPrefix('a-rather-long-app-name')).to.equal('herogate-a-rather-lo')
  })

  it('quotes the credential helper for the shell git runs it with', () => {
    expect(credentialHelper("/opt/my apps/it's/run.js", 'work')).to.equal(`!'${process.execPath}' '/opt/my apps/it'\\''s/run.js' git:credentials --profile 'work'`)
  })
})

describe('AWS destroyApp (mocked AWS, the ECS model for ECS)', () => {
  const DEMO = stack(APP_ID, 'herogate-demo', 'CREATE_COMPLETE', APP_OUTPUTS, 'demo')
  const CLUSTER = PLATFORM_OUTPUTS.Cluster
  let ctx: AwsContext
  let clock: ReturnType<typeof fakeClock>
  let model: EcsModel
  let cfn: AwsClientStub<CloudFormationClient>
  let ecr: AwsClientStub<ECRClient>
  let s3: AwsClientStub<S3Client>
  let ssm: AwsClientStub<SSMClient>
  let logs: AwsClientStub<CloudWatchLogsClient>
  let cwd: string
  const resourcesOf = (app: string) => ({...modelResources(app), region: REGION, cluster: CLUSTER})

  /** An app as a few releases leave it: web (the stack's) and worker running release 3; revisions 1-3 of each. */
  async function deployed(app: string, counts: {web: number; worker: number}): Promise<void> {
    const ecs = model.client()
    const resources = resourcesOf(app)
    await stackWebService(ecs, resources)
    const register = async (type: string, release: number) =>
      (await ecs.send(new RegisterTaskDefinitionCommand(taskDefinitionInput(app, resources, {processType: type, image: `${resources.ecrRepositoryUri}@sha256:${String(release).repeat(64)}`, size: 'standard-1x', configKeys: [], release})))).taskDefinition!.taskDefinitionArn!
    for (const release of [1, 2]) for (const type of ['web', 'worker']) await register(type, release)
    await ecs.send(new UpdateServiceCommand({cluster: CLUSTER, service: names.service(app, 'web'), taskDefinition: await register('web', 3), desiredCount: counts.web}))
    await ecs.send(new CreateServiceCommand({
      cluster: CLUSTER, serviceName: names.service(app, 'worker'), taskDefinition: await register('worker', 3), desiredCount: counts.worker, launchType: 'FARGATE',
      networkConfiguration: {awsvpcConfiguration: {subnets: resources.subnets, securityGroups: [resources.securityGroup]}},
    }))
  }

  /** A one-off process as `herogate run -d` starts it. */
  async function runDetached(app: string): Promise<string> {
    const context = {...ctx, appResources: async () => resourcesOf(app)}
    const result = await run(context, app, {command: ['sleep', '3600'], env: {}, detached: true, tty: false, stdout: process.stdout, stderr: process.stderr})
    return result.id
  }

  /** A release phase's task as release-image.ts starts it, still running (a long migration, a release that timed out). */
  async function releasePhase(app: string, version: number): Promise<string> {
    const resources = resourcesOf(app)
    const ecs = new EcsRelease(model.client())
    const taskDefinition = await ecs.registerTaskDefinition(taskDefinitionInput(app, resources, {processType: 'release', image: 'migrating', size: 'standard-1x', configKeys: [], release: version}))
    const arn = await ecs.runTask({cluster: CLUSTER, taskDefinition, subnets: resources.subnets, securityGroup: resources.securityGroup, startedBy: `herogate-release-v${version}`})
    return arn.slice(arn.lastIndexOf('/') + 1)
  }

  beforeEach(async () => {
    const clients = new AwsClients({region: REGION})
    const make = installer(clients)
    clock = fakeClock()
    model = new EcsModel(clock, {region: REGION, clusters: [CLUSTER]})
    // One-off processes here run until stopped: `sleep 3600`, a long migration.
    const serving = model.behaviour
    model.behaviour = (context) => (context.family.endsWith('--run') || context.family.endsWith('--release') ? {} : serving(context))
    clients.set('ecs', model.client())
    cfn = mockClient(make('cloudformation', new CloudFormationClient({region: REGION})))
    ecr = mockClient(make('ecr', new ECRClient({region: REGION})))
    s3 = mockClient(make('s3', new S3Client({region: REGION})))
    ssm = mockClient(make('ssm', new SSMClient({region: REGION})))
    logs = mockClient(make('logs', new CloudWatchLogsClient({region: REGION})))
    // Listing (no StackName) first: later, more specific matchers take precedence.
    cfn.on(DescribeStacksCommand, {}).resolves({Stacks: [...DEMO.Stacks, ...stack('arn:x', 'herogate-demo-2', 'CREATE_COMPLETE', {}, 'demo-2').Stacks]})
    cfn.on(DescribeStacksCommand, {StackName: 'herogate-platform'}).resolves(stack('arn:platform', 'herogate-platform', 'CREATE_COMPLETE', PLATFORM_OUTPUTS))
    cfn.on(DescribeStacksCommand, {StackName: 'herogate-demo'}).resolves(DEMO)
    cfn.on(DescribeStackEventsCommand).resolves({StackEvents: [event('e0', APP_ID, 'herogate-demo', 'CREATE_COMPLETE')]})
    // The stack owns the web service: deleting the stack deletes it. CloudFormation may call the stack deleted while ECS still drains it.
    cfn.on(DeleteStackCommand).callsFake(async () => {
      await model.client().send(new DeleteServiceCommand({cluster: CLUSTER, service: 'demo--web', force: true}))
      return {}
    })
    cfn.on(DescribeStacksCommand, {StackName: APP_ID}).resolves(stack(APP_ID, 'herogate-demo', 'DELETE_COMPLETE', {}, 'demo'))
    ecr.on(ListImagesCommand)
      .resolvesOnce({imageIds: [{imageDigest: 'sha256:a', imageTag: 'v1'}, {imageDigest: 'sha256:a', imageTag: 'latest'}], nextToken: 'next'})
      .resolves({imageIds: [{imageDigest: 'sha256:b'}]})
    ecr.on(BatchDeleteImageCommand).resolves({})
    s3.on(ListObjectsV2Command, {Prefix: 'herogate/demo/'})
      .resolvesOnce({Contents: [{Key: 'herogate/demo/a'}, {Key: 'herogate/demo/b'}], IsTruncated: true, NextContinuationToken: 't'})
      .resolves({Contents: [{Key: 'herogate/demo/c'}], IsTruncated: false})
    s3.on(ListObjectsV2Command, {Prefix: 'herogate-demo/'}).resolves({Contents: [{Key: 'herogate-demo/Source/x.zip'}]})
    s3.on(DeleteObjectsCommand).resolves({})
    const parameters = Array.from({length: 12}, (_, i) => ({Name: `/herogate/demo/config/K${i}`}))
    ssm.on(GetParametersByPathCommand, {Path: '/herogate/demo/'}).resolvesOnce({Parameters: parameters.slice(0, 10), NextToken: 'n'}).resolves({Parameters: parameters.slice(10)})
    ssm.on(DeleteParametersCommand).resolves({})
    // The app has no custom domains (destroy reads them first).
    ssm.on(GetParametersByPathCommand, {Path: '/herogate/demo/domains/'}).resolves({Parameters: []})
    logs.on(DeleteLogGroupCommand, {logGroupName: '/herogate/demo'}).resolves({})
    logs.on(DeleteLogGroupCommand, {logGroupName: '/aws/codebuild/herogate-demo'}).rejects(Object.assign(new Error('gone'), {name: 'ResourceNotFoundException'}))
    ctx = {region: REGION, clients, clock}
    cwd = mkdtempSync(join(tmpdir(), 'herogate-nogit-'))
    // demo-2 shares the cluster; "demo" is a prefix of its name, and nothing of it may be touched.
    await deployed('demo', {web: 2, worker: 1})
    await deployed('demo-2', {web: 1, worker: 1})
    clock.advance(5 * 60_000)
    model.calls.length = 0
  })

  afterEach(() => rmSync(cwd, {recursive: true, force: true}))

  it('removes services, images, artifacts, parameters, the stack, task definitions and log groups, and lists them', async () => {
    const result = await destroyApp(ctx, 'demo', {cwd})
    expect(result).to.deep.equal({
      name: 'demo',
      removed: [
        'ECS service demo--worker',
        '2 images in ECR repository herogate/demo',
        '4 artifacts in s3://artifacts/',
        '12 parameters under /herogate/demo/ (config, releases)',
        'stack herogate-demo (git repository, pipeline, build project, image repository, roles, routing, web service)',
        '7 task definitions (herogate-demo--web, herogate-demo--worker)',
        'log group /herogate/demo',
      ],
    })
    // web is the stack's: scaled to zero, not deleted; the worker is scaled to zero, then deleted.
    expect(model.calls.filter((c) => c.command === 'UpdateService').map((c) => [c.input.service, c.input.desiredCount])).to.deep.equal([['demo--web', 0], ['demo--worker', 0]])
    expect(model.calls.filter((c) => c.command === 'DeleteService').map((c) => c.input)).to.deep.equal([
      {cluster: CLUSTER, service: 'demo--worker', force: true},
      {cluster: CLUSTER, service: 'demo--web', force: true},
    ])
    expect(ecr.commandCalls(BatchDeleteImageCommand)[0].args[0].input.imageIds).to.deep.equal([{imageDigest: 'sha256:a'}, {imageDigest: 'sha256:b'}])
    expect(s3.commandCalls(ListObjectsV2Command)[1].args[0].input.ContinuationToken).to.equal('t')
    expect(ssm.commandCalls(DeleteParametersCommand).map((c) => c.args[0].input.Names!.length)).to.deep.equal([10, 2])
    expect(ssm.commandCalls(GetParametersByPathCommand, {Path: '/herogate/demo/'})[0].args[0].input).to.include({Path: '/herogate/demo/', Recursive: true, WithDecryption: false})
    expect(cfn.commandCalls(DeleteStackCommand).map((c) => c.args[0].input.StackName)).to.deep.equal([APP_ID])
  })

  it('stops the app\'s detached run processes and a release command still running, and deregisters its task definitions; never another app\'s', async () => {
    const runs = [await runDetached('demo'), await runDetached('demo')]
    const release = await releasePhase('demo', 4)
    const other = await runDetached('demo-2')
    const otherRelease = await releasePhase('demo-2', 2)
    clock.advance(60_000)
    const events: ProgressEvent[] = []
    const result = await destroyApp(ctx, 'demo', {cwd, onProgress: (e) => events.push(e)})
    expect(result.stopped).to.have.members([
      `run.${runs[0].slice(0, 7)} (herogate run)`,
      `run.${runs[1].slice(0, 7)} (herogate run)`,
      `release.${release.slice(0, 7)} (release command, started by herogate-release-v4)`,
    ])
    expect(result.removed).to.include('9 task definitions (herogate-demo--release, herogate-demo--run, herogate-demo--web, herogate-demo--worker)')
    const tasks = model.describe()
    const byId = (id: string) => tasks.find((t) => t.taskArn!.endsWith(id))!
    for (const id of [...runs, release]) expect(byId(id)).to.include({lastStatus: 'STOPPED', stopCode: 'UserInitiated', stoppedReason: 'herogate destroy -a demo'})
    // demo-2's processes and definitions are untouched.
    for (const id of [other, otherRelease]) expect(byId(id)).to.include({lastStatus: 'RUNNING', desiredStatus: 'RUNNING'})
    expect(tasks.filter((t) => t.group === 'service:demo-2--web' || t.group === 'service:demo-2--worker').every((t) => t.lastStatus === 'RUNNING')).to.equal(true)
    const deregistered = model.calls.filter((c) => c.command === 'DeregisterTaskDefinition').map((c) => c.input.taskDefinition as string)
    expect(deregistered.every((arn) => arn.includes('/herogate-demo--'))).to.equal(true)
    expect(model.calls.filter((c) => c.command === 'StopTask').map((c) => c.input.task as string).sort()).to.deep.equal([...runs, release].map((id) => `arn:aws:ecs:${REGION}:123456789012:task/${CLUSTER}/${id}`).sort())
    for (const family of ['herogate-demo-2--web', 'herogate-demo-2--run', 'herogate-demo-2--release']) {
      expect(model.taskDefinitionStatus(family)).to.equal('ACTIVE')
    }

    expect(events).to.deep.include({kind: 'step', id: 'one-off', message: 'Stopping the one-off processes of demo', status: 'done'})
    expect(events).to.deep.include({kind: 'step', id: 'task-definitions', message: 'Deregistering the task definitions of demo', status: 'done'})
  })

  it('returns once ECS has drained the app\'s services, so that an app of the same name can be created again at once', async () => {
    const events: ProgressEvent[] = []
    await destroyApp(ctx, 'demo', {cwd, onProgress: (e) => events.push(e)})
    expect(model.service('demo--web')).to.include({status: 'INACTIVE'})
    expect(model.service('demo--worker')).to.include({status: 'INACTIVE'})
    expect(events).to.deep.include({kind: 'step', id: 'draining', message: 'Waiting for ECS to stop the processes of demo', status: 'done'})
    // The new app's stack makes its web service; its first release the worker's.
    const ecs = new EcsRelease(model.client())
    await stackWebService(model.client(), resourcesOf('demo'))
    const worker = await ecs.registerTaskDefinition(taskDefinitionInput('demo', resourcesOf('demo'), {processType: 'worker', image: 'worker', size: 'standard-1x', configKeys: [], release: 1}))
    await ecs.createService({
      cluster: CLUSTER, serviceName: 'demo--worker', taskDefinition: worker, desiredCount: 0, launchType: 'FARGATE',
      networkConfiguration: {awsvpcConfiguration: {subnets: ['subnet-a'], securityGroups: ['sg-tasks']}},
    }).catch((error: Error) => expect.fail(error.message))
  })

  it('warns, and does not fail, when ECS is still draining at its deadline', async () => {
    model.timings.drainMinMs = 60 * 60_000
    const events: ProgressEvent[] = []
    const result = await destroyApp(ctx, 'demo', {cwd, onProgress: (e) => events.push(e)})
    expect(result.removed).to.include('log group /herogate/demo')
    expect(events).to.deep.include({kind: 'step', id: 'draining', message: 'Waiting for ECS to stop the processes of demo', status: 'skipped'})
    expect(events).to.deep.include({kind: 'warning', message: 'ECS is still stopping processes of demo; it finishes on its own within minutes. Wait for that before creating an app named demo again.'})
  })

  it('shows why the stack could not be deleted', async () => {
    cfn.on(DescribeStacksCommand, {StackName: APP_ID}).resolves(stack(APP_ID, 'herogate-demo', 'DELETE_FAILED', {}, 'demo'))
    cfn.on(DescribeStackEventsCommand)
      .resolvesOnce({StackEvents: [event('e0', APP_ID, 'herogate-demo', 'CREATE_COMPLETE')]})
      .resolves({
        StackEvents: [
          event('e2', APP_ID, 'TargetGroup', 'DELETE_FAILED', 'Target group is currently in use by a listener or a rule'),
          event('e1', APP_ID, 'herogate-demo', 'DELETE_IN_PROGRESS'),
          event('e0', APP_ID, 'herogate-demo', 'CREATE_COMPLETE'),
        ],
      })
    try {
      await destroyApp(ctx, 'demo', {cwd})
      expect.fail('expected StackFailed')
    } catch (error) {
      expect(error).to.be.instanceOf(StackFailed)
      expect((error as Error).message).to.equal('Could not delete demo: TargetGroup (AWS::ElasticLoadBalancingV2::TargetGroup): Target group is currently in use by a listener or a rule.')
      expect((error as StackFailed).suggestions).to.deep.equal(['herogate destroy -a demo --confirm demo (to retry)'])
    }
  })

  it('on Ctrl-C stops waiting and says the deletion goes on', async () => {
    cfn.on(DescribeStacksCommand, {StackName: APP_ID}).resolves(stack(APP_ID, 'herogate-demo', 'DELETE_IN_PROGRESS', {}, 'demo'))
    const controller = new AbortController()
    ctx.clock = {
      now: () => clock.now(),
      async sleep() {
        controller.abort(new Error('interrupted'))
        throw new Error('interrupted')
      },
    }
    try {
      await destroyApp(ctx, 'demo', {cwd, signal: controller.signal})
      expect.fail('expected Interrupted')
    } catch (error) {
      expect(error).to.be.instanceOf(Interrupted)
      expect((error as Error).message).to.equal('Interrupted: stack herogate-demo keeps deleting in AWS; run herogate destroy -a demo again to finish.')
    }
  })

  it('refuses an app whose stack is being created', async () => {
    cfn.on(DescribeStacksCommand, {StackName: 'herogate-demo'}).resolves(stack(APP_ID, 'herogate-demo', 'CREATE_IN_PROGRESS', {}, 'demo'))
    try {
      await destroyApp(ctx, 'demo', {cwd})
      expect.fail('expected StackBusy')
    } catch (error) {
      expect(error).to.be.instanceOf(StackBusy)
    }

    expect(cfn.commandCalls(DeleteStackCommand)).to.have.length(0)
    expect(ssm.commandCalls(DeleteParametersCommand)).to.have.length(0)
    expect(model.count('StopTask')).to.equal(0)
  })
})

describe('AWS createApp racing another create for the platform (mocked AWS)', () => {
  it('waits for the platform the other create started instead of failing', async () => {
    const clients = new AwsClients({region: REGION})
    const make = installer(clients)

    const cfn = mockClient(make('cloudformation', new CloudFormationClient({region: REGION})))
    cfn.on(DescribeStacksCommand).resolves({Stacks: []})
    mockClient(make('sts', new STSClient({region: REGION}))).on(GetCallerIdentityCommand).resolves({Account: '1'})
    const elb = mockClient(make('elbv2', new ElasticLoadBalancingV2Client({region: REGION})))
    elb.on(DescribeListenersCommand).resolves({Listeners: [{ListenerArn: 'arn:listener/80', Port: 80}]})
    elb.on(DescribeAccountLimitsCommand).resolves({Limits: []})
    elb.on(DescribeLoadBalancersCommand).resolves({LoadBalancers: [{LoadBalancerArn: 'arn:lb', SecurityGroups: ['sg-lb']}]})
    mockClient(make('iam', new IAMClient({region: REGION}))).onAnyCommand().resolves({})
    mockClient(make('ecs', new ECSClient({region: REGION}))).onAnyCommand().resolves({})
    mockClient(make('ssm', new SSMClient({region: REGION}))).onAnyCommand().resolves({})
    mockClient(make('s3', new S3Client({region: REGION}))).onAnyCommand().resolves({})
    cfn.on(DescribeStacksCommand, {StackName: 'herogate-platform'})
      .resolvesOnce({Stacks: []})
      .resolvesOnce(stack('arn:platform', 'herogate-platform', 'CREATE_IN_PROGRESS'))
      .resolves(stack('arn:platform', 'herogate-platform', 'CREATE_COMPLETE', PLATFORM_OUTPUTS))
    cfn.on(DescribeStacksCommand, {StackName: 'arn:platform'}).resolves(stack('arn:platform', 'herogate-platform', 'CREATE_COMPLETE', PLATFORM_OUTPUTS))
    cfn.on(CreateStackCommand, {StackName: 'herogate-platform'}).rejects(Object.assign(new Error('Stack [herogate-platform] already exists'), {name: 'AlreadyExistsException'}))
    cfn.on(CreateStackCommand, {StackName: 'herogate-demo'}).resolves({StackId: APP_ID})
    cfn.on(DescribeStacksCommand, {StackName: 'herogate-demo'}).rejectsOnce(missing()).resolves(stack(APP_ID, 'herogate-demo', 'CREATE_COMPLETE', APP_OUTPUTS, 'demo'))
    cfn.on(DescribeStacksCommand, {StackName: APP_ID}).resolves(stack(APP_ID, 'herogate-demo', 'CREATE_COMPLETE', APP_OUTPUTS, 'demo'))
    cfn.on(DescribeStackEventsCommand).resolves({StackEvents: []})
    const cwd = mkdtempSync(join(tmpdir(), 'herogate-nogit-'))
    try {
      const created = await createApp({region: REGION, clients, clock: {now: () => new Date(), sleep: async () => {}}}, {name: 'demo', cwd}, {buildSpec: BUILDSPEC})
      expect(created).to.include({name: 'demo', platformCreated: false})
      expect(cfn.commandCalls(CreateStackCommand).map((c) => c.args[0].input.StackName)).to.deep.equal(['herogate-platform', 'herogate-demo'])
    } finally {
      rmSync(cwd, {recursive: true, force: true})
    }
  })
})

describe('AWS destroyPlatform (mocked AWS: moto cannot delete a stack with a route table)', () => {
  let cfn: AwsClientStub<CloudFormationClient>
  let s3: AwsClientStub<S3Client>
  let ecr: AwsClientStub<ECRClient>
  let ctx: AwsContext

  beforeEach(() => {
    const clients = new AwsClients({region: REGION})
    const make = installer(clients)
    cfn = mockClient(make('cloudformation', new CloudFormationClient({region: REGION})))
    s3 = mockClient(make('s3', new S3Client({region: REGION})))
    ecr = mockClient(make('ecr', new ECRClient({region: REGION})))
    const platform = stack('arn:platform', 'herogate-platform', 'CREATE_COMPLETE', PLATFORM_OUTPUTS)
    cfn.on(DescribeStacksCommand, {}).resolves(platform)
    cfn.on(DescribeStacksCommand, {StackName: 'herogate-platform'}).resolves(platform)
    cfn.on(DescribeStackEventsCommand).resolves({StackEvents: [event('e0', 'arn:platform', 'herogate-platform', 'CREATE_COMPLETE')]})
    cfn.on(DeleteStackCommand).resolves({})
    cfn.on(DescribeStacksCommand, {StackName: 'arn:platform'}).resolves(stack('arn:platform', 'herogate-platform', 'DELETE_COMPLETE'))
    s3.on(ListObjectsV2Command).resolves({Contents: [{Key: 'herogate/old/x'}, {Key: 'herogate-old/Source/y.zip'}], IsTruncated: false})
    s3.on(DeleteObjectsCommand).resolves({})
    ctx = {region: REGION, clients, clock: {now: () => new Date(), sleep: async () => {}}}
  })

  it('empties the artifact bucket, deletes the image cache\'s repositories and the platform stack, and lists what went', async () => {
    // Two pages of the registry: the cache's repositories beside an app's and a name that only begins alike.
    ecr.on(DescribeRepositoriesCommand).resolves({repositories: [{repositoryName: 'herogate-public/vend/moby/buildkit'}, {repositoryName: 'herogate/old'}], nextToken: 'page-2'})
    ecr.on(DescribeRepositoriesCommand, {nextToken: 'page-2'}).resolves({repositories: [{repositoryName: 'herogate-publicity/x'}, {repositoryName: 'herogate-public/heroku/builder'}]})
    ecr.on(DeleteRepositoryCommand).resolves({})
    const events: ProgressEvent[] = []
    const result = await destroyPlatform(ctx, {onProgress: (e) => events.push(e)})
    expect(s3.commandCalls(DeleteObjectsCommand).flatMap((c) => c.args[0].input.Delete!.Objects!.map((o) => o.Key))).to.deep.equal(['herogate/old/x', 'herogate-old/Source/y.zip'])
    // With their images (force): the cache's repositories hold the pulled images.
    expect(ecr.commandCalls(DeleteRepositoryCommand).map((c) => c.args[0].input)).to.deep.equal([
      {repositoryName: 'herogate-public/heroku/builder', force: true},
      {repositoryName: 'herogate-public/vend/moby/buildkit', force: true},
    ])
    expect(cfn.commandCalls(DeleteStackCommand).map((c) => c.args[0].input.StackName)).to.deep.equal(['arn:platform'])
    expect(result.removed).to.deep.equal([
      `2 objects in s3://${PLATFORM_OUTPUTS.ArtifactBucket}/`,
      'ECR repository herogate-public/heroku/builder (image cache)',
      'ECR repository herogate-public/vend/moby/buildkit (image cache)',
      'stack herogate-platform (network, ECS cluster, load balancer, artifact bucket)',
    ])
    expect(events.filter((e) => e.kind === 'step' && e.id === 'image-cache').map((e) => e.kind === 'step' && e.status)).to.deep.equal(['start', 'done'])
  })

  it('leaves the stack in place when the image cache cannot be listed, and says what failed', async () => {
    ecr.on(DescribeRepositoriesCommand).rejects(Object.assign(new Error('User is not authorized to perform: ecr:DescribeRepositories'), {name: 'AccessDeniedException', $metadata: {httpStatusCode: 400}}))
    const error = await destroyPlatform(ctx).catch((e: Error) => e)
    expect(error).to.be.instanceOf(HerogateError)
    expect((error as Error).message).to.equal('AWS denied listing the repositories under herogate-public/ (AccessDeniedException: User is not authorized to perform: ecr:DescribeRepositories).')
    expect(cfn.commandCalls(DeleteStackCommand)).to.have.length(0)
  })
})
