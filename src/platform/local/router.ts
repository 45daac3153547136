import {randomUUID} from 'node:crypto'
import {Agent, request, createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import {connect, type Socket} from 'node:net'

import type {LogWriter} from './contracts.js'

/**
 * The local router: one HTTP listener per app that spreads requests round robin over the
 * healthy web processes. Backends join only once healthy and leave by draining: no new
 * requests, in-flight ones finish, then the caller stops the process. A request that fails
 * to reach a backend before any response byte was sent is retried once on another backend,
 * so a rolling deploy under load fails no request. Slow clients and slow apps are bounded as
 * Heroku's router bounds them (see RouterLimits), so a few thousand of them cannot stop the
 * traffic of others.
 */

/** How long the router waits for either side, in Heroku's terms. */
export interface RouterLimits {
  /** A client must send its request headers within this. */
  headersMs: number
  /** Once the whole request reached the web process, the response must start within this (H12 Request timeout). */
  firstByteMs: number
  /**
   * A rolling window: every byte from the client (request body) or the app (response)
   * starts it again. A request body silent this long is cut (H28 Client Connection Idle),
   * a response silent this long too (H15 Idle connection).
   */
  idleMs: number
}

export const herokuLimits: RouterLimits = {headersMs: 30_000, firstByteMs: 30_000, idleMs: 55_000}

export interface RouterOptions {
  host: string
  port: number
  log?: LogWriter
  /** How long draining a backend may wait for in-flight requests (default 30 s). */
  drainTimeoutMs?: number
  /** Why no backend takes traffic (Heroku error code and description); default H14. */
  whyNoBackend?(): {code: string; desc: string}
  /** Heroku's limits unless told otherwise (tests make them short). */
  limits?: Partial<RouterLimits>
  /** The maintenance page while the app is in maintenance mode (every request gets it with a 503), else undefined. */
  maintenancePage?(): string | undefined
}

interface BackendEntry {
  key: string
  name: string
  port: number
  agent: Agent
  inflight: number
  active: boolean
  sockets: Set<Socket>
  idle: Array<() => void>
}

/** Heroku's router keeps a client's X-Request-Id only when it is 20 to 200 of these characters. */
const REQUEST_ID = /^[A-Za-z0-9+=/-]{20,200}$/

/**
 * The request id the router logs and passes on: the client's when valid, else a fresh one.
 * A client's id goes into log lines, so anything else (spaces, quotes, newlines) would let
 * it write log fields of its own.
 */
export function requestIdOf(header: string | string[] | undefined): string {
  return typeof header === 'string' && REQUEST_ID.test(header) ? header : randomUUID()
}

/**
 * A client-chosen value (the Host header, the path) as one access-log field: bytes that could
 * end the field or start another (spaces, quotes, backslashes, control and non-ASCII
 * characters) are percent-encoded, so a client cannot write fields of its own.
 */
export function logField(value: string): string {
  return value.replace(/[^\x21\x23-\x5b\x5d-\x7e]/gu, (c) => [...Buffer.from(c)].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join(''))
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-authorization', 'proxy-authenticate'])

export class Router {
  private server: Server | undefined
  private readonly entries = new Map<string, BackendEntry>()
  private rotation: BackendEntry[] = []
  private cursor = 0
  private readonly upgraded = new Set<Socket>()
  private readonly drainTimeoutMs: number
  private readonly limits: RouterLimits

  constructor(private readonly options: RouterOptions) {
    this.drainTimeoutMs = options.drainTimeoutMs ?? 30_000
    this.limits = {...herokuLimits, ...options.limits}
  }

  private boundPort: number | undefined

  get port(): number {
    return this.boundPort ?? this.options.port
  }

  async listen(): Promise<void> {
    // Node looks for clients late with their headers only every connectionsCheckingInterval.
    const checkEvery = Math.max(50, Math.min(1000, Math.floor(this.limits.headersMs / 4)))
    const server = createServer({keepAlive: true, connectionsCheckingInterval: checkEvery}, (req, res) => this.handle(req, res))
    server.keepAliveTimeout = 65_000
    server.headersTimeout = this.limits.headersMs
    // An upload may take as long as it keeps moving: the idle window bounds it, not a total.
    server.requestTimeout = 0
    server.on('upgrade', (req, socket, head) => this.upgrade(req, socket as Socket, head))
    server.on('clientError', (_error, socket) => socket.destroy())
    // Connections of a router that was just killed linger for a moment (FIN-WAIT) and keep
    // the port from being bound, though nothing listens on it: wait those out. A port that
    // accepts connections belongs to another program.
    const deadline = Date.now() + LINGER_WAIT_MS
    for (;;) {
      try {
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject)
          server.listen(this.options.port, this.options.host, () => {
            server.off('error', reject)
            resolve()
          })
        })
        break
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || Date.now() > deadline || (await accepts(this.options.port, this.options.host))) throw error
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
    }

    this.server = server
    const address = server.address()
    this.boundPort = typeof address === 'object' && address ? address.port : this.options.port
  }

  async close(): Promise<void> {
    const server = this.server
    this.server = undefined
    for (const socket of this.upgraded) socket.destroy()
    for (const entry of this.entries.values()) entry.agent.destroy()
    this.entries.clear()
    this.rotation = []
    if (!server) return
    await new Promise<void>((resolve) => {
      server.close(() => resolve())
      server.closeAllConnections()
    })
  }

  /** Starts sending requests to a backend (call once it answered its health check). */
  add(key: string, name: string, port: number): void {
    if (this.entries.has(key)) return
    // No cap on sockets: with one, that many slow clients would queue everyone else behind
    // them. The limits bound how long any request may hold a socket instead.
    const agent = new Agent({keepAlive: true, maxFreeSockets: 64, keepAliveMsecs: 1000})
    this.entries.set(key, {key, name, port, agent, inflight: 0, active: true, sockets: new Set(), idle: []})
    this.rebuild()
  }

  /** Swaps backends in one step: the new ones take traffic before the old ones stop taking it. */
  replace(add: Array<{key: string; name: string; port: number}>, remove: string[]): Promise<void> {
    for (const backend of add) this.add(backend.key, backend.name, backend.port)
    return Promise.all(remove.map((key) => this.drain(key))).then(() => undefined)
  }

  /** No new requests to this backend; resolves when its in-flight requests are done (or the drain timeout). */
  async drain(key: string, timeoutMs = this.drainTimeoutMs): Promise<void> {
    const entry = this.entries.get(key)
    if (!entry) return
    entry.active = false
    this.rebuild()
    if (entry.inflight > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs)
        timer.unref()
        entry.idle.push(() => {
          clearTimeout(timer)
          resolve()
        })
      })
    }

    this.entries.delete(key)
    entry.agent.destroy()
    for (const socket of entry.sockets) socket.destroy()
  }

  /** Stops routing to a backend at once (its process is gone). */
  drop(key: string): void {
    const entry = this.entries.get(key)
    if (!entry) return
    entry.active = false
    this.rebuild()
    if (entry.inflight === 0) {
      this.entries.delete(key)
      entry.agent.destroy()
    }
  }

  backends(): Array<{key: string; name: string; port: number; active: boolean; inflight: number}> {
    return [...this.entries.values()].map(({key, name, port, active, inflight}) => ({key, name, port, active, inflight}))
  }

  private rebuild(): void {
    this.rotation = [...this.entries.values()].filter((entry) => entry.active)
  }

  private pick(exclude?: BackendEntry): BackendEntry | undefined {
    const candidates = exclude ? this.rotation.filter((entry) => entry !== exclude) : this.rotation
    if (candidates.length === 0) return undefined
    this.cursor = (this.cursor + 1) % candidates.length
    return candidates[this.cursor]
  }

  private release(entry: BackendEntry): void {
    entry.inflight--
    if (entry.inflight > 0) return
    const idle = entry.idle
    entry.idle = []
    for (const resolve of idle) resolve()
    if (!entry.active && idle.length === 0 && this.entries.get(entry.key) === entry) {
      // Dropped while busy: forget it now that the last request is done.
      this.entries.delete(entry.key)
      entry.agent.destroy()
    }
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const started = process.hrtime.bigint()
    const requestId = requestIdOf(req.headers['x-request-id'])
    const hasBody = req.headers['content-length'] !== undefined ? req.headers['content-length'] !== '0' : req.headers['transfer-encoding'] !== undefined
    const headers: Record<string, string | string[]> = {}
    for (const [name, value] of Object.entries(req.headers)) if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = value
    const remote = req.socket.remoteAddress ?? ''
    const forwarded = req.headers['x-forwarded-for']
    headers['x-forwarded-for'] = forwarded ? `${forwarded}, ${remote}` : remote
    // Set, not passed through: a client must not be able to claim it came over HTTPS.
    headers['x-forwarded-proto'] = 'http'
    headers['x-forwarded-port'] = String(this.port)
    headers['x-request-id'] = requestId
    if (hasBody && req.headers['transfer-encoding']) headers['transfer-encoding'] = 'chunked'

    const finish = (entry: BackendEntry | undefined, status: number, bytes: number, error?: {code: string; desc: string}, level = 'error') => {
      const service = Number((process.hrtime.bigint() - started) / 1_000_000n)
      const prefix = error ? `at=${level} code=${error.code} desc="${error.desc}"` : 'at=info'
      this.options.log?.append({
        time: new Date(),
        source: 'herogate',
        process: 'router',
        message: `${prefix} method=${req.method} path="${logField(req.url ?? '')}" host=${logField(req.headers.host ?? '')} request_id=${requestId} fwd="${remote}" dyno=${entry?.name ?? ''} service=${service}ms status=${status} bytes=${bytes} protocol=http`,
      })
    }

    const fail = (entry: BackendEntry | undefined, code: string, desc: string, status = 503) => {
      if (res.headersSent) {
        res.destroy()
        finish(entry, res.statusCode, 0, {code, desc})
        return
      }

      const body = `${desc}\n`
      const close = status === 503 ? {'retry-after': '1'} : {connection: 'close'}
      res.writeHead(status, {'content-type': 'text/plain', 'content-length': Buffer.byteLength(body), ...close})
      res.end(body)
      if (status !== 503) res.once('finish', () => req.socket.destroySoon())
      finish(entry, status, Buffer.byteLength(body), {code, desc})
    }

    // Maintenance mode: the page, before any backend is picked. Heroku logs it as H80, at=info (no error of the app).
    const page = this.options.maintenancePage?.()
    if (page !== undefined) {
      const bytes = Buffer.byteLength(page)
      res.writeHead(503, {'content-type': 'text/html; charset=utf-8', 'content-length': bytes, 'cache-control': 'no-store'})
      res.end(req.method === 'HEAD' ? undefined : page)
      if (hasBody) req.resume()
      finish(undefined, 503, req.method === 'HEAD' ? 0 : bytes, {code: 'H80', desc: 'Maintenance mode'}, 'info')
      return
    }

    const attempt = (exclude?: BackendEntry) => {
      const entry = this.pick(exclude)
      if (!entry) {
        const why = this.options.whyNoBackend?.() ?? {code: 'H14', desc: 'No web processes running'}
        fail(undefined, why.code, why.desc)
        if (hasBody) req.resume()
        return
      }

      entry.inflight++
      let released = false
      const done = () => {
        if (released) return
        released = true
        this.release(entry)
      }

      let responded = false
      const upstream = request({host: '127.0.0.1', port: entry.port, method: req.method, path: req.url, headers, agent: entry.agent})
      // Set when a limit cut the request: the upstream error that follows is ours, not the app's.
      let cut = false
      const abandon = () => {
        cut = true
        upstream.destroy()
        done()
      }

      const watch = this.watch(() => {
        abandon()
        fail(entry, 'H28', 'Client Connection Idle', 408)
      })
      if (hasBody) {
        req.on('data', watch.poke)
        req.once('end', watch.stop)
        // An app slow to read the body holds the client back: that is not the client idling.
        upstream.on('drain', watch.poke)
        watch.start(this.limits.idleMs)
      }

      // Heroku's 30 s count from the moment the whole request reached the app.
      upstream.once('finish', () => {
        if (responded) return
        watch.start(this.limits.firstByteMs, () => {
          abandon()
          fail(entry, 'H12', 'Request timeout')
        })
      })
      upstream.on('socket', (socket) => {
        if (!entry.sockets.has(socket)) {
          entry.sockets.add(socket)
          socket.once('close', () => entry.sockets.delete(socket))
        }
      })
      upstream.on('response', (response) => {
        responded = true
        watch.start(this.limits.idleMs, () => {
          abandon()
          res.destroy()
          finish(entry, response.statusCode ?? 502, bytes, {code: 'H15', desc: 'Idle connection'})
        })
        const out: Record<string, string | string[]> = {}
        for (const [name, value] of Object.entries(response.headers)) if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value
        let bytes = 0
        response.on('data', (chunk: Buffer) => {
          watch.poke()
          // The first chunk goes as a latin1 string (byte for byte the same): node then sends
          // it in one write with the headers instead of a writev, which is most of a small
          // response's cost.
          const ok = bytes === 0 ? res.write(chunk.toString('latin1'), 'latin1') : res.write(chunk)
          bytes += chunk.length
          if (!ok) {
            response.pause()
            res.once('drain', () => {
              watch.poke()
              response.resume()
            })
          }
        })
        response.on('end', () => {
          watch.stop()
          res.end()
          done()
          finish(entry, response.statusCode ?? 502, bytes)
        })
        response.on('error', () => {
          watch.stop()
          done()
          if (cut) return
          res.destroy()
          finish(entry, response.statusCode ?? 502, bytes, {code: 'H13', desc: 'Connection closed mid-response'})
        })
        res.writeHead(response.statusCode ?? 502, response.statusMessage, out)
      })
      upstream.on('error', (error: NodeJS.ErrnoException) => {
        watch.stop()
        done()
        if (cut) return
        if (responded) {
          res.destroy()
          return
        }

        if (res.destroyed) return

        if (!exclude && !hasBody && !res.headersSent && !res.destroyed && this.rotation.some((other) => other !== entry)) {
          attempt(entry)
          return
        }

        fail(entry, 'H13', `Connection closed without response (${error.code ?? error.message})`)
      })
      res.on('close', () => {
        watch.stop()
        if (!res.writableFinished) {
          upstream.destroy()
          done()
        }
      })

      if (hasBody) req.pipe(upstream)
      else upstream.end()
    }

    attempt()
  }

  /**
   * One request's timer: `start(ms, onExpire)` arms it (replacing what was armed), `poke`
   * starts the current window again (a byte moved), `stop` disarms it.
   */
  private watch(onIdle: () => void): {start(ms: number, onExpire?: () => void): void; poke(): void; stop(): void} {
    let timer: NodeJS.Timeout | undefined
    let expire = onIdle
    return {
      start(ms, onExpire = onIdle) {
        if (timer) clearTimeout(timer)
        expire = onExpire
        timer = setTimeout(() => {
          timer = undefined
          expire()
        }, ms)
      },
      poke() {
        timer?.refresh()
      },
      stop() {
        if (timer) clearTimeout(timer)
        timer = undefined
      },
    }
  }

  /**
   * WebSocket and other upgrades are piped to a backend. They do not hold up a drain: once
   * their backend drained they are closed, and the client reconnects to a new process.
   */
  private upgrade(req: IncomingMessage, client: Socket, head: Buffer): void {
    const page = this.options.maintenancePage?.()
    if (page !== undefined) {
      client.end(`HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/html; charset=utf-8\r\nconnection: close\r\ncontent-length: ${Buffer.byteLength(page)}\r\n\r\n${page}`)
      return
    }

    const entry = this.pick()
    if (!entry) {
      client.end('HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\ncontent-length: 0\r\n\r\n')
      return
    }

    this.upgraded.add(client)
    const backend = connect(entry.port, '127.0.0.1', () => {
      const lines = [`${req.method} ${req.url} HTTP/${req.httpVersion}`]
      for (let i = 0; i < req.rawHeaders.length; i += 2) {
        const name = req.rawHeaders[i].toLowerCase()
        if (name !== 'x-forwarded-for' && name !== 'x-forwarded-proto' && name !== 'x-request-id') lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`)
      }

      lines.push(`X-Request-Id: ${requestIdOf(req.headers['x-request-id'])}`)

      const forwarded = req.headers['x-forwarded-for']
      const remote = req.socket.remoteAddress ?? ''
      lines.push(`X-Forwarded-For: ${forwarded ? `${forwarded}, ${remote}` : remote}`, 'X-Forwarded-Proto: http')
      backend.write(lines.join('\r\n') + '\r\n\r\n')
      if (head.length > 0) backend.write(head)
      backend.pipe(client)
      client.pipe(backend)
    })
    entry.sockets.add(backend)
    const close = () => {
      this.upgraded.delete(client)
      entry.sockets.delete(backend)
      backend.destroy()
      client.destroy()
    }

    backend.on('error', close)
    backend.on('close', close)
    client.on('error', close)
    client.on('close', close)
  }
}

/** How long a router waits for the lingering connections of a killed one to let go of its port. */
const LINGER_WAIT_MS = 10_000

/** Whether anything accepts TCP connections on host:port (an unspecified host: this machine). */
function accepts(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host)
    socket.setTimeout(1000, () => socket.destroy())
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
    socket.once('close', () => resolve(false))
  })
}

/** One health probe: GET `path` (default /) on host:port answered with 200-399 within the timeout. */
export async function probeHttp(port: number, options: {path?: string; timeoutMs?: number; host?: string} = {}): Promise<boolean> {
  const {path = '/', timeoutMs = 1000, host = '127.0.0.1'} = options
  return new Promise((resolve) => {
    const req = request({host, port, method: 'GET', path, agent: false, timeout: timeoutMs, headers: {'user-agent': 'herogate-health'}}, (res) => {
      res.resume()
      // What the AWS load balancer's health check takes as healthy (templates/app.yml, Matcher).
      resolve(res.statusCode !== undefined && res.statusCode >= 200 && res.statusCode < 400)
    })
    req.on('timeout', () => req.destroy())
    req.on('error', () => resolve(false))
    req.end()
  })
}
