import {CloudFormationClient, DeleteStackCommand, DescribeStackEventsCommand, DescribeStacksCommand, UpdateStackCommand} from '@aws-sdk/client-cloudformation'
import {GetParametersCommand, SSMClient} from '@aws-sdk/client-ssm'
import {type AwsClientStub, mockClient} from 'aws-sdk-client-mock'
import {expect} from 'chai'

import {AwsClients} from '../../../src/aws/clients.js'
import {names} from '../../../src/lib/naming.js'
import type {AwsContext} from '../../../src/platform/aws/context.js'
import {appResources, commandContext, loadAppResources, resourcesRead, stacksOf} from '../../../src/platform/aws/resources.js'
import {installer, PLATFORM_OUTPUTS, REGION} from './apps.fixture.js'

const arn = (name: string) => `arn:aws:cloudformation:${REGION}:123456789012:stack/${name}/0b1c2d3e-0000-4000-8000-000000000001`

/**
 * The context of one command (the driver makes one per call) reads an app's resources once for
 * all the parts of the command that need them, and again after the command changes a stack
 * they come from: create, destroy, platform:upgrade and an add-on's app upgrade never go on
 * with what was read before the change. Counted on the AWS calls (mocked SSM, CloudFormation).
 */
describe('a command\'s context: an app\'s resources read once, until a stack they come from changes', () => {
  let cfn: AwsClientStub<CloudFormationClient>
  let ssm: AwsClientStub<SSMClient>
  let base: AwsContext
  /** The app stacks' task groups: a change of the stack gives it a new one. */
  const groups: Record<string, string> = {}

  beforeEach(() => {
    const clients = new AwsClients({region: REGION})
    const make = installer(clients)
    cfn = mockClient(make('cloudformation', new CloudFormationClient({region: REGION})))
    ssm = mockClient(make('ssm', new SSMClient({region: REGION})))
    // No app publishes its resources here: they are read from both stacks (the costlier way).
    ssm.on(GetParametersCommand).resolves({Parameters: []})
    const stack = (name: string, outputs: Record<string, string>, status = 'UPDATE_COMPLETE') => ({
      Stacks: [{StackName: name, StackId: arn(name), StackStatus: status as never, CreationTime: new Date(), Outputs: Object.entries(outputs).map(([OutputKey, OutputValue]) => ({OutputKey, OutputValue})), Tags: [{Key: names.appTag(), Value: name.replace(/^herogate-/, '')}]}],
    })
    cfn.on(DescribeStacksCommand).callsFake(({StackName}: {StackName: string}) => {
      const name = StackName.startsWith('arn:') ? StackName.split('/')[1] : StackName
      if (name === names.platformStack()) return stack(name, PLATFORM_OUTPUTS)
      const app = name.replace(/^herogate-/, '').replace(/--addon-.*$/, '')
      return stack(name, name.includes('--addon-') ? {} : {Cluster: 'herogate-cluster', TaskSecurityGroup: groups[app], ExecutionRoleArn: 'arn:exec', TaskRoleArn: 'arn:task', TargetGroupArn: `arn:tg/${app}`})
    })
    cfn.on(UpdateStackCommand).callsFake(({StackName}: {StackName: string}) => {
      const app = StackName.split('/')[1].replace(/^herogate-/, '')
      if (groups[app]) groups[app] = `${groups[app]}+`
      return {StackId: StackName}
    })
    cfn.on(DeleteStackCommand).resolves({})
    cfn.on(DescribeStackEventsCommand).resolves({StackEvents: []})
    Object.assign(groups, {demo: 'sg-demo', other: 'sg-other'})
    base = {region: REGION, clients, clock: {now: () => new Date(), sleep: async () => {}}}
  })

  afterEach(() => {
    cfn.restore()
    ssm.restore()
  })

  const describedStacks = () => cfn.commandCalls(DescribeStacksCommand).map((call) => call.args[0].input.StackName)
  const reads = () => ssm.commandCalls(GetParametersCommand).length

  it('reads them once for every part of the command that asks, side by side or one after another', async () => {
    const ctx = commandContext(base)
    const [first, second] = await Promise.all([appResources(ctx, 'demo'), appResources(ctx, 'demo')])
    const third = await appResources(ctx, 'demo')
    expect(first.securityGroup).to.equal('sg-demo')
    expect([second, third]).to.deep.equal([first, first])
    expect(reads()).to.equal(1)
    expect(describedStacks().sort()).to.deep.equal(['herogate-demo', 'herogate-platform'])
  })

  it('reads them anew after the command changes the app\'s stack (by its id), with what the change made', async () => {
    const ctx = commandContext(base)
    expect((await appResources(ctx, 'demo')).securityGroup).to.equal('sg-demo')
    const stacks = await stacksOf(ctx)
    await stacks.update({id: arn('herogate-demo'), templateBody: 'x', parameters: {}})
    expect((await appResources(ctx, 'demo')).securityGroup).to.equal('sg-demo+')
    // A wait on the stack that ends (a change this command did not start) makes it read them again too.
    await stacks.wait(arn('herogate-demo'))
    await appResources(ctx, 'demo')
    expect(reads()).to.equal(3)
  })

  it('keeps them over a change of another stack (an add-on\'s, another app\'s); the platform\'s changing forgets every app\'s', async () => {
    const ctx = commandContext(base)
    await Promise.all([appResources(ctx, 'demo'), appResources(ctx, 'other')])
    const stacks = await stacksOf(ctx)
    await stacks.delete(arn(names.addonStack('demo', 'postgres-1')))
    await stacks.update({id: arn('herogate-other'), templateBody: 'x', parameters: {}})
    expect((await appResources(ctx, 'demo')).securityGroup).to.equal('sg-demo')
    expect((await appResources(ctx, 'other')).securityGroup).to.equal('sg-other+')
    expect(reads()).to.equal(3)
    await stacks.update({id: arn(names.platformStack()), templateBody: 'x', parameters: {}})
    await Promise.all([appResources(ctx, 'demo'), appResources(ctx, 'other')])
    expect(reads()).to.equal(5)
  })

  it('takes the parameter a caller read with others (the lock\'s read) over what it read before, and keeps it', async () => {
    const ctx = commandContext(base)
    await appResources(ctx, 'demo')
    const published = {cluster: 'herogate-cluster', subnets: 'subnet-a', securityGroup: 'sg-published', executionRoleArn: 'arn:exec', taskRoleArn: 'arn:task', logGroup: '/herogate/demo'}
    const found = new Map([[names.appResourcesParameter('demo'), {Name: names.appResourcesParameter('demo'), Value: JSON.stringify(published)}]])
    expect((await resourcesRead(ctx, 'demo', found)).securityGroup).to.equal('sg-published')
    expect((await appResources(ctx, 'demo')).securityGroup).to.equal('sg-published')
    expect(reads()).to.equal(1)
  })

  it('keeps no failed read: what the command does next (a retry, a wait) reads them again', async () => {
    let loads = 0
    const ctx = commandContext({...base, appResources: async (c, app) => {
      if (++loads === 1) throw new Error('Rate exceeded')
      return loadAppResources(c, app)
    }})
    let failed: Error | undefined
    await appResources(ctx, 'demo').catch((error: Error) => (failed = error))
    expect(failed?.message).to.equal('Rate exceeded')
    expect((await appResources(ctx, 'demo')).securityGroup).to.equal('sg-demo')
    await appResources(ctx, 'demo')
    expect(loads).to.equal(2)
  })

  it('a context that is no command\'s (the release code, a direct call) reads them each time, as before', async () => {
    await appResources(base, 'demo')
    await appResources(base, 'demo')
    expect(reads()).to.equal(2)
  })
})
