import {expect} from 'chai'
import {existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync} from 'node:fs'
import {Agent, createServer, request} from 'node:http'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

import type {RunSpec} from '../../../src/platform/local/contracts.js'
import {openLogStore} from '../../../src/platform/local/logstore.js'
import {processRunning} from '../../../src/platform/local/processes.js'
import {freePort, portFree} from '../../../src/platform/local/ports.js'
import {type RouterControl, Supervisor} from '../../../src/platform/local/supervisor.js'
import {ensureSupervisor, stopSupervisor, supervisorRunning} from '../../../src/platform/local/supervisor-client.js'
import {publishedProcesses, readRecord} from '../../../src/platform/local/supervisor-paths.js'
import type {LogOptions, ProcessInfo} from '../../../src/platform/types.js'
import {FakeClock, fakeProcesses, MemoryLog, settle} from './fakes.js'

class RecordingRouter implements RouterControl {
  events: string[] = []
  serving = new Set<string>()
  add(key: string): void {
    this.events.push(`add ${key}`)
    this.serving.add(key)
  }

  async drain(key: string): Promise<void> {
    this.events.push(`drain ${key}`)
    this.serving.delete(key)
  }

  drop(key: string): void {
    this.events.push(`drop ${key}`)
    this.serving.delete(key)
  }
}

function release(version: number, extra: Partial<RunSpec> = {}): RunSpec {
  return {version, dir: `/builds/${version}`, processTypes: {web: 'node web.js', worker: 'node worker.js'}, env: {V: String(version)}, ...extra}
}

describe('local Supervisor (injected spawn, clock, ports, health)', () => {
  function setup(options: {healthy?: (port: number) => boolean; exposed?: Record<number, string[]>} = {}) {
    const clock = new FakeClock()
    const fakes = fakeProcesses()
    const log = new MemoryLog()
    const router = new RecordingRouter()
    let port = 6000
    const probes: number[] = []
    const supervisor = new Supervisor({
      log,
      router,
      clock,
      // Time passes only when the supervisor waits: pollers run in zero wall time.
      sleep: async (ms) => {
        clock.advance(ms)
        await new Promise((resolve) => setImmediate(resolve))
      },
      nextPort: async () => ++port,
      probe: async (p) => {
        probes.push(p)
        return options.healthy ? options.healthy(p) : true
      },
      tuning: {bootTimeoutMs: 5000, probeIntervalMs: 100, graceMs: 1000, stopGraceMs: 2000},
      processes: {spawn: fakes.spawn, kill: fakes.kill, baseEnv: {}, backoff: {baseMs: 1000, capMs: 8000, stableMs: 30_000}},
      // What the daemon publishes for reads: status() as it is at each change.
      onChange: () => published.push(supervisor.status()),
      exposedAddresses: (pgids) => {
        lookups.push(pgids)
        return new Map(pgids.map((pgid) => [pgid, options.exposed?.[pgid] ?? []]))
      },
    })
    const published: ProcessInfo[][] = []
    const lookups: number[][] = []
    return {clock, fakes, log, router, supervisor, probes, published, lookups}
  }

  it('reports every change as it happens, so what it published is always what status() says', async () => {
    let answering = true
    const {supervisor, fakes, clock, published} = setup({healthy: () => answering})
    const current = () => expect(published.at(-1) ?? [], JSON.stringify(supervisor.status())).to.deep.equal(supervisor.status())
    await supervisor.deploy({release: release(1), formation: {web: 1, worker: 1}})
    current()
    await supervisor.scale({web: 2})
    current()
    // A crash, then its restart after the backoff: down, starting, up again.
    fakes.children[0].exit(1)
    current()
    expect(published.at(-1)![0]).to.include({name: 'web.1', status: 'crashed', health: 'unhealthy'})
    clock.advance(1000)
    await settle()
    current()
    expect(published.at(-1)![0]).to.include({name: 'web.1', status: 'up', health: 'healthy', id: '1003'})
    await supervisor.stop('worker.1')
    current()
    await supervisor.restart('web')
    current()
    // A scaled-up web process that never answers: unhealthy, killed (R10), crashed.
    answering = false
    await supervisor.scale({web: 3})
    current()
    expect(published.flat().some((p) => p.name === 'web.3' && p.health === 'unhealthy')).to.equal(true)
    await supervisor.shutdown()
    current()
    expect(published.at(-1)).to.deep.equal([])
  })

  it('finds where web processes listen beyond loopback once they answer, and again after each restart', async () => {
    const {supervisor, fakes, clock, lookups} = setup({exposed: {1000: ['0.0.0.0:6001']}})
    await supervisor.deploy({release: release(1), formation: {web: 2, worker: 1}})
    // One look for the release's web processes together; none for a worker.
    expect(lookups).to.deep.equal([[1000, 1001]])
    expect(supervisor.status().map((p) => [p.name, p.exposed])).to.deep.equal([['web.1', ['0.0.0.0:6001']], ['web.2', undefined], ['worker.1', undefined]])
    fakes.children[0].exit(1)
    clock.advance(1000)
    await settle()
    expect(lookups.at(-1)).to.deep.equal([1003])
    expect(supervisor.status()[0]).to.include({name: 'web.1', id: '1003', status: 'up'}).and.not.have.property('exposed')
  })

  it('deploys a first release: web processes get their own ports and join the router once healthy', async () => {
    const {router, supervisor, fakes} = setup()
    const outcome = await supervisor.deploy({release: release(1), formation: {web: 2, worker: 1}})
    expect(outcome).to.deep.equal({ok: true})
    expect([...router.serving].sort()).to.deep.equal(['web.1@6001', 'web.2@6002'])
    expect(fakes.children.map((child) => [child.command, child.env.PORT, child.env.DYNO, child.cwd])).to.deep.equal([
      ['node web.js', '6001', 'web.1', '/builds/1'],
      ['node web.js', '6002', 'web.2', '/builds/1'],
      ['node worker.js', undefined, 'worker.1', '/builds/1'],
    ])
    const status = supervisor.status()
    expect(status.map((p) => [p.name, p.status, p.health, p.release, p.size, p.id])).to.deep.equal([
      ['web.1', 'up', 'healthy', 1, undefined, '1000'],
      ['web.2', 'up', 'healthy', 1, undefined, '1001'],
      ['worker.1', 'up', 'unknown', 1, undefined, '1002'],
    ])
  })

  it('rolls a new release in: new processes take traffic before the old ones drain and stop', async () => {
    const {router, supervisor, fakes} = setup()
    await supervisor.deploy({release: release(1), formation: {web: 1, worker: 1}})
    router.events = []
    const outcome = await supervisor.deploy({release: release(2), formation: {web: 1, worker: 1}})
    expect(outcome.ok).to.equal(true)
    expect(router.events).to.deep.equal(['add web.1@6002', 'drain web.1@6001'])
    expect(fakes.children[0].signals).to.deep.equal(['SIGTERM'])
    expect(fakes.children[1].signals).to.deep.equal(['SIGTERM'])
    expect(supervisor.status().map((p) => [p.name, p.release])).to.deep.equal([
      ['web.1', 2],
      ['worker.1', 2],
    ])
  })

  it('abandons a release whose web process crashes during boot; the old one keeps serving', async () => {
    const {router, supervisor, fakes, log} = setup({healthy: (port) => port !== 6002})
    await supervisor.deploy({release: release(1), formation: {web: 1}})
    fakes.onSpawn = (child) => {
      if (child.env.V === '2') setImmediate(() => child.exit(1))
    }

    const outcome = await supervisor.deploy({release: release(2), formation: {web: 1}})
    expect(outcome.ok).to.equal(false)
    expect(outcome.reason).to.equal('web.1 crashed during boot (exit status 1)')
    expect([...router.serving]).to.deep.equal(['web.1@6001'])
    expect(supervisor.status().map((p) => [p.name, p.release, p.status])).to.deep.equal([['web.1', 1, 'up']])
    expect(fakes.children[0].signals).to.deep.equal([])
    expect(log.messages('deploy')).to.deep.equal(['v2 abandoned: web.1 crashed during boot (exit status 1)'])
  })

  it('says what the process that crashed printed last (its last 20 lines, config values hidden), read to the end of its output', async () => {
    const {supervisor, fakes} = setup({healthy: (port) => port !== 6002})
    await supervisor.deploy({release: release(1), formation: {web: 1, worker: 1}})
    fakes.onSpawn = (child) => {
      if (child.env.V !== '2' || child.env.DYNO !== 'web.1') return
      setImmediate(() => {
        for (let i = 1; i <= 24; i++) child.stdout.write(`boot step ${i}\n`)
        child.stderr.write('Error: connect ECONNREFUSED redis://:hunter22@cache:6379\n')
        child.exit(1)
        // Output can trail the exit: the last words arrive after it, then the streams end.
        setImmediate(() => {
          child.stderr.end('giving up\n')
          child.stdout.end()
        })
      })
    }

    const outcome = await supervisor.deploy({release: release(2, {env: {V: '2', REDIS_URL: 'redis://:hunter22@cache:6379'}}), formation: {web: 1, worker: 1}})
    expect(outcome).to.deep.equal({
      ok: false,
      reason: 'web.1 crashed during boot (exit status 1)',
      output: {
        process: 'web.1',
        lines: [...Array.from({length: 18}, (_, i) => `boot step ${i + 7}`), 'Error: connect ECONNREFUSED [REDIS_URL]', 'giving up'],
      },
    })
  })

  it('abandons a release whose web process never answers within the boot timeout', async () => {
    const {router, supervisor, fakes, clock} = setup({healthy: (port) => port === 6001})
    await supervisor.deploy({release: release(1), formation: {web: 1}})
    const before = clock.now()
    const outcome = await supervisor.deploy({release: release(2), formation: {web: 1}})
    expect(outcome).to.deep.equal({ok: false, reason: 'web.1 did not answer GET / with 200-399 on its $PORT (6002) within the boot-timeout (5 s)'})
    expect(clock.now() - before).to.be.within(5000, 5200)
    expect(fakes.children[1].signals).to.deep.equal(['SIGTERM'])
    expect([...router.serving]).to.deep.equal(['web.1@6001'])
  })

  it('abandons a release whose worker dies within its grace period', async () => {
    const {supervisor, fakes} = setup()
    await supervisor.deploy({release: release(1), formation: {web: 1, worker: 1}})
    fakes.onSpawn = (child) => {
      if (child.env.V === '2' && child.command === 'node worker.js') setImmediate(() => child.exit(2))
    }

    const outcome = await supervisor.deploy({release: release(2), formation: {web: 1, worker: 1}})
    expect(outcome).to.deep.equal({ok: false, reason: 'worker.1 crashed during boot (exit status 2)'})
    expect(supervisor.status().map((p) => p.release)).to.deep.equal([1, 1])
  })

  it('treats the same release again as a formation change (a CLI re-sending desired state)', async () => {
    const {supervisor, fakes} = setup()
    await supervisor.deploy({release: release(1), formation: {web: 1}})
    await supervisor.deploy({release: release(1), formation: {web: 2}})
    expect(fakes.children).to.have.length(2)
    expect(supervisor.status().map((p) => p.name)).to.deep.equal(['web.1', 'web.2'])
  })

  it('scales up and down: new web processes join when healthy, removed ones drain first', async () => {
    const {router, supervisor} = setup()
    await supervisor.deploy({release: release(1), formation: {web: 1}})
    await supervisor.scale({web: 3, worker: 2})
    expect(supervisor.status().map((p) => `${p.name}:${p.status}`)).to.deep.equal(['web.1:up', 'web.2:up', 'web.3:up', 'worker.1:up', 'worker.2:up'])
    expect(router.serving.size).to.equal(3)
    router.events = []
    await supervisor.scale({web: 1, worker: 0})
    expect(supervisor.status().map((p) => p.name)).to.deep.equal(['web.1'])
    expect(router.events.sort()).to.deep.equal(['drain web.2@6002', 'drain web.3@6003'])
  })

  it('restarts a crashed web process with backoff and routes to it again once healthy', async () => {
    const {router, supervisor, fakes, clock} = setup()
    await supervisor.deploy({release: release(1), formation: {web: 1}})
    fakes.children[0].exit(137)
    expect(router.events.at(-1)).to.equal('drop web.1@6001')
    expect(supervisor.status()[0].status).to.equal('crashed')
    clock.advance(1000)
    await settle()
    expect(fakes.children).to.have.length(2)
    expect(fakes.children[1].env.PORT).to.equal('6001')
    expect(router.events.at(-1)).to.equal('add web.1@6001')
    expect(supervisor.status()[0]).to.include({status: 'up', health: 'healthy', id: '1001'})
  })

  it('tells the router why no web process takes traffic', async () => {
    const {supervisor, fakes} = setup()
    expect(supervisor.whyNoWeb().code).to.equal('H14')
    await supervisor.deploy({release: release(1), formation: {web: 1}})
    fakes.children[0].exit(1)
    expect(supervisor.whyNoWeb()).to.deep.equal({code: 'H10', desc: 'App crashed'})
  })

  it('restart: a rolling replacement of one type', async () => {
    const {supervisor, fakes} = setup()
    await supervisor.deploy({release: release(1), formation: {web: 1, worker: 1}})
    await supervisor.restart('worker')
    expect(fakes.children.map((child) => [child.command, child.signals.join()])).to.deep.equal([
      ['node web.js', ''],
      ['node worker.js', 'SIGTERM'],
      ['node worker.js', ''],
    ])
    let error: Error | undefined
    await supervisor.restart('clock').catch((error_: Error) => (error = error_))
    expect(error?.message).to.equal('No clock processes are running.')
  })

  it('stop: stops the named process and starts it again; unknown ids are refused', async () => {
    const {supervisor, fakes} = setup()
    await supervisor.deploy({release: release(1), formation: {web: 2}})
    await supervisor.stop('web.2')
    expect(fakes.children[1].signals).to.deep.equal(['SIGTERM'])
    expect(fakes.children).to.have.length(3)
    expect(supervisor.status().map((p) => [p.name, p.id])).to.deep.equal([
      ['web.1', '1000'],
      ['web.2', '1002'],
    ])
    let error: Error | undefined
    await supervisor.stop('web.9').catch((error_: Error) => (error = error_))
    expect(error?.message).to.equal('No process web.9.')
  })

  it('shutdown stops everything and refuses further work', async () => {
    const {supervisor, fakes, router} = setup()
    await supervisor.deploy({release: release(1), formation: {web: 2, worker: 1}})
    await supervisor.shutdown()
    expect(fakes.children.every((child) => child.exited)).to.equal(true)
    expect(supervisor.status()).to.deep.equal([])
    expect(router.serving.size).to.equal(0)
    let error: Error | undefined
    await supervisor.scale({web: 1}).catch((error_: Error) => (error = error_))
    expect(error?.message).to.equal('The supervisor is shutting down.')
  })

  it('never logs or reports config values', async () => {
    const {supervisor, log} = setup()
    await supervisor.deploy({release: release(1, {env: {DATABASE_URL: 'postgres://u:hunter2@db'}}), formation: {web: 1}})
    expect(JSON.stringify(log.lines)).to.not.include('hunter2')
    expect(JSON.stringify(supervisor.status())).to.not.include('hunter2')
  })
})

describe('local supervisor daemon (real processes, HTTP through the router)', function () {
  this.timeout(60_000)
  const fixtures = fileURLToPath(new URL('../../fixtures/runtime', import.meta.url))
  let appDir: string
  let port: number
  const options = () => ({appDir, app: 'rt-test', port, host: '127.0.0.1', tuning: {bootTimeoutMs: 3000, graceMs: 300, stopGraceMs: 2000}})
  const spec = (version: number, env: Record<string, string> = {}): RunSpec => ({
    version,
    dir: fixtures,
    processTypes: {web: 'node app.mjs', worker: 'node worker.mjs'},
    env: {RELEASE: `v${version}`, SECRET: 'hunter2-secret', ...env},
  })

  before(async () => {
    appDir = mkdtempSync(join(tmpdir(), 'herogate-rt-'))
    port = await freePort()
  })

  after(async () => {
    await stopSupervisor(appDir)
    rmSync(appDir, {recursive: true, force: true})
  })

  it('starts one detached daemon per app, owner-only socket, and reconnects to it', async () => {
    const first = await ensureSupervisor(options())
    expect(first.started).to.equal(true)
    const second = await ensureSupervisor(options())
    expect(second.started).to.equal(false)
    expect(second.pid).to.equal(first.pid)
    expect(await supervisorRunning(appDir)).to.equal(true)
    expect(statSync(join(appDir, 'supervisor.sock')).mode & 0o777).to.equal(0o600)
    expect(readRecord(appDir)).to.include({pid: first.pid, socket: join(appDir, 'supervisor.sock')})
  })

  it('runs the formation; the router spreads requests over the web processes; output reaches the log store', async () => {
    const supervisor = await ensureSupervisor(options())
    expect(await supervisor.deploy({release: spec(1), formation: {web: 2, worker: 1}})).to.deep.equal({ok: true})
    const status = await supervisor.status()
    expect(status.map((p) => [p.name, p.status, p.release])).to.deep.equal([
      ['web.1', 'up', 1],
      ['web.2', 'up', 1],
      ['worker.1', 'up', 1],
    ])
    const dynos = new Set<string>()
    for (let i = 0; i < 4; i++) {
      const body = JSON.parse(await (await fetch(`http://127.0.0.1:${port}/log`)).text()) as {release: string; dyno: string; secretSeen: boolean}
      expect(body.release).to.equal('v1')
      expect(body.secretSeen).to.equal(true)
      dynos.add(body.dyno)
    }

    expect([...dynos].sort()).to.deep.equal(['web.1', 'web.2'])
    const lines = await readLogs({num: 1000, tail: false})
    expect(lines).to.include('app[web.1] hello from web.1')
    expect(lines.some((line) => line.startsWith('app[worker.1] tick worker.1'))).to.equal(true)
    expect(lines.some((line) => /^herogate\[router\] at=info method=GET path="\/log" .*dyno=web\.\d .*status=200/.test(line))).to.equal(true)
    const disk = readdirSync(appDir, {recursive: true, withFileTypes: true}).filter((entry) => entry.isFile())
    for (const entry of disk) expect(readFileSync(join(entry.parentPath, entry.name), 'utf8')).to.not.include('hunter2-secret')
  })

  it('restarts a crashed process', async () => {
    const supervisor = await ensureSupervisor(options())
    const before = (await supervisor.status()).find((p) => p.name === 'web.1')!
    process.kill(Number(before.id), 'SIGKILL')
    const after = await waitFor(async () => {
      const web1 = (await supervisor.status()).find((p) => p.name === 'web.1')
      return web1 && web1.id !== before.id && web1.status === 'up' ? web1 : undefined
    })
    expect(after.health).to.equal('healthy')
    const lines = await readLogs({num: 1000, tail: false, task: 'web.1'})
    expect(lines).to.include('herogate[web.1] State changed from up to crashed')
  })

  it('abandons a release that crashes or never answers; the old release keeps serving', async () => {
    const supervisor = await ensureSupervisor(options())
    const crashed = await supervisor.deploy({release: spec(2, {CRASH: 'start'}), formation: {web: 2, worker: 1}})
    expect(crashed.ok).to.equal(false)
    expect(crashed.reason).to.match(/crashed during boot/)
    const silent = await supervisor.deploy({release: spec(3, {NO_LISTEN: '1'}), formation: {web: 2, worker: 1}})
    expect(silent.ok).to.equal(false)
    // Whichever of web.1 and web.2 runs out of time first names the failure.
    expect(silent.reason).to.match(/^web\.[12] did not answer GET \/ with 200-399 on its \$PORT \(\d+\) within the boot-timeout \(3 s\)$/)
    const body = JSON.parse(await (await fetch(`http://127.0.0.1:${port}/`)).text()) as {release: string}
    expect(body.release).to.equal('v1')
    expect((await supervisor.status()).map((p) => p.release)).to.deep.equal([1, 1, 1])
  })

  it('rolls releases under constant concurrent load with zero failed requests', async () => {
    const supervisor = await ensureSupervisor(options())
    let deploying = true
    const load = loadLoop(port, () => deploying, 8)
    for (const version of [4, 5, 6]) expect(await supervisor.deploy({release: spec(version, {SLOW_MS: '5'}), formation: {web: 2, worker: 1}})).to.deep.equal({ok: true})
    deploying = false
    const result = await load
    expect(result.failed, result.errors.slice(0, 3).join('; ')).to.equal(0)
    expect(result.ok).to.be.greaterThan(50)
    expect(result.releases.has('v6')).to.equal(true)
    expect((await supervisor.status()).map((p) => p.release)).to.deep.equal([6, 6, 6])
  })

  it('publishes what runs for reads, which see it without a request, only while the daemon watches its processes', async () => {
    const supervisor = await ensureSupervisor(options())
    expect(publishedProcesses(appDir)).to.deep.equal(await supervisor.status())
    const before = (await supervisor.status()).find((p) => p.name === 'worker.1')!
    process.kill(Number(before.id), 'SIGKILL')
    // Published as it happens: crashed, then started again.
    const restarted = await waitFor(async () => {
      const worker = publishedProcesses(appDir)?.find((p) => p.name === 'worker.1')
      return worker && worker.id !== before.id && worker.status === 'up' ? worker : undefined
    })
    expect((await supervisor.status()).find((p) => p.name === 'worker.1')).to.deep.equal(restarted)
    const record = readRecord(appDir)!
    // Stopped (Ctrl-Z, SIGSTOP), it sees no crash: reads ask it instead, and wait.
    process.kill(record.pid, 'SIGSTOP')
    try {
      await waitFor(async () => publishedProcesses(appDir) === undefined)
    } finally {
      process.kill(record.pid, 'SIGCONT')
    }

    expect(publishedProcesses(appDir)).to.deep.equal(await supervisor.status())
    // Killed while its watchdog is held still: what it published is no one's.
    process.kill(record.watchdog!.pid, 'SIGSTOP')
    try {
      process.kill(record.pid, 'SIGKILL')
      await waitFor(async () => !alive(record.pid))
      expect(existsSync(join(appDir, 'supervisor.status.json'))).to.equal(true)
      expect(publishedProcesses(appDir)).to.equal(undefined)
    } finally {
      process.kill(record.watchdog!.pid, 'SIGCONT')
    }

    const next = await ensureSupervisor(options())
    expect(next.pid).to.not.equal(record.pid)
    expect(await next.deploy({release: spec(6), formation: {web: 2, worker: 1}})).to.deep.equal({ok: true})
    expect(publishedProcesses(appDir)).to.deep.equal(await next.status())
  })

  it('gives stopped processes their grace period to shut down cleanly', async () => {
    const supervisor = await ensureSupervisor(options())
    expect(await supervisor.deploy({release: spec(7, {TERM_DELAY_MS: '300'}), formation: {web: 1, worker: 1}})).to.deep.equal({ok: true})
    expect(await supervisor.deploy({release: spec(8), formation: {web: 2, worker: 1}})).to.deep.equal({ok: true})
    const lines = await readLogs({num: 1000, tail: false, task: 'web.1'})
    expect(lines).to.include('app[web.1] web.1 release v7 got SIGTERM')
    expect(lines).to.include('app[web.1] web.1 release v7 shut down cleanly')
  })

  it('after the daemon is killed, its watchdog starts it again, which stops the orphans first', async () => {
    const first = await ensureSupervisor(options())
    const pids = (await first.status()).map((p) => Number(p.id))
    expect(pids).to.not.deep.equal([])
    process.kill(first.pid, 'SIGKILL')
    // No command: the watchdog brings a new daemon, and that one reaps what the old one ran.
    const restarted = await waitFor(async () => {
      const record = readRecord(appDir)
      return record && record.pid !== first.pid && record.socket && alive(record.pid) ? record : undefined
    })
    await waitFor(async () => pids.every((pid) => !alive(pid)))
    const second = await ensureSupervisor(options())
    expect(second.pid).to.equal(restarted.pid)
    // Not an app directory with records: there is no release to bring back.
    expect(await second.status()).to.deep.equal([])
    expect(await second.deploy({release: spec(6), formation: {web: 1}})).to.deep.equal({ok: true})
    expect((await fetch(`http://127.0.0.1:${port}/`)).status).to.equal(200)
  })

  it('stopSupervisor stops every process, frees the port and removes its files', async () => {
    const supervisor = await ensureSupervisor(options())
    await supervisor.scale({web: 2, worker: 1})
    const pids = (await supervisor.status()).map((p) => Number(p.id))
    expect(pids).to.have.length(3)
    const watchdog = readRecord(appDir)!.watchdog!.pid
    expect(alive(watchdog)).to.equal(true)
    expect(await stopSupervisor(appDir)).to.equal(true)
    expect(pids.filter(alive)).to.deep.equal([])
    expect(alive(supervisor.pid)).to.equal(false)
    expect(alive(watchdog)).to.equal(false)
    expect(await portFree(port)).to.equal(true)
    expect(existsSync(join(appDir, 'supervisor.sock'))).to.equal(false)
    expect(existsSync(join(appDir, 'supervisor.json'))).to.equal(false)
    expect(existsSync(join(appDir, 'supervisor.status.json'))).to.equal(false)
    expect(await supervisorRunning(appDir)).to.equal(false)
    expect(await stopSupervisor(appDir)).to.equal(false)
  })

  it('starts a single daemon when several commands ask at once', async () => {
    const otherDir = mkdtempSync(join(tmpdir(), 'herogate-rt-'))
    try {
      const other = {appDir: otherDir, app: 'twice', port: await freePort(), host: '127.0.0.1'}
      const handles = await Promise.all([ensureSupervisor(other), ensureSupervisor(other), ensureSupervisor(other)])
      expect(new Set(handles.map((handle) => handle.pid)).size).to.equal(1)
      expect(handles.filter((handle) => handle.started)).to.have.length(1)
    } finally {
      await stopSupervisor(otherDir)
      rmSync(otherDir, {recursive: true, force: true})
    }
  })

  it('explains a router port taken by another program', async () => {
    const blocker = createServer()
    const taken = await freePort()
    await new Promise<void>((resolve) => blocker.listen(taken, '127.0.0.1', resolve))
    const otherDir = mkdtempSync(join(tmpdir(), 'herogate-rt-'))
    try {
      let error: Error | undefined
      await ensureSupervisor({appDir: otherDir, app: 'blocked', port: taken, host: '127.0.0.1'}).catch((error_: Error) => (error = error_))
      expect(error?.message).to.equal(`Could not start the router of blocked: port ${taken} on 127.0.0.1 is already in use by another program.`)
      expect(await supervisorRunning(otherDir)).to.equal(false)
    } finally {
      blocker.close()
      rmSync(otherDir, {recursive: true, force: true})
    }
  })

  async function readLogs(logOptions: LogOptions): Promise<string[]> {
    await new Promise((resolve) => setTimeout(resolve, 50))
    const lines: string[] = []
    for await (const line of openLogStore(appDir).read(logOptions)) lines.push(`${line.source}[${line.process}] ${line.message}`)
    return lines
  }
})

async function waitFor<T>(check: () => Promise<T | undefined | false>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value) return value
    if (Date.now() > deadline) throw new Error('timed out waiting')
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

const alive = processRunning

/** `concurrency` clients sending GETs over keep-alive connections while `running()` holds. */
export async function loadLoop(port: number, running: () => boolean, concurrency: number) {
  const agent = new Agent({keepAlive: true, maxSockets: concurrency})
  const result = {ok: 0, failed: 0, errors: [] as string[], releases: new Set<string>()}
  const worker = async () => {
    while (running()) {
      try {
        const body = await new Promise<string>((resolve, reject) => {
          const req = request({host: '127.0.0.1', port, path: '/', agent}, (res) => {
            let text = ''
            res.setEncoding('utf8')
            res.on('data', (chunk: string) => (text += chunk))
            res.on('end', () => (res.statusCode === 200 ? resolve(text) : reject(new Error(`status ${res.statusCode}: ${text}`))))
            res.on('error', reject)
          })
          req.on('error', reject)
          req.end()
        })
        result.ok++
        result.releases.add((JSON.parse(body) as {release: string}).release)
      } catch (error) {
        result.failed++
        result.errors.push((error as Error).message)
      }
    }
  }

  await Promise.all(Array.from({length: concurrency}, worker))
  agent.destroy()
  return result
}
