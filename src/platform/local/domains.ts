import {existsSync} from 'node:fs'
import {join} from 'node:path'

import {HerogateError, InvalidInput} from '../../lib/errors.js'
import {validateHostname} from '../../lib/hostname.js'
import type {Certificate, Domain, DomainResult} from '../domains.js'
import type {OperationOptions} from '../types.js'
import {appPaths, listAppNames, readApp, readJson, withLock, writeJsonAtomic} from './state.js'

/**
 * Custom domains on the local platform: a host name mapped to the app's router, which serves
 * it on the app's port of this machine (the Host header reaches the app as sent). Names under
 * .localhost need no DNS: browsers and curl resolve them to the loopback address (RFC 6761);
 * any other name needs a line in /etc/hosts. The router speaks HTTP only: no certificates.
 */

interface LocalDomain {
  hostname: string
  createdAt: string
}

const FILE = 'domains.json'
const NO_TLS = 'the local router serves HTTP only; on AWS herogate gets an ACM certificate for it'

function fileOf(app: string): string {
  return join(appPaths(app).dir, FILE)
}

function read(app: string): LocalDomain[] {
  const file = fileOf(app)
  return existsSync(file) ? readJson<LocalDomain[]>(file) : []
}

function toDomain(entry: LocalDomain, port: number): Domain {
  const loopback = entry.hostname === 'localhost' || entry.hostname.endsWith('.localhost')
  return {
    hostname: entry.hostname,
    status: 'active',
    url: `http://${entry.hostname}:${port}`,
    // Names under .localhost resolve to 127.0.0.1 by themselves; others need a hosts line (or an A record).
    records: loopback ? [] : [{purpose: 'traffic', name: entry.hostname, type: 'A', value: '127.0.0.1'}],
    certificate: {hostname: entry.hostname, status: 'NONE', note: NO_TLS},
    createdAt: entry.createdAt,
  }
}

export async function domains(app: string): Promise<Domain[]> {
  const {port} = readApp(app)
  return read(app).map((entry) => toDomain(entry, port))
}

export async function certs(app: string): Promise<Certificate[]> {
  return (await domains(app)).map((domain) => domain.certificate)
}

/** The local app the host is a domain of, if any. */
function ownerOf(hostname: string): string | undefined {
  return listAppNames().find((name) => {
    try {
      return read(name).some((entry) => entry.hostname === hostname)
    } catch {
      return false
    }
  })
}

export async function addDomain(app: string, hostname: string, now: Date): Promise<DomainResult> {
  validateHostname(hostname)
  const {port} = readApp(app)
  return withLock(app, 'domains', async () => {
    const owner = ownerOf(hostname)
    if (owner === app) throw new InvalidInput(`${hostname} is already a domain of ${app}.`, {suggestions: [`herogate domains -a ${app}`]})
    if (owner) throw new HerogateError(`${hostname} is already a domain of ${owner} (another app).`, {suggestions: [`herogate domains:remove ${hostname} -a ${owner} (then add it here)`]})
    const entry = {hostname, createdAt: now.toISOString()}
    writeJsonAtomic(fileOf(app), [...read(app), entry].sort((a, b) => a.hostname.localeCompare(b.hostname)))
    const domain = toDomain(entry, port)
    const notes = domain.records.length === 0
      ? [`${hostname} resolves to 127.0.0.1 without DNS (a .localhost name): open ${domain.url}`]
      : [`Make ${hostname} resolve to this machine: add "127.0.0.1 ${hostname}" to /etc/hosts, then open ${domain.url}`]
    notes.push(`HTTPS: not on the local platform (${NO_TLS}).`)
    return {domain, notes}
  })
}

export async function removeDomain(app: string, hostname: string): Promise<DomainResult> {
  validateHostname(hostname, 'domains:remove')
  const {port} = readApp(app)
  return withLock(app, 'domains', async () => {
    const entries = read(app)
    const entry = entries.find((e) => e.hostname === hostname)
    if (!entry) throw new HerogateError(`${hostname} is not a domain of ${app}.`, {suggestions: [`herogate domains -a ${app}`]})
    writeJsonAtomic(fileOf(app), entries.filter((e) => e !== entry))
    const domain = toDomain(entry, port)
    return {domain, notes: domain.records.length > 0 ? [`Remove the line "127.0.0.1 ${hostname}" from /etc/hosts if you added it.`] : []}
  })
}

/** Nothing to wait for locally: a domain is served as soon as it is added. */
export async function waitDomain(app: string, hostname: string, _options?: OperationOptions): Promise<Domain> {
  validateHostname(hostname, 'domains:wait')
  const found = (await domains(app)).find((d) => d.hostname === hostname)
  if (!found) throw new HerogateError(`${hostname} is not a domain of ${app}.`, {suggestions: [`herogate domains -a ${app}`]})
  return found
}
