import {expect} from 'chai'
import {existsSync, mkdirSync, readdirSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {LockHeld} from '../../../src/lib/errors.js'
import {appPaths, readJson, tryLock, withLock, writeJsonAtomic} from '../../../src/platform/local/state.js'
import {tempHome} from './helpers.js'

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

  it('refuses a lock a live process holds', () => {
    writeLock({pid: process.ppid, operation: 'deploy', holder: 'dev', since: new Date().toISOString()})
    expect(tryLock(app, 'config', 'me')).to.equal(undefined)
    expect(existsSync(appPaths(app).lock)).to.equal(true)
  })

  const stale: Array<[string, object | string]> = [
    ['its holder died', {pid: 2 ** 22 + 4321, operation: 'deploy', holder: 'dev', since: new Date().toISOString()}],
    ['it is older than an hour (the pid went to another process)', {pid: process.ppid, operation: 'deploy', holder: 'dev', since: new Date(Date.now() - 2 * 3_600_000).toISOString()}],
    ['a crash left it half written', '{"pid": 12'],
  ]
  for (const [why, info] of stale) {
    it(`takes over a lock when ${why}`, () => {
      writeLock(info)
      const release = tryLock(app, 'config', 'me')
      expect(release).to.be.a('function')
      expect(readJson<{pid: number; operation: string}>(appPaths(app).lock)).to.include({pid: process.pid, operation: 'config'})
      release!()
      expect(existsSync(appPaths(app).lock)).to.equal(false)
    })
  }

  it('waits for a held lock, then says who holds it (in zero time with an injected clock)', async () => {
    writeLock({pid: process.ppid, operation: 'deploy', holder: 'dev', since: new Date().toISOString()})
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
    const release = tryLock(app, 'deploy', 'dev')!
    let now = 0
    const result = await withLock(app, 'config', async () => 'done', {waitMs: 10_000, now: () => now, sleep: async (ms) => {
      now += ms
      if (now >= 200) release()
    }})
    expect(result).to.equal('done')
    expect(existsSync(appPaths(app).lock)).to.equal(false)
  })
})
