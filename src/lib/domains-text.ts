import type {Certificate, DnsRecord, Domain} from '../platform/domains.js'
import {heading, table} from './format.js'

/** How `domains`, `domains:add` and `certs` print what they return (--json prints the objects). */

export function domainsText(app: string, domains: Domain[]): string {
  if (domains.length === 0) return `${app} has no custom domains. Add one: herogate domains:add www.example.com -a ${app}`
  const lines = [
    heading(`${app} Custom Domains`),
    table(domains, [
      {header: 'Domain', get: (d) => d.hostname},
      {header: 'Status', get: (d) => d.status},
      {header: 'URL', get: (d) => d.url},
      {header: 'Certificate', get: (d) => d.certificate.status},
    ]),
  ]
  for (const domain of domains) {
    const text = recordsText(domain)
    if (text) lines.push('', text)
  }

  return lines.join('\n')
}

/** The records of one domain: those to create, then those herogate made in Route 53. */
export function recordsText(domain: Domain): string {
  const sections: string[] = []
  const toCreate = domain.records.filter((r) => !r.zone)
  const made = domain.records.filter((r) => r.zone)
  if (domain.reason) sections.push(`${domain.hostname}: ${domain.reason}`)
  if (toCreate.length > 0) sections.push(`DNS records to create for ${domain.hostname}:`, recordTable(toCreate))
  if (made.length > 0) sections.push(`DNS records herogate made for ${domain.hostname} in Route 53 (zone ${made[0].zone}):`, recordTable(made))
  return sections.join('\n')
}

function recordTable(records: DnsRecord[]): string {
  return table(records, [
    {header: 'Name', get: (r) => r.name},
    {header: 'Type', get: (r) => r.type},
    {header: 'Value', get: (r) => r.value},
    {header: 'Purpose', get: (r) => (r.purpose === 'validation' ? 'certificate validation' : 'traffic to the app')},
  ])
}

export function certsText(app: string, certs: Certificate[]): string {
  if (certs.length === 0) return `${app} has no custom domains, so no certificates. Add one: herogate domains:add www.example.com -a ${app}`
  return [
    heading(`${app} Certificates`),
    table(certs, [
      {header: 'Domain', get: (c) => c.hostname},
      {header: 'Status', get: (c) => c.status},
      {header: 'Expires', get: (c) => c.expiresAt?.slice(0, 10)},
      {header: 'Issuer', get: (c) => c.issuer},
      {header: 'Note', get: (c) => c.note},
    ]),
  ].join('\n')
}
