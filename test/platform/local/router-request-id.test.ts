import {expect} from 'chai'
import {createServer, type Server} from 'node:http'
import {connect} from 'node:net'

import {freePort} from '../../../src/platform/local/ports.js'
import {Router} from '../../../src/platform/local/router.js'
import {MemoryLog} from './fakes.js'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

/** Sends raw request bytes (headers a well-behaved client would not send) and resolves with the whole answer. */
function raw(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(text))
    let answer = ''
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => {
      answer += chunk
      // One answer per test: done once the body (the backend's echo) has arrived.
      if (/\r\n\r\n.*\n$/s.test(answer)) socket.end()
    })
    socket.on('end', () => resolve(answer))
    socket.on('error', reject)
  })
}

/**
 * X-Request-Id through the router over real HTTP: a client's id is kept only when Heroku would
 * keep it (20 to 200 characters of A-Z a-z 0-9 + = / -); otherwise the router makes one, and
 * the app and the access log see the same id either way.
 */
describe('local Router: X-Request-Id', () => {
  let router: Router
  let log: MemoryLog
  let server: Server
  let upgrades: string[]

  beforeEach(async () => {
    log = new MemoryLog()
    router = new Router({host: '127.0.0.1', port: await freePort(), log})
    await router.listen()
    const port = await freePort()
    upgrades = []
    server = createServer((req, res) => res.end(`id=${req.headers['x-request-id']}\n`))
    server.on('upgrade', (req, socket) => {
      upgrades.push(String(req.headers['x-request-id']))
      socket.end('HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\nupgraded\n')
    })
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
    router.add(`web.1@${port}`, 'web.1', port)
  })

  afterEach(async () => {
    await router.close()
    server.closeAllConnections()
    server.close()
  })

  const send = (headers: string[]) => raw(router.port, ['GET / HTTP/1.1', 'Host: app.test', 'Connection: close', ...headers, '', ''].join('\r\n'))
  const seenByApp = (answer: string) => /id=(.*)\n$/.exec(answer)?.[1]
  const accessLine = () => log.lines.filter((line) => line.process === 'router').at(-1)!.message

  const kept: Array<[string, string]> = [
    ['a UUID', '0b5c6a86-3d2f-4a7e-9c1b-2f4e6d8a0c11'],
    ['exactly 20 characters of the whole alphabet', 'Az09+/=-Az09+/=-Az09'],
    ['exactly 200 characters', 'x'.repeat(200)],
  ]
  for (const [title, id] of kept) {
    it(`keeps a valid id: ${title}`, async () => {
      const answer = await send([`X-Request-Id: ${id}`])
      expect(answer).to.match(/^HTTP\/1\.1 200/)
      expect(seenByApp(answer)).to.equal(id)
      expect(accessLine()).to.include(` request_id=${id} `)
    })
  }

  const replaced: Array<[string, string[]]> = [
    ['19 characters', ['X-Request-Id: 0123456789abcdef012']],
    ['201 characters', [`X-Request-Id: ${'x'.repeat(201)}`]],
    ['forged log fields', ['X-Request-Id: aaaaaaaaaaaaaaaaaaaaaaaa status=200 dyno=web.9 fwd="6.6.6.6"']],
    ['a quote and a backslash', ['X-Request-Id: aaaaaaaaaaaaaaaaaaaaaaaa"\\']],
    ['characters outside the alphabet', ['X-Request-Id: aaaaaaaaaaaaaaaaaaaaaaaa;rm']],
    ['two ids', ['X-Request-Id: 0b5c6a86-3d2f-4a7e-9c1b-2f4e6d8a0c11', 'X-Request-Id: 1b5c6a86-3d2f-4a7e-9c1b-2f4e6d8a0c11']],
    ['no id at all', []],
  ]
  for (const [title, headers] of replaced) {
    it(`makes its own id for ${title}, and the app and the log see that one`, async () => {
      const answer = await send(headers)
      expect(answer).to.match(/^HTTP\/1\.1 200/)
      const id = seenByApp(answer)!
      expect(id).to.match(UUID)
      const line = accessLine()
      expect(line).to.include(` request_id=${id} `)
      // Exactly the router's own fields, once each.
      for (const field of ['status=', 'dyno=', 'fwd=', 'request_id=']) expect(line.split(field).length - 1, `${field} in ${line}`).to.equal(1)
      expect(line).to.not.include('6.6.6.6')
    })
  }

  it('writes a forged Host header and path as one field each', async () => {
    const answer = await raw(router.port, ['GET /a"b%20c HTTP/1.1', 'Host: app.test status=200 dyno=web.9 fwd="6.6.6.6"', 'Connection: close', '', ''].join('\r\n'))
    expect(answer).to.match(/^HTTP\/1\.1 200/)
    const line = accessLine()
    expect(line).to.include(' path="/a%22b%20c" host=app.test%20status=200%20dyno=web.9%20fwd=%226.6.6.6%22 ')
    for (const field of ['status=', 'dyno=', 'fwd=']) expect(line.split(` ${field}`).length - 1, `${field} in ${line}`).to.equal(1)
  })

  it('passes a valid id through an upgrade and replaces an invalid one', async () => {
    const upgrade = (id: string) => send(['Upgrade: echo', 'Connection: Upgrade', `X-Request-Id: ${id}`])
    expect(await upgrade('0b5c6a86-3d2f-4a7e-9c1b-2f4e6d8a0c11')).to.include('upgraded')
    expect(await upgrade('short "id" fwd=x')).to.include('upgraded')
    expect(upgrades[0]).to.equal('0b5c6a86-3d2f-4a7e-9c1b-2f4e6d8a0c11')
    expect(upgrades[1]).to.match(UUID)
  })
})
