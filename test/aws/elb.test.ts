import {
  CreateRuleCommand, DeleteRuleCommand, DescribeListenersCommand, DescribeLoadBalancersCommand, DescribeRulesCommand, DescribeTagsCommand, DescribeTargetGroupsCommand,
  ElasticLoadBalancingV2Client, ModifyRuleCommand, type RuleCondition, SetRulePrioritiesCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2'
import {mockClient} from 'aws-sdk-client-mock'
import {expect} from 'chai'

import {
  firstFree, hostCondition, LoadBalancer, LoadBalancerFull, PriorityTaken, RulesFull, reusableConditions, sameConditions,
} from '../../src/aws/elb.js'
import {HerogateError} from '../../src/lib/errors.js'

const awsError = (name: string, message = name) => Object.assign(new Error(message), {name, $metadata: {}})

describe('shared load balancer', () => {
  const client = new ElasticLoadBalancingV2Client({region: 'us-east-1'})
  const elb = mockClient(client)
  const lb = new LoadBalancer(client)
  beforeEach(() => elb.reset())

  it('reads listeners across pages, with the target groups their default action forwards to', async () => {
    elb.on(DescribeListenersCommand)
      .resolvesOnce({Listeners: [{ListenerArn: 'arn:l/80', Port: 80, DefaultActions: [{Type: 'fixed-response', FixedResponseConfig: {StatusCode: '404'}}]}], NextMarker: 'm'})
      .resolves({Listeners: [
        {ListenerArn: 'arn:l/10000', Port: 10_000, DefaultActions: [{Type: 'forward', TargetGroupArn: 'arn:tg/a'}]},
        {ListenerArn: 'arn:l/10001', Port: 10_001, DefaultActions: [{Type: 'forward', ForwardConfig: {TargetGroups: [{TargetGroupArn: 'arn:tg/b'}, {TargetGroupArn: 'arn:tg/c'}]}}]},
      ]})
    expect(await lb.listeners('arn:lb')).to.deep.equal([
      {arn: 'arn:l/80', port: 80, defaultForwardsTo: []},
      {arn: 'arn:l/10000', port: 10_000, defaultForwardsTo: ['arn:tg/a']},
      {arn: 'arn:l/10001', port: 10_001, defaultForwardsTo: ['arn:tg/b', 'arn:tg/c']},
    ])
    expect(elb.commandCalls(DescribeListenersCommand)[1].args[0].input).to.deep.equal({LoadBalancerArn: 'arn:lb', Marker: 'm'})
  })

  it('reads rules across pages as every caller needs them: the default rule left out, hosts, forwards and fixed responses', async () => {
    const host: RuleCondition = {Field: 'host-header', Values: ['demo.example.com'], HostHeaderConfig: {Values: ['demo.example.com']}}
    elb.on(DescribeRulesCommand)
      .resolvesOnce({Rules: [
        {RuleArn: 'arn:r/default', Priority: 'default', IsDefault: true, Actions: [{Type: 'fixed-response'}]},
        {RuleArn: 'arn:r/1', Priority: '1', Conditions: [host], Actions: [{Type: 'fixed-response', FixedResponseConfig: {StatusCode: '503', MessageBody: '<h1>Down</h1>'}}]},
      ], NextMarker: 'm'})
      .resolves({Rules: [
        {RuleArn: 'arn:r/2', Priority: '2', Conditions: [host], Actions: [{Type: 'forward', TargetGroupArn: 'arn:tg/demo'}]},
        {RuleArn: 'arn:r/7', Priority: '7', Conditions: [{Field: 'host-header', Values: ['old.example.com']}], Actions: [{Type: 'redirect'}]},
      ]})
    expect(await lb.rules('arn:l/80')).to.deep.equal([
      {arn: 'arn:r/1', listenerArn: 'arn:l/80', priority: 1, conditions: [host], hosts: ['demo.example.com'], forwardsTo: [], fixedResponse: {status: '503', body: '<h1>Down</h1>'}},
      {arn: 'arn:r/2', listenerArn: 'arn:l/80', priority: 2, conditions: [host], hosts: ['demo.example.com'], forwardsTo: ['arn:tg/demo']},
      // Values alone (rules made by older tools) name the hosts too.
      {arn: 'arn:r/7', listenerArn: 'arn:l/80', priority: 7, conditions: [{Field: 'host-header', Values: ['old.example.com']}], hosts: ['old.example.com'], forwardsTo: []},
    ])
    expect(elb.commandCalls(DescribeRulesCommand)[1].args[0].input).to.deep.equal({ListenerArn: 'arn:l/80', Marker: 'm'})
  })

  it('reads the rules of several listeners, each rule with its listener', async () => {
    elb.on(DescribeRulesCommand, {ListenerArn: 'arn:l/80'}).resolves({Rules: [{RuleArn: 'arn:r/a', Priority: '1'}]})
    elb.on(DescribeRulesCommand, {ListenerArn: 'arn:l/443'}).resolves({Rules: [{RuleArn: 'arn:r/b', Priority: '1'}, {RuleArn: 'arn:r/c', Priority: '3'}]})
    const rules = await lb.rulesOf([{arn: 'arn:l/80'}, {arn: 'arn:l/443'}])
    expect(rules.map((r) => [r.listenerArn, r.arn, r.priority])).to.deep.equal([['arn:l/80', 'arn:r/a', 1], ['arn:l/443', 'arn:r/b', 1], ['arn:l/443', 'arn:r/c', 3]])
  })

  it('creates a rule of each action, with its tags, from conditions as DescribeRules gave them', async () => {
    elb.on(CreateRuleCommand).resolves({Rules: [{RuleArn: 'arn:r/new'}]})
    const described: RuleCondition = {Field: 'host-header', Values: ['demo.example.com'], HostHeaderConfig: {Values: ['demo.example.com']}}
    const base = {listenerArn: 'arn:l/80', priority: 4, conditions: [described], tags: {'herogate:app': 'demo'}}
    expect(await lb.createRule({...base, action: {fixedResponse: {status: '503', body: '<h1>Down</h1>'}}})).to.equal('arn:r/new')
    await lb.createRule({...base, conditions: [hostCondition('www.example.com')], action: {forward: 'arn:tg/demo'}})
    await lb.createRule({...base, action: {redirectToHttps: true}})
    const inputs = elb.commandCalls(CreateRuleCommand).map((c) => c.args[0].input)
    expect(inputs[0]).to.deep.equal({
      ListenerArn: 'arn:l/80', Priority: 4,
      // CreateRule refuses Values beside HostHeaderConfig.
      Conditions: [{Field: 'host-header', HostHeaderConfig: {Values: ['demo.example.com']}}],
      Actions: [{Type: 'fixed-response', FixedResponseConfig: {StatusCode: '503', ContentType: 'text/html', MessageBody: '<h1>Down</h1>'}}],
      Tags: [{Key: 'herogate:app', Value: 'demo'}],
    })
    expect(inputs[1].Conditions).to.deep.equal([{Field: 'host-header', HostHeaderConfig: {Values: ['www.example.com']}}])
    expect(inputs[1].Actions).to.deep.equal([{Type: 'forward', TargetGroupArn: 'arn:tg/demo'}])
    expect(inputs[2].Actions).to.deep.equal([{Type: 'redirect', RedirectConfig: {Protocol: 'HTTPS', Port: '443', Host: '#{host}', Path: '/#{path}', Query: '#{query}', StatusCode: 'HTTP_301'}}])
  })

  it('a priority taken meanwhile is PriorityTaken (creating and moving); the quota reached is RulesFull, a LoadBalancerFull', async () => {
    const rule = {listenerArn: 'arn:l/80', priority: 4, conditions: [hostCondition('demo.example.com')], action: {forward: 'arn:tg/demo'}, tags: {}}
    for (const name of ['PriorityInUseException', 'PriorityInUse']) {
      elb.on(CreateRuleCommand).rejects(awsError(name))
      const error = await lb.createRule(rule).catch((e: Error) => e)
      expect(error).to.be.instanceOf(PriorityTaken)
      expect((error as Error).message).to.equal('Rule priority 4 was taken meanwhile.')
    }

    elb.on(SetRulePrioritiesCommand).rejects(awsError('PriorityInUseException'))
    expect(await lb.setPriority('arn:r/1', 9).catch((e: Error) => e)).to.be.instanceOf(PriorityTaken)

    elb.on(CreateRuleCommand).rejects(awsError('TooManyRulesException'))
    const full = await lb.createRule(rule).catch((e: Error) => e)
    expect(full).to.be.instanceOf(RulesFull).and.to.be.instanceOf(LoadBalancerFull)
    expect((full as RulesFull).message).to.equal('The shared load balancer has no room for another rule (its rules-per-load-balancer quota is reached).')

    elb.on(CreateRuleCommand).rejects(awsError('AccessDenied', 'not authorized'))
    const denied = await lb.createRule(rule, 'routing demo.example.com').catch((e: Error) => e)
    expect(denied).to.be.instanceOf(HerogateError).and.not.to.be.instanceOf(PriorityTaken)
    expect((denied as Error).message).to.equal('AWS denied routing demo.example.com on the shared load balancer (AccessDenied: not authorized).')
  })

  it("changes a rule's action, and deletes a rule (one already gone is no error)", async () => {
    elb.on(ModifyRuleCommand).resolves({})
    await lb.setRuleAction('arn:r/1', {redirectToHttps: true})
    await lb.setRuleAction('arn:r/2', {fixedResponse: {status: '503', body: 'b'}})
    expect(elb.commandCalls(ModifyRuleCommand).map((c) => [c.args[0].input.RuleArn, c.args[0].input.Actions![0].Type])).to.deep.equal([['arn:r/1', 'redirect'], ['arn:r/2', 'fixed-response']])

    elb.on(DeleteRuleCommand).rejectsOnce(awsError('RuleNotFoundException')).rejects(awsError('AccessDenied'))
    await lb.deleteRule('arn:r/gone')
    expect(((await lb.deleteRule('arn:r/1').catch((e: Error) => e)) as Error).message).to.equal('AWS denied deleting a rule of the shared load balancer (AccessDenied: AccessDenied).')
  })

  it('reads tags of rules 20 at a time', async () => {
    const arns = Array.from({length: 45}, (_, i) => `arn:r/${i}`)
    elb.on(DescribeTagsCommand).callsFake(({ResourceArns}: {ResourceArns: string[]}) => ({TagDescriptions: ResourceArns.map((arn) => ({ResourceArn: arn, Tags: [{Key: 'n', Value: arn}]}))}))
    const tags = await lb.tags(arns)
    expect(elb.commandCalls(DescribeTagsCommand).map((c) => c.args[0].input.ResourceArns!.length)).to.deep.equal([20, 20, 5])
    expect(tags.size).to.equal(45)
    expect(tags.get('arn:r/44')).to.deep.equal({n: 'arn:r/44'})
  })

  it('finds the load balancers of a target group, its security group and its Route 53 zone', async () => {
    elb.on(DescribeTargetGroupsCommand).resolves({TargetGroups: [{LoadBalancerArns: ['arn:lb']}]})
    expect(await lb.balancersOf('arn:tg/demo')).to.deep.equal(['arn:lb'])
    elb.on(DescribeLoadBalancersCommand).resolves({LoadBalancers: [{LoadBalancerArn: 'arn:lb', SecurityGroups: ['sg-lb'], CanonicalHostedZoneId: 'Z35SXDOTRQ7X7K'}]})
    expect(await lb.securityGroup('arn:lb')).to.equal('sg-lb')
    expect(await lb.canonicalZone('arn:lb')).to.equal('Z35SXDOTRQ7X7K')
  })
})

describe('rule conditions', () => {
  it('reusableConditions keeps the typed form of each condition, and Values where there is no other', () => {
    expect(reusableConditions([
      {Field: 'host-header', Values: ['a.example.com'], HostHeaderConfig: {Values: ['a.example.com']}},
      {Field: 'path-pattern', Values: ['/*']},
    ])).to.deep.equal([{Field: 'host-header', HostHeaderConfig: {Values: ['a.example.com']}}, {Field: 'path-pattern', Values: ['/*']}])
  })

  it('sameConditions ignores the form, the order of conditions and of values', () => {
    const described: RuleCondition[] = [
      {Field: 'host-header', Values: ['a.example.com', 'b.example.com'], HostHeaderConfig: {Values: ['a.example.com', 'b.example.com']}},
      {Field: 'path-pattern', PathPatternConfig: {Values: ['/*']}},
    ]
    expect(sameConditions(described, [{Field: 'path-pattern', PathPatternConfig: {Values: ['/*']}}, {Field: 'host-header', HostHeaderConfig: {Values: ['b.example.com', 'a.example.com']}}])).to.equal(true)
    expect(sameConditions(described, [{Field: 'host-header', HostHeaderConfig: {Values: ['a.example.com', 'b.example.com']}}])).to.equal(false)
    expect(sameConditions([hostCondition('a.example.com')], [hostCondition('c.example.com')])).to.equal(false)
  })
})

describe('firstFree', () => {
  it('picks the lowest free value in a range', () => {
    expect(firstFree([80, 10_000, 10_002], 10_000, 10_999)).to.equal(10_001)
    expect(firstFree([], 10_000, 10_999)).to.equal(10_000)
    expect(firstFree([1, 2, 3], 1, 3)).to.equal(undefined)
  })

  it('or the highest, for a rule just in front of another', () => {
    expect(firstFree([4, 3], 1, 4, 'highest')).to.equal(2)
    expect(firstFree([1, 2], 1, 2, 'highest')).to.equal(undefined)
    // In front of priority 1 there is no room at all.
    expect(firstFree([], 1, 0, 'highest')).to.equal(undefined)
  })
})
