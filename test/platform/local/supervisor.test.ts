import {expect} from 'chai'

import type {RunSpec} from '../../../src/platform/local/contracts.js'
import {type RouterControl, Supervisor} from '../../../src/platform/local/supervisor.js'
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
  function setup(options: {healthy?: (port: number) => boolean} = {}) {
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
    })
    return {clock, fakes, log, router, supervisor, probes}
  }

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
      ['web.1', 'up', 'healthy', 1, 'standard-1x', '1000'],
      ['web.2', 'up', 'healthy', 1, 'standard-1x', '1001'],
      ['worker.1', 'up', 'unknown', 1, 'standard-1x', '1002'],
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

  it('abandons a release whose web process never answers within the boot timeout', async () => {
    const {router, supervisor, fakes, clock} = setup({healthy: (port) => port === 6001})
    await supervisor.deploy({release: release(1), formation: {web: 1}})
    const before = clock.now()
    const outcome = await supervisor.deploy({release: release(2), formation: {web: 1}})
    expect(outcome).to.deep.equal({ok: false, reason: 'web.1 did not answer HTTP on its $PORT (6002) within 5 s'})
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
