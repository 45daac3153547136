import {CloudFormationClient} from '@aws-sdk/client-cloudformation'
import {ECSClient, UpdateServiceCommand} from '@aws-sdk/client-ecs'
import {
  DescribeTargetHealthCommand, type DescribeTargetHealthCommandOutput, ElasticLoadBalancingV2Client, ModifyTargetGroupCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2'
import {DeleteParametersCommand, GetParametersCommand, PutParameterCommand, SSMClient} from '@aws-sdk/client-ssm'
import {type AwsClientStub, mockClient} from 'aws-sdk-client-mock'
import {expect} from 'chai'

import {AwsClients} from '../../../src/aws/clients.js'
import {HerogateError, Interrupted} from '../../../src/lib/errors.js'
import type {AwsContext} from '../../../src/platform/aws/context.js'
import {PATH_CHECK, setSettings, settings, unsetSettings} from '../../../src/platform/aws/settings.js'
import type {ProgressEvent} from '../../../src/platform/types.js'
import {fakeClock} from './formation.fixture.js'

const REGION = 'eu-west-1'
const TG = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/hg-demo/abc'
const RESOURCES = JSON.stringify({
  cluster: 'herogate-cluster', subnets: 'subnet-a', securityGroup: 'sg-1', executionRoleArn: 'arn:exec', taskRoleArn: 'arn:task',
  logGroup: '/herogate/demo', ecrRepositoryUri: 'repo', targetGroupArn: TG, webUrl: 'http://lb:10000', artifactBucket: 'artifacts',
})

type Health = Array<[id: string, state: string, description?: string]>
const health = (targets: Health): DescribeTargetHealthCommandOutput => ({
  $metadata: {},
  TargetHealthDescriptions: targets.map(([id, state, description]) => ({Target: {Id: id, Port: 5000}, TargetHealth: {State: state as never, ...(description ? {Description: description} : {})}})),
})
const denied = () => Object.assign(new Error('User is not authorized'), {name: 'AccessDeniedException'})

/**
 * Settings on AWS with mocked clients: which direct calls each change makes (never
 * CloudFormation), that a new health check path is watched on the running web processes and
 * taken back when they do not answer it, and that a failed step puts back the ones before it.
 */
describe('AWS app settings (mocked AWS)', () => {
  let ctx: AwsContext
  let ssm: AwsClientStub<SSMClient>
  let ecs: AwsClientStub<ECSClient>
  let elb: AwsClientStub<ElasticLoadBalancingV2Client>
  let cfn: AwsClientStub<CloudFormationClient>
  let clock: ReturnType<typeof fakeClock>
  let events: ProgressEvent[]

  function stored(values: Record<string, string> = {}) {
    ssm.on(GetParametersCommand).resolves({
      Parameters: [
        {Name: '/herogate/demo/resources', Value: RESOURCES, Type: 'String', Version: 1},
        ...Object.entries(values).map(([name, Value]) => ({Name: `/herogate/demo/settings/${name}`, Value, Type: 'String' as const, Version: 3})),
      ],
    })
  }

  beforeEach(() => {
    const clients = new AwsClients({region: REGION})
    const install = <T>(name: string, client: T): T => {
      clients.set(name, client)
      return client
    }

    ssm = mockClient(install('ssm', new SSMClient({region: REGION})))
    ecs = mockClient(install('ecs', new ECSClient({region: REGION})))
    elb = mockClient(install('elbv2', new ElasticLoadBalancingV2Client({region: REGION})))
    cfn = mockClient(install('cloudformation', new CloudFormationClient({region: REGION})))
    ssm.on(PutParameterCommand).resolves({Version: 4})
    ssm.on(DeleteParametersCommand).resolves({})
    ecs.on(UpdateServiceCommand).resolves({service: {}})
    elb.on(ModifyTargetGroupCommand).resolves({})
    stored()
    clock = fakeClock()
    events = []
    ctx = {region: REGION, clients, clock}
  })

  afterEach(() => expect(cfn.calls(), 'no stack call, ever').to.have.length(0))

  const steps = () => events.flatMap((e) => (e.kind === 'step' ? [`${e.message}: ${e.status}`] : []))

  it('reads the resources and the settings in one GetParameters', async () => {
    stored({'boot-timeout': '90'})
    expect(await settings(ctx, 'demo')).to.deep.equal([
      {name: 'boot-timeout', value: 90, default: 60, isDefault: false},
      {name: 'health-check-path', value: '/', default: '/', isDefault: true},
    ])
    expect(ssm.calls()).to.have.length(1)
    expect(ssm.commandCalls(GetParametersCommand)[0].args[0].input.Names).to.deep.equal([
      '/herogate/demo/resources', '/herogate/demo/settings/boot-timeout', '/herogate/demo/settings/health-check-path',
    ])
  })

  it('a value edited by hand into something invalid counts as the default', async () => {
    stored({'boot-timeout': 'soon'})
    expect((await settings(ctx, 'demo'))[0]).to.deep.equal({name: 'boot-timeout', value: 60, default: 60, isDefault: true})
  })

  it('boot-timeout: the web service gets it plus 10 s as its grace period, and it is stored', async () => {
    const change = await setSettings(ctx, 'demo', {'boot-timeout': 90})
    expect(ecs.commandCalls(UpdateServiceCommand).map((c) => c.args[0].input)).to.deep.equal([
      {cluster: 'herogate-cluster', service: 'demo--web', healthCheckGracePeriodSeconds: 100},
    ])
    expect(ssm.commandCalls(PutParameterCommand).map((c) => c.args[0].input)).to.deep.equal([
      {Name: '/herogate/demo/settings/boot-timeout', Value: '90', Type: 'String', Overwrite: true},
    ])
    expect(elb.calls()).to.have.length(0)
    expect(change).to.deep.equal({
      settings: [
        {name: 'boot-timeout', value: 90, default: 60, isDefault: false},
        {name: 'health-check-path', value: '/', default: '/', isDefault: true},
      ],
      changed: ['boot-timeout'],
      takesEffect: 'now',
      notes: ["The web service's health-check grace period is now 100 s (boot-timeout 90 s + 10 s for the load balancer's two passing checks): processes started from now on get it; running ones keep running."],
    })
  })

  it('health-check-path: the target group checks it, watched on the running processes until a failing check would show', async () => {
    elb.on(DescribeTargetHealthCommand).resolves(health([['10.0.0.1', 'healthy'], ['10.0.0.2', 'healthy'], ['10.0.0.3', 'initial']]))
    const change = await setSettings(ctx, 'demo', {'health-check-path': '/health'}, {onProgress: (e) => events.push(e)})
    expect(elb.commandCalls(ModifyTargetGroupCommand).map((c) => c.args[0].input)).to.deep.equal([{TargetGroupArn: TG, HealthCheckPath: '/health'}])
    // One look before, then one a poll for the whole window, all in zero time.
    expect(elb.commandCalls(DescribeTargetHealthCommand)).to.have.length(1 + PATH_CHECK.windowMs / PATH_CHECK.pollMs)
    expect(clock.sleeps.reduce((a, b) => a + b, 0)).to.equal(PATH_CHECK.windowMs)
    expect(ssm.commandCalls(PutParameterCommand).map((c) => c.args[0].input)).to.deep.equal([
      {Name: '/herogate/demo/settings/health-check-path', Value: '/health', Type: 'String', Overwrite: true},
    ])
    expect(steps()).to.deep.equal(['Checking that the running web processes answer GET /health: start', 'Checking that the running web processes answer GET /health: done'])
    expect(change.notes).to.deep.equal(['The load balancer checks GET /health from now on; the running web processes answer it.'])
    expect(ecs.calls()).to.have.length(0)
  })

  it('health-check-path with nothing running: set at once, the next deploy must answer it', async () => {
    elb.on(DescribeTargetHealthCommand).resolves(health([]))
    const change = await setSettings(ctx, 'demo', {'health-check-path': '/health'})
    expect(elb.commandCalls(DescribeTargetHealthCommand)).to.have.length(1)
    expect(clock.sleeps).to.deep.equal([])
    expect(change.notes).to.deep.equal(['The load balancer checks GET /health from now on; the web processes of the next deploy must answer it with 200-399.'])
  })

  it('a path the running release does not answer is taken back, with the grace period set with it; nothing is stored', async () => {
    stored({'boot-timeout': '90'})
    elb.on(DescribeTargetHealthCommand)
      .resolvesOnce(health([['10.0.0.1', 'healthy']]))
      .resolvesOnce(health([['10.0.0.1', 'healthy']]))
      .resolves(health([['10.0.0.1', 'unhealthy', 'Health checks failed with these codes: [404]']]))
    const error = await setSettings(ctx, 'demo', {'health-check-path': '/healthz', 'boot-timeout': 120}, {onProgress: (e) => events.push(e)}).catch((error_: unknown) => error_)
    expect(error).to.be.instanceOf(HerogateError)
    expect((error as HerogateError).message).to.equal('The running web processes of demo do not answer GET /healthz with 200-399 (Health checks failed with these codes: [404]), so health-check-path stays /.')
    expect((error as HerogateError).suggestions).to.deep.equal(['deploy a release that answers GET /healthz, then: herogate apps:settings:set health-check-path=/healthz -a demo'])
    expect(elb.commandCalls(ModifyTargetGroupCommand).map((c) => c.args[0].input.HealthCheckPath)).to.deep.equal(['/healthz', '/'])
    expect(ecs.commandCalls(UpdateServiceCommand).map((c) => c.args[0].input.healthCheckGracePeriodSeconds)).to.deep.equal([130, 100])
    expect(ssm.commandCalls(PutParameterCommand)).to.have.length(0)
    expect(steps().at(-1)).to.equal('Checking that the running web processes answer GET /healthz: failed')
  })

  it('a path during which ECS replaced every watched process counts as not answered', async () => {
    elb.on(DescribeTargetHealthCommand)
      .resolvesOnce(health([['10.0.0.1', 'healthy']]))
      .resolves(health([['10.0.0.1', 'draining'], ['10.0.0.9', 'initial']]))
    const error = await setSettings(ctx, 'demo', {'health-check-path': '/healthz'}).catch((error_: unknown) => error_)
    expect((error as Error).message).to.equal('The running web processes of demo do not answer GET /healthz with 200-399 (none of them stayed healthy), so health-check-path stays /.')
    expect(elb.commandCalls(ModifyTargetGroupCommand).map((c) => c.args[0].input.HealthCheckPath)).to.deep.equal(['/healthz', '/'])
  })

  it('Ctrl-C while watching puts the path back and says nothing changed', async () => {
    const controller = new AbortController()
    elb.on(DescribeTargetHealthCommand).callsFake(() => {
      if (elb.commandCalls(DescribeTargetHealthCommand).length === 3) controller.abort(new Error('interrupted'))
      return health([['10.0.0.1', 'healthy']])
    })
    const error = await setSettings(ctx, 'demo', {'health-check-path': '/health'}, {signal: controller.signal}).catch((error_: unknown) => error_)
    expect(error).to.be.instanceOf(Interrupted)
    expect((error as Error).message).to.equal('Interrupted: the settings of demo are as they were.')
    expect(elb.commandCalls(ModifyTargetGroupCommand).map((c) => c.args[0].input.HealthCheckPath)).to.deep.equal(['/health', '/'])
    expect(ssm.commandCalls(PutParameterCommand)).to.have.length(0)
  })

  it('a denied UpdateService changes nothing', async () => {
    ecs.on(UpdateServiceCommand).rejects(denied())
    const error = await setSettings(ctx, 'demo', {'boot-timeout': 90, 'health-check-path': '/health'}).catch((error_: unknown) => error_)
    expect((error as Error).message).to.equal('AWS denied updating service demo--web (AccessDeniedException: User is not authorized).')
    expect(elb.calls()).to.have.length(0)
    expect(ssm.commandCalls(PutParameterCommand)).to.have.length(0)
  })

  it('when storing fails, the calls already made are put back', async () => {
    elb.on(DescribeTargetHealthCommand).resolves(health([]))
    ssm.on(PutParameterCommand).rejects(denied())
    const error = await setSettings(ctx, 'demo', {'boot-timeout': 90, 'health-check-path': '/health'}).catch((error_: unknown) => error_)
    expect((error as Error).message).to.equal('AWS denied saving the settings of demo (AccessDeniedException: User is not authorized).')
    expect(ecs.commandCalls(UpdateServiceCommand).map((c) => c.args[0].input.healthCheckGracePeriodSeconds)).to.deep.equal([100, 70])
    expect(elb.commandCalls(ModifyTargetGroupCommand).map((c) => c.args[0].input.HealthCheckPath)).to.deep.equal(['/health', '/'])
  })

  it('when putting back fails too, the error says what may be left', async () => {
    elb.on(DescribeTargetHealthCommand).resolves(health([]))
    ssm.on(PutParameterCommand).rejects(denied())
    ecs.on(UpdateServiceCommand).resolvesOnce({service: {}}).rejects(denied())
    const error = await setSettings(ctx, 'demo', {'boot-timeout': 90}).catch((error_: unknown) => error_)
    expect((error as Error).message).to.equal('AWS denied saving the settings of demo (AccessDeniedException: User is not authorized). Putting back the grace period of the web service failed too: run the command again.')
  })

  it('unset: the defaults are applied and the stored values deleted', async () => {
    stored({'boot-timeout': '90', 'health-check-path': '/health'})
    elb.on(DescribeTargetHealthCommand).resolves(health([]))
    const change = await unsetSettings(ctx, 'demo', ['boot-timeout', 'health-check-path'])
    expect(change.changed).to.deep.equal(['boot-timeout', 'health-check-path'])
    expect(ecs.commandCalls(UpdateServiceCommand)[0].args[0].input.healthCheckGracePeriodSeconds).to.equal(70)
    expect(elb.commandCalls(ModifyTargetGroupCommand)[0].args[0].input.HealthCheckPath).to.equal('/')
    expect(ssm.commandCalls(PutParameterCommand)).to.have.length(0)
    expect(ssm.commandCalls(DeleteParametersCommand).map((c) => c.args[0].input.Names)).to.deep.equal([
      ['/herogate/demo/settings/boot-timeout', '/herogate/demo/settings/health-check-path'],
    ])
  })

  it('a value it has already, or unsetting a default, changes nothing and says so', async () => {
    stored({'boot-timeout': '90'})
    const same = await setSettings(ctx, 'demo', {'boot-timeout': 90})
    expect(same).to.deep.include({changed: [], notes: ['boot-timeout is already 90: nothing changed.']})
    const unset = await unsetSettings(ctx, 'demo', ['health-check-path'])
    expect(unset).to.deep.include({changed: [], notes: ['health-check-path is already /: nothing changed.']})
    expect(ecs.calls()).to.have.length(0)
    expect(elb.calls()).to.have.length(0)
    expect(ssm.calls().filter((c) => !(c.args[0] instanceof GetParametersCommand))).to.have.length(0)
  })
})
