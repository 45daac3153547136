import {expect} from 'chai'
import {rmSync, unlinkSync, writeFileSync} from 'node:fs'
import {createServer} from 'node:http'
import {join} from 'node:path'

import {HerogateError} from '../../../src/lib/errors.js'
import {receivePush} from '../../../src/platform/local/git-hook.js'
import {LocalPlatform} from '../../../src/platform/local/index.js'
import {probeHttp} from '../../../src/platform/local/router.js'
import {appPaths, readApp} from '../../../src/platform/local/state.js'
import {type RouterControl, Supervisor} from '../../../src/platform/local/supervisor.js'
import type {RunSpec} from '../../../src/platform/local/contracts.js'
import {FakeClock, fakeProcesses, MemoryLog} from './fakes.js'
import {collector, commitAll, exec, FakeRuntime, fixtureRepo, get, removeApp, sh, tempHome} from './helpers.js'

const router: RouterControl = {add() {}, async drain() {}, drop() {}}
const release = (version: number): RunSpec => ({version, dir: `/builds/${version}`, processTypes: {web: 'node web.js'}, env: {}})

describe('probeHttp: the health check of a web process', () => {
  it('asks GET of the path and takes 200-399 as healthy, as the AWS load balancer does', async () => {
    const seen: string[] = []
    const server = createServer((req, res) => {
      seen.push(`${req.method} ${req.url} ${req.headers['user-agent']}`)
      res.statusCode = Number(req.url!.slice(1).split('?')[0]) || 200
      res.end()
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const {port} = server.address() as {port: number}
    try {
      const answers: Record<string, boolean> = {}
      for (const path of ['/', '/200', '/204', '/301', '/399', '/400', '/404', '/500', '/503?x=1']) answers[path] = await probeHttp(port, {path})
      expect(answers).to.deep.equal({'/': true, '/200': true, '/204': true, '/301': true, '/399': true, '/400': false, '/404': false, '/500': false, '/503?x=1': false})
      expect(seen[0]).to.equal('GET / herogate-health')
      expect(seen.at(-1)).to.equal('GET /503?x=1 herogate-health')
    } finally {
      server.close()
    }
  })
})

describe('local Supervisor: the boot check comes with each deploy', () => {
  it("uses the deploy's boot-timeout and probes its path; a deploy of the same release changes them for later restarts", async () => {
    const clock = new FakeClock()
    const fakes = fakeProcesses()
    const probes: string[] = []
    // Which path answers 200-399, and from when.
    let answers = {path: '/health', from: 0}
    let port = 7000
    const supervisor = new Supervisor({
      log: new MemoryLog(),
      router,
      clock,
      sleep: async (ms) => {
        clock.advance(ms)
        await new Promise((resolve) => setImmediate(resolve))
      },
      nextPort: async () => ++port,
      probe: async (p, path) => {
        probes.push(`${p}${path}`)
        return path === answers.path && clock.now() >= answers.from
      },
      // The daemon's own default, which a deploy's boot check replaces.
      tuning: {bootTimeoutMs: 60_000, probeIntervalMs: 100, graceMs: 1000, stopGraceMs: 2000},
      processes: {spawn: fakes.spawn, kill: fakes.kill, baseEnv: {}, backoff: {baseMs: 1000, capMs: 8000, stableMs: 30_000}},
    })

    expect(await supervisor.deploy({release: release(1), formation: {web: 1}, boot: {timeoutMs: 3000, path: '/health'}})).to.deep.equal({ok: true})
    expect(probes).to.deep.equal(['7001/health'])

    const start = clock.now()
    const outcome = await supervisor.deploy({release: release(2), formation: {web: 1}, boot: {timeoutMs: 2000, path: '/ready'}})
    expect(outcome).to.deep.equal({ok: false, reason: 'web.1 did not answer GET /ready with 200-399 on its $PORT (7002) within the boot-timeout (2 s)'})
    expect(clock.now() - start).to.be.within(2000, 2200)

    // The same release again: nothing restarts, but what starts from now on gets 7 s on /health.
    const spawned = fakes.children.length
    expect(await supervisor.deploy({release: release(1), formation: {web: 1}, boot: {timeoutMs: 7000, path: '/health'}})).to.deep.equal({ok: true})
    expect(fakes.children).to.have.length(spawned)
    answers = {path: '/health', from: clock.now() + 5000}
    await supervisor.restart('web')
    expect(supervisor.status().map((p) => [p.name, p.status, p.release])).to.deep.equal([['web.1', 'up', 1]])
    expect(probes.at(-1)).to.equal('7003/health')
  })
})

describe('local app settings (fake supervisor)', function () {
  this.timeout(20_000)
  let home: ReturnType<typeof tempHome>
  let runtime: FakeRuntime
  let platform: LocalPlatform
  let repo: string
  const app = 'set-test'

  before(() => {
    home = tempHome()
    runtime = new FakeRuntime()
    platform = new LocalPlatform({runtime, lockWaitMs: 0})
    repo = fixtureRepo()
  })
  after(() => {
    home.cleanup()
    rmSync(repo, {recursive: true, force: true})
  })

  it('create keeps the settings it is given in app.json, only those that are not defaults', async () => {
    await platform.createApp({name: app, cwd: repo, settings: {'boot-timeout': 30, 'health-check-path': '/'}})
    expect(readApp(app).settings).to.deep.equal({'boot-timeout': 30})
    expect(await platform.settings(app)).to.deep.equal([
      {name: 'boot-timeout', value: 30, default: 60, isDefault: false},
      {name: 'health-check-path', value: '/', default: '/', isDefault: true},
    ])
  })

  it('before the first deploy: stored, for the next deploy', async () => {
    const change = await platform.setSettings(app, {'health-check-path': '/health'})
    expect(change).to.deep.include({changed: ['health-check-path'], takesEffect: 'next-deploy', notes: ['The first deploy gives its web processes 30 s to answer GET /health with 200-399.']})
    expect(readApp(app).settings).to.deep.equal({'boot-timeout': 30, 'health-check-path': '/health'})
  })

  it('every deploy hands the supervisor the boot check from the settings', async () => {
    // The commit goes to a ref the hook does not deploy; main is handed to receivePush in this
    // process as git would, so the fake supervisor owns the release (release-owner.ts deploys it).
    sh(repo, 'git', ['push', '--quiet', 'herogate', 'HEAD:refs/incoming/test'])
    const [pushed] = await receivePush(platform.ctx, app, [{oldSha: '0'.repeat(40), newSha: sh(repo, 'git', ['rev-parse', 'HEAD']), ref: 'refs/heads/main'}], collector())
    expect(pushed, pushed.reason).to.include({ok: true})
    await platform.setConfig(app, {A: '1'})
    const deploys = runtime.supervisors.get(appPaths(app).dir)!.deploys
    expect(deploys.map((d) => [d.release.version, d.boot])).to.deep.equal([[1, {timeoutMs: 30_000, path: '/health'}], [2, {timeoutMs: 30_000, path: '/health'}]])
  })

  it('with a release running: handed to the supervisor at once, with the same release (nothing restarts)', async () => {
    const supervisor = runtime.supervisors.get(appPaths(app).dir)!
    const before = supervisor.deploys.length
    const change = await platform.setSettings(app, {'boot-timeout': 90})
    expect(change).to.deep.include({
      changed: ['boot-timeout'],
      takesEffect: 'now',
      notes: ['Web processes started from now on (deploys, restarts, scaling, crash restarts) get 90 s to answer GET /health with 200-399; the running ones keep running.'],
    })
    expect(supervisor.deploys).to.have.length(before + 1)
    expect(supervisor.deploys.at(-1)).to.deep.include({boot: {timeoutMs: 90_000, path: '/health'}, formation: {web: 1, worker: 0}})
    expect(supervisor.deploys.at(-1)!.release.version).to.equal(readApp(app).current)
  })

  it('unset restores the defaults and removes them from app.json; unsetting a default changes nothing', async () => {
    // The new path is probed through the app's router port: here a stand-in answers / only.
    const probed: string[] = []
    const server = createServer((req, res) => {
      probed.push(req.url!)
      res.statusCode = req.url === '/' ? 200 : 404
      res.end()
    })
    await new Promise<void>((resolve) => server.listen(readApp(app).port, '127.0.0.1', resolve))
    try {
      const change = await platform.unsetSettings(app, ['boot-timeout', 'health-check-path'])
      expect(change.changed).to.deep.equal(['boot-timeout', 'health-check-path'])
      const refused = await platform.setSettings(app, {'health-check-path': '/health'}).catch((error: unknown) => error)
      expect((refused as Error).message).to.equal(`The running web processes of ${app} do not answer GET /health with 200-399, so health-check-path stays /.`)
    } finally {
      server.close()
    }

    expect(probed).to.deep.equal(['/', '/health'])
    expect(readApp(app)).to.not.have.property('settings')
    const again = await platform.unsetSettings(app, ['boot-timeout'])
    expect(again).to.deep.include({changed: [], notes: ['boot-timeout is already 60: nothing changed.']})
  })
})

/**
 * The settings end to end: real git push, the real supervisor and router, a real app that
 * takes 2 s to listen (longer than the boot-timeout it gets first) and whose / answers 500
 * in one release. Every wait is a poll or the deploy itself; no fixed sleeps.
 */
describe('local app settings end to end (real push, processes, HTTP)', function () {
  this.timeout(60_000)
  const app = 'slow-boot'
  let home: ReturnType<typeof tempHome>
  let repo: string
  let platform: LocalPlatform
  let url: string

  const push = () => exec(repo, 'git', ['push', 'herogate', 'main'])

  before(async () => {
    home = tempHome()
    repo = fixtureRepo()
    writeFileSync(join(repo, 'boot-delay'), '2')
    commitAll(repo, 'listens after 2 s')
    platform = new LocalPlatform()
    url = (await platform.createApp({name: app, cwd: repo, settings: {'boot-timeout': 1}})).webUrl!
  })

  after(() => removeApp(app, home, repo))

  it('an app slower to listen than its boot-timeout is rejected', async () => {
    const {code, output} = await push()
    expect(code, output).to.not.equal(0)
    expect(output).to.match(/web\.1 did not answer GET \/ with 200-399 on its \$PORT \(\d+\) within the boot-timeout \(1 s\)/)
    expect((await platform.releases(app, {num: 1}))[0]).to.include({version: 1, status: 'failed'})
  })

  it('deploys once boot-timeout allows it', async () => {
    const change = await platform.setSettings(app, {'boot-timeout': 4})
    expect(change.takesEffect).to.equal('next-deploy')
    const {code, output} = await push()
    expect(code, output).to.equal(0)
    expect((await get(url)).body).to.equal('hello from web.1\n')
  })

  it('refuses a health-check-path the running release does not answer, and changes nothing', async () => {
    // The fixture app answers 404 for a config var that is not set.
    const error = await platform.setSettings(app, {'health-check-path': '/config/NOT_SET'}).catch((error_: unknown) => error_)
    expect(error).to.be.instanceOf(HerogateError)
    expect((error as Error).message).to.equal(`The running web processes of ${app} do not answer GET /config/NOT_SET with 200-399, so health-check-path stays /.`)
    expect(readApp(app).settings).to.deep.equal({'boot-timeout': 4})
  })

  it('probes the health-check-path during deploys: a release whose / answers 500 deploys once the path is /health', async () => {
    unlinkSync(join(repo, 'boot-delay'))
    writeFileSync(join(repo, 'root-fails'), '')
    commitAll(repo, '/ answers 500')
    const rejected = await push()
    expect(rejected.code, rejected.output).to.not.equal(0)
    expect(rejected.output).to.match(/did not answer GET \/ with 200-399/)
    expect((await get(url)).body).to.equal('hello from web.1\n')

    const change = await platform.setSettings(app, {'health-check-path': '/health'})
    expect(change.takesEffect).to.equal('now')
    const {code, output} = await push()
    expect(code, output).to.equal(0)
    expect(await get(url)).to.deep.equal({status: 500, body: 'not ready'})
    expect(sh(repo, 'git', ['ls-remote', 'herogate', 'main']).split('\t')[0]).to.equal(sh(repo, 'git', ['rev-parse', 'HEAD']))
  })
})
