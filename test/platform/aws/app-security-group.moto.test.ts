import {CloudFormationClient, CreateStackCommand, DescribeStacksCommand} from '@aws-sdk/client-cloudformation'
import {DescribeSecurityGroupsCommand, EC2Client, type SecurityGroup} from '@aws-sdk/client-ec2'
import {DescribeLoadBalancersCommand, ElasticLoadBalancingV2Client} from '@aws-sdk/client-elastic-load-balancing-v2'
import {expect} from 'chai'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {AwsClients} from '../../../src/aws/clients.js'
import {names} from '../../../src/lib/naming.js'
import {appTaskSecurityGroup} from '../../../src/platform/aws/app-upgrade.js'
import * as apps from '../../../src/platform/aws/apps.js'
import type {AwsContext} from '../../../src/platform/aws/context.js'
import {loadAppResources, stacksOf} from '../../../src/platform/aws/resources.js'
import type {ProgressEvent} from '../../../src/platform/types.js'
import {useMoto} from '../../helpers/moto.js'
import {withSchedulerRole} from '../../../src/platform/aws/scheduler.js'
import {appTemplateBeforeAppGroups, appTemplateBeforeScheduledJobs} from './app-upgrade.fixture.js'

const zeroClock = {now: () => new Date('2026-11-21T10:00:00Z'), sleep: async () => {}}
const BUILDSPEC = 'version: 0.2\n'

async function group(id: string): Promise<SecurityGroup> {
  return (await new EC2Client({region: 'us-east-1'}).send(new DescribeSecurityGroupsCommand({GroupIds: [id]}))).SecurityGroups![0]
}

async function loadBalancerGroup(arn: string): Promise<string> {
  return (await new ElasticLoadBalancingV2Client({region: 'us-east-1'}).send(new DescribeLoadBalancersCommand({LoadBalancerArns: [arn]}))).LoadBalancers![0].SecurityGroups![0]
}

/** What an app's own group must be: in the platform VPC, admitting only the load balancer, on the web port. */
function expectAppGroup(found: SecurityGroup, vpc: string, loadBalancer: string) {
  expect(found.VpcId).to.equal(vpc)
  expect(found.IpPermissions?.map((p) => [p.IpProtocol, p.FromPort, p.ToPort, p.UserIdGroupPairs?.map((pair) => pair.GroupId), p.IpRanges])).to.deep.equal([['tcp', 5000, 5000, [loadBalancer], []]])
}

describe('app task security groups against moto', function () {
  this.timeout(60_000)
  useMoto()
  let ctx: AwsContext
  let dir: string

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'herogate-appsg-'))
    ctx = {region: 'us-east-1', clients: new AwsClients({region: 'us-east-1'}), clock: zeroClock}
  })

  afterEach(() => rmSync(dir, {recursive: true, force: true}))

  it('a new app publishes a group of its own, not the shared one, that admits only the load balancer on 5000', async () => {
    await apps.createApp(ctx, {name: 'demo', cwd: dir}, {buildSpec: BUILDSPEC, cliPath: '/opt/herogate/bin/run.js'})
    await apps.createApp(ctx, {name: 'other', cwd: dir}, {buildSpec: BUILDSPEC, cliPath: '/opt/herogate/bin/run.js'})
    const platform = (await (await stacksOf(ctx)).describe(names.platformStack()))!
    const [demo, other] = [await loadAppResources(ctx, 'demo'), await loadAppResources(ctx, 'other')]
    expect(demo.securityGroup).to.match(/^sg-/).and.not.equal(platform.outputs.TaskSecurityGroup)
    expect(other.securityGroup).to.match(/^sg-/).and.not.equal(demo.securityGroup)
    expectAppGroup(await group(demo.securityGroup), platform.outputs.VpcId, await loadBalancerGroup(platform.outputs.LoadBalancerArn))
    // The stack's outputs say the same as the published parameter.
    const described = await new CloudFormationClient({region: 'us-east-1'}).send(new DescribeStacksCommand({StackName: 'herogate-demo'}))
    expect(described.Stacks![0].Outputs!.find((o) => o.OutputKey === 'TaskSecurityGroup')?.OutputValue).to.equal(demo.securityGroup)
    // Nothing to upgrade: the add-on gets the app's group with no stack update.
    const stacks = await stacksOf(ctx)
    expect(await appTaskSecurityGroup(ctx, stacks, 'demo', platform.outputs.TaskSecurityGroup, platform, {onProgress: () => {}, retry: 'herogate addons:create redis -a demo'})).to.deep.equal({group: demo.securityGroup, upgraded: false})
  })

  it('an app stack made before app groups is updated to one, keeping its parameters, and publishes it', async () => {
    await apps.createApp(ctx, {name: 'demo', cwd: dir}, {buildSpec: BUILDSPEC, cliPath: '/opt/herogate/bin/run.js'})
    const stacks = await stacksOf(ctx)
    const platform = (await stacks.describe(names.platformStack()))!
    const current = (await stacks.describe('herogate-demo'))!
    const parameters: Record<string, string> = {...current.parameters, AppName: 'legacy', ListenerPort: '10001', PipelineArtifactPrefix: 'herogate-legacy'}
    delete parameters.LoadBalancerSecurityGroup
    await new CloudFormationClient({region: 'us-east-1'}).send(new CreateStackCommand({
      StackName: 'herogate-legacy', TemplateBody: appTemplateBeforeAppGroups(), Capabilities: ['CAPABILITY_IAM'], Tags: [{Key: 'herogate:app', Value: 'legacy'}],
      Parameters: Object.entries(parameters).map(([ParameterKey, ParameterValue]) => ({ParameterKey, ParameterValue})),
    }))
    const shared = platform.outputs.TaskSecurityGroup
    expect((await loadAppResources(ctx, 'legacy')).securityGroup).to.equal(shared)

    const events: ProgressEvent[] = []
    const upgraded = await appTaskSecurityGroup(ctx, stacks, 'legacy', shared, platform, {onProgress: (e) => events.push(e), retry: 'herogate addons:create redis -a legacy'})
    expect(upgraded.upgraded).to.equal(true)
    expect(upgraded.group).to.match(/^sg-/).and.not.equal(shared)
    expectAppGroup(await group(upgraded.group), platform.outputs.VpcId, await loadBalancerGroup(platform.outputs.LoadBalancerArn))
    expect((await loadAppResources(ctx, 'legacy')).securityGroup).to.equal(upgraded.group)
    const after = (await stacks.describe('herogate-legacy'))!
    // Subnets aside: moto reads a List parameter back as Python's repr of it, where AWS gives it comma-separated.
    const {Subnets: _read, ...kept} = after.parameters
    const {Subnets: _given, ...given} = parameters
    expect(kept).to.deep.equal({...given, LoadBalancerSecurityGroup: await loadBalancerGroup(platform.outputs.LoadBalancerArn)})
    expect(events.filter((e) => e.kind === 'step').map((e) => e.kind === 'step' && [e.id, e.status])).to.deep.equal([['app-upgrade', 'start'], ['app-upgrade', 'done']])
    // The shared group is left as it was: the other apps' processes still run in it.
    expect((await group(shared)).IpPermissions?.map((p) => p.FromPort)).to.deep.equal([5000])
    // A second time there is nothing to do.
    expect(await appTaskSecurityGroup(ctx, stacks, 'legacy', upgraded.group, platform, {onProgress: () => {}, retry: 'herogate addons:create redis -a legacy'})).to.deep.equal({group: upgraded.group, upgraded: false})
  })

  it('scheduler:add on an app made before scheduled jobs upgrades its stack first, which brings the scheduler role (and the app\'s group)', async () => {
    await apps.createApp(ctx, {name: 'demo', cwd: dir}, {buildSpec: BUILDSPEC, cliPath: '/opt/herogate/bin/run.js'})
    const stacks = await stacksOf(ctx)
    const current = (await stacks.describe('herogate-demo'))!
    const parameters: Record<string, string> = {...current.parameters, AppName: 'legacy', ListenerPort: '10001', PipelineArtifactPrefix: 'herogate-legacy'}
    delete parameters.LoadBalancerSecurityGroup
    await new CloudFormationClient({region: 'us-east-1'}).send(new CreateStackCommand({
      StackName: 'herogate-legacy', TemplateBody: appTemplateBeforeScheduledJobs(), Capabilities: ['CAPABILITY_IAM'], Tags: [{Key: 'herogate:app', Value: 'legacy'}],
      Parameters: Object.entries(parameters).map(([ParameterKey, ParameterValue]) => ({ParameterKey, ParameterValue})),
    }))
    const before = await loadAppResources(ctx, 'legacy')
    expect(before.schedulerRoleArn).to.equal(undefined)

    const events: ProgressEvent[] = []
    const after = await withSchedulerRole(ctx, 'legacy', before, {schedule: 'rate(1 hour)', command: 'node report.js'}, (e) => events.push(e))
    expect(after.schedulerRoleArn).to.match(/^arn:aws:iam::\d+:role\//)
    expect(after.securityGroup).to.match(/^sg-/).and.not.equal(before.securityGroup)
    expect(events.filter((e) => e.kind === 'step').map((e) => e.kind === 'step' && [e.id, e.status])).to.deep.equal([['app-upgrade', 'start'], ['app-upgrade', 'done']])
    // An app that has the role is left alone.
    expect(await withSchedulerRole(ctx, 'legacy', after, {schedule: 'rate(1 hour)', command: 'node report.js'}, () => {})).to.equal(after)
  })
})
