import {DescribeListenersCommand, DescribeRulesCommand, ElasticLoadBalancingV2Client} from '@aws-sdk/client-elastic-load-balancing-v2'
import {mockClient} from 'aws-sdk-client-mock'
import {expect} from 'chai'

import {LoadBalancer, lowestFree} from '../../src/aws/elb.js'

describe('shared load balancer', () => {
  const client = new ElasticLoadBalancingV2Client({region: 'us-east-1'})
  const elb = mockClient(client)
  beforeEach(() => elb.reset())

  it('reads listener ports across pages', async () => {
    elb.on(DescribeListenersCommand).resolvesOnce({Listeners: [{Port: 80}, {Port: 10_000}], NextMarker: 'm'}).resolves({Listeners: [{Port: 10_002}]})
    expect(await new LoadBalancer(client).listenerPorts('arn:lb')).to.deep.equal([80, 10_000, 10_002])
    expect(elb.commandCalls(DescribeListenersCommand)[1].args[0].input).to.deep.equal({LoadBalancerArn: 'arn:lb', Marker: 'm'})
  })

  it('reads rule priorities, skipping the default rule', async () => {
    elb.on(DescribeRulesCommand).resolves({Rules: [{Priority: 'default'}, {Priority: '2'}, {Priority: '7'}]})
    expect(await new LoadBalancer(client).rulePriorities('arn:listener')).to.deep.equal([2, 7])
  })

  it('picks the lowest free value in a range', () => {
    expect(lowestFree([80, 10_000, 10_002], 10_000, 10_999)).to.equal(10_001)
    expect(lowestFree([], 10_000, 10_999)).to.equal(10_000)
    expect(lowestFree([1, 2, 3], 1, 3)).to.equal(undefined)
  })
})
