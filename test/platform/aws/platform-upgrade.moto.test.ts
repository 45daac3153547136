import {CloudFormationClient, CreateStackCommand, DescribeStackResourceCommand, DescribeStackEventsCommand, DescribeStacksCommand, type Stack, UpdateStackCommand} from '@aws-sdk/client-cloudformation'
import {DescribeRouteTablesCommand, DescribeSubnetsCommand, EC2Client} from '@aws-sdk/client-ec2'
import {type AwsClientStub, mockClient} from 'aws-sdk-client-mock'
import {expect} from 'chai'
import {readFileSync} from 'node:fs'

import PlatformUpgradeCommand from '../../../src/commands/platform/upgrade.js'
import {AwsClients} from '../../../src/aws/clients.js'
import {AwsPlatform} from '../../../src/platform/aws/index.js'
import {StackFailed} from '../../../src/aws/cloudformation.js'
import type {AwsContext} from '../../../src/platform/aws/context.js'
import {PLATFORM_VERSION, platformVersion, upgradeNote, upgradePlatform} from '../../../src/platform/aws/platform-upgrade.js'
import {stacksOf} from '../../../src/platform/aws/resources.js'
import type {ProgressEvent} from '../../../src/platform/types.js'
import {useMoto} from '../../helpers/moto.js'
import {runCommand} from '../../helpers/run-command.js'

const zeroClock = {now: () => new Date('2026-11-21T10:00:00Z'), sleep: async () => {}}
const TEMPLATE = readFileSync(new URL('../../../templates/platform.yml', import.meta.url), 'utf8')
const ID = 'arn:aws:cloudformation:us-east-1:123456789012:stack/herogate-platform/1'

describe('platform data subnets against moto', function () {
  this.timeout(60_000)
  useMoto()

  it('a platform made from the current template has private data subnets with no route out and the subnet groups', async () => {
    const ctx: AwsContext = {region: 'us-east-1', clients: new AwsClients({region: 'us-east-1'}), clock: zeroClock}
    await new CloudFormationClient({region: 'us-east-1'}).send(new CreateStackCommand({
      StackName: 'herogate-platform', TemplateBody: TEMPLATE, Parameters: [{ParameterKey: 'PublicImageCachePrefix', ParameterValue: 'herogate-public'}],
    }))
    const platform = (await (await stacksOf(ctx)).describe('herogate-platform'))!
    expect(platformVersion(platform)).to.equal(PLATFORM_VERSION)
    expect(upgradeNote('us-east-1', platform)).to.equal(undefined)
    expect(platform.outputs.DatabaseSubnetGroup).to.be.a('string').and.not.equal('')
    const dataSubnets = platform.outputs.DataSubnets.split(',')
    expect(dataSubnets).to.have.length(2)
    const ec2 = new EC2Client({region: 'us-east-1'})
    const subnets = await ec2.send(new DescribeSubnetsCommand({SubnetIds: dataSubnets}))
    expect(subnets.Subnets?.map((s) => s.MapPublicIpOnLaunch)).to.deep.equal([false, false])
    expect(new Set(subnets.Subnets?.map((s) => s.AvailabilityZone)).size).to.equal(2)
    // The data subnets' route table (moto does not report the associations a stack makes; the template's cfn-lint run checks them).
    const cfnClient = new CloudFormationClient({region: 'us-east-1'})
    const table = async (logicalId: string) => {
      const resource = await cfnClient.send(new DescribeStackResourceCommand({StackName: 'herogate-platform', LogicalResourceId: logicalId}))
      return (await ec2.send(new DescribeRouteTablesCommand({RouteTableIds: [resource.StackResourceDetail!.PhysicalResourceId!]}))).RouteTables![0]
    }

    expect((await table('DataRouteTable')).Routes?.map((r) => r.GatewayId)).to.deep.equal(['local'])
    expect((await table('RouteTable')).Routes?.map((r) => r.GatewayId)).to.include.members(['local']).and.satisfy((ids: string[]) => ids.some((id) => id?.startsWith('igw-')))
  })
})

/**
 * The update itself with a mocked CloudFormation: moto cannot update this stack (its ELBv2
 * listener update fails with an AttributeError), so what AWS is asked is checked here.
 */
describe('platform:upgrade', () => {
  let cfn: AwsClientStub<CloudFormationClient>
  let ctx: AwsContext
  let stack: Stack

  const platformStack = (parameters: Record<string, string>, outputs: Record<string, string>): Stack => ({
    StackName: 'herogate-platform', StackId: ID, StackStatus: 'CREATE_COMPLETE', CreationTime: new Date(),
    Parameters: Object.entries(parameters).map(([ParameterKey, ParameterValue]) => ({ParameterKey, ParameterValue})),
    Outputs: Object.entries(outputs).map(([OutputKey, OutputValue]) => ({OutputKey, OutputValue})),
  })

  before(() => {
    cfn = mockClient(CloudFormationClient)
  })

  beforeEach(() => {
    cfn.reset()
    const clients = new AwsClients({region: 'us-east-1'})
    clients.set('cloudformation', new CloudFormationClient({region: 'us-east-1'}))
    ctx = {region: 'us-east-1', clients, clock: zeroClock}
    cfn.on(DescribeStacksCommand).callsFake(() => ({Stacks: [stack]}))
    cfn.on(DescribeStackEventsCommand).resolves({StackEvents: [{EventId: 'e1', StackName: 'herogate-platform', LogicalResourceId: 'herogate-platform', ResourceStatus: 'CREATE_COMPLETE', StackId: ID, Timestamp: new Date()}]})
    cfn.on(UpdateStackCommand).callsFake(() => {
      stack = {...stack, StackStatus: 'UPDATE_COMPLETE', Outputs: [...(stack.Outputs ?? []), {OutputKey: 'DatabaseSubnetGroup', OutputValue: 'db'}, {OutputKey: 'DataSubnets', OutputValue: 'a,b'}, {OutputKey: 'TemplateVersion', OutputValue: '2'}]}
      return {StackId: ID}
    })
  })

  after(() => cfn.restore())

  it('updates a platform made before add-ons to the current template, keeping its parameters, and says what it adds', async () => {
    stack = platformStack({Domain: 'apps.example.com', CertificateArn: 'arn:cert', PublicImageCachePrefix: 'herogate-public'}, {Cluster: 'c', Domain: 'apps.example.com'})
    expect(upgradeNote('us-east-1', (await (await stacksOf(ctx)).describe('herogate-platform'))!)).to.equal(
      'The herogate platform of us-east-1 is older than this herogate (version 1 of 2): add-ons need the private data subnets an update adds. Run: herogate platform:upgrade --region us-east-1',
    )
    const events: ProgressEvent[] = []
    const upgraded = await upgradePlatform(ctx, {onProgress: (e) => events.push(e)})
    expect(upgraded).to.deep.equal({
      region: 'us-east-1', from: 1, to: 2,
      added: ['private data subnets in two availability zones (no route to the internet, no NAT) for add-ons', 'a database subnet group (RDS) and a cache subnet group (ElastiCache) over them'],
    })
    const update = cfn.commandCalls(UpdateStackCommand)[0].args[0].input
    expect(update.StackName).to.equal(ID)
    expect(update.TemplateBody).to.equal(TEMPLATE)
    expect(Object.fromEntries(update.Parameters!.map((p) => [p.ParameterKey, p.ParameterValue]))).to.deep.equal({Domain: 'apps.example.com', CertificateArn: 'arn:cert', PublicImageCachePrefix: 'herogate-public'})
    expect(events.filter((e) => e.kind === 'step').map((e) => e.kind === 'step' && e.status)).to.deep.equal(['start', 'done'])

    // Once current, there is nothing to do.
    expect(await upgradePlatform(ctx)).to.deep.equal({region: 'us-east-1', from: 2, to: 2, added: []})
    expect(cfn.commandCalls(UpdateStackCommand)).to.have.length(1)
  })

  it('platform:upgrade says what it added, then that the platform is up to date', async () => {
    stack = platformStack({PublicImageCachePrefix: 'herogate-public'}, {Cluster: 'c'})
    const first = await runCommand(PlatformUpgradeCommand, ['--region', 'us-east-1'], new AwsPlatform(ctx))
    expect(first.exitCode).to.equal(0)
    expect(first.stdout).to.equal([
      'Upgraded the herogate platform of us-east-1 from version 1 to 2. Added:',
      '  - private data subnets in two availability zones (no route to the internet, no NAT) for add-ons',
      '  - a database subnet group (RDS) and a cache subnet group (ElastiCache) over them',
      '',
    ].join('\n'))
    const again = await runCommand(PlatformUpgradeCommand, ['--region', 'us-east-1', '--json'], new AwsPlatform(ctx))
    expect(JSON.parse(again.stdout)).to.deep.equal({region: 'us-east-1', from: 2, to: 2, added: []})
  })

  it('adds the image cache (issue 9) to a platform older than it', async () => {
    stack = platformStack({Domain: '', CertificateArn: ''}, {Cluster: 'c'})
    const upgraded = await upgradePlatform(ctx)
    expect(upgraded.added.at(-1)).to.equal('the ECR pull-through cache of ECR Public (herogate-public/*) that builds pull their tools through')
    const update = cfn.commandCalls(UpdateStackCommand)[0].args[0].input
    expect(update.Parameters?.find((p) => p.ParameterKey === 'PublicImageCachePrefix')?.ParameterValue).to.equal('herogate-public')
  })

  it('reports a failed update, which CloudFormation rolled back', async () => {
    stack = platformStack({PublicImageCachePrefix: 'herogate-public'}, {})
    const created = {EventId: 'e1', StackId: ID, StackName: 'herogate-platform', LogicalResourceId: 'herogate-platform', ResourceStatus: 'CREATE_COMPLETE' as const, Timestamp: new Date()}
    const failed = {EventId: 'e2', StackId: ID, StackName: 'herogate-platform', LogicalResourceId: 'DataSubnetA', ResourceType: 'AWS::EC2::Subnet', ResourceStatus: 'CREATE_FAILED' as const, ResourceStatusReason: 'The CIDR 10.64.128.0/20 conflicts with another subnet', Timestamp: new Date()}
    cfn.on(UpdateStackCommand).callsFake(() => {
      stack = {...stack, StackStatus: 'UPDATE_ROLLBACK_COMPLETE'}
      return {StackId: ID}
    })
    cfn.on(DescribeStackEventsCommand).callsFake(() => ({StackEvents: stack.StackStatus === 'UPDATE_ROLLBACK_COMPLETE' ? [failed, created] : [created]}))
    try {
      await upgradePlatform(ctx)
      expect.fail('expected StackFailed')
    } catch (error) {
      expect(error).to.be.instanceOf(StackFailed)
      expect((error as Error).message).to.equal('Could not upgrade the herogate platform of us-east-1: DataSubnetA (AWS::EC2::Subnet): The CIDR 10.64.128.0/20 conflicts with another subnet. CloudFormation put it back as it was; apps keep running.')
    }
  })

  it('says there is no platform to upgrade', async () => {
    cfn.on(DescribeStacksCommand).rejects(Object.assign(new Error('Stack with id herogate-platform does not exist'), {name: 'ValidationError', $metadata: {}}))
    try {
      await upgradePlatform(ctx)
      expect.fail('expected a refusal')
    } catch (error) {
      expect((error as Error).message).to.equal('There is no herogate platform in us-east-1.')
    }
  })
})
