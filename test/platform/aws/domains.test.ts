import {ACMClient, DeleteCertificateCommand, DescribeCertificateCommand, RequestCertificateCommand} from '@aws-sdk/client-acm'
import {CloudFormationClient, DescribeStackEventsCommand, DescribeStacksCommand, type DescribeStacksCommandOutput, UpdateStackCommand} from '@aws-sdk/client-cloudformation'
import {
  CreateRuleCommand, type CreateRuleCommandInput, DeleteRuleCommand, DescribeAccountLimitsCommand, DescribeListenerCertificatesCommand, DescribeListenersCommand, DescribeRulesCommand, DescribeTagsCommand,
  DescribeLoadBalancersCommand, DescribeTargetGroupsCommand, ElasticLoadBalancingV2Client, RemoveListenerCertificatesCommand, type Rule,
} from '@aws-sdk/client-elastic-load-balancing-v2'
import {ChangeResourceRecordSetsCommand, type HostedZone, ListHostedZonesByNameCommand, Route53Client} from '@aws-sdk/client-route-53'
import {DeleteParameterCommand, GetParameterCommand, GetParametersByPathCommand, PutParameterCommand, SSMClient} from '@aws-sdk/client-ssm'
import {mockClient} from 'aws-sdk-client-mock'
import {expect} from 'chai'

import {AwsClients} from '../../../src/aws/clients.js'
import type {DomainRecord} from '../../../src/aws/domain-store.js'
import {HerogateError} from '../../../src/lib/errors.js'
import type {AwsContext} from '../../../src/platform/aws/context.js'
import * as domains from '../../../src/platform/aws/domains.js'
import type {AppResources} from '../../../src/platform/aws/resources.js'
import {installer, PLATFORM_OUTPUTS, REGION} from './apps.fixture.js'
import {fakeClock} from './formation.fixture.js'

const CERT = 'arn:aws:acm:eu-west-1:123456789012:certificate/1'
const HTTPS = 'arn:listener/443'

/** What moto cannot show: the platform update that removes the HTTPS listener, ACM's in-use delay, and an add undone halfway. */
describe('AWS custom domains (mocked AWS)', () => {
  let ctx: AwsContext
  let clock: ReturnType<typeof fakeClock>
  let make: ReturnType<typeof installer>

  beforeEach(() => {
    const clients = new AwsClients({region: REGION})
    make = installer(clients)
    clock = fakeClock()
    ctx = {region: REGION, clients, clock, appResources: async (_ctx, app) => ({app, targetGroupArn: 'arn:aws:elasticloadbalancing:eu-west-1:1:targetgroup/hg-demo/abc'} as AppResources)}
  })

  const platformStack = (outputs: Record<string, string>, status = 'CREATE_COMPLETE'): DescribeStacksCommandOutput => ({
    $metadata: {},
    Stacks: [{StackId: 'arn:stack/herogate-platform', StackName: 'herogate-platform', StackStatus: status as 'CREATE_COMPLETE', CreationTime: new Date(),
      Parameters: [{ParameterKey: 'CertificateArn', ParameterValue: CERT}, {ParameterKey: 'Domain', ParameterValue: ''}],
      Outputs: Object.entries(outputs).map(([OutputKey, OutputValue]) => ({OutputKey, OutputValue}))}],
  })

  /** What an add of www.example.com meets besides the load balancer: no such domain yet, a pending certificate, these Route 53 zones. */
  function addStandIns(zones: HostedZone[] = []) {
    const ssm = mockClient(make('ssm', new SSMClient({region: REGION})))
    ssm.on(GetParameterCommand).rejects(Object.assign(new Error('none'), {name: 'ParameterNotFound'}))
    ssm.on(PutParameterCommand).resolves({})
    const acm = mockClient(make('acm', new ACMClient({region: REGION})))
    acm.on(RequestCertificateCommand).resolves({CertificateArn: CERT})
    acm.on(DescribeCertificateCommand).resolves({Certificate: {CertificateArn: CERT, Status: 'PENDING_VALIDATION', DomainValidationOptions: [{DomainName: 'www.example.com', ResourceRecord: {Name: '_x.www.example.com.', Type: 'CNAME', Value: '_y.acm-validations.aws.'}}]}})
    acm.on(DeleteCertificateCommand).resolves({})
    const route53 = mockClient(make('route53', new Route53Client({region: 'us-east-1'})))
    route53.on(ListHostedZonesByNameCommand).resolves({HostedZones: zones})
    return {ssm, acm, route53}
  }

  it('removing the last domain takes the HTTPS listener away (platform update) before deleting its certificate, waiting while ACM sees it in use', async () => {
    const record: DomainRecord = {hostname: 'www.example.com', createdAt: '2026-11-21T10:00:00.000Z', certificateArn: CERT, httpRuleArn: 'arn:rule/http', httpsRuleArn: 'arn:rule/https', httpsListenerArn: HTTPS}
    const cfn = mockClient(make('cloudformation', new CloudFormationClient({region: REGION})))
    let updated = false
    cfn.on(DescribeStacksCommand).callsFake(() => platformStack(updated ? PLATFORM_OUTPUTS : {...PLATFORM_OUTPUTS, HttpsListenerArn: HTTPS}, updated ? 'UPDATE_COMPLETE' : 'CREATE_COMPLETE'))
    cfn.on(UpdateStackCommand).callsFake(() => {
      updated = true
      return {StackId: 'arn:stack/herogate-platform'}
    })
    cfn.on(DescribeStackEventsCommand).resolves({StackEvents: []})
    const ssm = mockClient(make('ssm', new SSMClient({region: REGION})))
    ssm.on(GetParameterCommand).resolves({Parameter: {Value: JSON.stringify(record)}})
    ssm.on(DeleteParameterCommand).resolves({})
    const elb = mockClient(make('elbv2', new ElasticLoadBalancingV2Client({region: REGION})))
    elb.on(DeleteRuleCommand).resolves({})
    elb.on(DescribeListenerCertificatesCommand).resolves({Certificates: [{CertificateArn: CERT, IsDefault: true}]})
    const acm = mockClient(make('acm', new ACMClient({region: REGION})))
    acm.on(DescribeCertificateCommand).resolves({Certificate: {CertificateArn: CERT, Status: 'ISSUED'}})
    const inUse = Object.assign(new Error('in use'), {name: 'ResourceInUseException'})
    acm.on(DeleteCertificateCommand).rejectsOnce(inUse).resolves({})

    const result = await domains.removeDomain(ctx, 'demo', 'www.example.com')
    expect(result.notes).to.deep.equal([
      'The shared load balancer has no HTTPS listener now: no other domain needs it.',
      'Delete the DNS records of www.example.com at your DNS provider: they point at nothing of demo now.',
    ])
    const update = cfn.commandCalls(UpdateStackCommand)[0].args[0].input
    expect(update.UsePreviousTemplate).to.equal(true)
    expect(update.Parameters).to.deep.include({ParameterKey: 'CertificateArn', ParameterValue: ''})
    expect(update.Parameters).to.deep.include({ParameterKey: 'Domain', ParameterValue: ''})
    // The default certificate is the stack's: not removed from the listener by hand.
    expect(elb.commandCalls(RemoveListenerCertificatesCommand)).to.have.length(0)
    expect(elb.commandCalls(DeleteRuleCommand).map((c) => c.args[0].input.RuleArn)).to.deep.equal(['arn:rule/https', 'arn:rule/http'])
    expect(acm.commandCalls(DeleteCertificateCommand)).to.have.length(2)
    expect(clock.sleeps.at(-1)).to.equal(10_000)
    expect(ssm.commandCalls(DeleteParameterCommand)).to.have.length(1)
  })

  it('an add that fails halfway removes what it made and records nothing', async () => {
    const cfn = mockClient(make('cloudformation', new CloudFormationClient({region: REGION})))
    cfn.on(DescribeStacksCommand).resolves(platformStack(PLATFORM_OUTPUTS))
    const {ssm, acm} = addStandIns()
    const elb = mockClient(make('elbv2', new ElasticLoadBalancingV2Client({region: REGION})))
    elb.on(DescribeListenersCommand).resolves({Listeners: [{ListenerArn: 'arn:listener/80', Port: 80}]})
    elb.on(DescribeRulesCommand).resolves({Rules: [{RuleArn: 'arn:rule/default', IsDefault: true, Priority: 'default'}]})
    elb.on(DescribeAccountLimitsCommand).resolves({Limits: []})
    elb.on(CreateRuleCommand).rejects(Object.assign(new Error('denied'), {name: 'AccessDenied'}))

    const error = await domains.addDomain(ctx, 'demo', 'www.example.com').then(() => undefined, (e: HerogateError) => e)
    expect(error).to.be.instanceOf(HerogateError)
    expect(error!.message).to.match(/^AWS denied routing www\.example\.com on the shared load balancer \(AccessDenied/)
    expect(acm.commandCalls(DeleteCertificateCommand).map((c) => c.args[0].input.CertificateArn)).to.deep.equal([CERT])
    expect(ssm.commandCalls(PutParameterCommand)).to.have.length(0)
  })

  it('a rule priority another rule took meanwhile is picked again (ELB\'s PriorityInUseException)', async () => {
    mockClient(make('cloudformation', new CloudFormationClient({region: REGION}))).on(DescribeStacksCommand).resolves(platformStack(PLATFORM_OUTPUTS))
    addStandIns()
    const elb = mockClient(make('elbv2', new ElasticLoadBalancingV2Client({region: REGION})))
    elb.on(DescribeListenersCommand).resolves({Listeners: [{ListenerArn: 'arn:listener/80', Port: 80}]})
    elb.on(DescribeRulesCommand).resolves({Rules: []})
    elb.on(DescribeAccountLimitsCommand).resolves({Limits: []})
    elb.on(CreateRuleCommand).rejectsOnce(Object.assign(new Error('The specified priority is in use.'), {name: 'PriorityInUseException'})).resolves({Rules: [{RuleArn: 'arn:rule/http'}]})
    // Whether the app is in maintenance mode: its target group, on no load balancer here.
    elb.on(DescribeTargetGroupsCommand).resolves({TargetGroups: [{LoadBalancerArns: []}]})

    await domains.addDomain(ctx, 'demo', 'www.example.com')
    expect(elb.commandCalls(CreateRuleCommand).map((c) => c.args[0].input.Priority)).to.deep.equal([domains.DOMAIN_PRIORITIES.from, domains.DOMAIN_PRIORITIES.from + 1])
  })

  it('a domain added while its app is in maintenance mode gets the 503 rule in front, also when another rule took that priority meanwhile', async () => {
    const group = 'arn:aws:elasticloadbalancing:eu-west-1:1:targetgroup/hg-demo/abc'
    mockClient(make('cloudformation', new CloudFormationClient({region: REGION}))).on(DescribeStacksCommand).resolves(platformStack(PLATFORM_OUTPUTS))
    const {acm} = addStandIns()
    // The shared HTTP listener as ELB keeps it: demo's own host rule with its maintenance rule in front.
    const host = (name: string) => [{Field: 'host-header', HostHeaderConfig: {Values: [name]}}]
    const maintenancePage = {Type: 'fixed-response' as const, FixedResponseConfig: {StatusCode: '503', ContentType: 'text/html', MessageBody: '<h1>Down</h1>'}}
    const rules: Rule[] = [
      {RuleArn: 'arn:rule/gate', Priority: '1', Conditions: host('demo.apps.example.com'), Actions: [maintenancePage]},
      {RuleArn: 'arn:rule/demo', Priority: '2', Conditions: host('demo.apps.example.com'), Actions: [{Type: 'forward', TargetGroupArn: group}]},
    ]
    const tags = new Map<string, Array<{Key: string; Value: string}>>([['arn:rule/gate', [{Key: 'herogate:app', Value: 'demo'}, {Key: 'herogate:maintenance', Value: 'demo'}]]])
    const elb = mockClient(make('elbv2', new ElasticLoadBalancingV2Client({region: REGION})))
    elb.on(DescribeTargetGroupsCommand).resolves({TargetGroups: [{TargetGroupArn: group, LoadBalancerArns: ['arn:lb']}]})
    elb.on(DescribeListenersCommand).resolves({Listeners: [{ListenerArn: 'arn:listener/80', Port: 80, DefaultActions: [{Type: 'fixed-response', FixedResponseConfig: {StatusCode: '404'}}]}]})
    elb.on(DescribeRulesCommand).callsFake(() => ({Rules: [{RuleArn: 'arn:rule/default', IsDefault: true, Priority: 'default'}, ...rules]}))
    elb.on(DescribeTagsCommand).callsFake(({ResourceArns}: {ResourceArns: string[]}) => ({TagDescriptions: ResourceArns.map((arn) => ({ResourceArn: arn, Tags: tags.get(arn) ?? []}))}))
    elb.on(DescribeAccountLimitsCommand).resolves({Limits: []})
    let collided = false
    elb.on(CreateRuleCommand).callsFake((input: CreateRuleCommandInput) => {
      // The maintenance rule's first try: another app's create took its priority a moment before.
      if (input.Actions![0].Type === 'fixed-response' && !collided) {
        collided = true
        throw Object.assign(new Error('The specified priority is in use.'), {name: 'PriorityInUseException'})
      }

      const arn = `arn:rule/${rules.length + 1}`
      rules.push({RuleArn: arn, Priority: String(input.Priority), Conditions: input.Conditions, Actions: input.Actions})
      tags.set(arn, input.Tags as Array<{Key: string; Value: string}>)
      return {Rules: [{RuleArn: arn}]}
    })

    await domains.addDomain(ctx, 'demo', 'www.example.com')
    expect(collided).to.equal(true)
    const www = rules.filter((rule) => rule.Conditions![0].HostHeaderConfig!.Values![0] === 'www.example.com').sort((a, b) => Number(a.Priority) - Number(b.Priority))
    expect(www.map((rule) => [Number(rule.Priority), rule.Actions![0].Type, rule.Actions![0].FixedResponseConfig?.MessageBody])).to.deep.equal([
      [domains.DOMAIN_PRIORITIES.from - 1, 'fixed-response', '<h1>Down</h1>'],
      [domains.DOMAIN_PRIORITIES.from, 'forward', undefined],
    ])
    expect(acm.commandCalls(DeleteCertificateCommand)).to.have.length(0)
  })

  it("names the load balancer's Route 53 zone in the ALIAS record as the platform stack publishes it; asks ELB only for a platform made before that output", async () => {
    const cfn = mockClient(make('cloudformation', new CloudFormationClient({region: REGION})))
    const {route53} = addStandIns([{Id: '/hostedzone/ZEXAMPLE', Name: 'example.com.', CallerReference: 'x'}])
    const elb = mockClient(make('elbv2', new ElasticLoadBalancingV2Client({region: REGION})))
    elb.on(DescribeListenersCommand).resolves({Listeners: [{ListenerArn: 'arn:listener/80', Port: 80}]})
    elb.on(DescribeRulesCommand).resolves({Rules: []})
    elb.on(DescribeAccountLimitsCommand).resolves({Limits: []})
    elb.on(CreateRuleCommand).resolves({Rules: [{RuleArn: 'arn:rule/http'}]})
    elb.on(DescribeTargetGroupsCommand).resolves({TargetGroups: [{LoadBalancerArns: []}]})
    elb.on(DescribeLoadBalancersCommand).resolves({LoadBalancers: [{LoadBalancerArn: 'arn:lb', CanonicalHostedZoneId: 'Z-FROM-ELB'}]})
    route53.on(ChangeResourceRecordSetsCommand).resolves({})
    const aliasZone = async (outputs: Record<string, string>) => {
      cfn.on(DescribeStacksCommand).resolves(platformStack(outputs))
      route53.resetHistory()
      await domains.addDomain(ctx, 'demo', 'www.example.com')
      const changes = route53.commandCalls(ChangeResourceRecordSetsCommand)[0].args[0].input.ChangeBatch!.Changes!
      return changes.find((c) => c.ResourceRecordSet!.Type === 'A')!.ResourceRecordSet!.AliasTarget!.HostedZoneId
    }

    expect(await aliasZone({...PLATFORM_OUTPUTS, LoadBalancerCanonicalHostedZoneId: 'Z-PUBLISHED'})).to.equal('Z-PUBLISHED')
    expect(elb.commandCalls(DescribeLoadBalancersCommand)).to.have.length(0)
    expect(await aliasZone(PLATFORM_OUTPUTS)).to.equal('Z-FROM-ELB')
    expect(elb.commandCalls(DescribeLoadBalancersCommand).map((c) => c.args[0].input)).to.deep.equal([{LoadBalancerArns: ['arn:lb']}])
  })

  it('adds no HTTPS listener to a platform whose own domain has no certificate (its apps would be redirected to a wrong one)', async () => {
    const record: DomainRecord = {hostname: 'www.example.com', createdAt: '2026-11-21T10:00:00.000Z', certificateArn: CERT, httpRuleArn: 'arn:rule/http'}
    const cfn = mockClient(make('cloudformation', new CloudFormationClient({region: REGION})))
    cfn.on(DescribeStacksCommand).resolves(platformStack({...PLATFORM_OUTPUTS, Domain: 'apps.example.com'}))
    mockClient(make('ssm', new SSMClient({region: REGION}))).on(GetParameterCommand).resolves({Parameter: {Value: JSON.stringify(record)}})
    const elb = mockClient(make('elbv2', new ElasticLoadBalancingV2Client({region: REGION})))
    mockClient(make('acm', new ACMClient({region: REGION}))).on(DescribeCertificateCommand).resolves({Certificate: {CertificateArn: CERT, Status: 'ISSUED'}})
    const error = await domains.waitDomain(ctx, 'demo', 'www.example.com').then(() => undefined, (e: HerogateError) => e)
    expect(error!.message).to.equal('www.example.com has its certificate, but the platform\'s domain apps.example.com has none, so herogate does not add an HTTPS listener: apps at APP.apps.example.com would be redirected to HTTPS without a certificate for them. www.example.com stays on HTTP.')
    expect(cfn.commandCalls(UpdateStackCommand)).to.have.length(0)
    expect(elb.calls()).to.have.length(0)
    // A listing still lists it (on HTTP), saying why.
    mockClient(make('ssm', new SSMClient({region: REGION}))).on(GetParametersByPathCommand).resolves({Parameters: [{Name: '/herogate/demo/domains/www.example.com', Value: JSON.stringify(record)}]})
    const warnings: string[] = []
    const listed = await domains.domains(ctx, 'demo', {onProgress: (e) => e.kind === 'warning' && warnings.push(e.message)})
    expect(listed.map((d) => [d.hostname, d.status, d.url])).to.deep.equal([['www.example.com', 'pending', 'http://www.example.com']])
    expect(warnings).to.deep.equal([error!.message])
  })

  it('a certificate ACM gave up on is a failure that says why and what to do', async () => {
    const record: DomainRecord = {hostname: 'www.example.com', createdAt: '2026-11-21T10:00:00.000Z', certificateArn: CERT, httpRuleArn: 'arn:rule/http'}
    mockClient(make('cloudformation', new CloudFormationClient({region: REGION}))).on(DescribeStacksCommand).resolves(platformStack(PLATFORM_OUTPUTS))
    mockClient(make('ssm', new SSMClient({region: REGION}))).on(GetParameterCommand).resolves({Parameter: {Value: JSON.stringify(record)}})
    mockClient(make('elbv2', new ElasticLoadBalancingV2Client({region: REGION})))
    mockClient(make('acm', new ACMClient({region: REGION}))).on(DescribeCertificateCommand).resolves({Certificate: {CertificateArn: CERT, Status: 'VALIDATION_TIMED_OUT'}})
    const error = await domains.waitDomain(ctx, 'demo', 'www.example.com').then(() => undefined, (e: HerogateError) => e)
    expect(error!.message).to.equal('www.example.com cannot be served over HTTPS: the certificate is VALIDATION_TIMED_OUT.')
    expect(error!.suggestions).to.deep.equal(['herogate domains:remove www.example.com -a demo --confirm demo, then herogate domains:add www.example.com -a demo (a new certificate)'])
  })
})
