import {ACMClient, type CertificateDetail} from '@aws-sdk/client-acm'
import {ListHostedZonesCommand, ListResourceRecordSetsCommand, Route53Client} from '@aws-sdk/client-route-53'

/**
 * ACM as AWS documents DNS validation: a certificate stays PENDING_VALIDATION until its
 * validation CNAME can be found in DNS, then it is ISSUED. moto issues every certificate a
 * fixed time after the request (60 s) whatever DNS holds; this client answers DescribeCertificate
 * from moto's Route 53 instead: the CNAME in any zone there (or in `dns`, the records a test
 * says a DNS provider outside AWS has) issues it.
 */
export function validatingAcm(region: string, dns: Set<string> = new Set()): ACMClient {
  const client = new ACMClient({region})
  const route53 = new Route53Client({region: 'us-east-1'})
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args)
      if (context.commandName !== 'DescribeCertificateCommand') return result
      const certificate = (result.output as {Certificate?: CertificateDetail}).Certificate
      if (!certificate || !['PENDING_VALIDATION', 'ISSUED'].includes(certificate.Status ?? '')) return result
      const names = (certificate.DomainValidationOptions ?? []).map((o) => o.ResourceRecord?.Name ?? '')
      const inDns = names.length > 0 && (await Promise.all(names.map((name) => dns.has(bare(name)) || cnameIn(route53, name)))).every(Boolean)
      certificate.Status = inDns ? 'ISSUED' : 'PENDING_VALIDATION'
      for (const option of certificate.DomainValidationOptions ?? []) option.ValidationStatus = inDns ? 'SUCCESS' : 'PENDING_VALIDATION'
      if (!inDns) delete certificate.IssuedAt
      return result
    },
    {step: 'initialize', name: 'validatingAcm'},
  )
  return client
}

const bare = (name: string) => name.toLowerCase().replace(/\.$/, '')

async function cnameIn(route53: Route53Client, name: string): Promise<boolean> {
  for (const zone of (await route53.send(new ListHostedZonesCommand({}))).HostedZones ?? []) {
    const sets = (await route53.send(new ListResourceRecordSetsCommand({HostedZoneId: zone.Id}))).ResourceRecordSets ?? []
    if (sets.some((set) => set.Type === 'CNAME' && bare(set.Name ?? '') === bare(name))) return true
  }

  return false
}
