import {Certificates, CertificateInUse, type CertificateState} from '../../aws/acm.js'
import {type StackSummary, WaitAborted} from '../../aws/cloudformation.js'
import {DomainStore, type DomainRecord} from '../../aws/domain-store.js'
import {firstFree, hostCondition, type ListenerRule, LoadBalancer, LoadBalancerFull, PriorityTaken, type RuleAction} from '../../aws/elb.js'
import {Dns, type ZoneRecord} from '../../aws/route53.js'
import {HerogateError, Interrupted, InvalidInput, StackBusy} from '../../lib/errors.js'
import {validateHostname} from '../../lib/hostname.js'
import {names} from '../../lib/naming.js'
import {stepper} from '../../lib/progress.js'
import type {Certificate, DnsRecord, Domain, DomainResult, DomainWaitOptions} from '../domains.js'
import type {OperationOptions, Progress} from '../types.js'
import type {AwsContext} from './context.js'
import {coverNewRoutes} from './maintenance.js'
import {appResources, stacksOf} from './resources.js'
import {checkRuleRoom, higherQuota, loadBalancerZone} from './shared-balancer.js'

/**
 * Custom domains on AWS. domains:add requests an ACM certificate validated by DNS and adds a
 * host-header rule on the shared load balancer's HTTP listener that forwards to the app, so
 * the host is served as soon as its DNS points at the load balancer. Once ACM has issued the
 * certificate (domains:wait, or any domains command that finds it issued), the certificate
 * is added to the HTTPS listener (the platform stack gets that listener, through its
 * CertificateArn parameter, when it has none), an HTTPS rule forwards the host to the app and
 * the HTTP rule redirects to HTTPS. What was made is kept in SSM (aws/domain-store.ts).
 */

/** Priorities of domain rules: above those of apps' own rules (from 1), so both find room. */
export const DOMAIN_PRIORITIES = {from: 30_000, to: 50_000}
/** ACM: the first domain name of a certificate (its common name) is at most 64 characters. */
export const ACM_NAME_MAX = 64
/** ACM fills in the validation record a few seconds after the request. */
const RECORD_WAIT_MS = 60_000
const RECORD_POLL_MS = 2000
export const WAIT_POLL_MS = 15_000
export const DEFAULT_WAIT_MS = 30 * 60_000
/** ACM sees a certificate in use for a while after its listener let go of it. */
const DELETE_WAIT_MS = 5 * 60_000
const DELETE_POLL_MS = 10_000
/** Certificate statuses that no longer change into ISSUED. */
const FAILED = new Set(['FAILED', 'VALIDATION_TIMED_OUT', 'REVOKED', 'EXPIRED', 'INACTIVE'])

/** The host is routed to another app (or by a rule herogate did not make). */
export class DomainTaken extends HerogateError {}

/** The shared pieces a domain operation uses. */
interface Shared {
  ctx: AwsContext
  app: string
  lb: LoadBalancer
  acm: Certificates
  store: DomainStore
  platform: StackSummary
}

async function shared(ctx: AwsContext, app: string): Promise<Shared & {targetGroupArn: string}> {
  const resources = await appResources(ctx, app)
  const stacks = await stacksOf(ctx)
  const platform = await stacks.describe(names.platformStack())
  if (!platform?.outputs.LoadBalancerArn) {
    throw new HerogateError(`The herogate platform stack of ${ctx.region} is ${platform ? platform.status : 'missing'}.`, {suggestions: [`herogate create --region ${ctx.region} (recreates the platform)`]})
  }

  return {
    ctx,
    app,
    lb: new LoadBalancer(await ctx.clients.elbv2()),
    acm: new Certificates(await ctx.clients.acm()),
    store: new DomainStore(await ctx.clients.ssm()),
    platform,
    targetGroupArn: resources.targetGroupArn,
  }
}

export async function domains(ctx: AwsContext, app: string, options: OperationOptions = {}): Promise<Domain[]> {
  const s = await shared(ctx, app)
  const found: Domain[] = []
  // One at a time: activations pick rule priorities on the same listeners.
  for (let record of await s.store.list(app)) {
    let certificate = await s.acm.describe(record.certificateArn)
    // Issued since the last look: served over HTTPS from now on.
    if (!record.httpsRuleArn && certificate?.status === 'ISSUED') {
      try {
        record = await activate(s, record, s.targetGroupArn, options.onProgress ?? (() => {}), options.signal)
        certificate = await s.acm.describe(record.certificateArn)
      } catch (error) {
        // A listing lists: what kept the domain from HTTPS is said, and domains:wait tries again.
        if (!(error instanceof HerogateError) || error instanceof Interrupted) throw error
        options.onProgress?.({kind: 'warning', message: error.message})
      }
    }

    found.push(toDomain(record, certificate, s.platform.outputs.LoadBalancerDnsName ?? ''))
  }

  return found
}

export async function certs(ctx: AwsContext, app: string, options: OperationOptions = {}): Promise<Certificate[]> {
  return (await domains(ctx, app, options)).map((domain) => domain.certificate)
}

/** The host name as AWS takes it: valid, short enough for an ACM certificate, not one of AWS's own. */
export function checkAwsHostname(hostname: string): string {
  validateHostname(hostname)
  if (hostname.length > ACM_NAME_MAX) {
    throw new InvalidInput(`Invalid domain "${hostname}": it is ${hostname.length} characters long, and ACM certificates hold at most ${ACM_NAME_MAX} in their first domain name.`, {
      suggestions: ['herogate domains:add with a shorter host name'],
    })
  }

  if (/(^|\.)amazonaws\.com$/.test(hostname)) {
    throw new InvalidInput(`Invalid domain "${hostname}": it is AWS's own, and ACM issues no certificate for it.`, {suggestions: ['herogate domains:add www.example.com (a domain you own)']})
  }

  return hostname
}

export async function addDomain(ctx: AwsContext, app: string, hostname: string, options: OperationOptions = {}): Promise<DomainResult> {
  checkAwsHostname(hostname)
  const progress: Progress = options.onProgress ?? (() => {})
  const s = await shared(ctx, app)
  if (await s.store.get(app, hostname)) {
    throw new InvalidInput(`${hostname} is already a domain of ${app}.`, {suggestions: [`herogate domains -a ${app}`, `herogate domains:wait ${hostname} -a ${app}`]})
  }

  const {lb, acm, store, platform} = s
  const httpListener = platform.outputs.HttpListenerArn
  const httpsListener = platform.outputs.HttpsListenerArn
  const rules = await lb.rulesOf(await lb.listeners(platform.outputs.LoadBalancerArn))
  const owner = ownerOf(hostname, rules)
  if (owner === app) throw new InvalidInput(`${hostname} is already routed to ${app} by the app's own rule.`, {suggestions: [`herogate info -a ${app}`]})
  if (owner) {
    throw new DomainTaken(`${hostname} is already a domain of ${owner}${owner.startsWith('a rule') ? '' : ' (another app)'}.`, {
      suggestions: owner.startsWith('a rule') ? [`aws elbv2 describe-rules --listener-arn ${httpListener}`] : [`herogate domains:remove ${hostname} -a ${owner} (then add it here)`],
    })
  }

  const limits = await lb.limits()
  // A domain takes two rules: HTTP (forward, then redirect) and HTTPS (forward).
  checkRuleRoom(ctx.region, limits, rules.length, {name: hostname, needed: 2, why: 'HTTP and HTTPS', otherwise: 'so it cannot be added', suggestion: 'herogate domains:remove a domain you no longer use'})

  // The listener's default certificate is not counted by the quota: the first domain's becomes it.
  const listenerCerts = httpsListener ? (await lb.listenerCertificates(httpsListener)).filter((c) => !c.isDefault).length : -1
  if (listenerCerts + 1 > limits.certificates) {
    throw new LoadBalancerFull(`The HTTPS listener of the shared load balancer of ${ctx.region} has ${listenerCerts} of its ${limits.certificates} certificates, so the certificate of ${hostname} would not fit.`, {
      suggestions: ['herogate domains:remove a domain you no longer use', higherQuota(ctx.region)],
    })
  }

  const undo: Array<() => Promise<unknown>> = []
  const step = stepper(progress)
  try {
    const certificateArn = await step('certificate', `Requesting a certificate for ${hostname} (ACM, DNS validation)`, () =>
      acm.request(hostname, {[names.appTag()]: app, [names.domainTag()]: hostname}),
    )
    undo.push(() => acm.delete(certificateArn))
    const certificate = await untilValidationRecord(s, certificateArn, options.signal)
    const httpRuleArn = await step('route', `Routing ${hostname} to ${app} on the shared load balancer`, () =>
      createRule(lb, httpListener, rules.filter((r) => r.listenerArn === httpListener), hostname, {forward: s.targetGroupArn}, tagsOf(app, hostname)),
    )
    undo.push(() => lb.deleteRule(httpRuleArn))
    const record: DomainRecord = {hostname, createdAt: ctx.clock.now().toISOString(), certificateArn, httpRuleArn}
    const zone = await zoneOf(s, hostname, progress)
    if (zone) {
      const records: ZoneRecord[] = [
        {type: 'CNAME', name: certificate.validation!.name, value: certificate.validation!.value},
        {type: 'ALIAS', name: hostname, value: platform.outputs.LoadBalancerDnsName, targetZoneId: await loadBalancerZone(ctx, platform)},
      ]
      const dns = new Dns(await ctx.clients.route53())
      await step('dns', `Creating the DNS records of ${hostname} in the Route 53 zone ${zone.name}`, () => dns.upsert(zone.id, records))
      undo.push(() => dns.delete(zone.id, records))
      record.zone = {...zone, records}
    }

    await store.put(app, record)
    await keepMaintenance(s)
    const domain = toDomain(record, certificate, platform.outputs.LoadBalancerDnsName)
    const notes = zone
      ? [`herogate created the DNS records in the Route 53 zone ${zone.name} of this account; ACM usually issues the certificate within minutes.`]
      : ['Create the DNS records above at your DNS provider. ACM issues the certificate once it sees the validation record (it gives up after 72 hours).']
    notes.push(`Until then ${hostname} is served over HTTP once its DNS points at the load balancer. To serve it over HTTPS as soon as the certificate is issued: herogate domains:wait ${hostname} -a ${app}`)
    return {domain, notes}
  } catch (error) {
    // Nothing half-made: what was made for this domain goes again, newest first.
    for (const remove of undo.reverse()) await remove().catch(() => undefined)
    throw error
  }
}

export async function waitDomain(ctx: AwsContext, app: string, hostname: string, options: DomainWaitOptions = {}): Promise<Domain> {
  const progress: Progress = options.onProgress ?? (() => {})
  const s = await shared(ctx, app)
  const deadline = ctx.clock.now().getTime() + (options.timeoutMs ?? DEFAULT_WAIT_MS)
  let waiting = false
  for (;;) {
    let record = await s.store.get(app, hostname)
    if (!record) throw notADomain(app, hostname)
    const certificate = await s.acm.describe(record.certificateArn)
    const dnsName = s.platform.outputs.LoadBalancerDnsName ?? ''
    if (!record.httpsRuleArn && certificate?.status === 'ISSUED') {
      if (waiting) progress({kind: 'step', id: 'wait', message: `Waiting for the certificate of ${hostname}`, status: 'done', detail: 'issued'})
      record = await activate(s, record, s.targetGroupArn, progress, options.signal)
    }

    if (record.httpsRuleArn) return toDomain(record, await s.acm.describe(record.certificateArn), dnsName)
    const domain = toDomain(record, certificate, dnsName)
    if (!certificate || FAILED.has(certificate.status)) {
      if (waiting) progress({kind: 'step', id: 'wait', message: `Waiting for the certificate of ${hostname}`, status: 'failed'})
      throw new HerogateError(`${hostname} cannot be served over HTTPS: ${domain.reason}.`, {
        suggestions: [`herogate domains:remove ${hostname} -a ${app} --confirm ${app}, then herogate domains:add ${hostname} -a ${app} (a new certificate)`],
      })
    }

    if (ctx.clock.now().getTime() >= deadline) {
      if (waiting) progress({kind: 'step', id: 'wait', message: `Waiting for the certificate of ${hostname}`, status: 'failed'})
      const validation = domain.records.find((r) => r.purpose === 'validation')
      throw new HerogateError(`The certificate of ${hostname} is still waiting for DNS validation: ACM has not seen the validation record yet.`, {
        suggestions: [
          ...(validation && !validation.zone ? [`create the record ${validation.name} CNAME ${validation.value} at your DNS provider`] : []),
          `herogate domains:wait ${hostname} -a ${app} (again, once DNS has the record)`,
        ],
      })
    }

    if (!waiting) progress({kind: 'step', id: 'wait', message: `Waiting for the certificate of ${hostname} (ACM checks DNS for the validation record)`, status: 'start'})
    waiting = true
    try {
      await ctx.clock.sleep(WAIT_POLL_MS, options.signal)
    } catch (error) {
      if (options.signal?.aborted) throw new Interrupted(`Interrupted. ${hostname} keeps waiting for its certificate; herogate domains:wait ${hostname} -a ${app} serves it over HTTPS once it is issued.`)
      throw error
    }
  }
}

export async function removeDomain(ctx: AwsContext, app: string, hostname: string, options: OperationOptions = {}): Promise<DomainResult> {
  validateHostname(hostname, 'domains:remove')
  const s = await shared(ctx, app)
  const record = await s.store.get(app, hostname)
  if (!record) throw notADomain(app, hostname)
  const certificate = await s.acm.describe(record.certificateArn)
  const domain = toDomain(record, certificate, s.platform.outputs.LoadBalancerDnsName ?? '')
  const notes = await removeRecord(s, record, options.onProgress ?? (() => {}), options.signal)
  return {domain, notes}
}

/** Removes every domain of the app (destroy, before the app's target group goes): what was removed, one line each. */
export async function removeAppDomains(ctx: AwsContext, app: string, progress: Progress, signal?: AbortSignal): Promise<string[]> {
  const store = new DomainStore(await ctx.clients.ssm())
  const records = await store.list(app)
  if (records.length === 0) return []
  const stacks = await stacksOf(ctx)
  const platform = await stacks.describe(names.platformStack())
  if (!platform) return []
  const s: Shared = {ctx, app, lb: new LoadBalancer(await ctx.clients.elbv2()), acm: new Certificates(await ctx.clients.acm()), store, platform}
  const removed: string[] = []
  for (const record of records) {
    await removeRecord(s, record, progress, signal)
    removed.push(`domain ${record.hostname} (its rules, certificate${record.zone ? ` and DNS records in the Route 53 zone ${record.zone.name}` : ''})`)
  }

  return removed
}

// -----------------------------------------------------------------------------------------

/** Once the certificate is issued: HTTPS listener (made when missing), the certificate on it, the HTTPS rule, HTTP redirected. */
async function activate(s: Shared, record: DomainRecord, targetGroupArn: string, progress: Progress, signal?: AbortSignal): Promise<DomainRecord> {
  const {lb, store, app} = s
  const step = stepper(progress)
  let listener = s.platform.outputs.HttpsListenerArn
  const platformDomain = s.platform.outputs.Domain
  if (!listener && platformDomain) {
    // Apps of a platform domain redirect HTTP to HTTPS once the platform has an HTTPS listener:
    // without a certificate for *.DOMAIN, APP.DOMAIN would then be served with this domain's.
    throw new HerogateError(`${record.hostname} has its certificate, but the platform's domain ${platformDomain} has none, so herogate does not add an HTTPS listener: apps at APP.${platformDomain} would be redirected to HTTPS without a certificate for them. ${record.hostname} stays on HTTP.`, {
      suggestions: [`give the herogate-platform stack's CertificateArn parameter a certificate for *.${platformDomain}, then: herogate domains:wait ${record.hostname} -a ${app}`],
    })
  }

  if (!listener) {
    listener = await step('https-listener', 'Adding an HTTPS listener (port 443) to the shared load balancer (platform stack update)', async () => {
      const updated = await setPlatformCertificate(s, record.certificateArn, progress, signal)
      return updated.outputs.HttpsListenerArn
    })
    if (!listener) throw new HerogateError('The platform stack has no HTTPS listener after its update.', {suggestions: ['herogate domains (tries again)']})
  }

  const https = listener
  await step('https', `Serving ${record.hostname} over HTTPS`, async () => {
    const certificates = await lb.listenerCertificates(https)
    if (!certificates.some((c) => c.arn === record.certificateArn)) await lb.addListenerCertificate(https, record.certificateArn)
    const rules = await lb.rules(https)
    const existing = rules.find((rule) => rule.hosts.includes(record.hostname))
    const httpsRuleArn = existing?.arn ?? (await createRule(lb, https, rules, record.hostname, {forward: targetGroupArn}, tagsOf(app, record.hostname)))
    record = {...record, httpsRuleArn, httpsListenerArn: https}
    // Saved before HTTP redirects: a failure after this point leaves a record that removes both rules.
    await store.put(app, record)
    await lb.setRuleAction(record.httpRuleArn, {redirectToHttps: true})
  })
  await keepMaintenance(s)
  return record
}

/**
 * A domain's rules forward to the app: while the app is in maintenance mode, each new one gets
 * the app's 503 rule in front of it too (maintenance.ts puts one before every route to the app).
 */
async function keepMaintenance(s: Shared): Promise<void> {
  await coverNewRoutes(s.ctx, s.app)
}

/**
 * Points the platform stack's CertificateArn at `certificateArn` ('' removes the HTTPS
 * listener): the listener and its default certificate are the stack's, so they change
 * through it. Waits for a change already under way (another domain, an upgrade) first.
 */
async function setPlatformCertificate(s: Shared, certificateArn: string, progress: Progress, signal?: AbortSignal): Promise<StackSummary> {
  const stacks = await stacksOf(s.ctx)
  const waitFor = async () => {
    try {
      return await stacks.wait(s.platform.id, {onProgress: progress, signal, stackDescription: 'herogate platform (HTTPS listener)'})
    } catch (error) {
      if (error instanceof WaitAborted) throw new Interrupted('Interrupted: the platform stack keeps updating in AWS; run the command again to finish.')
      throw error
    }
  }

  for (let attempt = 0; ; attempt++) {
    let started: boolean
    try {
      started = await stacks.updateParameters(s.platform.id, {CertificateArn: certificateArn})
    } catch (error) {
      if (!(error instanceof StackBusy) || attempt > 0) throw error
      const settled = await waitFor()
      // The change under way may have been another domain's: its listener serves this one too.
      if (certificateArn !== '' && settled.outputs.HttpsListenerArn) return settled
      continue
    }

    const final = started ? await waitFor() : (await stacks.describe(s.platform.id))!
    if (!/^UPDATE_COMPLETE$|^CREATE_COMPLETE$/.test(final.status)) {
      const failure = await stacks.failure(s.platform.id)
      throw new HerogateError(`The platform stack update failed (${final.status}${failure ? `: ${failure.resource}: ${failure.reason}` : ''}); CloudFormation rolled it back.`, {
        suggestions: ['herogate domains (tries again)'],
      })
    }

    s.platform = final
    return final
  }
}

async function removeRecord(s: Shared, record: DomainRecord, progress: Progress, signal?: AbortSignal): Promise<string[]> {
  const {lb, store, app} = s
  const step = stepper(progress)
  const notes: string[] = []
  await step(`remove-${record.hostname}`, `Removing ${record.hostname} from ${app}`, async () => {
    if (record.httpsRuleArn) await lb.deleteRule(record.httpsRuleArn)
    const listener = record.httpsListenerArn
    if (listener) {
      const certificates = await lb.listenerCertificates(listener).catch(() => [])
      const mine = certificates.find((c) => c.arn === record.certificateArn)
      if (mine?.isDefault) {
        // The listener's default certificate: another of its certificates takes its place; without one the listener goes.
        const other = certificates.find((c) => !c.isDefault && c.arn !== record.certificateArn)
        await setPlatformCertificate(s, other?.arn ?? '', progress, signal)
        if (!other) notes.push('The shared load balancer has no HTTPS listener now: no other domain needs it.')
      } else if (mine) {
        await lb.removeListenerCertificate(listener, record.certificateArn)
      }
    }

    await lb.deleteRule(record.httpRuleArn)
    if (record.zone) {
      await new Dns(await s.ctx.clients.route53()).delete(record.zone.id, record.zone.records)
      notes.push(`Deleted the DNS records herogate made in the Route 53 zone ${record.zone.name}.`)
    }

    await deleteCertificate(s, record.certificateArn, signal)
    await store.delete(app, record.hostname)
  })
  if (!record.zone) notes.push(`Delete the DNS records of ${record.hostname} at your DNS provider: they point at nothing of ${app} now.`)
  return notes
}

/** ACM keeps a certificate it still sees in use for a while after the listener let go of it. */
async function deleteCertificate(s: Shared, arn: string, signal?: AbortSignal): Promise<void> {
  const deadline = s.ctx.clock.now().getTime() + DELETE_WAIT_MS
  for (;;) {
    try {
      await s.acm.delete(arn)
      return
    } catch (error) {
      if (!(error instanceof CertificateInUse) || s.ctx.clock.now().getTime() >= deadline) throw error
      await s.ctx.clock.sleep(DELETE_POLL_MS, signal)
    }
  }
}

async function untilValidationRecord(s: Shared, arn: string, signal?: AbortSignal): Promise<CertificateState> {
  const deadline = s.ctx.clock.now().getTime() + RECORD_WAIT_MS
  for (;;) {
    const certificate = await s.acm.describe(arn)
    if (certificate?.validation) return certificate
    if (s.ctx.clock.now().getTime() >= deadline) throw new HerogateError('ACM did not give the validation record of the certificate within a minute.', {suggestions: ['herogate domains:add again in a minute']})
    await s.ctx.clock.sleep(RECORD_POLL_MS, signal)
  }
}

/** The Route 53 zone of the account holding the host, if any; without the right to look, none (with a warning). */
async function zoneOf(s: Shared, hostname: string, progress: Progress): Promise<{id: string; name: string} | undefined> {
  try {
    return await new Dns(await s.ctx.clients.route53()).zoneFor(hostname)
  } catch (error) {
    if (!(error instanceof HerogateError)) throw error
    progress({kind: 'warning', message: `Could not look for a Route 53 zone of ${hostname} (${error.message}); create the DNS records yourself.`})
    return undefined
  }
}

/** A rule at the lowest free domain priority of the listener; picked again when another rule took it meanwhile. */
async function createRule(lb: LoadBalancer, listener: string, rules: ListenerRule[], host: string, action: RuleAction, tags: Record<string, string>): Promise<string> {
  const taken = rules.map((rule) => rule.priority)
  for (let attempt = 0; attempt < 5; attempt++) {
    const priority = firstFree(taken, DOMAIN_PRIORITIES.from, DOMAIN_PRIORITIES.to)
    if (priority === undefined) throw new LoadBalancerFull('The shared load balancer has no free rule priority for domains left.')
    try {
      return await lb.createRule({listenerArn: listener, priority, conditions: [hostCondition(host)], action, tags}, `routing ${host}`)
    } catch (error) {
      if (!(error instanceof PriorityTaken)) throw error
      taken.push(priority)
    }
  }

  throw new HerogateError('Could not find a free rule priority on the shared load balancer (others kept taking them).', {suggestions: ['try again']})
}

/** Who the host is routed to: the app of the target group a rule forwards it to, or a rule of someone else. */
export function ownerOf(hostname: string, rules: ListenerRule[]): string | undefined {
  const routing = rules.filter((r) => r.hosts.some((host) => host.toLowerCase() === hostname))
  // The rule that forwards names the app: the host's redirect to HTTPS and a maintenance 503 rule in front name none.
  const rule = routing.find((r) => r.forwardsTo.length > 0) ?? routing[0]
  if (!rule) return undefined
  const group = /:targetgroup\/hg-([a-z0-9-]+)\//.exec(rule.forwardsTo[0] ?? '')?.[1]
  return group ?? `a rule of the shared load balancer (${rule.arn})`
}

function tagsOf(app: string, hostname: string): Record<string, string> {
  return {[names.appTag()]: app, [names.domainTag()]: hostname}
}

function notADomain(app: string, hostname: string): HerogateError {
  return new HerogateError(`${hostname} is not a domain of ${app}.`, {suggestions: [`herogate domains -a ${app}`]})
}

/** A domain as the commands show it, from what herogate made and what ACM says of its certificate. */
export function toDomain(record: DomainRecord, certificate: CertificateState | undefined, loadBalancerDns: string): Domain {
  const status = certificate?.status ?? 'MISSING'
  const failed = !certificate || FAILED.has(status)
  const made = (name: string) => record.zone?.records.some((r) => r.name.replace(/\.$/, '') === name.replace(/\.$/, '')) ? {zone: record.zone.name} : {}
  const records: DnsRecord[] = []
  if (certificate?.validation) records.push({purpose: 'validation', name: certificate.validation.name, type: 'CNAME', value: certificate.validation.value, ...made(certificate.validation.name)})
  // A CNAME cannot be at a zone's apex (example.com): there the DNS provider's ALIAS (or ANAME) does it.
  const apex = record.zone ? record.zone.name === record.hostname : record.hostname.split('.').length === 2
  records.push({purpose: 'traffic', name: record.hostname, type: record.zone || apex ? 'ALIAS' : 'CNAME', value: loadBalancerDns, ...made(record.hostname)})
  const reason = !certificate
    ? 'is gone from ACM'
    : failed
      ? `is ${status}${certificate.failureReason ? ` (${certificate.failureReason})` : ''}`
      : undefined
  return {
    hostname: record.hostname,
    status: record.httpsRuleArn ? 'active' : failed ? 'failed' : 'pending',
    url: `${record.httpsRuleArn ? 'https' : 'http'}://${record.hostname}`,
    records,
    certificate: {
      hostname: record.hostname,
      status,
      arn: record.certificateArn,
      ...(certificate?.issuer ? {issuer: certificate.issuer} : {}),
      ...(certificate?.notAfter ? {expiresAt: certificate.notAfter} : {}),
      ...(reason ? {note: `the certificate ${reason}`} : status === 'PENDING_VALIDATION' ? {note: 'waiting for the validation record in DNS'} : {}),
    },
    createdAt: record.createdAt,
    ...(reason ? {reason: `the certificate ${reason}`} : {}),
  }
}
