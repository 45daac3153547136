import {ACMClient, ListCertificatesCommand, ListTagsForCertificateCommand} from '@aws-sdk/client-acm'
import {DescribeListenerCertificatesCommand, DescribeListenersCommand, DescribeRulesCommand, ElasticLoadBalancingV2Client, type Rule} from '@aws-sdk/client-elastic-load-balancing-v2'
import {CreateHostedZoneCommand, ListResourceRecordSetsCommand, Route53Client} from '@aws-sdk/client-route-53'
import {GetParametersByPathCommand, SSMClient} from '@aws-sdk/client-ssm'
import {expect} from 'chai'
import {execFileSync} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {AwsClients} from '../../../src/aws/clients.js'
import {LoadBalancerFull} from '../../../src/aws/elb.js'
import * as apps from '../../../src/platform/aws/apps.js'
import type {AwsContext} from '../../../src/platform/aws/context.js'
import * as domains from '../../../src/platform/aws/domains.js'
import * as maintenance from '../../../src/platform/aws/maintenance.js'
import {stacksOf} from '../../../src/platform/aws/resources.js'
import {HerogateError, InvalidInput} from '../../../src/lib/errors.js'
import {names} from '../../../src/lib/naming.js'
import type {ProgressEvent} from '../../../src/platform/types.js'
import {validatingAcm} from '../../helpers/acm-standin.js'
import {useMoto} from '../../helpers/moto.js'
import {fakeClock} from './formation.fixture.js'

const REGION = 'us-east-1'
const BUILDSPEC = 'version: 0.2\n'

/**
 * Custom domains on AWS against moto: ACM (through a stand-in that keeps a certificate
 * PENDING_VALIDATION until its validation record is in DNS, as AWS documents), ELBv2 rules and
 * listener certificates, Route 53 zones and records, the platform stack's HTTPS listener.
 */
describe('AWS custom domains against moto', function () {
  this.timeout(120_000)
  useMoto()
  let repo: string
  let ctx: AwsContext
  let clock: ReturnType<typeof fakeClock>
  let limits: {rules?: number; certificates?: number}
  /** Validation records a DNS provider outside AWS has (the user made them there). */
  let outsideDns: Set<string>
  const elb = () => new ElasticLoadBalancingV2Client({region: REGION})

  beforeEach(() => {
    repo = mkdtempSync(join(tmpdir(), 'herogate-domains-'))
    execFileSync('git', ['init', '-q', '-b', 'main'], {cwd: repo})
    clock = fakeClock()
    limits = {}
    outsideDns = new Set()
    const clients = new AwsClients({region: REGION})
    clients.set('acm', validatingAcm(REGION, outsideDns))
    // The account's quotas as a test sets them (moto's are AWS's defaults).
    const elbClient = new ElasticLoadBalancingV2Client({region: REGION})
    elbClient.middlewareStack.add((next, context) => async (args) => {
      const result = await next(args)
      if (context.commandName === 'DescribeAccountLimitsCommand') {
        const out = result.output as {Limits?: Array<{Name?: string; Max?: string}>}
        for (const limit of out.Limits ?? []) {
          if (limit.Name === 'rules-per-application-load-balancer' && limits.rules !== undefined) limit.Max = String(limits.rules)
          if (limit.Name === 'certificates-per-application-load-balancer' && limits.certificates !== undefined) limit.Max = String(limits.certificates)
        }
      }

      return result
    }, {step: 'initialize', name: 'limits'})
    clients.set('elbv2', elbClient)
    ctx = {region: REGION, clients, clock}
  })
  afterEach(() => rmSync(repo, {recursive: true, force: true}))

  const create = (name: string) => apps.createApp(ctx, {name, cwd: repo}, {buildSpec: BUILDSPEC})
  const platformOutputs = async () => (await (await stacksOf(ctx)).describe(names.platformStack()))!.outputs
  const rulesOf = async (listener: string): Promise<Rule[]> => ((await elb().send(new DescribeRulesCommand({ListenerArn: listener}))).Rules ?? []).filter((r) => !r.IsDefault)
  const hostRule = (rules: Rule[], host: string) => rules.find((r) => r.Conditions?.some((c) => c.HostHeaderConfig?.Values?.includes(host)))
  const certificates = async () => (await new ACMClient({region: REGION}).send(new ListCertificatesCommand({}))).CertificateSummaryList ?? []
  const domainParameters = async (app: string) => (await new SSMClient({region: REGION}).send(new GetParametersByPathCommand({Path: names.domainsPath(app)}))).Parameters ?? []

  it('adds a domain whose DNS is elsewhere: certificate pending, HTTP routed to the app, the exact records to create', async () => {
    await create('demo')
    const out = await platformOutputs()
    const {domain, notes} = await domains.addDomain(ctx, 'demo', 'www.example.com')
    expect(domain.status).to.equal('pending')
    expect(domain.url).to.equal('http://www.example.com')
    expect(domain.certificate.status).to.equal('PENDING_VALIDATION')
    const [validation, traffic] = domain.records
    expect(validation).to.include({purpose: 'validation', type: 'CNAME'})
    expect(validation.name).to.match(/^_[0-9a-f]+\.www\.example\.com\.$/)
    expect(validation.value).to.match(/\.acm-validations\.aws\.$/)
    expect(traffic).to.deep.equal({purpose: 'traffic', name: 'www.example.com', type: 'CNAME', value: out.LoadBalancerDnsName})
    expect(notes).to.deep.equal([
      'Create the DNS records above at your DNS provider. ACM issues the certificate once it sees the validation record (it gives up after 72 hours).',
      'Until then www.example.com is served over HTTP once its DNS points at the load balancer. To serve it over HTTPS as soon as the certificate is issued: herogate domains:wait www.example.com -a demo',
    ])
    // The HTTP rule forwards the host to the app's target group.
    const rule = hostRule(await rulesOf(out.HttpListenerArn), 'www.example.com')!
    expect(rule.Actions![0].Type).to.equal('forward')
    expect(rule.Actions![0].TargetGroupArn).to.match(/targetgroup\/hg-demo\//)
    expect(Number(rule.Priority)).to.be.at.least(domains.DOMAIN_PRIORITIES.from)
    // The certificate says whose it is.
    const [summary] = await certificates()
    expect(summary.DomainName).to.equal('www.example.com')
    const tags = (await new ACMClient({region: REGION}).send(new ListTagsForCertificateCommand({CertificateArn: summary.CertificateArn}))).Tags
    expect(tags).to.deep.include.members([{Key: 'herogate:app', Value: 'demo'}, {Key: 'herogate:domain', Value: 'www.example.com'}])
    // domains and certs show it; an apex gets an ALIAS.
    await domains.addDomain(ctx, 'demo', 'example.org')
    const listed = await domains.domains(ctx, 'demo')
    expect(listed.map((d) => [d.hostname, d.status, d.records.find((r) => r.purpose === 'traffic')!.type])).to.deep.equal([['example.org', 'pending', 'ALIAS'], ['www.example.com', 'pending', 'CNAME']])
    expect((await domains.certs(ctx, 'demo')).map((c) => [c.hostname, c.status, c.note])).to.deep.equal([
      ['example.org', 'PENDING_VALIDATION', 'waiting for the validation record in DNS'],
      ['www.example.com', 'PENDING_VALIDATION', 'waiting for the validation record in DNS'],
    ])
  })

  it('domains:wait waits for the validation record, then serves HTTPS (the platform gains its HTTPS listener) and redirects HTTP', async () => {
    await create('demo')
    expect((await platformOutputs()).HttpsListenerArn).to.equal(undefined)
    const {domain} = await domains.addDomain(ctx, 'demo', 'www.example.com')
    const validation = domain.records[0].name
    // Without the record, ACM never issues it: the wait ends at its deadline and says what to create.
    const events: ProgressEvent[] = []
    const error = await domains.waitDomain(ctx, 'demo', 'www.example.com', {timeoutMs: 60_000, onProgress: (e) => events.push(e)}).then(() => undefined, (e: HerogateError) => e)
    expect(error).to.be.instanceOf(HerogateError)
    expect(error!.message).to.equal('The certificate of www.example.com is still waiting for DNS validation: ACM has not seen the validation record yet.')
    expect(error!.suggestions).to.deep.equal([`create the record ${validation} CNAME ${domain.records[0].value} at your DNS provider`, 'herogate domains:wait www.example.com -a demo (again, once DNS has the record)'])
    expect(clock.sleeps.every((ms) => ms === domains.WAIT_POLL_MS)).to.equal(true)
    expect((await domains.domains(ctx, 'demo'))[0].status).to.equal('pending')

    // The user creates it at their DNS provider: the next wait finds the certificate issued.
    outsideDns.add(validation.replace(/\.$/, ''))
    const active = await domains.waitDomain(ctx, 'demo', 'www.example.com', {onProgress: (e) => events.push(e)})
    expect(active.status).to.equal('active')
    expect(active.url).to.equal('https://www.example.com')
    expect(active.certificate.status).to.equal('ISSUED')
    const out = await platformOutputs()
    expect(out.HttpsListenerArn, 'HTTPS listener').to.be.a('string')
    const listener = (await elb().send(new DescribeListenersCommand({ListenerArns: [out.HttpsListenerArn]}))).Listeners![0]
    expect([listener.Port, listener.Protocol]).to.deep.equal([443, 'HTTPS'])
    expect(listener.Certificates?.[0]?.CertificateArn).to.equal(active.certificate.arn)
    expect(hostRule(await rulesOf(out.HttpsListenerArn), 'www.example.com')!.Actions![0].Type).to.equal('forward')
    const http = hostRule(await rulesOf(out.HttpListenerArn), 'www.example.com')!.Actions![0]
    expect(http.Type).to.equal('redirect')
    expect(http.RedirectConfig).to.include({Protocol: 'HTTPS', Port: '443', StatusCode: 'HTTP_301'})

    // A second domain, once issued, is added to the listener as one of its certificates.
    const second = await domains.addDomain(ctx, 'demo', 'api.example.com')
    outsideDns.add(second.domain.records[0].name.replace(/\.$/, ''))
    // Any domains command that finds it issued serves it.
    const listed = await domains.domains(ctx, 'demo')
    expect(listed.map((d) => [d.hostname, d.status])).to.deep.equal([['api.example.com', 'active'], ['www.example.com', 'active']])
    const onListener = (await elb().send(new DescribeListenerCertificatesCommand({ListenerArn: out.HttpsListenerArn}))).Certificates ?? []
    expect(onListener.map((c) => c.CertificateArn)).to.include(listed[0].certificate.arn)

    // Removing the listener's default certificate hands that role to the other domain's.
    await domains.removeDomain(ctx, 'demo', 'www.example.com')
    const after = await platformOutputs()
    const [remaining] = (await elb().send(new DescribeListenersCommand({ListenerArns: [after.HttpsListenerArn]}))).Listeners!
    expect(remaining.Certificates?.[0]?.CertificateArn).to.equal(listed[0].certificate.arn)
    expect(hostRule(await rulesOf(after.HttpsListenerArn), 'www.example.com')).to.equal(undefined)
    expect(hostRule(await rulesOf(after.HttpListenerArn), 'www.example.com')).to.equal(undefined)
    expect((await certificates()).map((c) => c.DomainName)).to.deep.equal(['api.example.com'])
  })

  it('a domain added or served over HTTPS while the app is in maintenance mode gets the 503 rule in front of it too', async () => {
    await create('demo')
    await maintenance.setMaintenance(ctx, 'demo', true)
    const {domain} = await domains.addDomain(ctx, 'demo', 'www.example.com')
    /** The rules for the host on a listener, first answered first: the 503 one, then the domain's. */
    const actionsFor = async (listener: string) => (await rulesOf(listener))
      .filter((rule) => rule.Conditions?.some((c) => c.HostHeaderConfig?.Values?.includes('www.example.com')))
      .sort((a, b) => Number(a.Priority) - Number(b.Priority))
      .map((rule) => rule.Actions![0].Type === 'fixed-response' ? `fixed-response ${rule.Actions![0].FixedResponseConfig?.StatusCode}` : rule.Actions![0].Type)
    expect(await actionsFor((await platformOutputs()).HttpListenerArn)).to.deep.equal(['fixed-response 503', 'forward'])
    outsideDns.add(domain.records[0].name.replace(/\.$/, ''))
    await domains.waitDomain(ctx, 'demo', 'www.example.com')
    const out = await platformOutputs()
    expect(await actionsFor(out.HttpsListenerArn)).to.deep.equal(['fixed-response 503', 'forward'])
    expect(await actionsFor(out.HttpListenerArn)).to.deep.equal(['fixed-response 503', 'redirect'])
    expect((await maintenance.maintenance(ctx, 'demo')).enabled).to.equal(true)
    // Off: every route of the app answers again, the domain's too.
    await maintenance.setMaintenance(ctx, 'demo', false)
    expect(await actionsFor(out.HttpsListenerArn)).to.deep.equal(['forward'])
  })

  it('makes the records itself when the zone is in Route 53 in this account, says so, and removes them with the domain', async () => {
    await create('demo')
    const route53 = new Route53Client({region: 'us-east-1'})
    const zone = (await route53.send(new CreateHostedZoneCommand({Name: 'example.com', CallerReference: 'test'}))).HostedZone!
    const {domain, notes} = await domains.addDomain(ctx, 'demo', 'shop.example.com')
    expect(notes[0]).to.equal('herogate created the DNS records in the Route 53 zone example.com of this account; ACM usually issues the certificate within minutes.')
    expect(domain.records.map((r) => [r.purpose, r.type, r.zone])).to.deep.equal([['validation', 'CNAME', 'example.com'], ['traffic', 'ALIAS', 'example.com']])
    const sets = async () => ((await route53.send(new ListResourceRecordSetsCommand({HostedZoneId: zone.Id}))).ResourceRecordSets ?? []).filter((s) => s.Type === 'CNAME' || s.Type === 'A')
    const made = await sets()
    expect(made.map((s) => [s.Name, s.Type])).to.have.deep.members([[domain.records[0].name, 'CNAME'], ['shop.example.com.', 'A']])
    expect(made.find((s) => s.Type === 'A')!.AliasTarget!.DNSName).to.match(new RegExp(`^${(await platformOutputs()).LoadBalancerDnsName}\\.?$`))
    // The record is in DNS: the certificate is issued at the first wait.
    expect((await domains.waitDomain(ctx, 'demo', 'shop.example.com')).status).to.equal('active')
    expect(clock.sleeps).to.deep.equal([])
    // A second one keeps the HTTPS listener when the first goes; the first one's records go with it.
    const second = await domains.addDomain(ctx, 'demo', 'api.example.com')
    await domains.waitDomain(ctx, 'demo', 'api.example.com')
    await domains.removeDomain(ctx, 'demo', 'shop.example.com')
    expect((await sets()).map((s) => s.Name)).to.have.members([second.domain.records[0].name, 'api.example.com.'])
  })

  it('refuses a domain of another app (naming it), one the app has, and leaves nothing made', async () => {
    await create('demo')
    await create('other')
    await domains.addDomain(ctx, 'other', 'www.example.com')
    const taken = await domains.addDomain(ctx, 'demo', 'www.example.com').then(() => undefined, (e: HerogateError) => e)
    expect(taken).to.be.instanceOf(domains.DomainTaken)
    expect(taken!.message).to.equal('www.example.com is already a domain of other (another app).')
    expect(taken!.suggestions).to.deep.equal(['herogate domains:remove www.example.com -a other (then add it here)'])
    const again = await domains.addDomain(ctx, 'other', 'www.example.com').then(() => undefined, (e: HerogateError) => e)
    expect(again).to.be.instanceOf(InvalidInput)
    expect(again!.message).to.equal('www.example.com is already a domain of other.')
    expect((await certificates()).length).to.equal(1)
    expect(await domainParameters('demo')).to.deep.equal([])
  })

  it('names the app of a domain in maintenance mode (a 503 rule in front) or served over HTTPS (its HTTP rule redirects)', async () => {
    await create('demo')
    await create('other')
    const {domain} = await domains.addDomain(ctx, 'other', 'www.example.com')
    const refusal = async () => (await domains.addDomain(ctx, 'demo', 'www.example.com').then(() => undefined, (e: HerogateError) => e))!
    await maintenance.setMaintenance(ctx, 'other', true)
    expect(await refusal()).to.be.instanceOf(domains.DomainTaken)
    expect((await refusal()).message).to.equal('www.example.com is already a domain of other (another app).')
    await maintenance.setMaintenance(ctx, 'other', false)

    outsideDns.add(domain.records[0].name.replace(/\.$/, ''))
    expect((await domains.waitDomain(ctx, 'other', 'www.example.com')).status).to.equal('active')
    expect((await refusal()).message).to.equal('www.example.com is already a domain of other (another app).')
    expect((await refusal()).suggestions).to.deep.equal(['herogate domains:remove www.example.com -a other (then add it here)'])
  })

  it('refuses host names ACM cannot certify before any call', async () => {
    const long = `${'a'.repeat(60)}.example.com`
    for (const [host, message] of [
      [long, `Invalid domain "${long}": it is ${long.length} characters long, and ACM certificates hold at most 64 in their first domain name.`],
      ['lb.elb.amazonaws.com', 'Invalid domain "lb.elb.amazonaws.com": it is AWS\'s own, and ACM issues no certificate for it.'],
      ['*.example.com', 'Invalid domain "*.example.com": wildcard domains are not supported; add each host name on its own.'],
    ]) {
      const error = await domains.addDomain(ctx, 'demo', host).then(() => undefined, (e: HerogateError) => e)
      expect(error, host).to.be.instanceOf(InvalidInput)
      expect(error!.message).to.equal(message)
    }
  })

  it('checks the load balancer quotas before anything is made', async () => {
    await create('demo')
    const out = await platformOutputs()
    const used = (await rulesOf(out.HttpListenerArn)).length
    limits.rules = used + 1
    const full = await domains.addDomain(ctx, 'demo', 'www.example.com').then(() => undefined, (e: HerogateError) => e)
    expect(full).to.be.instanceOf(LoadBalancerFull)
    expect(full!.message).to.equal(`The shared load balancer of us-east-1 has ${used} of its ${used + 1} rules in use and www.example.com needs 2 (HTTP and HTTPS), so it cannot be added.`)
    expect(await certificates()).to.deep.equal([])

    // Certificates: the listener's default one is not counted; with a quota of 1 a third one does not fit.
    limits.rules = undefined
    limits.certificates = 1
    for (const host of ['www.example.com', 'api.example.com']) {
      const added = await domains.addDomain(ctx, 'demo', host)
      outsideDns.add(added.domain.records[0].name.replace(/\.$/, ''))
      await domains.waitDomain(ctx, 'demo', host)
    }

    const noRoom = await domains.addDomain(ctx, 'demo', 'shop.example.com').then(() => undefined, (e: HerogateError) => e)
    expect(noRoom).to.be.instanceOf(LoadBalancerFull)
    expect(noRoom!.message).to.equal('The HTTPS listener of the shared load balancer of us-east-1 has 1 of its 1 certificates, so the certificate of shop.example.com would not fit.')
    expect((await certificates()).map((c) => c.DomainName).sort()).to.deep.equal(['api.example.com', 'www.example.com'])
  })

  it('destroy removes the app\'s domains: rules, certificate and records', async () => {
    await create('demo')
    await domains.addDomain(ctx, 'demo', 'www.example.com')
    const result = await apps.destroyApp(ctx, 'demo', {cwd: repo})
    expect(result.removed).to.include('domain www.example.com (its rules, certificate)')
    const out = await platformOutputs()
    expect(hostRule(await rulesOf(out.HttpListenerArn), 'www.example.com')).to.equal(undefined)
    expect(await certificates()).to.deep.equal([])
  })
})
