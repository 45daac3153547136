import {CloudFormationClient, DeleteStackCommand, DescribeStackEventsCommand, DescribeStacksCommand} from '@aws-sdk/client-cloudformation'
import {type AwsClientStub, mockClient} from 'aws-sdk-client-mock'
import {expect} from 'chai'

import {CloudFormation, StackFailed} from '../../../src/aws/cloudformation.js'
import {createFailed, removeFailedCreate} from '../../../src/platform/aws/stack-states.js'
import type {ProgressEvent} from '../../../src/platform/types.js'

const ID = 'arn:aws:cloudformation:eu-west-1:123456789012:stack/herogate-demo--addon-postgres-1/1'
const FAILED = {EventId: 'e2', StackId: ID, StackName: 'herogate-demo--addon-postgres-1', LogicalResourceId: 'Database', ResourceType: 'AWS::RDS::DBInstance', ResourceStatus: 'CREATE_FAILED' as const, ResourceStatusReason: 'DB instance quota exceeded', Timestamp: new Date()}

/**
 * What apps:create (the app's and the platform's stack) and addons:create do with a stack whose
 * create failed: one piece, so the three say it alike. Counted on its CloudFormation calls.
 */
describe('a failed create: its reason read, its stack deleted, one message', () => {
  let cfn: AwsClientStub<CloudFormationClient>
  const stacks = () => new CloudFormation(new CloudFormationClient({region: 'eu-west-1'}), async () => {})

  beforeEach(() => {
    cfn = mockClient(CloudFormationClient)
    cfn.on(DescribeStackEventsCommand).resolves({StackEvents: [FAILED]})
    cfn.on(DeleteStackCommand).resolves({})
  })

  afterEach(() => cfn.restore())

  it('reads the failing resource, deletes the stack by its id and waits until it is gone, showing the deletion\'s progress', async () => {
    cfn.on(DescribeStacksCommand).resolvesOnce({Stacks: [{StackName: 'herogate-demo--addon-postgres-1', StackId: ID, StackStatus: 'DELETE_IN_PROGRESS', CreationTime: new Date()}]})
      .resolves({Stacks: [{StackName: 'herogate-demo--addon-postgres-1', StackId: ID, StackStatus: 'DELETE_COMPLETE', CreationTime: new Date()}]})
    const events: ProgressEvent[] = []
    const controller = new AbortController()
    controller.abort()
    // The create's wait was interrupted: the deletion is waited for all the same.
    const removed = await removeFailedCreate(stacks(), ID, {onProgress: (e) => events.push(e), signal: controller.signal})
    expect(removed).to.deep.equal({failure: {resource: 'Database', resourceType: 'AWS::RDS::DBInstance', status: 'CREATE_FAILED', reason: 'DB instance quota exceeded'}, deleted: true})
    expect(cfn.calls().map((call) => (call.args[0] as object).constructor.name)).to.deep.equal([
      'DescribeStackEventsCommand', 'DeleteStackCommand', 'DescribeStackEventsCommand', 'DescribeStacksCommand', 'DescribeStackEventsCommand', 'DescribeStacksCommand',
    ])
    expect(cfn.commandCalls(DeleteStackCommand)[0].args[0].input).to.deep.equal({StackName: ID})
    expect(events.some((e) => e.kind === 'resource' && e.status === 'CREATE_FAILED')).to.equal(true)
  })

  it('says the stack could not be deleted when its deletion fails, and names it', async () => {
    cfn.on(DescribeStacksCommand).resolves({Stacks: [{StackName: 'herogate-demo--addon-postgres-1', StackId: ID, StackStatus: 'DELETE_FAILED', CreationTime: new Date()}]})
    const removed = await removeFailedCreate(stacks(), ID)
    expect(removed.deleted).to.equal(false)
    const error = createFailed('add-on postgres-1', {name: 'herogate-demo--addon-postgres-1', status: 'ROLLBACK_COMPLETE'}, removed, ['herogate addons:destroy postgres-1 -a demo --confirm demo'])
    expect(error).to.be.instanceOf(StackFailed)
    expect(error.message).to.equal('Could not create add-on postgres-1: Database (AWS::RDS::DBInstance) failed: DB instance quota exceeded. Its stack herogate-demo--addon-postgres-1 could not be deleted.')
    expect(error.stack).to.equal('herogate-demo--addon-postgres-1')
    expect(error.suggestions).to.deep.equal(['herogate addons:destroy postgres-1 -a demo --confirm demo'])
  })

  it('without a failing resource, says how the stack ended', () => {
    const error = createFailed('demo', {name: 'herogate-demo', status: 'ROLLBACK_COMPLETE'}, {deleted: true}, [])
    expect(error.message).to.equal('Could not create demo: stack ended ROLLBACK_COMPLETE. Its stack was deleted.')
    expect(error.failure).to.equal(undefined)
  })
})
