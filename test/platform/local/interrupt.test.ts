import {expect} from 'chai'
import {type ChildProcess, spawn} from 'node:child_process'
import {existsSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {openLogStore} from '../../../src/platform/local/logstore.js'
import {readRelease, type ReleaseRecord} from '../../../src/platform/local/releases.js'
import {appPaths, latestVersion, readApp} from '../../../src/platform/local/state.js'
import {ensureSupervisor, stopSupervisor, supervisorRunning} from '../../../src/platform/local/supervisor-client.js'
import {readRecord} from '../../../src/platform/local/supervisor-paths.js'
import {CLI, commitAll, exec, get, pushedApp, sh} from './helpers.js'


/** Polls `check` every 25 ms until it returns something truthy; fails the test after `seconds`. */
async function until<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, seconds = 60): Promise<T> {
  const deadline = Date.now() + seconds * 1000
  for (;;) {
    const value = await check()
    if (value) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

/** A process in its own process group, as a terminal's foreground job is: Ctrl-C signals the whole group. */
function start(cwd: string, command: string, args: string[], env: NodeJS.ProcessEnv): {child: ChildProcess; done: Promise<{code: number | null; signal: string | null; output: string}>} {
  const child = spawn(command, args, {cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe']})
  let output = ''
  child.stdout!.on('data', (chunk) => (output += chunk))
  child.stderr!.on('data', (chunk) => (output += chunk))
  const done = new Promise<{code: number | null; signal: string | null; output: string}>((resolve) => {
    child.once('close', (code, signal) => resolve({code, signal, output}))
  })
  return {child, done}
}

/**
 * Interrupting a change mid-way, with real git, processes and signals: the supervisor owns a
 * release once it has it, so it ends and is recorded, the branch follows what is live, and
 * the next change starts from what really runs. A change interrupted before the hand-over
 * leaves nothing behind (not even its lock). The interruption point is found by polling the
 * app's state, never by sleeping.
 */
describe('interrupted deploys and config changes (built CLI, real git, processes and signals)', function () {
  this.timeout(180_000)
  const app = 'interrupt-app'
  const deployed = pushedApp(app)
  const env = deployed.env
  const herogate = deployed.herogate
  let repo: string
  let url: string
  const release = (version: number): ReleaseRecord | undefined => readRelease(appPaths(app), version)
  const mainRef = () => sh(appPaths(app).repo, 'git', ['rev-parse', 'refs/heads/main'])
  const body = async (path = '/') => (await get(url + path)).body
  const newest = () => latestVersion(appPaths(app).releases)
  /** A process of release `version` has been started by the supervisor: the rollout is under way. */
  const rolling = (version: number) => async () => {
    const appDir = appPaths(app).dir
    // Only the running supervisor is asked: this never starts one.
    if (!(await supervisorRunning(appDir))) return false
    const supervisor = await ensureSupervisor({appDir, app, port: readApp(app).port, host: '127.0.0.1'})
    return (await supervisor.status()).some((p) => p.release === version)
  }
  /** The release's owner is done with it: it is recorded as ended and the app lock is free again. */
  const ended = (version: number) => () => {
    const record = release(version)
    return record && record.status !== 'pending' && !existsSync(appPaths(app).lock) ? record : undefined
  }

  /** What every command must agree on: the current release, what runs, the branch. */
  async function expectLive(version: number, message: string, commit?: string) {
    expect(readApp(app).current).to.equal(version)
    expect(await body()).to.equal(`${message} from web.1\n`)
    const processes = JSON.parse((await herogate('ps', '--json')).output) as Array<{release: number; status: string}>
    expect(processes.filter((p) => p.status !== 'stopping').map((p) => p.release)).to.deep.equal([version])
    const releases = JSON.parse((await herogate('releases', '--json')).output) as Array<{version: number; current: boolean; status: string}>
    expect(releases.find((r) => r.current)?.version).to.equal(version)
    expect(releases.filter((r) => r.status === 'pending')).to.deep.equal([])
    if (commit) expect(mainRef()).to.equal(commit)
  }

  before(() => {
    repo = deployed.repo
    url = deployed.url
  })

  it('Ctrl-C of git push mid-rollout: the release still ends, recorded as current, and main follows', async () => {
    writeFileSync(join(repo, 'message.txt'), 'two\n')
    writeFileSync(join(repo, 'boot-delay'), '1.5')
    const commit = commitAll(repo, 'two, slow to boot')
    const version = newest() + 1
    const push = start(repo, 'git', ['push', 'herogate', 'main'], env())
    await until(`v${version} is rolling out`, rolling(version))
    process.kill(-push.child.pid!, 'SIGINT')
    const pushed = await push.done
    expect(pushed.code, pushed.output).to.not.equal(0)
    expect(await until(`v${version} ended`, ended(version))).to.include({status: 'succeeded', commit})
    await expectLive(version, 'two', commit)
    // The next change starts from what runs: it keeps the new code.
    expect((await herogate('config:set', 'AFTER_PUSH=1')).code).to.equal(0)
    await expectLive(version + 1, 'two')
  })

  it('SIGKILL of git push (only it) mid-release-phase: the release still ends, and main follows', async () => {
    writeFileSync(join(repo, 'message.txt'), 'three\n')
    writeFileSync(join(repo, 'release-delay'), '1500')
    rmSync(join(repo, 'boot-delay'))
    const commit = commitAll(repo, 'three, slow release phase')
    const version = newest() + 1
    const push = start(repo, 'git', ['push', 'herogate', 'main'], env())
    await until(`v${version} is recorded (its release phase runs)`, () => release(version)?.status === 'pending')
    process.kill(push.child.pid!, 'SIGKILL')
    await push.done
    expect(await until(`v${version} ended`, ended(version))).to.include({status: 'succeeded', commit})
    await expectLive(version, 'three', commit)
  })

  it('Ctrl-C of git push mid-build: no release, main unchanged, and the next change does not wait for a lock', async () => {
    const before = {version: newest(), main: mainRef(), current: readApp(app).current}
    const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8'))
    pkg.scripts.build = 'node -e "setTimeout(() => {}, 30000)"'
    writeFileSync(join(repo, 'package.json'), JSON.stringify(pkg, null, 2))
    writeFileSync(join(repo, 'message.txt'), 'never\n')
    rmSync(join(repo, 'release-delay'))
    commitAll(repo, 'a build that takes long')
    const push = start(repo, 'git', ['push', 'herogate', 'main'], env())
    const logs = openLogStore(appPaths(app).dir)
    await until('the build script runs', async () => {
      for await (const line of logs.read({num: 20, tail: false})) if (line.message.includes('Running build (npm run build)') && line.time.getTime() > Date.now() - 60_000) return true
      return false
    })
    process.kill(-push.child.pid!, 'SIGINT')
    await push.done
    expect({version: newest(), main: mainRef(), current: readApp(app).current}).to.deep.equal(before)
    const set = await herogate('config:set', 'AFTER_BUILD=1')
    expect(set.code, set.output).to.equal(0)
    await expectLive(before.version + 1, 'three', before.main)
    sh(repo, 'git', ['reset', '--hard', 'HEAD~1'])
  })

  for (const signal of ['SIGINT', 'SIGKILL', 'SIGTERM', 'SIGHUP'] as const) {
    it(`${signal === 'SIGINT' ? 'Ctrl-C' : signal} of config:set mid-rollout: the config release still ends and is current; the next change keeps it`, async () => {
      const version = newest() + 1
      const key = `SET_BEFORE_${signal}`
      const set = start(repo, process.execPath, [CLI, 'config:set', `${key}=kept`, 'BOOT_DELAY_MS=1500'], env())
      await until(`v${version} is rolling out`, rolling(version))
      if (signal === 'SIGINT') process.kill(-set.child.pid!, signal)
      else process.kill(set.child.pid!, signal)
      const stopped = await set.done
      // Ctrl-C is caught: the command says what goes on without it.
      if (signal === 'SIGINT') {
        expect(stopped.code).to.equal(130)
        expect(stopped.output).to.include(`Interrupted: v${version} goes on in the background and is recorded when it ends (herogate releases -a ${app}).`)
      }

      expect(await until(`v${version} ended`, ended(version))).to.include({status: 'succeeded', description: `Set ${key}, BOOT_DELAY_MS config vars`})
      await expectLive(version, 'three')
      expect(await body(`/config/${key}`)).to.equal('kept')
      const next = await herogate('config:unset', 'BOOT_DELAY_MS')
      expect(next.code, next.output).to.equal(0)
      expect(await body(`/config/${key}`)).to.equal('kept')
      await expectLive(version + 1, 'three')
    })
  }

  /** A body from the app, or '' while nothing answers. */
  const answer = () => body().catch(() => '')

  /** Pushes a commit that says `message` and is slow to boot, until its release rolls out; what ran before it. */
  async function pushRolling(message: string) {
    const before = {main: mainRef(), current: readApp(app).current}
    writeFileSync(join(repo, 'message.txt'), `${message}\n`)
    writeFileSync(join(repo, 'boot-delay'), '3')
    commitAll(repo, `${message}, slow to boot`)
    const version = newest() + 1
    const push = start(repo, 'git', ['push', 'herogate', 'main'], env())
    await until(`v${version} is rolling out`, rolling(version))
    return {before, version, push}
  }

  it('SIGKILL of the push and then of the supervisor mid-rollout: with no command, the supervisor its watchdog starts records the release failed and brings the current one back; main stays', async () => {
    const {before, version, push} = await pushRolling('four')
    // The push and its hook go first: no one is left to settle the release but the supervisor.
    process.kill(-push.child.pid!, 'SIGKILL')
    await push.done
    const killed = readRecord(appPaths(app).dir)!.pid
    process.kill(killed, 'SIGKILL')
    // No herogate command from here on.
    expect(await until(`v${version} is settled`, ended(version))).to.include({status: 'failed', reason: 'interrupted: its supervisor stopped before the release ended'})
    await until('the previous release serves again', async () => readRecord(appPaths(app).dir)?.pid !== killed && (await answer()) === 'three from web.1\n')
    expect(mainRef()).to.equal(before.main)
    expect(readApp(app).current).to.equal(before.current)
    await expectLive(before.current, 'three', before.main)
    sh(repo, 'git', ['reset', '--hard', before.main])
  })

  it('SIGKILL of the supervisor mid-rollout while the push waits: the push says the release failed and that the previous one keeps serving, which it does when the push ends', async () => {
    const {before, version, push} = await pushRolling('five')
    process.kill(readRecord(appPaths(app).dir)!.pid, 'SIGKILL')
    const pushed = await push.done
    // Looked at before any command runs: what the push said is already true.
    expect(await answer()).to.equal('three from web.1\n')
    expect(release(version)).to.include({status: 'failed', reason: 'interrupted: its supervisor stopped before the release ended'})
    expect(pushed.code, pushed.output).to.equal(1)
    expect(pushed.output).to.include(`v${version} failed: interrupted: its supervisor stopped before the release ended; v${before.current} keeps serving`)
    expect(mainRef()).to.equal(before.main)
    await expectLive(before.current, 'three', before.main)
    sh(repo, 'git', ['reset', '--hard', before.main])
  })

  it('after a reboot (no supervisor, no watchdog), a push whose release phase fails: the previous release is back before the release phase, so "keeps serving" is true', async () => {
    const before = {main: mainRef(), current: readApp(app).current}
    await stopSupervisor(appPaths(app).dir)
    expect(await answer()).to.equal('')
    writeFileSync(join(repo, 'release-fail'), '')
    commitAll(repo, 'a release phase that fails')
    const version = newest() + 1
    const pushed = await exec(repo, 'git', ['push', 'herogate', 'main'], env())
    expect(await answer()).to.equal('three from web.1\n')
    expect(pushed.code, pushed.output).to.equal(1)
    expect(pushed.output).to.include('release phase failing on purpose').and.include(`v${version} failed: release command exited with code 2; v${before.current} keeps serving`)
    expect(release(version)).to.include({status: 'failed'})
    await expectLive(before.current, 'three', before.main)
    sh(repo, 'git', ['reset', '--hard', before.main])
  })

  it('two clones pushing at once: one deploys, the other is told to pull; main, the record and what runs agree', async () => {
    const clones = ['one', 'two'].map((name) => {
      const dir = join(deployed.home, `clone-${name}`)
      sh(deployed.home, 'git', ['clone', '--quiet', appPaths(app).repo, dir])
      sh(dir, 'git', ['config', 'user.email', `${name}@example.com`])
      writeFileSync(join(dir, 'message.txt'), `from clone ${name}\n`)
      return {name, dir, commit: commitAll(dir, `clone ${name}`)}
    })
    const version = newest() + 1
    const pushes = await Promise.all(clones.map(({dir}) => exec(dir, 'git', ['push', 'origin', 'main'], env())))
    // Whatever the outcome of each push, the branch, the current release and what runs agree.
    const live = clones.find((clone) => clone.commit === mainRef())
    expect(live, pushes.map((p) => p.output).join('\n')).to.not.equal(undefined)
    expect(release(readApp(app).current)).to.include({status: 'succeeded', commit: live!.commit})
    await expectLive(readApp(app).current, `from clone ${live!.name}`, live!.commit)
    // The push that went live succeeded; the other was refused before it built anything.
    const won = clones.indexOf(live!)
    expect(pushes[won].code, pushes[won].output).to.equal(0)
    expect(pushes[1 - won].code).to.not.equal(0)
    expect(pushes[1 - won].output).to.match(/\[remote rejected\] main -> main \(main moved to [0-9a-f]{7} since you fetched \(another push went first\): pull, then push again\)/)
    expect(newest()).to.equal(version)
  })
})
