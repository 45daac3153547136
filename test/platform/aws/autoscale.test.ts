import {ApplicationAutoScalingClient, DescribeScalableTargetsCommand} from '@aws-sdk/client-application-auto-scaling'
import {mockClient} from 'aws-sdk-client-mock'
import {expect} from 'chai'

import {AwsClients} from '../../../src/aws/clients.js'
import {HerogateError} from '../../../src/lib/errors.js'
import {autoscaling} from '../../../src/platform/aws/autoscale.js'
import type {AwsContext} from '../../../src/platform/aws/context.js'
import {fakeResources} from './standin.fixture.js'

/** What moto cannot answer: Application Auto Scaling refusing the caller, or failing. */
describe('AWS autoscaling reads (mocked Application Auto Scaling)', () => {
  function context(error: Error): AwsContext {
    const client = new ApplicationAutoScalingClient({region: 'us-east-1'})
    mockClient(client).on(DescribeScalableTargetsCommand).rejects(error)
    const clients = new AwsClients({region: 'us-east-1'})
    clients.set('application-autoscaling', client)
    return {region: 'us-east-1', clients, clock: {now: () => new Date(), sleep: async () => {}}, appResources: async (_ctx, app) => fakeResources(app)}
  }

  const named = (name: string) => Object.assign(new Error(`${name} happened`), {name})

  it('reads none when the credentials may not read it (a user policy from before ps:autoscale): ps, scale and info work as before', async () => {
    expect(await autoscaling(context(named('AccessDeniedException')), 'demo')).to.deep.equal([])
  })

  it('says what failed otherwise', async () => {
    const error = await autoscaling(context(named('InternalServiceException')), 'demo').catch((caught) => caught)
    expect(error).to.be.instanceOf(HerogateError)
    expect(error.message).to.equal('AWS failed reading the autoscaling of the app: InternalServiceException: InternalServiceException happened.')
  })
})
