import {
  CloudFormationClient, DescribeStackEventsCommand, DescribeStacksCommand, type StackEvent,
} from '@aws-sdk/client-cloudformation'
import {expect} from 'chai'
import {mockClient} from 'aws-sdk-client-mock'
import {Readable} from 'node:stream'

import {AwsClients} from '../../src/aws/clients.js'
import {CloudFormation, WaitAborted} from '../../src/aws/cloudformation.js'
import type {ProgressEvent} from '../../src/platform/types.js'

const STACK = 'herogate-demo'
const ID = 'arn:aws:cloudformation:us-east-1:123456789012:stack/herogate-demo/abc'

function event(id: string, logical: string, status: string, extra: Partial<StackEvent> = {}): StackEvent {
  return {EventId: id, StackName: STACK, StackId: ID, LogicalResourceId: logical, ResourceStatus: status as never, ResourceType: logical === STACK ? 'AWS::CloudFormation::Stack' : 'AWS::ECR::Repository', Timestamp: new Date(), ...extra}
}

function stack(status: string) {
  return {Stacks: [{StackName: STACK, StackId: ID, StackStatus: status as never, CreationTime: new Date(), Outputs: [{OutputKey: 'WebUrl', OutputValue: 'http://x:10000'}], Tags: [{Key: 'herogate:app', Value: 'demo'}]}]}
}

describe('CloudFormation wrapper', () => {
  const client = new CloudFormationClient({region: 'us-east-1'})
  const mock = mockClient(client)
  let sleeps: number
  const sleep = async () => {
    sleeps++
  }

  beforeEach(() => {
    mock.reset()
    sleeps = 0
  })

  it('streams new events as resource rows, oldest first, until the stack settles', async () => {
    // DescribeStackEvents lists newest first; the second poll sees two more events.
    mock
      .on(DescribeStackEventsCommand)
      .resolvesOnce({StackEvents: [event('e2', 'ImageRepository', 'CREATE_IN_PROGRESS'), event('e1', STACK, 'CREATE_IN_PROGRESS', {ResourceStatusReason: 'User Initiated'}), event('old', STACK, 'DELETE_COMPLETE')]})
      .resolves({StackEvents: [event('e4', STACK, 'CREATE_COMPLETE'), event('e3', 'ImageRepository', 'CREATE_COMPLETE'), event('e2', 'ImageRepository', 'CREATE_IN_PROGRESS'), event('e1', STACK, 'CREATE_IN_PROGRESS'), event('old', STACK, 'DELETE_COMPLETE')]})
    mock.on(DescribeStacksCommand).resolvesOnce(stack('CREATE_IN_PROGRESS')).resolves(stack('CREATE_COMPLETE'))
    const rows: ProgressEvent[] = []
    const final = await new CloudFormation(client, sleep).wait(ID, {
      onProgress: (e) => rows.push(e),
      resources: {ImageRepository: {type: 'AWS::ECR::Repository', description: 'Image repository'}, Hidden: {type: 'AWS::EC2::Route'}},
      stackDescription: 'app demo',
      afterEventId: 'old',
    })
    expect(final).to.include({name: STACK, status: 'CREATE_COMPLETE'})
    expect(final.outputs).to.deep.equal({WebUrl: 'http://x:10000'})
    expect(final.tags).to.deep.equal({'herogate:app': 'demo'})
    expect(sleeps).to.equal(1)
    expect(rows.map((r) => r.kind === 'resource' && [r.id, r.status, r.description])).to.deep.equal([
      [`${STACK}/${STACK}`, 'CREATE_IN_PROGRESS', 'app demo'],
      [`${STACK}/ImageRepository`, 'CREATE_IN_PROGRESS', 'Image repository'],
      [`${STACK}/ImageRepository`, 'CREATE_COMPLETE', 'Image repository'],
      [`${STACK}/${STACK}`, 'CREATE_COMPLETE', 'app demo'],
    ])
  })

  it('shows resources without a description only when they fail, with the reason', async () => {
    mock.on(DescribeStackEventsCommand).resolves({
      StackEvents: [
        event('e3', STACK, 'ROLLBACK_COMPLETE'),
        event('e2', 'Hidden', 'CREATE_FAILED', {ResourceType: 'AWS::EC2::Route', ResourceStatusReason: 'route limit exceeded'}),
        event('e1', 'Hidden', 'CREATE_IN_PROGRESS', {ResourceType: 'AWS::EC2::Route'}),
      ],
    })
    mock.on(DescribeStacksCommand).resolves(stack('ROLLBACK_COMPLETE'))
    const rows: ProgressEvent[] = []
    await new CloudFormation(client, sleep).wait(ID, {onProgress: (e) => rows.push(e), resources: {Hidden: {type: 'AWS::EC2::Route'}}})
    expect(rows).to.deep.include({kind: 'resource', id: `${STACK}/Hidden`, stack: STACK, resourceType: 'AWS::EC2::Route', status: 'CREATE_FAILED', description: 'Hidden', reason: 'route limit exceeded'})
    expect(rows.filter((r) => r.kind === 'resource' && r.id.endsWith('/Hidden'))).to.have.length(1)
  })

  it('names the first resource that failed, not the ones cancelled after it', async () => {
    mock.on(DescribeStackEventsCommand).resolves({
      StackEvents: [
        event('e5', STACK, 'ROLLBACK_COMPLETE'),
        event('e4', 'LogGroup', 'CREATE_FAILED', {ResourceStatusReason: 'Resource creation cancelled'}),
        event('e3', 'TargetGroup', 'CREATE_FAILED', {ResourceType: 'AWS::ElasticLoadBalancingV2::TargetGroup', ResourceStatusReason: 'A target group with the same name exists'}),
        event('e2', STACK, 'CREATE_FAILED', {ResourceStatusReason: 'The following resource(s) failed to create: [TargetGroup]'}),
        event('e1', STACK, 'CREATE_IN_PROGRESS'),
      ],
    })
    const failure = await new CloudFormation(client, sleep).failure(ID)
    expect(failure).to.deep.equal({resource: 'TargetGroup', resourceType: 'AWS::ElasticLoadBalancingV2::TargetGroup', status: 'CREATE_FAILED', reason: 'A target group with the same name exists'})
  })

  it('reads a missing stack as undefined', async () => {
    mock.on(DescribeStacksCommand).rejects(Object.assign(new Error('Stack with id herogate-nope does not exist'), {name: 'ValidationError'}))
    expect(await new CloudFormation(client, sleep).describe('herogate-nope')).to.equal(undefined)
  })

  it('stops waiting when the signal aborts, leaving the operation to AWS', async () => {
    mock.on(DescribeStackEventsCommand).resolves({StackEvents: []})
    mock.on(DescribeStacksCommand).resolves(stack('CREATE_IN_PROGRESS'))
    const controller = new AbortController()
    const abortingSleep = async () => {
      controller.abort(new Error('interrupted'))
      throw new Error('interrupted')
    }

    try {
      await new CloudFormation(client, abortingSleep).wait(ID, {signal: controller.signal})
      expect.fail('expected WaitAborted')
    } catch (error) {
      expect(error).to.be.instanceOf(WaitAborted)
    }
  })
})

describe('CloudFormation calls under throttling', () => {
  it('retries a throttled call (the SDK client config herogate uses) and succeeds', async function () {
    this.timeout(20_000)
    const bodies = [
      [400, '<ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>r1</RequestId></ErrorResponse>'],
      [200, `<DescribeStacksResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><DescribeStacksResult><Stacks><member><StackName>${STACK}</StackName><StackId>${ID}</StackId><StackStatus>CREATE_COMPLETE</StackStatus><CreationTime>2026-11-21T10:00:00Z</CreationTime></member></Stacks></DescribeStacksResult><ResponseMetadata><RequestId>r2</RequestId></ResponseMetadata></DescribeStacksResponse>`],
    ] as const
    let calls = 0
    const requestHandler = {
      async handle() {
        const [statusCode, body] = bodies[Math.min(calls++, 1)]
        return {response: {statusCode, reason: '', headers: {'content-type': 'text/xml'}, body: Readable.from([Buffer.from(body)])}}
      },
    }
    const saved = {key: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY, endpoint: process.env.AWS_ENDPOINT_URL}
    process.env.AWS_ACCESS_KEY_ID = 'AKIDEXAMPLE'
    process.env.AWS_SECRET_ACCESS_KEY = 'secret'
    delete process.env.AWS_ENDPOINT_URL
    try {
      const clients = new AwsClients({region: 'us-east-1', extra: {requestHandler}})
      const found = await new CloudFormation(await clients.cloudFormation(), async () => {}).describe(STACK)
      expect(found?.status).to.equal('CREATE_COMPLETE')
      expect(calls).to.equal(2)
    } finally {
      for (const [key, value] of [['AWS_ACCESS_KEY_ID', saved.key], ['AWS_SECRET_ACCESS_KEY', saved.secret], ['AWS_ENDPOINT_URL', saved.endpoint]] as const) {
        if (value === undefined) delete process.env[key]
        else process.env[key] = value
      }
    }
  })
})
