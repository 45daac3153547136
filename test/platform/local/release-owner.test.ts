import {expect} from 'chai'
import {rmSync, writeFileSync} from 'node:fs'

import {LocalPlatform} from '../../../src/platform/local/index.js'
import {receivePush} from '../../../src/platform/local/git-hook.js'
import {LockNotHeld} from '../../../src/platform/local/release-owner.js'
import {createRelease, readRelease} from '../../../src/platform/local/releases.js'
import {appPaths, readApp} from '../../../src/platform/local/state.js'
import {collector, commitAll, FakeRuntime, fixtureRepo, sh, tempHome} from './helpers.js'

const ZERO = '0'.repeat(40)

/**
 * What happens when a release's owner dies at each step (release-owner.ts): the app's state
 * is put where a killed supervisor leaves it, and the next command settles it.
 */
describe('release ownership: settling what a killed owner left', function () {
  this.timeout(30_000)
  const app = 'owner-app'
  let home: ReturnType<typeof tempHome>
  let runtime: FakeRuntime
  let platform: LocalPlatform
  let repo: string
  const paths = () => appPaths(app)
  const main = () => sh(paths().repo, 'git', ['rev-parse', 'refs/heads/main'])
  const deadLock = () => writeFileSync(paths().lock, JSON.stringify({pid: 2 ** 22 + 99, host: '', operation: 'deploy', holder: 'dev', since: new Date().toISOString(), token: 'dead'}))

  /** A commit in the app repo that no branch points at yet. */
  function commitInRepo(message: string): string {
    writeFileSync(`${repo}/message.txt`, `${message}\n`)
    const sha = commitAll(repo, message)
    sh(repo, 'git', ['push', '--quiet', '--force', 'herogate', 'HEAD:refs/incoming/test'])
    return sha
  }

  beforeEach(async () => {
    home = tempHome()
    runtime = new FakeRuntime()
    platform = new LocalPlatform({runtime, lockWaitMs: 0})
    repo = fixtureRepo()
    await platform.createApp({name: app, cwd: repo})
    const first = commitInRepo('one')
    const [pushed] = await receivePush(platform.ctx, app, [{oldSha: ZERO, newSha: first, ref: 'refs/heads/main'}], collector())
    expect(pushed.ok, pushed.reason).to.equal(true)
  })

  afterEach(() => {
    home.cleanup()
    rmSync(repo, {recursive: true, force: true})
  })

  it('a release left pending is marked failed (interrupted), and the branch its owner had moved goes back', async () => {
    const v1 = readRelease(paths(), 1)!
    const two = commitInRepo('two')
    createRelease(paths(), {description: 'Deploy two', author: 'dev', commit: two, image: v1.image, configVersion: 0, processTypes: v1.processTypes, branch: {ref: 'refs/heads/main', old: v1.commit!}})
    sh(paths().repo, 'git', ['update-ref', 'refs/heads/main', two, v1.commit!])
    deadLock()
    const [latest] = await platform.releases(app, {num: 1})
    expect(latest).to.include({version: 2, status: 'failed', current: false, failure: 'interrupted: its supervisor stopped before the release ended'})
    expect(main()).to.equal(v1.commit)
    expect(readApp(app).current).to.equal(1)
  })

  it('a first release left pending takes its branch away again (it did not exist before)', async () => {
    const v1 = readRelease(paths(), 1)!
    sh(paths().repo, 'git', ['update-ref', '-d', 'refs/heads/main'])
    createRelease(paths(), {description: 'Deploy one again', author: 'dev', commit: v1.commit, image: v1.image, configVersion: 0, processTypes: v1.processTypes, branch: {ref: 'refs/heads/main', old: ZERO}})
    sh(paths().repo, 'git', ['update-ref', 'refs/heads/main', v1.commit!, ''])
    deadLock()
    await platform.releases(app, {num: 1})
    expect(() => main()).to.throw()
  })

  it('a release that succeeded before its owner wrote app.json becomes current, and the supervisor runs it', async () => {
    const v1 = readRelease(paths(), 1)!
    createRelease(paths(), {description: 'Set A config vars', author: 'dev', commit: v1.commit, image: v1.image, configVersion: 0, processTypes: v1.processTypes}, new Date(), 'succeeded')
    deadLock()
    const processes = await platform.ps(app)
    expect(readApp(app).current).to.equal(2)
    expect(processes.map((p) => p.release)).to.deep.equal([2])
    expect(runtime.supervisors.get(paths().dir)!.deploys.at(-1)!.release.version).to.equal(2)
  })

  it('refuses a release whose sender does not hold the app lock, recording nothing', async () => {
    const supervisor = await runtime.ensureSupervisor({appDir: paths().dir, app})
    const v1 = readRelease(paths(), 1)!
    let error: unknown
    try {
      await supervisor.release({lock: 'not-the-holder', release: {description: 'sneaky', author: 'x', image: v1.image, configVersion: 0, processTypes: v1.processTypes}})
    } catch (error_) {
      error = error_
    }

    expect(error).to.be.instanceOf(LockNotHeld)
    expect(readRelease(paths(), 2)).to.equal(undefined)
  })
})
