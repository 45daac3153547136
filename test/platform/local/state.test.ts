import {expect} from 'chai'
import {existsSync, mkdirSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync} from 'node:fs'
import {hostname} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {LockHeld} from '../../../src/lib/errors.js'
import {processStartTime} from '../../../src/platform/local/processes.js'
import {appPaths, readJson, takeOverLock, tryLock, withLock, writeJsonAtomic} from '../../../src/platform/local/state.js'
import {exec, tempHome} from './helpers.js'

describe('local app state', () => {
  let home: ReturnType<typeof tempHome>
  const app = 'state-app'

  beforeEach(() => {
    home = tempHome()
    mkdirSync(appPaths(app).dir, {recursive: true})
  })

  afterEach(() => home.cleanup())

  const writeLock = (info: object | string) => writeFileSync(appPaths(app).lock, typeof info === 'string' ? info : JSON.stringify(info))

  it('writes JSON atomically, owner-only, leaving no temporary file behind', () => {
    const file = join(appPaths(app).dir, 'x.json')
    writeJsonAtomic(file, {a: 1})
    writeJsonAtomic(file, {a: 2})
    expect(readJson(file)).to.deep.equal({a: 2})
    expect(statSync(file).mode & 0o777).to.equal(0o600)
    expect(readdirSync(appPaths(app).dir)).to.deep.equal(['x.json'])
  })

  const ownStart = processStartTime(process.ppid)
  const lockOf = (pid: number, more: object = {}) => ({pid, start: processStartTime(pid), host: hostname(), operation: 'deploy', holder: 'dev', since: new Date().toISOString(), token: 'held-by-dev', ...more})

  it('refuses a lock a live process holds, however old', () => {
    writeLock(lockOf(process.ppid, {since: new Date(Date.now() - 5 * 3_600_000).toISOString()}))
    expect(tryLock(app, 'config', 'me')).to.equal(undefined)
    expect(readJson<{token: string}>(appPaths(app).lock).token).to.equal('held-by-dev')
  })

  it('refuses a lock held on another machine (its process cannot be checked from here)', () => {
    writeLock(lockOf(2 ** 22 + 4321, {host: 'elsewhere.example'}))
    expect(tryLock(app, 'config', 'me')).to.equal(undefined)
  })

  it('refuses a fresh lock it cannot read (an older herogate may be writing it)', () => {
    writeLock('{"pid": 12')
    expect(tryLock(app, 'config', 'me')).to.equal(undefined)
  })

  const stale: Array<[string, () => void]> = [
    ['its holder died', () => writeLock(lockOf(2 ** 22 + 4321))],
    ['its pid now belongs to a process that started at another time', () => writeLock(lockOf(process.ppid, {start: `${ownStart}0`}))],
    ['a crash left it unreadable a while ago', () => {
      writeLock('{"pid": 12')
      const past = new Date(Date.now() - 60_000)
      utimesSync(appPaths(app).lock, past, past)
    }],
  ]
  for (const [why, make] of stale) {
    it(`takes over a lock when ${why}`, () => {
      make()
      const lock = tryLock(app, 'config', 'me')
      expect(lock).to.not.equal(undefined)
      expect(readJson<{pid: number; operation: string; token: string}>(appPaths(app).lock)).to.include({pid: process.pid, operation: 'config', token: lock!.token})
      lock!.release()
      expect(existsSync(appPaths(app).lock)).to.equal(false)
      expect(readdirSync(appPaths(app).dir)).to.deep.equal([])
    })
  }

  it('hands a held lock over: the new holder releases it, the old one no longer can', () => {
    const first = tryLock(app, 'deploy', 'dev')!
    const second = takeOverLock(appPaths(app).lock, first.token, 'deploy v2')!
    expect(second.token).to.not.equal(first.token)
    expect(takeOverLock(appPaths(app).lock, first.token, 'again')).to.equal(undefined)
    first.release()
    expect(readJson<{operation: string; holder: string}>(appPaths(app).lock)).to.include({operation: 'deploy v2', holder: 'dev'})
    expect(tryLock(app, 'config', 'me')).to.equal(undefined)
    second.release()
    expect(existsSync(appPaths(app).lock)).to.equal(false)
  })

  describe('between processes', function () {
    this.timeout(120_000)
    const racers = 8
    const rounds = 15

    async function race(): Promise<void> {
      const racer = fileURLToPath(new URL('lock-racer.ts', import.meta.url))
      const runs = Array.from({length: racers}, () =>
        exec(fileURLToPath(new URL('../../..', import.meta.url)), process.execPath, ['--import', 'tsx', racer, app, String(rounds)], {...process.env, HEROGATE_HOME: home.dir}))
      // Everyone starts at once: tsx start-up takes longer than this on any machine.
      await new Promise((resolve) => setTimeout(resolve, 200))
      writeFileSync(join(appPaths(app).dir, 'go'), '')
      for (const run of await Promise.all(runs)) expect(run.code, run.output).to.equal(0)
    }

    it(`withLock from ${racers} processes at once: one holder at a time, no update lost`, async () => {
      await race()
      expect(existsSync(join(appPaths(app).dir, 'violations'))).to.equal(false)
      expect(Number(readFileSync(join(appPaths(app).dir, 'counter'), 'utf8'))).to.equal(racers * rounds)
      expect(existsSync(appPaths(app).lock)).to.equal(false)
    })

    it('a dead holder\'s lock is broken once, by one of many waiters at once', async () => {
      writeLock(lockOf(2 ** 22 + 4321))
      await race()
      expect(existsSync(join(appPaths(app).dir, 'violations'))).to.equal(false)
      expect(Number(readFileSync(join(appPaths(app).dir, 'counter'), 'utf8'))).to.equal(racers * rounds)
      expect(readdirSync(appPaths(app).dir).sort()).to.deep.equal(['counter', 'go'])
    })
  })

  it('waits for a held lock, then says who holds it (in zero time with an injected clock)', async () => {
    writeLock(lockOf(process.ppid))
    let now = 0
    const sleeps: number[] = []
    let error: unknown
    try {
      await withLock(app, 'config', async () => 'never', {waitMs: 1000, now: () => now, sleep: async (ms) => {
        sleeps.push(ms)
        now += ms
      }})
    } catch (error_) {
      error = error_
    }

    expect(error).to.be.instanceOf(LockHeld)
    expect((error as LockHeld).message).to.match(/^App state-app is busy: deploy by dev since /)
    expect(sleeps.reduce((a, b) => a + b, 0)).to.equal(1000)
  })

  it('runs the change once the holder lets go', async () => {
    const lock = tryLock(app, 'deploy', 'dev')!
    let now = 0
    const result = await withLock(app, 'config', async () => 'done', {waitMs: 10_000, now: () => now, sleep: async (ms) => {
      now += ms
      if (now >= 200) lock.release()
    }})
    expect(result).to.equal('done')
    expect(existsSync(appPaths(app).lock)).to.equal(false)
  })
})
