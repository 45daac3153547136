import {CloudFormationClient, DescribeStacksCommand} from '@aws-sdk/client-cloudformation'
import {DescribeServicesCommand, ECSClient} from '@aws-sdk/client-ecs'
import {DescribeTargetGroupsCommand, ElasticLoadBalancingV2Client} from '@aws-sdk/client-elastic-load-balancing-v2'
import {GetParametersByPathCommand, SSMClient} from '@aws-sdk/client-ssm'
import {expect} from 'chai'
import {existsSync, mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {AwsClients} from '../../../src/aws/clients.js'
import {AppNotFound} from '../../../src/lib/errors.js'
import {names} from '../../../src/lib/naming.js'
import * as apps from '../../../src/platform/aws/apps.js'
import type {AwsContext} from '../../../src/platform/aws/context.js'
import {AwsPlatform} from '../../../src/platform/aws/index.js'
import {loadAppResources} from '../../../src/platform/aws/resources.js'
import {useMoto} from '../../helpers/moto.js'

const BUILDSPEC = existsSync(new URL('../../../templates/buildspec.yml', import.meta.url)) ? undefined : 'version: 0.2\n'
const zeroClock = {now: () => new Date('2026-11-21T10:00:00Z'), sleep: async () => {}}

/**
 * App settings against moto: create takes them into the stack (the target group's health
 * check path, the web service's grace period) and records them; set and unset change them by
 * direct ECS and ELB calls, never a stack update. moto keeps every target healthy and runs no
 * task, so the health check of a running release is covered with mocks (settings.test.ts).
 */
describe('AWS app settings against moto', function () {
  this.timeout(60_000)
  useMoto()
  let cwd: string
  let ctx: AwsContext

  beforeEach(() => {
    cwd = mkdtempSync(join(tmpdir(), 'herogate-settings-'))
    ctx = {region: 'us-east-1', clients: new AwsClients({region: 'us-east-1'}), clock: zeroClock}
  })
  afterEach(() => rmSync(cwd, {recursive: true, force: true}))

  async function live(app: string) {
    const resources = await loadAppResources(ctx, app)
    const [service] = (await new ECSClient({region: 'us-east-1'}).send(new DescribeServicesCommand({cluster: resources.cluster, services: [names.service(app, 'web')]}))).services!
    const [group] = (await new ElasticLoadBalancingV2Client({region: 'us-east-1'}).send(new DescribeTargetGroupsCommand({TargetGroupArns: [resources.targetGroupArn]}))).TargetGroups!
    const stored = await new SSMClient({region: 'us-east-1'}).send(new GetParametersByPathCommand({Path: `/herogate/${app}/settings/`}))
    return {
      grace: service.healthCheckGracePeriodSeconds,
      path: group.HealthCheckPath,
      stored: Object.fromEntries((stored.Parameters ?? []).map((p) => [p.Name, [p.Type, p.Value]])),
    }
  }

  it('create --boot-timeout --health-check-path: the stack gets them as parameters and the app records them', async () => {
    await apps.createApp(ctx, {name: 'slow', cwd, settings: {'boot-timeout': 180, 'health-check-path': '/up'}}, {buildSpec: BUILDSPEC})
    const stack = (await new CloudFormationClient({region: 'us-east-1'}).send(new DescribeStacksCommand({StackName: 'herogate-slow'}))).Stacks![0]
    const parameters = Object.fromEntries(stack.Parameters!.map((p) => [p.ParameterKey, p.ParameterValue]))
    expect(parameters).to.include({HealthCheckPath: '/up', HealthCheckGracePeriodSeconds: '190'})
    expect((await live('slow')).path).to.equal('/up')
    expect((await live('slow')).stored).to.deep.equal({
      '/herogate/slow/settings/boot-timeout': ['String', '180'],
      '/herogate/slow/settings/health-check-path': ['String', '/up'],
    })
    expect(await new AwsPlatform(ctx).settings('slow')).to.deep.equal([
      {name: 'boot-timeout', value: 180, default: 60, isDefault: false},
      {name: 'health-check-path', value: '/up', default: '/', isDefault: false},
    ])
  })

  it('a create without them passes the defaults explicitly and records nothing', async () => {
    await apps.createApp(ctx, {name: 'plain', cwd}, {buildSpec: BUILDSPEC})
    const stack = (await new CloudFormationClient({region: 'us-east-1'}).send(new DescribeStacksCommand({StackName: 'herogate-plain'}))).Stacks![0]
    const parameters = Object.fromEntries(stack.Parameters!.map((p) => [p.ParameterKey, p.ParameterValue]))
    expect(parameters).to.include({HealthCheckPath: '/', HealthCheckGracePeriodSeconds: '70'})
    expect((await live('plain')).stored).to.deep.equal({})
  })

  it('set and unset change the service and the target group by direct calls, and the stack not at all', async () => {
    await apps.createApp(ctx, {name: 'demo', cwd}, {buildSpec: BUILDSPEC})
    const platform = new AwsPlatform({...ctx, clients: new AwsClients({region: 'us-east-1'})})
    const stackBefore = (await new CloudFormationClient({region: 'us-east-1'}).send(new DescribeStacksCommand({StackName: 'herogate-demo'}))).Stacks![0]

    const set = await platform.setSettings('demo', {'boot-timeout': 240, 'health-check-path': '/health'})
    expect(set.changed).to.deep.equal(['boot-timeout', 'health-check-path'])
    expect(set.takesEffect).to.equal('now')
    expect(await live('demo')).to.deep.equal({
      grace: 250,
      path: '/health',
      stored: {'/herogate/demo/settings/boot-timeout': ['String', '240'], '/herogate/demo/settings/health-check-path': ['String', '/health']},
    })
    expect((await platform.settings('demo')).map((s) => [s.name, s.value, s.isDefault])).to.deep.equal([['boot-timeout', 240, false], ['health-check-path', '/health', false]])

    const unset = await platform.unsetSettings('demo', ['boot-timeout', 'health-check-path'])
    expect(unset.changed).to.deep.equal(['boot-timeout', 'health-check-path'])
    expect(await live('demo')).to.deep.equal({grace: 70, path: '/', stored: {}})

    // No stack update: the stack's last change is its create.
    const stackAfter = (await new CloudFormationClient({region: 'us-east-1'}).send(new DescribeStacksCommand({StackName: 'herogate-demo'}))).Stacks![0]
    expect(stackAfter.StackStatus).to.equal('CREATE_COMPLETE')
    expect(stackAfter.LastUpdatedTime).to.deep.equal(stackBefore.LastUpdatedTime)
  })

  it('an unknown app is not found, and nothing is written', async () => {
    const platform = new AwsPlatform(ctx)
    await apps.createApp(ctx, {name: 'demo', cwd}, {buildSpec: BUILDSPEC})
    for (const attempt of [() => platform.settings('nope'), () => platform.setSettings('nope', {'boot-timeout': 90})]) {
      const error = await attempt().catch((error_: unknown) => error_)
      expect(error).to.be.instanceOf(AppNotFound)
    }

    const stored = await new SSMClient({region: 'us-east-1'}).send(new GetParametersByPathCommand({Path: '/herogate/nope/', Recursive: true}))
    expect(stored.Parameters).to.deep.equal([])
  })
})
