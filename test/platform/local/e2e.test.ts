import {expect} from 'chai'
import {existsSync, readFileSync, rmSync, unlinkSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {PassThrough} from 'node:stream'

import {Interrupted, UpToDate} from '../../../src/lib/errors.js'
import {LocalPlatform} from '../../../src/platform/local/index.js'
import {portFree} from '../../../src/platform/local/ports.js'
import {readRelease} from '../../../src/platform/local/releases.js'
import {appPaths, latestVersion, readApp} from '../../../src/platform/local/state.js'
import {readRecord} from '../../../src/platform/local/supervisor-paths.js'
import {commitAll, eventually, exec, fixtureRepo, get, removeApp, sh, tempHome} from './helpers.js'

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/**
 * The local platform end to end: a real `git push` into a temporary HEROGATE_HOME runs the
 * proc-receive hook (herogate from source through tsx), real supervisor and router
 * processes, real HTTP. One app serves the whole block, torn down in `after` even when a
 * test fails.
 */
describe('local platform end to end (real git push, processes, HTTP)', function () {
  this.timeout(60_000)
  const app = 'e2e-app'
  let home: ReturnType<typeof tempHome>
  let repo: string
  let platform: LocalPlatform
  let url: string

  const push = (...args: string[]) => exec(repo, 'git', ['push', 'herogate', 'main', ...args])
  const body = async (path = '/') => (await get(url + path)).body

  before(async () => {
    home = tempHome()
    repo = fixtureRepo()
    platform = new LocalPlatform()
    // A new web process gets 5 s to answer, so the never-answers case fails quickly.
    const created = await platform.createApp({name: app, cwd: repo, settings: {'boot-timeout': 5}})
    url = created.webUrl!
  })

  after(() => removeApp(app, home, repo))

  it('git push herogate main builds, runs the release phase and serves the app', async () => {
    const {code, output} = await push()
    expect(code, output).to.equal(0)
    expect(output).to.include('remote: -----> Building e2e-app').and.include('remote:        release phase ok')
    expect(output).to.include(`remote: -----> Released v1: ${url}`)
    expect(code).to.equal(0)
    expect(await body()).to.equal('hello from web.1\n')
    const info = await platform.appInfo(app)
    expect(info).to.include({status: 'running', webUrl: url})
    expect(info.release).to.include({version: 1, status: 'succeeded', current: true})
  })

  it('config:set makes a release whose value the app sees over HTTP', async () => {
    const value = 'a=b c ✓'
    const change = await platform.setConfig(app, {ECHO_ME: value})
    expect(change.release).to.include({version: 2, description: 'Set ECHO_ME config vars', status: 'succeeded'})
    expect(await body('/config/ECHO_ME')).to.equal(value)
  })

  it('scales up and down', async () => {
    await platform.scale(app, [{type: 'web', quantity: 2}, {type: 'worker', quantity: 1}])
    const up = await eventually(async () => {
      const processes = await platform.ps(app)
      return processes.filter((p) => p.status === 'up').map((p) => p.name).sort().join() === 'web.1,web.2,worker.1'
    })
    expect(up, 'web.1, web.2 and worker.1 up').to.equal(true)
    const seen = new Set<string>()
    for (let i = 0; i < 8; i++) seen.add((await body()).trim())
    expect([...seen].sort()).to.deep.equal(['hello from web.1', 'hello from web.2'])
    await platform.scale(app, [{type: 'web', quantity: 1}, {type: 'worker', quantity: 0}])
    const down = await eventually(async () => (await platform.ps(app)).map((p) => p.name).join() === 'web.1')
    expect(down, 'only web.1 left').to.equal(true)
  })

  it('restarts a crashed process', async () => {
    const [before] = await platform.ps(app)
    await get(url + '/crash')
    const back = await eventually(async () => {
      const [web] = await platform.ps(app)
      return web?.status === 'up' && web.id !== before.id && (await get(url)).status === 200
    })
    expect(back, 'web.1 restarted and answering').to.equal(true)
  })

  it('keeps the old release serving when the new one crashes at boot; the push exits non-zero', async () => {
    writeFileSync(join(repo, 'boot-crash'), '')
    commitAll(repo, 'crash at boot')
    const {code, output} = await push()
    expect(code).to.not.equal(0)
    expect(output).to.include('v2 keeps serving')
    expect(await body()).to.equal('hello from web.1\n')
    const [latest] = await platform.releases(app, {num: 1})
    expect(latest).to.include({version: 3, status: 'failed', current: false})
  })

  it('keeps the old release serving when the new one never answers its health check', async () => {
    unlinkSync(join(repo, 'boot-crash'))
    writeFileSync(join(repo, 'no-listen'), '')
    commitAll(repo, 'never answers')
    const {code, output} = await push()
    expect(code, output).to.not.equal(0)
    expect(output).to.include('v2 keeps serving')
    expect(await body()).to.equal('hello from web.1\n')
    const [latest] = await platform.releases(app, {num: 1})
    expect(latest).to.include({version: 4, status: 'failed', current: false})
  })

  it('keeps the old release serving when the release phase fails', async () => {
    unlinkSync(join(repo, 'no-listen'))
    writeFileSync(join(repo, 'release-fail'), '')
    commitAll(repo, 'release phase fails')
    const {code, output} = await push()
    expect(code).to.not.equal(0)
    expect(output).to.include('release phase failing on purpose').and.include('Push rejected: Release phase failed')
    expect(await body()).to.equal('hello from web.1\n')
    expect((await platform.releaseInfo(app)).version).to.equal(2)
  })

  it('deploys new code through LocalPlatform.deploy and says an up-to-date push is up to date', async () => {
    unlinkSync(join(repo, 'release-fail'))
    writeFileSync(join(repo, 'message.txt'), 'two\n')
    commitAll(repo, 'message two')
    const lines: string[] = []
    const release = await platform.deploy(app, {cwd: repo, onProgress: (event) => event.kind === 'output' && lines.push(event.line)})
    expect(release).to.include({version: 6, status: 'succeeded', current: true})
    expect(lines).to.include('-----> Released v6: ' + url)
    expect(await body()).to.equal('two from web.1\n')
    let error: unknown
    try {
      await platform.deploy(app, {cwd: repo})
    } catch (error_) {
      error = error_
    }

    expect(error).to.be.instanceOf(UpToDate)
    expect((error as UpToDate).message).to.equal(`Everything up-to-date: ${release.commit!.slice(0, 7)} is live as v6.`)
    expect((error as UpToDate).release).to.include({version: 6, current: true})
  })

  it('rolls back code and config', async () => {
    await platform.setConfig(app, {ECHO_ME: 'new'})
    const release = await platform.rollback(app, 1)
    expect(release).to.include({description: 'Rollback to v1', current: true})
    expect(await body()).to.equal('hello from web.1\n')
    expect((await get(url + '/config/ECHO_ME')).status).to.equal(404)
    await platform.rollback(app, 7)
    expect(await body()).to.equal('two from web.1\n')
    expect(await body('/config/ECHO_ME')).to.equal('new')
  })

  it('runs one-off commands with the exit code passed through', async () => {
    const out = new PassThrough()
    let text = ''
    out.on('data', (chunk) => (text += chunk))
    const ok = await platform.run(app, {command: ['node', '-e', 'console.log(process.env.ECHO_ME)'], env: {}, detached: false, tty: false, stdout: out, stderr: out})
    expect(ok.exitCode).to.equal(0)
    expect(text).to.equal('new\n')
    const failed = await platform.run(app, {command: ['exit 42'], env: {}, detached: false, tty: false, stdout: out, stderr: out})
    expect(failed.exitCode).to.equal(42)
  })

  it('runs a detached one-off with its output in the logs', async () => {
    const result = await platform.run(app, {command: ['echo detached says $ECHO_ME'], env: {}, detached: true, tty: false, stdout: new PassThrough(), stderr: new PassThrough()})
    expect(result).to.include({detached: true})
    const logged = await eventually(async () => {
      for await (const line of platform.logs(app, {num: 50, tail: false, source: 'app'})) {
        if (line.process === result.name && line.message === 'detached says new') return true
      }

      return false
    })
    expect(logged, `app[${result.name}] line in the logs`).to.equal(true)
  })

  it('stores a push to another branch without deploying it', async () => {
    const before = (await platform.releases(app, {num: 1}))[0].version
    const {code, output} = await exec(repo, 'git', ['push', 'herogate', 'main:feature'])
    expect(code, output).to.equal(0)
    expect(output).to.include('only main or master deploy, skipping build')
    expect((await platform.releases(app, {num: 1}))[0].version).to.equal(before)
  })

  it('a deploy interrupted after its release began says the release goes on, and it does', async () => {
    writeFileSync(join(repo, 'message.txt'), 'interrupted deploy\n')
    writeFileSync(join(repo, 'boot-delay'), '1')
    commitAll(repo, 'slow to boot')
    const version = latestVersion(appPaths(app).releases) + 1
    const controller = new AbortController()
    const deploying = platform.deploy(app, {cwd: repo, signal: controller.signal}).catch((error: unknown) => error)
    expect(await eventually(async () => readRelease(appPaths(app), version)?.status === 'pending', 600, 25)).to.equal(true)
    controller.abort()
    const error = await deploying
    expect(error).to.be.instanceOf(Interrupted)
    expect((error as Error).message).to.equal(`Interrupted: v${version} goes on in the background and is recorded when it ends (herogate releases -a ${app}).`)
    expect(await eventually(async () => readApp(app).current === version, 600, 25)).to.equal(true)
    expect(await body()).to.equal('interrupted deploy from web.1\n')
    unlinkSync(join(repo, 'boot-delay'))
  })

  it('switches an app set up by an older herogate (a pre-receive hook) over on its next push', async () => {
    const hooks = join(appPaths(app).repo, 'hooks')
    const script = readFileSync(join(hooks, 'proc-receive'), 'utf8').replace('# herogate: builds', '# herogate: (older) builds')
    rmSync(join(hooks, 'proc-receive'))
    writeFileSync(join(hooks, 'pre-receive'), script, {mode: 0o755})
    sh(appPaths(app).repo, 'git', ['config', '--unset-all', 'receive.procReceiveRefs'])
    writeFileSync(join(repo, 'message.txt'), 'after the switch\n')
    commitAll(repo, 'after the switch')
    const first = await push()
    expect(first.code).to.equal(1)
    expect(first.output).to.include('remote:  !     Push rejected: herogate has updated how this app receives pushes; push again.')
    const again = await push()
    expect(again.code, again.output).to.equal(0)
    expect(await body()).to.equal('after the switch from web.1\n')
    expect(existsSync(join(hooks, 'pre-receive'))).to.equal(false)
  })

  it('has build, release, deploy, router and app lines in its logs', async () => {
    const lines = []
    for await (const line of platform.logs(app, {num: 1000, tail: false})) lines.push(line)
    const processes = new Set(lines.map((l) => l.process.replace(/\.\d+$/, '')))
    expect([...processes]).to.include.members(['build', 'release', 'deploy', 'router', 'web'])
  })

  it('brings the app back after its supervisor was killed, without any command', async () => {
    const serving = await body()
    const pid = readRecord(appPaths(app).dir)!.pid
    process.kill(pid, 'SIGKILL')
    expect(await eventually(async () => !pidAlive(pid))).to.equal(true)
    expect(await eventually(async () => (await get(url)).body === serving, 200)).to.equal(true)
    const processes = await platform.ps(app)
    expect(processes.map((p) => p.name)).to.deep.equal(['web.1'])
  })

  it('destroy leaves no process and no port behind', async () => {
    const pids = (await platform.ps(app)).map((p) => Number(p.id))
    const {pid: supervisorPid, watchdog} = readRecord(appPaths(app).dir)!
    const port = readApp(app).port
    const result = await platform.destroyApp(app, {cwd: repo})
    expect(result.removed.join('\n')).to.include(`127.0.0.1:${port}`).and.include('git remote herogate')
    expect(await eventually(async () => [...pids, supervisorPid, watchdog!.pid].every((pid) => !pidAlive(pid)))).to.equal(true)
    expect(await portFree(port)).to.equal(true)
  })
})
