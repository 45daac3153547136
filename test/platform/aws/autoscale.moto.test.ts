import {ApplicationAutoScalingClient, DescribeScalableTargetsCommand, DescribeScalingPoliciesCommand, RegisterScalableTargetCommand} from '@aws-sdk/client-application-auto-scaling'
import {CreateSubnetCommand, CreateVpcCommand, EC2Client} from '@aws-sdk/client-ec2'
import {CreateListenerCommand, CreateLoadBalancerCommand, CreateTargetGroupCommand, ElasticLoadBalancingV2Client} from '@aws-sdk/client-elastic-load-balancing-v2'
import {DescribeServicesCommand, ECSClient, UpdateServiceCommand} from '@aws-sdk/client-ecs'
import {expect} from 'chai'

import {InvalidInput} from '../../../src/lib/errors.js'
import {setConfig} from '../../../src/platform/aws/config.js'
import {autoscale, autoscaling, disableAutoscale, refuseAutoscaledCounts, removeAutoscaling} from '../../../src/platform/aws/autoscale.js'
import {AwsPlatform} from '../../../src/platform/aws/index.js'
import {useMoto} from '../../helpers/moto.js'
import {deployProcesses, makeContext, makeResources, recordDeploy, REGION} from './formation.fixture.js'

/**
 * ps:autoscale against moto's Application Auto Scaling, on ECS services moto keeps: the scalable
 * target and the target tracking policy it makes, what herogate reads back, scale refused for an
 * autoscaled count, disable removing the target.
 */
describe('AWS autoscaling against moto (Application Auto Scaling)', function () {
  this.timeout(60_000)
  useMoto()
  const aas = () => new ApplicationAutoScalingClient({region: REGION})

  async function app() {
    const resources = await makeResources('demo')
    const definitions = await deployProcesses(resources, {web: {count: 2}, worker: {count: 1}})
    await recordDeploy('demo', definitions)
    return {resources, ctx: makeContext(resources)}
  }

  it('registers the service between min and max with a CPU target tracking policy, and reads it back', async () => {
    const {resources, ctx} = await app()
    const result = await autoscale(ctx, 'demo', {type: 'worker', min: 2, max: 5, metric: 'cpu', target: 70})
    expect(result).to.deep.equal({autoscaling: {type: 'worker', min: 2, max: 5, metric: 'cpu', target: 70}, quantity: 2, notes: ['worker goes from 1 to 2 processes, within the new bounds.']})
    const [target] = (await aas().send(new DescribeScalableTargetsCommand({ServiceNamespace: 'ecs'}))).ScalableTargets!
    expect(target).to.deep.include({ResourceId: `service/${resources.cluster}/demo--worker`, ScalableDimension: 'ecs:service:DesiredCount', MinCapacity: 2, MaxCapacity: 5})
    const [policy] = (await aas().send(new DescribeScalingPoliciesCommand({ServiceNamespace: 'ecs'}))).ScalingPolicies!
    expect(policy.PolicyType).to.equal('TargetTrackingScaling')
    expect(policy.TargetTrackingScalingPolicyConfiguration).to.deep.include({TargetValue: 70, PredefinedMetricSpecification: {PredefinedMetricType: 'ECSServiceAverageCPUUtilization'}})
    expect(await autoscaling(ctx, 'demo')).to.deep.equal([{type: 'worker', min: 2, max: 5, metric: 'cpu', target: 70}])
    const formation = await new AwsPlatform(ctx).formation('demo')
    expect(formation.find((p) => p.type === 'worker')?.autoscale).to.deep.equal({type: 'worker', min: 2, max: 5, metric: 'cpu', target: 70})
    expect(formation.find((p) => p.type === 'web')?.autoscale).to.equal(undefined)
  })

  it('web on requests per process: the policy tracks the load balancer\'s requests per target of the app\'s target group', async () => {
    const {resources, ctx} = await app()
    const ec2 = new EC2Client({region: REGION})
    const vpc = (await ec2.send(new CreateVpcCommand({CidrBlock: '10.1.0.0/16'}))).Vpc!.VpcId!
    const subnets = await Promise.all(['a', 'b'].map(async (zone, i) => (await ec2.send(new CreateSubnetCommand({VpcId: vpc, CidrBlock: `10.1.${i + 1}.0/24`, AvailabilityZone: `${REGION}${zone}`}))).Subnet!.SubnetId!))
    const elb = new ElasticLoadBalancingV2Client({region: REGION})
    const balancer = (await elb.send(new CreateLoadBalancerCommand({Name: 'hg-lb', Subnets: subnets}))).LoadBalancers![0].LoadBalancerArn!
    const group = (await elb.send(new CreateTargetGroupCommand({Name: 'hg-demo', VpcId: vpc, Protocol: 'HTTP', Port: 5000, TargetType: 'ip'}))).TargetGroups![0].TargetGroupArn!
    await elb.send(new CreateListenerCommand({LoadBalancerArn: balancer, Port: 10_000, Protocol: 'HTTP', DefaultActions: [{Type: 'forward', TargetGroupArn: group}]}))
    resources.targetGroupArn = group

    await autoscale(ctx, 'demo', {type: 'web', min: 2, max: 8, metric: 'requests-per-process', target: 1200})
    const [policy] = (await aas().send(new DescribeScalingPoliciesCommand({ServiceNamespace: 'ecs'}))).ScalingPolicies!
    // app/LB-NAME/LB-ID/targetgroup/TG-NAME/TG-ID, as ALBRequestCountPerTarget names a target group.
    const label = `app/hg-lb/${balancer.split('/').at(-1)}/targetgroup/hg-demo/${group.split('/').at(-1)}`
    expect(policy.TargetTrackingScalingPolicyConfiguration!.PredefinedMetricSpecification).to.deep.equal({PredefinedMetricType: 'ALBRequestCountPerTarget', ResourceLabel: label})
    expect(await autoscaling(ctx, 'demo')).to.deep.equal([{type: 'web', min: 2, max: 8, metric: 'requests-per-process', target: 1200}])
  })

  it('scale refuses a count for an autoscaled type, takes one for the others', async () => {
    const {ctx} = await app()
    await autoscale(ctx, 'demo', {type: 'web', min: 1, max: 4, metric: 'cpu', target: 60})
    const refused = await refuseAutoscaledCounts(ctx, 'demo', [{type: 'web', quantity: 3}]).catch((error) => error)
    expect(refused).to.be.instanceOf(InvalidInput)
    expect(refused.message).to.equal('web is autoscaled (1..4 processes, target 60% CPU): the autoscaler sets its count, and would undo this one within minutes.')
    expect(refused.suggestions).to.deep.equal(['herogate ps:autoscale web --min N --max M -a demo (new bounds)', 'herogate ps:autoscale:disable web -a demo (then scale by hand)'])
    const platform = new AwsPlatform(ctx)
    expect((await platform.scale('demo', [{type: 'web', delta: 1}]).catch((error) => error)).message).to.match(/^web is autoscaled/)
    const scaled = await platform.scale('demo', [{type: 'worker', quantity: 3}])
    expect(scaled.formation.map((p) => [p.type, p.quantity])).to.deep.equal([['worker', 3]])
  })

  it('a release (config:set, the same apply as deploy and rollback) keeps the count the autoscaler set, and the autoscaling', async () => {
    const {resources, ctx} = await app()
    await autoscale(ctx, 'demo', {type: 'web', min: 2, max: 6, metric: 'cpu', target: 60})
    // The autoscaler scaled web out to 5 (moto's Application Auto Scaling scales nothing by itself).
    await new ECSClient({region: REGION}).send(new UpdateServiceCommand({cluster: resources.cluster, service: 'demo--web', desiredCount: 5}))
    const release = await setConfig(ctx, 'demo', {NEW_VAR: '1'})
    expect(release.release?.status).to.equal('succeeded')
    const [web] = (await new ECSClient({region: REGION}).send(new DescribeServicesCommand({cluster: resources.cluster, services: ['demo--web']}))).services!
    expect(web.desiredCount).to.equal(5)
    expect(web.taskDefinition).to.match(/:2$/)
    expect(await autoscaling(ctx, 'demo')).to.deep.equal([{type: 'web', min: 2, max: 6, metric: 'cpu', target: 60}])
  })

  it('disable removes the scalable target and its policy; the count stays', async () => {
    const {ctx} = await app()
    await autoscale(ctx, 'demo', {type: 'web', min: 1, max: 4, metric: 'cpu', target: 60})
    expect(await disableAutoscale(ctx, 'demo', 'web')).to.deep.equal({quantity: 2, notes: ['web stays at 2; set it with: herogate scale web=N -a demo']})
    expect((await aas().send(new DescribeScalableTargetsCommand({ServiceNamespace: 'ecs'}))).ScalableTargets).to.deep.equal([])
    expect(await autoscaling(ctx, 'demo')).to.deep.equal([])
    const again = await disableAutoscale(ctx, 'demo', 'web').catch((error) => error)
    expect(again).to.be.instanceOf(InvalidInput)
    expect(again.message).to.equal('web of demo is not autoscaled.')
  })

  it('destroy\'s teardown deregisters every autoscaled type of the app, and only of that app', async () => {
    const {ctx} = await app()
    await autoscale(ctx, 'demo', {type: 'web', min: 1, max: 4, metric: 'cpu', target: 60})
    await autoscale(ctx, 'demo', {type: 'worker', min: 1, max: 2, metric: 'cpu', target: 60})
    // Another app's service whose name starts the same way is not demo's.
    const other = await makeResources('demo2')
    await deployProcesses(other, {web: {count: 1}})
    await aas().send(new RegisterScalableTargetCommand({ServiceNamespace: 'ecs', ResourceId: `service/${other.cluster}/demo2--web`, ScalableDimension: 'ecs:service:DesiredCount', MinCapacity: 1, MaxCapacity: 2}))
    expect(await removeAutoscaling(ctx, 'demo')).to.deep.equal(['web', 'worker'])
    const left = (await aas().send(new DescribeScalableTargetsCommand({ServiceNamespace: 'ecs'}))).ScalableTargets!.map((t) => t.ResourceId)
    expect(left).to.deep.equal([`service/${other.cluster}/demo2--web`])
  })

  it('refuses an unknown process type, naming the ones the app has, and registers nothing', async () => {
    const {ctx} = await app()
    const refused = await autoscale(ctx, 'demo', {type: 'clock', min: 1, max: 2, metric: 'cpu', target: 60}).catch((error) => error)
    expect(refused).to.be.instanceOf(InvalidInput)
    expect(refused.message).to.equal('Unknown process type clock in demo.')
    expect((await aas().send(new DescribeScalableTargetsCommand({ServiceNamespace: 'ecs'}))).ScalableTargets).to.deep.equal([])
  })
})
