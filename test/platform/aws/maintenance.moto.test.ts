import {CloudFormationClient, DescribeStacksCommand} from '@aws-sdk/client-cloudformation'
import {CreateSubnetCommand, CreateVpcCommand, EC2Client} from '@aws-sdk/client-ec2'
import {
  CreateListenerCommand, CreateLoadBalancerCommand, CreateRuleCommand, CreateTargetGroupCommand, DescribeRulesCommand, DescribeTagsCommand, ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2'
import {expect} from 'chai'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {AwsClients} from '../../../src/aws/clients.js'
import {InvalidInput} from '../../../src/lib/errors.js'
import {DEFAULT_MAINTENANCE_PAGE} from '../../../src/lib/maintenance-page.js'
import {names} from '../../../src/lib/naming.js'
import * as apps from '../../../src/platform/aws/apps.js'
import type {AwsContext} from '../../../src/platform/aws/context.js'
import {AwsPlatform} from '../../../src/platform/aws/index.js'
import {maintenance, setMaintenance} from '../../../src/platform/aws/maintenance.js'
import type {AppResources} from '../../../src/platform/aws/resources.js'
import {useMoto} from '../../helpers/moto.js'
import {fakeClock, REGION} from './formation.fixture.js'

const elb = () => new ElasticLoadBalancingV2Client({region: REGION})

/**
 * Maintenance mode's rules on a load balancer moto keeps: an app with its own listener (a
 * platform without a domain) and apps routed by host on a shared listener, with and without a
 * free priority in front of their rule. moto routes no HTTP, so the rules are what is checked:
 * which rule answers a host first, with what.
 */
describe('AWS maintenance mode against moto (ELBv2 rules)', function () {
  this.timeout(60_000)
  useMoto()
  let balancer: string
  let vpc: string
  let dir: string
  let run = 0

  beforeEach(async () => {
    run++
    dir = mkdtempSync(join(tmpdir(), 'herogate-maint-'))
    const ec2 = new EC2Client({region: REGION})
    vpc = (await ec2.send(new CreateVpcCommand({CidrBlock: '10.0.0.0/16'}))).Vpc!.VpcId!
    const subnets = await Promise.all(['a', 'b'].map(async (zone, i) => (await ec2.send(new CreateSubnetCommand({VpcId: vpc, CidrBlock: `10.0.${i + 1}.0/24`, AvailabilityZone: `${REGION}${zone}`}))).Subnet!.SubnetId!))
    balancer = (await elb().send(new CreateLoadBalancerCommand({Name: `hg-lb-${run}`, Subnets: subnets}))).LoadBalancers![0].LoadBalancerArn!
  })
  afterEach(() => rmSync(dir, {recursive: true, force: true}))

  const targetGroup = async (app: string) => (await elb().send(new CreateTargetGroupCommand({Name: `hg-${app}-${run}`, VpcId: vpc, Protocol: 'HTTP', Port: 5000, TargetType: 'ip'}))).TargetGroups![0].TargetGroupArn!

  function context(app: string, targetGroupArn: string): AwsContext {
    return {
      region: REGION,
      clients: new AwsClients({region: REGION}),
      clock: fakeClock(),
      appResources: async () => ({app, targetGroupArn} as AppResources),
    }
  }

  /** The shared HTTP listener (404 by default) with host rules: app name to priority. */
  async function sharedListener(hosts: Record<string, {priority: number; targetGroup: string}>): Promise<string> {
    const listener = (await elb().send(new CreateListenerCommand({
      LoadBalancerArn: balancer, Port: 80, Protocol: 'HTTP', DefaultActions: [{Type: 'fixed-response', FixedResponseConfig: {StatusCode: '404', ContentType: 'text/plain'}}],
    }))).Listeners![0].ListenerArn!
    for (const [app, {priority, targetGroup}] of Object.entries(hosts)) {
      await elb().send(new CreateRuleCommand({
        ListenerArn: listener, Priority: priority, Conditions: [{Field: 'host-header', HostHeaderConfig: {Values: [`${app}.apps.example.com`]}}], Actions: [{Type: 'forward', TargetGroupArn: targetGroup}],
      }))
    }

    return listener
  }

  /** The listener's rules in the order the load balancer tries them: priority, host, what they do. */
  async function rules(listener: string): Promise<Array<[number, string, string]>> {
    const found = (await elb().send(new DescribeRulesCommand({ListenerArn: listener}))).Rules!.filter((r) => !r.IsDefault)
    return found
      .map((r): [number, string, string] => [
        Number(r.Priority),
        r.Conditions!.map((c) => c.HostHeaderConfig?.Values?.[0] ?? c.PathPatternConfig?.Values?.[0] ?? c.Values?.[0]).join(','),
        r.Actions![0].Type === 'forward' ? `forward ${r.Actions![0].TargetGroupArn!.split('/')[1]}` : `${r.Actions![0].Type} ${r.Actions![0].FixedResponseConfig?.StatusCode ?? ''}`.trim(),
      ])
      .sort((a, b) => a[0] - b[0])
  }

  it('an app with its own listener: a 503 rule for every path in front of the default action, removed by off', async () => {
    const group = await targetGroup('own')
    const listener = (await elb().send(new CreateListenerCommand({LoadBalancerArn: balancer, Port: 10_000, Protocol: 'HTTP', DefaultActions: [{Type: 'forward', TargetGroupArn: group}]}))).Listeners![0].ListenerArn!
    const ctx = context('own', group)
    expect(await maintenance(ctx, 'own')).to.deep.equal({app: 'own', enabled: false})

    expect(await setMaintenance(ctx, 'own', true)).to.deep.equal({app: 'own', enabled: true, page: 'default', changed: true})
    expect(await rules(listener)).to.deep.equal([[1, '/*', 'fixed-response 503']])
    const [rule] = (await elb().send(new DescribeRulesCommand({ListenerArn: listener}))).Rules!.filter((r) => !r.IsDefault)
    expect(rule.Actions![0].FixedResponseConfig).to.deep.include({StatusCode: '503', ContentType: 'text/html', MessageBody: DEFAULT_MAINTENANCE_PAGE})
    const tags = (await elb().send(new DescribeTagsCommand({ResourceArns: [rule.RuleArn!]}))).TagDescriptions![0].Tags
    expect(tags).to.deep.include.members([{Key: 'herogate:app', Value: 'own'}, {Key: 'herogate:maintenance', Value: 'own'}])
    expect(await setMaintenance(ctx, 'own', true)).to.deep.equal({app: 'own', enabled: true, page: 'default', changed: false})
    expect(await rules(listener)).to.have.length(1)

    expect(await setMaintenance(ctx, 'own', false)).to.deep.equal({app: 'own', enabled: false, changed: true})
    expect(await rules(listener)).to.deep.equal([])
    expect(await setMaintenance(ctx, 'own', false)).to.deep.equal({app: 'own', enabled: false, changed: false})
  })

  it('an app on the shared listener with no free priority in front: its rule moves behind the 503 rule, and back on off', async () => {
    const [demo, other] = [await targetGroup('demo'), await targetGroup('other')]
    const listener = await sharedListener({demo: {priority: 1, targetGroup: demo}, other: {priority: 2, targetGroup: other}})
    const ctx = context('demo', demo)

    await setMaintenance(ctx, 'demo', true)
    expect(await rules(listener)).to.deep.equal([
      [2, 'other.apps.example.com', `forward hg-other-${run}`],
      [3, 'demo.apps.example.com', 'fixed-response 503'],
      // Still forwarding (the target group keeps its health checks), behind the 503 rule.
      [4, 'demo.apps.example.com', `forward hg-demo-${run}`],
    ])
    expect(await maintenance(ctx, 'demo')).to.deep.equal({app: 'demo', enabled: true, page: 'default'})
    // The other app is not in maintenance mode.
    expect(await maintenance(context('other', other), 'other')).to.deep.equal({app: 'other', enabled: false})

    await setMaintenance(ctx, 'demo', false)
    expect(await rules(listener)).to.deep.equal([
      [1, 'demo.apps.example.com', `forward hg-demo-${run}`],
      [2, 'other.apps.example.com', `forward hg-other-${run}`],
    ])
  })

  it('an app with a free priority in front of its rule: the 503 rule takes it and nothing moves', async () => {
    const [demo, other] = [await targetGroup('demo'), await targetGroup('other')]
    const listener = await sharedListener({other: {priority: 1, targetGroup: other}, demo: {priority: 5, targetGroup: demo}})
    const ctx = context('demo', demo)
    await setMaintenance(ctx, 'demo', true)
    expect(await rules(listener)).to.deep.equal([
      [1, 'other.apps.example.com', `forward hg-other-${run}`],
      [4, 'demo.apps.example.com', 'fixed-response 503'],
      [5, 'demo.apps.example.com', `forward hg-demo-${run}`],
    ])
    await setMaintenance(ctx, 'demo', false)
    expect(await rules(listener)).to.deep.equal([
      [1, 'other.apps.example.com', `forward hg-other-${run}`],
      [5, 'demo.apps.example.com', `forward hg-demo-${run}`],
    ])
  })

  it('--page: a page within 1024 bytes is served, on again changes it; a larger one is refused before any call', async () => {
    const demo = await targetGroup('demo')
    const listener = await sharedListener({demo: {priority: 3, targetGroup: demo}})
    const ctx = context('demo', demo)
    const small = join(dir, 'down.html')
    writeFileSync(small, '<h1>Back at noon</h1>')
    expect(await setMaintenance(ctx, 'demo', true, {page: small})).to.deep.equal({app: 'demo', enabled: true, page: 'custom', changed: true})
    const body = async () => (await elb().send(new DescribeRulesCommand({ListenerArn: listener}))).Rules!.find((r) => r.Actions![0].Type === 'fixed-response')!.Actions![0].FixedResponseConfig!.MessageBody
    expect(await body()).to.equal('<h1>Back at noon</h1>')
    writeFileSync(small, '<h1>Back at one</h1>')
    expect(await setMaintenance(ctx, 'demo', true, {page: small})).to.deep.include({enabled: true, changed: false})
    expect(await body()).to.equal('<h1>Back at one</h1>')
    await setMaintenance(ctx, 'demo', false)

    const large = join(dir, 'large.html')
    writeFileSync(large, 'x'.repeat(1025))
    const refused = await setMaintenance(ctx, 'demo', true, {page: large}).catch((error) => error)
    expect(refused).to.be.instanceOf(InvalidInput)
    expect(refused.message).to.equal(`--page ${large} has 1025 bytes; a load balancer fixed response serves at most 1024.`)
    expect(await rules(listener)).to.deep.equal([[3, 'demo.apps.example.com', `forward hg-demo-${run}`]])
  })
})

describe('AWS destroy of an app in maintenance mode (moto)', function () {
  this.timeout(120_000)
  useMoto()
  let cwd: string
  const savedDomain = process.env.HEROGATE_DOMAIN

  beforeEach(() => {
    cwd = mkdtempSync(join(tmpdir(), 'herogate-maint-destroy-'))
    process.env.HEROGATE_DOMAIN = 'apps.example.com'
  })
  afterEach(() => {
    rmSync(cwd, {recursive: true, force: true})
    if (savedDomain === undefined) delete process.env.HEROGATE_DOMAIN
    else process.env.HEROGATE_DOMAIN = savedDomain
  })

  it('removes the maintenance rule from the shared listener before the stacks go: no 503 rule outlives the app', async () => {
    const ctx: AwsContext = {region: REGION, clients: new AwsClients({region: REGION}), clock: fakeClock()}
    await apps.createApp(ctx, {name: 'gone', cwd}, {buildSpec: 'version: 0.2\n'})
    const platform = new AwsPlatform(ctx)
    expect(await platform.setMaintenance('gone', true)).to.deep.include({enabled: true, changed: true})
    const listener = (await new CloudFormationClient({region: REGION}).send(new DescribeStacksCommand({StackName: names.platformStack()}))).Stacks![0].Outputs!.find((o) => o.OutputKey === 'HttpListenerArn')!.OutputValue!
    const fixed = async () => (await elb().send(new DescribeRulesCommand({ListenerArn: listener}))).Rules!.filter((r) => !r.IsDefault && r.Actions![0].Type === 'fixed-response')
    expect(await fixed()).to.have.length(1)

    const destroyed = await platform.destroyApp('gone', {cwd})
    expect(destroyed.removed[0]).to.equal('maintenance rule of the load balancer (1)')
    expect(await fixed()).to.deep.equal([])
  })
})
