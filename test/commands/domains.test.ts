import {expect} from 'chai'

import Certs from '../../src/commands/certs/index.js'
import Domains from '../../src/commands/domains/index.js'
import DomainsAdd from '../../src/commands/domains/add.js'
import DomainsRemove from '../../src/commands/domains/remove.js'
import DomainsWait from '../../src/commands/domains/wait.js'
import {fakeDomain, FakePlatform} from '../helpers/fake-platform.js'
import {runCommand} from '../helpers/run-command.js'

describe('domains commands against a fake platform', () => {
  let platform: FakePlatform
  beforeEach(() => {
    platform = new FakePlatform()
  })

  const RECORDS = [
    'DNS records to create for www.example.com:',
    'Name                    Type   Value                       Purpose',
    '──────────────────────  ─────  ──────────────────────────  ──────────────────────',
    '_a1b2.www.example.com.  CNAME  _c3d4.acm-validations.aws.  certificate validation',
    'www.example.com         CNAME  herogate-alb.example        traffic to the app',
  ]

  it('domains lists each domain with its status, URL and certificate, then the DNS records to create', async () => {
    platform.domainList = [fakeDomain('www.example.com')]
    const {stdout, stderr, exitCode} = await runCommand(Domains, ['-a', 'demo'], platform)
    expect(exitCode).to.equal(0)
    expect(stdout).to.equal([
      '=== demo Custom Domains',
      'Domain           Status   URL                     Certificate',
      '───────────────  ───────  ──────────────────────  ──────────────────',
      'www.example.com  pending  http://www.example.com  PENDING_VALIDATION',
      '',
      ...RECORDS,
      '',
    ].join('\n'))
    expect(stderr).to.equal('')
    expect(platform.calls).to.deep.equal([{method: 'domains', args: ['demo']}])
  })

  it('domains says how to add one when there is none', async () => {
    const {stdout} = await runCommand(Domains, ['-a', 'demo'], platform)
    expect(stdout).to.equal('demo has no custom domains. Add one: herogate domains:add www.example.com -a demo\n')
  })

  it('domains --json prints the domains and nothing else', async () => {
    platform.domainList = [fakeDomain('www.example.com')]
    const {stdout, stderr} = await runCommand(Domains, ['-a', 'demo', '--json'], platform)
    expect(JSON.parse(stdout)).to.deep.equal([fakeDomain('www.example.com')])
    expect(stderr).to.equal('')
  })

  it('domains:add adds it, prints the records on stdout and what to do next on stderr', async () => {
    const {stdout, stderr, exitCode} = await runCommand(DomainsAdd, ['www.example.com', '-a', 'demo'], platform)
    expect(exitCode).to.equal(0)
    expect(platform.calls).to.deep.equal([{method: 'addDomain', args: ['demo', 'www.example.com']}])
    expect(stdout).to.equal(['Added www.example.com to demo (pending): http://www.example.com', ...RECORDS, ''].join('\n'))
    expect(stderr).to.equal('Until then www.example.com is served over HTTP.\n')
  })

  it('domains:add --json prints the result only', async () => {
    const {stdout, stderr} = await runCommand(DomainsAdd, ['www.example.com', '-a', 'demo', '--json'], platform)
    expect(JSON.parse(stdout)).to.deep.equal({domain: fakeDomain('www.example.com'), notes: ['Until then www.example.com is served over HTTP.']})
    expect(stderr).to.equal('')
  })

  const invalid: Array<[string, string, string]> = [
    ['*.example.com', 'wildcard domains are not supported; add each host name on its own', 'www.example.com'],
    ['https://www.example.com/', 'give a host name, not a URL', 'www.example.com'],
    ['10.0.0.1', 'an IP address is not a host name; point a host name at the app instead', 'www.example.com'],
    ['WWW.example.com', 'host names are lowercase', 'www.example.com'],
    ['bad_host.example.com', 'its label "bad_host" may only hold letters, digits and dashes, not starting or ending with a dash', 'www.example.com'],
  ]
  for (const [input, reason, suggestion] of invalid) {
    it(`domains:add refuses ${input} before any platform call`, async () => {
      const {stdout, stderr, exitCode} = await runCommand(DomainsAdd, [input, '-a', 'demo'], platform)
      expect(exitCode).to.equal(1)
      expect(stdout).to.equal('')
      expect(stderr).to.equal(` ▸    Invalid domain ${JSON.stringify(input)}: ${reason}.\n  Try: herogate domains:add ${suggestion}\n`)
      expect(platform.calls).to.deep.equal([])
    })
  }

  it('domains:remove asks for --confirm when not on a terminal, and changes nothing', async () => {
    platform.domainList = [fakeDomain('www.example.com')]
    const {stderr, exitCode} = await runCommand(DomainsRemove, ['www.example.com', '-a', 'demo'], platform)
    expect(exitCode).to.equal(1)
    expect(stderr).to.equal(' ▸    This removes www.example.com from demo and cannot be undone; confirm with --confirm demo.\n  Try: --confirm demo\n')
    expect(platform.calls).to.deep.equal([])
  })

  it('domains:remove --confirm APP removes it', async () => {
    platform.domainList = [fakeDomain('www.example.com')]
    const {stdout, exitCode} = await runCommand(DomainsRemove, ['www.example.com', '-a', 'demo', '--confirm', 'demo'], platform)
    expect(exitCode).to.equal(0)
    expect(stdout).to.equal('Removed www.example.com from demo.\n')
    expect(platform.calls).to.deep.equal([{method: 'removeDomain', args: ['demo', 'www.example.com']}])
  })

  it('domains:remove of a domain the app does not have says so', async () => {
    const {stderr, exitCode} = await runCommand(DomainsRemove, ['www.example.com', '-a', 'demo', '--confirm', 'demo'], platform)
    expect(exitCode).to.equal(1)
    expect(stderr).to.equal(' ▸    www.example.com is not a domain of demo.\n')
  })

  it('domains:wait waits and prints where the app is served', async () => {
    platform.domainList = [fakeDomain('www.example.com')]
    const {stdout, exitCode} = await runCommand(DomainsWait, ['www.example.com', '-a', 'demo'], platform)
    expect(exitCode).to.equal(0)
    expect(stdout).to.equal('www.example.com is active: https://www.example.com\n')
  })

  it('certs shows each certificate and its status; --json the objects', async () => {
    platform.domainList = [fakeDomain('www.example.com'), {...fakeDomain('api.example.com'), certificate: {hostname: 'api.example.com', status: 'ISSUED', issuer: 'Amazon', expiresAt: '2027-12-20T23:59:59.000Z'}}]
    const {stdout, exitCode} = await runCommand(Certs, ['-a', 'demo'], platform)
    expect(exitCode).to.equal(0)
    expect(stdout).to.equal([
      '=== demo Certificates',
      'Domain           Status              Expires     Issuer  Note',
      '───────────────  ──────────────────  ──────────  ──────  ────────────────────────────────────────',
      'www.example.com  PENDING_VALIDATION                      waiting for the validation record in DNS',
      'api.example.com  ISSUED              2027-12-20  Amazon',
      '',
    ].join('\n'))
    const json = await runCommand(Certs, ['-a', 'demo', '--json'], platform)
    expect(JSON.parse(json.stdout)).to.deep.equal(platform.domainList.map((d) => d.certificate))
  })
})
