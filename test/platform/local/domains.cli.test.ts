import {expect} from 'chai'
import {request} from 'node:http'

import {pushedApp} from './helpers.js'

/** GET `path` from 127.0.0.1:port with the Host header a browser sends for `host`. */
function getAs(port: number, host: string, path: string): Promise<{status: number; body: string}> {
  return new Promise((resolve, reject) => {
    const req = request({host: '127.0.0.1', port, path, headers: {host: `${host}:${port}`}, agent: false, timeout: 5000}, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (body += chunk))
      res.on('end', () => resolve({status: res.statusCode ?? 0, body}))
    })
    req.on('timeout', () => req.destroy(new Error('timed out')))
    req.on('error', reject)
    req.end()
  })
}

/**
 * Custom domains on the local platform, through the built CLI on a real app: the host is
 * mapped to the app's router, requests with that Host header reach the app over real HTTP,
 * and a host of another app is refused naming it.
 */
describe('local custom domains (built CLI, real app, real HTTP)', function () {
  this.timeout(90_000)
  const app = 'dom-app'
  const deployed = pushedApp(app)
  const port = () => Number(new URL(deployed.url).port)

  it('domains:add maps HOST.localhost to the app\'s router; a request with that Host reaches the app', async () => {
    const added = await deployed.herogate('domains:add', 'www.dom-app.localhost', '-a', app)
    expect(added.code, added.output).to.equal(0)
    expect(added.output).to.include(`Added www.dom-app.localhost to ${app} (active): http://www.dom-app.localhost:${port()}`)
    expect(added.output).to.include(`www.dom-app.localhost resolves to 127.0.0.1 without DNS (a .localhost name): open http://www.dom-app.localhost:${port()}`)
    expect(added.output).to.include('HTTPS: not on the local platform (the local router serves HTTP only; on AWS herogate gets an ACM certificate for it).')
    const answer = await getAs(port(), 'www.dom-app.localhost', '/host')
    expect(answer).to.deep.equal({status: 200, body: `www.dom-app.localhost:${port()}`})
    expect((await getAs(port(), 'www.dom-app.localhost', '/')).body).to.equal('hello from web.1\n')
  })

  it('domains --json and certs show it; a name outside .localhost says which hosts line to add', async () => {
    const added = await deployed.herogate('domains:add', 'shop.example.test', '-a', app, '--json')
    expect(added.code, added.output).to.equal(0)
    const listed = await deployed.herogate('domains', '-a', app, '--json')
    expect(listed.code, listed.output).to.equal(0)
    const domains = JSON.parse(listed.output) as Array<{hostname: string; status: string; url: string; records: unknown[]}>
    expect(domains.map((d) => [d.hostname, d.status, d.url, d.records])).to.deep.equal([
      ['shop.example.test', 'active', `http://shop.example.test:${port()}`, [{purpose: 'traffic', name: 'shop.example.test', type: 'A', value: '127.0.0.1'}]],
      ['www.dom-app.localhost', 'active', `http://www.dom-app.localhost:${port()}`, []],
    ])
    const certs = await deployed.herogate('certs', '-a', app)
    expect(certs.output).to.match(/^shop\.example\.test +NONE +the local router serves HTTP only; on AWS herogate gets an ACM certificate for it$/m)
    expect((await getAs(port(), 'shop.example.test', '/host')).body).to.equal(`shop.example.test:${port()}`)
  })

  it('refuses a host of another app, naming it, and invalid host names, before changing anything', async () => {
    const other = await deployed.herogate('create', 'dom-other', '--local')
    expect(other.code, other.output).to.equal(0)
    const taken = await deployed.herogate('domains:add', 'www.dom-app.localhost', '-a', 'dom-other')
    expect(taken.code).to.equal(1)
    expect(taken.output).to.include(' ▸    www.dom-app.localhost is already a domain of dom-app (another app).\n  Try: herogate domains:remove www.dom-app.localhost -a dom-app (then add it here)\n')
    const wildcard = await deployed.herogate('domains:add', '*.dom-app.localhost', '-a', app)
    expect(wildcard.code).to.equal(1)
    expect(wildcard.output).to.include(' ▸    Invalid domain "*.dom-app.localhost": wildcard domains are not supported; add each host name on its own.')
    const removed = await deployed.herogate('domains:remove', 'shop.example.test', '-a', app, '--confirm', app)
    expect(removed.code, removed.output).to.equal(0)
    const listed = JSON.parse((await deployed.herogate('domains', '-a', app, '--json')).output) as Array<{hostname: string}>
    expect(listed.map((d) => d.hostname)).to.deep.equal(['www.dom-app.localhost'])
    expect((await deployed.herogate('domains', '-a', 'dom-other', '--json')).output.trim()).to.equal('[]')
    await deployed.herogate('destroy', '-a', 'dom-other', '--confirm', 'dom-other')
  })
})
