import {expect} from 'chai'
import {createServer, request, type Server} from 'node:http'
import {connect, type Socket} from 'node:net'

import {freePort} from '../../../src/platform/local/ports.js'
import {probeHttp, Router} from '../../../src/platform/local/router.js'
import {MemoryLog} from './fakes.js'
import {slowBodies} from './helpers.js'

interface Backend {
  name: string
  port: number
  server: Server
  /** Requests waiting for release (path /hold). */
  held: Array<() => void>
}

async function backend(name: string): Promise<Backend> {
  const port = await freePort()
  const held: Array<() => void> = []
  const server = createServer((req, res) => {
    if (req.url === '/echo') {
      const chunks: Buffer[] = []
      req.on('data', (chunk: Buffer) => chunks.push(chunk))
      req.on('end', () => res.end(`${name}:${Buffer.concat(chunks).length}`))
      return
    }

    if (req.url === '/hold') {
      held.push(() => res.end(`${name} held`))
      return
    }

    if (req.url === '/stall') {
      // Starts its answer, then goes silent.
      res.writeHead(200, {'content-type': 'text/plain'})
      res.write('first chunk')
      return
    }

    res.setHeader('set-cookie', ['a=1', 'b=2'])
    res.end(`${name} ${req.headers['x-forwarded-for']} ${req.headers['x-request-id'] ? 'id' : 'no-id'}`)
  })
  server.on('upgrade', (_req, socket) => {
    socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n')
    socket.pipe(socket)
  })
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  return {name, port, server, held}
}

async function get(port: number, path = '/', body?: string): Promise<{status: number; text: string; headers: Record<string, unknown>}> {
  return new Promise((resolve, reject) => {
    const req = request({host: '127.0.0.1', port, path, method: body === undefined ? 'GET' : 'POST', agent: false}, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (text += chunk))
      res.on('end', () => resolve({status: res.statusCode ?? 0, text, headers: res.headers}))
    })
    req.on('error', reject)
    req.end(body)
  })
}

describe('local Router', () => {
  let router: Router
  let log: MemoryLog
  let backends: Backend[]

  beforeEach(async () => {
    log = new MemoryLog()
    router = new Router({host: '127.0.0.1', port: await freePort(), log, drainTimeoutMs: 5000})
    await router.listen()
    backends = []
  })

  afterEach(async () => {
    await router.close()
    for (const b of backends) {
      b.server.closeAllConnections()
      b.server.close()
    }
  })

  async function add(name: string): Promise<Backend> {
    const b = await backend(name)
    backends.push(b)
    router.add(`${name}@${b.port}`, name, b.port)
    return b
  }

  it('answers 503 (H14) with no web processes, and logs it', async () => {
    const response = await get(router.port)
    expect(response.status).to.equal(503)
    expect(log.messages('router')[0]).to.match(/^at=error code=H14 desc="No web processes running" method=GET path="\/" .* status=503 /)
  })

  it('says why there is no backend when told', async () => {
    const crashed = new Router({host: '127.0.0.1', port: await freePort(), log, whyNoBackend: () => ({code: 'H10', desc: 'App crashed'})})
    await crashed.listen()
    try {
      const response = await get(crashed.port)
      expect(response.status).to.equal(503)
      expect(response.text).to.equal('App crashed\n')
      expect(log.messages('router')[0]).to.match(/^at=error code=H10 desc="App crashed"/)
    } finally {
      await crashed.close()
    }
  })

  it('spreads requests round robin and passes forwarding headers and multi-value headers', async () => {
    await add('web.1')
    await add('web.2')
    const names: string[] = []
    for (let i = 0; i < 4; i++) {
      const response = await get(router.port)
      expect(response.status).to.equal(200)
      expect(response.headers['set-cookie']).to.deep.equal(['a=1', 'b=2'])
      names.push(response.text)
    }

    expect(names.sort()).to.deep.equal(['web.1 127.0.0.1 id', 'web.1 127.0.0.1 id', 'web.2 127.0.0.1 id', 'web.2 127.0.0.1 id'])
  })

  it('writes a Heroku-style access line per request', async () => {
    await add('web.1')
    await get(router.port, '/x?y=1')
    const [message] = log.messages('router')
    expect(message).to.match(
      /^at=info method=GET path="\/x\?y=1" host=127\.0\.0\.1:\d+ request_id=[\w-]+ fwd="127\.0\.0\.1" dyno=web\.1 service=\d+ms status=200 bytes=\d+ protocol=http$/,
    )
    expect(log.lines[0].source).to.equal('herogate')
  })

  it('streams request bodies through', async () => {
    await add('web.1')
    const body = 'x'.repeat(300_000)
    expect((await get(router.port, '/echo', body)).text).to.equal('web.1:300000')
  })

  it('drain: no new requests to the backend, in-flight ones finish, then it resolves', async () => {
    const one = await add('web.1')
    const held = get(router.port, '/hold')
    while (one.held.length === 0) await new Promise((resolve) => setTimeout(resolve, 5))
    await add('web.2')
    let drained = false
    const draining = router.drain(`web.1@${one.port}`).then(() => (drained = true))
    // New requests go to web.2 only.
    for (let i = 0; i < 3; i++) expect((await get(router.port)).text).to.match(/^web\.2/)
    expect(drained).to.equal(false)
    one.held[0]()
    expect((await held).text).to.equal('web.1 held')
    await draining
    expect(router.backends().map((b) => b.name)).to.deep.equal(['web.2'])
  })

  it('retries a body-less request once on another backend when the connection fails', async () => {
    const dead = await add('web.1')
    await add('web.2')
    dead.server.closeAllConnections()
    await new Promise((resolve) => dead.server.close(resolve))
    for (let i = 0; i < 4; i++) {
      const response = await get(router.port)
      expect(response.status).to.equal(200)
      expect(response.text).to.match(/^web\.2/)
    }
  })

  it('answers 503 when the only backend is unreachable', async () => {
    const port = await freePort()
    router.add('web.1@x', 'web.1', port)
    const response = await get(router.port)
    expect(response.status).to.equal(503)
    expect(log.messages('router')[0]).to.match(/^at=error code=H13/)
  })

  it('proxies WebSocket-style upgrades', async () => {
    await add('web.1')
    const socket = connect(router.port, '127.0.0.1')
    socket.write('GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n')
    let received = ''
    await new Promise<void>((resolve) => {
      socket.on('data', (chunk) => {
        received += chunk.toString()
        if (received.includes('\r\n\r\n') && !received.includes('ping')) socket.write('ping')
        if (received.endsWith('ping')) resolve()
      })
    })
    socket.destroy()
    expect(received).to.match(/^HTTP\/1\.1 101/)
  })

  it('closes upgraded connections once their backend drained, without waiting for them', async () => {
    const one = await add('web.1')
    const socket = connect(router.port, '127.0.0.1')
    socket.write('GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n')
    await new Promise((resolve) => socket.once('data', resolve))
    const closed = new Promise((resolve) => socket.once('close', resolve))
    await router.drain(`web.1@${one.port}`)
    await closed
    expect(router.backends()).to.deep.equal([])
  })

  it('close frees the port', async () => {
    const port = router.port
    await router.close()
    const again = new Router({host: '127.0.0.1', port})
    await again.listen()
    await again.close()
  })

  it('probeHttp: a 2xx answer is healthy, a closed port is not (statuses and paths: settings.test.ts)', async () => {
    const b = await add('web.1')
    expect(await probeHttp(b.port)).to.equal(true)
    expect(await probeHttp(await freePort())).to.equal(false)
  })

  describe('slow clients and slow apps (limits injected short)', () => {
    let limited: Router
    const sockets: Socket[] = []

    beforeEach(async () => {
      limited = new Router({host: '127.0.0.1', port: await freePort(), log, limits: {headersMs: 300, firstByteMs: 400, idleMs: 400}})
      await limited.listen()
    })

    afterEach(async () => {
      for (const socket of sockets.splice(0)) socket.destroy()
      await limited.close()
    })

    /** The router's one access line for the request (a second would mean it logged the cut twice). */
    async function oneLine(): Promise<string> {
      await new Promise((resolve) => setTimeout(resolve, 100))
      expect(log.messages('router')).to.have.length(1)
      return log.messages('router')[0]
    }

    function slowClient(request: string): Socket {
      const socket = connect(limited.port, '127.0.0.1')
      socket.on('error', () => {})
      socket.write(request)
      sockets.push(socket)
      return socket
    }

    /** Everything the server sent until it closed the connection (a deadline only guards against hanging). */
    function untilClosed(socket: Socket): Promise<string> {
      let received = ''
      socket.setEncoding('utf8')
      socket.on('data', (chunk: string) => (received += chunk))
      return withDeadline(new Promise<string>((resolve) => socket.once('close', () => resolve(received))), 10_000, 'the router never closed the connection')
    }

    it('keeps serving others while 300 slow request bodies trickle in', async () => {
      const b = await backend('web.1')
      backends.push(b)
      // A long idle window: these clients are slow, not idle, and stay connected throughout.
      const patient = new Router({host: '127.0.0.1', port: await freePort(), log, limits: {idleMs: 60_000}})
      await patient.listen()
      patient.add('web.1', 'web.1', b.port)
      const slow = slowBodies(patient.port, 300)
      try {
        // Let every slow body reach the backend before the others ask.
        await withDeadline((async () => {
          while (patient.backends()[0].inflight < 300) await new Promise((resolve) => setTimeout(resolve, 20))
        })(), 15_000, 'the slow bodies never reached the backend')
        for (let i = 0; i < 20; i++) {
          const response = await withDeadline(get(patient.port), 10_000, `request ${i + 1} of the others got no answer`)
          expect(response.status).to.equal(200)
        }
      } finally {
        slow.stop()
        await patient.close()
      }
    })

    it('cuts a client whose request body goes idle (H28) and tells the app', async () => {
      const b = await backend('web.1')
      backends.push(b)
      limited.add('web.1', 'web.1', b.port)
      const aborted = new Promise<void>((resolve) => b.server.once('request', (req) => req.once('close', () => resolve())))
      const socket = slowClient('POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly some')
      const answer = await untilClosed(socket)
      expect(answer).to.match(/^HTTP\/1\.1 408 /)
      await withDeadline(aborted, 10_000, 'the backend request was never closed')
      expect((await oneLine())).to.match(/^at=error code=H28 desc="Client Connection Idle" method=POST path="\/echo" .* status=408 /)
    })

    it('answers 503 (H12) when the response does not start in time after the request was sent', async () => {
      const b = await backend('web.1')
      backends.push(b)
      limited.add('web.1', 'web.1', b.port)
      const response = await withDeadline(get(limited.port, '/hold'), 10_000, 'no answer')
      expect(response.status).to.equal(503)
      expect(response.text).to.equal('Request timeout\n')
      expect((await oneLine())).to.match(/^at=error code=H12 desc="Request timeout" method=GET path="\/hold" .* status=503 /)
    })

    it('closes a response that goes silent (H15)', async () => {
      const b = await backend('web.1')
      backends.push(b)
      limited.add('web.1', 'web.1', b.port)
      const socket = slowClient('GET /stall HTTP/1.1\r\nHost: x\r\n\r\n')
      const answer = await untilClosed(socket)
      expect(answer).to.match(/^HTTP\/1\.1 200 /).and.include('first chunk')
      expect((await oneLine())).to.match(/^at=error code=H15 desc="Idle connection" method=GET path="\/stall" .* status=200 /)
    })

    it('drops a client that never finishes its request headers', async () => {
      const socket = slowClient('GET / HTTP/1.1\r\nHost: x\r\n')
      await untilClosed(socket)
    })
  })
})

function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms)
  })
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer))
}
