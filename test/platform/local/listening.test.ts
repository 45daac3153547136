import {expect} from 'chai'
import {type ChildProcess, spawn} from 'node:child_process'
import {existsSync, readFileSync} from 'node:fs'

import {listenWarning, publicListeners} from '../../../src/platform/local/listening.js'
import {freePort} from '../../../src/platform/local/ports.js'
import type {ProcessInfo} from '../../../src/platform/types.js'

/** A real process group (as the supervisor starts one) whose grandchild listens on `host`. */
async function listener(host: string | undefined, port: number): Promise<ChildProcess> {
  const script = `require('node:http').createServer((q, s) => s.end()).listen(${port}, ${host === undefined ? 'undefined' : JSON.stringify(host)}, () => console.log('up'))`
  // Through sh, not exec'd: the socket belongs to a child of the group leader, not to the leader itself.
  const child = spawn('sh', ['-c', `"${process.execPath}" -e "$SCRIPT"; true`], {detached: true, stdio: ['ignore', 'pipe', 'inherit'], env: {...process.env, SCRIPT: script}})
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve())
    child.once('exit', (code) => reject(new Error(`listener exited with ${code}`)))
  })
  return child
}

describe('local listen check (/proc)', function () {
  this.timeout(20_000)
  const children: ChildProcess[] = []

  before(function () {
    if (!existsSync('/proc/net/tcp')) this.skip()
  })

  afterEach(() => {
    for (const child of children.splice(0)) {
      try {
        process.kill(-child.pid!, 'SIGKILL')
      } catch {}
    }
  })

  const start = async (host: string | undefined) => {
    const port = await freePort()
    const child = await listener(host, port)
    children.push(child)
    return {pid: child.pid!, port}
  }

  // Without a host node listens on [::] (IPv4 too), or on 0.0.0.0 where the machine has no IPv6.
  const cases: Array<[string, string | undefined, (port: number) => RegExp[]]> = [
    ['no host (every interface)', undefined, (port) => [new RegExp(`^(\\[::\\]|0\\.0\\.0\\.0):${port}$`)]],
    ['0.0.0.0', '0.0.0.0', (port) => [new RegExp(`^0\\.0\\.0\\.0:${port}$`)]],
    ['127.0.0.1', '127.0.0.1', () => []],
    ['another loopback address', '127.0.0.2', () => []],
  ]
  for (const [title, host, expected] of cases) {
    it(`finds what a process group listens on beyond loopback: ${title}`, async () => {
      const {pid, port} = await start(host)
      const found = publicListeners([pid])!.get(pid)!
      const patterns = expected(port)
      expect(found).to.have.lengthOf(patterns.length)
      for (const [i, pattern] of patterns.entries()) expect(found[i]).to.match(pattern)
    })
  }

  it('finds a listener on a machine with many connections, which /proc lists after every listening socket', async () => {
    const {pid, port} = await start('0.0.0.0')
    // Connections in the socket table (established, then TIME_WAIT) after the listeners.
    const {request} = await import('node:http')
    for (let i = 0; i < 20; i++) {
      await new Promise<void>((resolve, reject) => request({host: '127.0.0.1', port, agent: false}, (res) => res.resume().on('end', resolve)).on('error', reject).end())
    }

    // The order listening.ts reads no further than: every LISTEN (0A) line comes first.
    for (const file of ['/proc/net/tcp', '/proc/net/tcp6'].filter((f) => existsSync(f))) {
      const states = readFileSync(file, 'utf8').trim().split('\n').slice(1).map((line) => line.trim().split(/\s+/)[3])
      const firstOther = states.findIndex((state) => state !== '0A')
      expect(firstOther === -1 ? [] : states.slice(firstOther).filter((state) => state === '0A'), file).to.deep.equal([])
    }

    expect(publicListeners([pid])!.get(pid)).to.deep.equal([`0.0.0.0:${port}`])
  })

  it('::1 is loopback too', async function () {
    if (!existsSync('/proc/net/tcp6')) this.skip()
    const {pid} = await start('::1').catch(() => ({pid: 0}))
    if (!pid) this.skip()
    expect(publicListeners([pid])!.get(pid)).to.deep.equal([])
  })
})

describe('local listen warning', () => {
  const info = (name: string, exposed?: string[], status = 'up'): ProcessInfo => ({name, type: name.split('.')[0], id: '1', status, health: 'healthy', ...(exposed ? {exposed} : {})})

  it('warns once for the web processes the supervisor found listening beyond loopback, unless HEROGATE_BIND is set', () => {
    const processes = [info('web.1', ['0.0.0.0:6001']), info('web.2'), info('worker.1', ['0.0.0.0:6003'])]
    expect(listenWarning(processes, '')).to.equal(
      'web.1 listens on 0.0.0.0:6001: beyond 127.0.0.1, so other machines can reach it without the router. ' +
        "Listen on 127.0.0.1 (e.g. server.listen(process.env.PORT, '127.0.0.1')), or set HEROGATE_BIND if the app is meant to be reachable.",
    )
    expect(listenWarning([info('web.1', ['[::]:6001']), info('web.2', ['0.0.0.0:6002', '[::]:6002'])], '')).to.match(
      /^web\.1 listens on \[::\]:6001; web\.2 listens on 0\.0\.0\.0:6002, \[::\]:6002: beyond 127\.0\.0\.1, so other machines can reach these processes without the router\./,
    )
    expect(listenWarning(processes, '0.0.0.0')).to.equal(undefined)
    expect(listenWarning([processes[1], info('web.3', ['0.0.0.0:6004'], 'crashed')], '')).to.equal(undefined)
  })
})
