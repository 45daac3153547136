import {expect} from 'chai'
import {existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {PassThrough} from 'node:stream'

import {AppExists, AppNotFound, HerogateError, InvalidInput, LockHeld} from '../../../src/lib/errors.js'
import {receivePush} from '../../../src/platform/local/git-hook.js'
import {LocalPlatform} from '../../../src/platform/local/index.js'
import {appPaths, latestVersion, readApp, withLock, writeFileAtomic} from '../../../src/platform/local/state.js'
import {collector, commitAll, FakeRuntime, fixtureRepo, sh, tempHome} from './helpers.js'

/**
 * The workflow against a fake supervisor: real git, real builds and release phases, real
 * state on disk; the supervisor only records what it is asked. The push is delivered to
 * receivePush in this process (the hook is parked during the push) so the fake is used.
 */
describe('local platform workflow (fake supervisor)', function () {
  this.timeout(20_000)
  let home: ReturnType<typeof tempHome>
  let runtime: FakeRuntime
  let platform: LocalPlatform
  let repo: string
  const app = 'flow-test'

  const supervisor = () => runtime.supervisors.get(appPaths(app).dir)!

  /** Delivers the commit to the app repo on a ref the hook does not see, then hands main to receivePush as git would. */
  async function push(message?: string, change?: (dir: string) => void) {
    if (change) change(repo)
    if (message) commitAll(repo, message)
    sh(repo, 'git', ['push', '--quiet', '--force', 'herogate', 'HEAD:refs/incoming/test'])
    const out = collector()
    const sha = sh(repo, 'git', ['rev-parse', 'HEAD'])
    let old = '0'.repeat(40)
    try {
      old = sh(appPaths(app).repo, 'git', ['rev-parse', '--verify', '--quiet', 'refs/heads/main'])
    } catch {}

    const [result] = await receivePush(platform.ctx, app, [{oldSha: old, newSha: sha, ref: 'refs/heads/main'}], out)
    if (result.ok) return {release: result.release, out: out.text, sha}
    return {error: new Error(result.reason), release: result.release, out: out.text, sha}
  }

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

  it('creates an app with a bare repo as the herogate remote and a fixed port', async () => {
    const created = await platform.createApp({name: app, cwd: repo})
    expect(created).to.include({name: app, platform: 'local', status: 'idle', gitUrl: appPaths(app).repo})
    expect(created.webUrl).to.match(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(created.remoteNote).to.equal(undefined)
    expect(sh(repo, 'git', ['remote', 'get-url', 'herogate'])).to.equal(appPaths(app).repo)
    expect(sh(appPaths(app).repo, 'git', ['rev-parse', '--is-bare-repository'])).to.equal('true')
    expect(statSync(appPaths(app).dir).mode & 0o777).to.equal(0o700)
    expect(readApp(app).port).to.equal(Number(created.webUrl!.split(':')[2]))
  })

  it('refuses a taken name and an invalid one, picks a random name when none is given', async () => {
    let error: unknown
    try {
      await platform.createApp({name: app, cwd: repo})
    } catch (error_) {
      error = error_
    }

    expect(error).to.be.instanceOf(AppExists)
    error = undefined
    try {
      await platform.createApp({name: 'Bad_Name', cwd: repo})
    } catch (error_) {
      error = error_
    }

    expect(error).to.be.instanceOf(InvalidInput)
    const plain = mkdtempSync(join(tmpdir(), 'herogate-nogit-'))
    try {
      const random = await platform.createApp({cwd: plain})
      expect(random.name).to.match(/^[a-z][a-z0-9-]+[a-z0-9]$/)
      expect(random.remoteNote).to.include(`git remote add herogate ${appPaths(random.name).repo}`)
      expect(random.webUrl).to.not.equal(`http://127.0.0.1:${readApp(app).port}`)
      const names = (await platform.listApps()).map((a) => a.name)
      expect(names).to.include.members([app, random.name])
      await platform.destroyApp(random.name, {cwd: plain})
    } finally {
      rmSync(plain, {recursive: true, force: true})
    }
  })

  it('has no release before the first push', async () => {
    expect(await platform.releases(app, {num: 10})).to.deep.equal([])
    expect(await platform.ps(app)).to.deep.equal([])
    let error: unknown
    try {
      await platform.run(app, {command: ['true'], env: {}, detached: false, tty: false, stdout: new PassThrough(), stderr: new PassThrough()})
    } catch (error_) {
      error = error_
    }

    expect((error as Error).message).to.equal(`${app} has no release with code yet.`)
    expect((error as HerogateError).suggestions).to.deep.equal([`herogate deploy -a ${app} (in the app's git repo)`, `herogate releases -a ${app}`])
  })

  it('builds and releases a push: v1 Deploy <sha>, web=1 worker=0, release phase run, build output streamed', async () => {
    const {release, out, sha} = await push()
    expect(release).to.include({version: 1, description: `Deploy ${sha!.slice(0, 7)}`, status: 'succeeded', commit: sha, author: 'dev@example.com', configVersion: 0})
    expect(release!.processTypes).to.deep.equal({web: 'node server.js', worker: 'node worker.js', release: 'node release.js'})
    expect(out).to.include('-----> Building flow-test').and.include('release phase ok').and.include('Released v1')
    const deployed = supervisor().deploys.at(-1)!
    expect(deployed.release.processTypes).to.deep.equal({web: 'node server.js', worker: 'node worker.js'})
    expect(deployed.formation).to.deep.equal({web: 1, worker: 0})
    expect(readFileSync(join(deployed.release.dir, 'server.js'), 'utf8')).to.include('createServer')
    const info = await platform.appInfo(app)
    expect(info.status).to.equal('running')
    expect(info.release).to.include({version: 1, current: true})
    expect(info.formation.map((f) => [f.type, f.quantity])).to.deep.equal([['web', 1], ['worker', 0]])
    const logged = runtime.logs.lines.filter((l) => l.source === 'herogate').map((l) => l.process)
    expect(logged).to.include.members(['build', 'release', 'deploy'])
  })

  it('sets config as a new release with a rolling restart; values keep =, spaces, newlines, unicode and empty', async () => {
    const vars = {FOO: 'a=b c', BAR: 'line1\nline2', UNI: 'héllo ✓', EMPTY: ''}
    const change = await platform.setConfig(app, vars)
    expect(change.keys).to.deep.equal(['FOO', 'BAR', 'UNI', 'EMPTY'])
    expect(change.release).to.include({version: 2, description: 'Set FOO, BAR, UNI, EMPTY config vars', status: 'succeeded', current: true, configVersion: 1})
    expect(JSON.stringify(change)).to.not.include('a=b c')
    expect(await platform.getConfig(app)).to.deep.equal(vars)
    expect(supervisor().deploys.at(-1)!.release.env).to.deep.equal(vars)
    const configDir = appPaths(app).config
    expect(statSync(configDir).mode & 0o777).to.equal(0o700)
    for (const file of readdirSync(configDir)) expect(statSync(join(configDir, file)).mode & 0o777).to.equal(0o600)
  })

  it('unsets config, refuses no-op changes and bad names', async () => {
    const change = await platform.unsetConfig(app, ['UNI', 'NOPE'])
    expect(change.keys).to.deep.equal(['UNI'])
    expect(change.release).to.include({version: 3, description: 'Remove UNI config vars'})
    expect(await platform.getConfig(app)).to.not.have.property('UNI')
    for (const attempt of [() => platform.setConfig(app, {FOO: 'a=b c'}), () => platform.unsetConfig(app, ['NOPE']), () => platform.setConfig(app, {PORT: '1'}), () => platform.setConfig(app, {TOKEN: 'x\0'})]) {
      let error: unknown
      try {
        await attempt()
      } catch (error_) {
        error = error_
      }

      expect(error).to.be.instanceOf(HerogateError)
    }

    expect((await platform.releases(app, {num: 10})).map((r) => r.version)).to.deep.equal([3, 2, 1])
  })

  it('keeps the old release when the release phase fails', async () => {
    const before = supervisor().deploys.length
    const {error, out} = await push('release fails', (dir) => writeFileSync(join(dir, 'release-fail'), ''))
    expect(error?.message).to.equal('Release phase failed: release command exited with code 2.')
    expect(out).to.include('release phase failing on purpose').and.include('v3 keeps serving')
    expect(supervisor().deploys.length).to.equal(before)
    const [latest] = await platform.releases(app, {num: 1})
    expect(latest).to.include({version: 4, status: 'failed', current: false})
    expect((await platform.appInfo(app)).release?.version).to.equal(3)
  })

  it('keeps the old release when the rolling deploy fails', async () => {
    supervisor().outcome = {ok: false, reason: 'web.1 crashed during boot'}
    try {
      const {error, out} = await push('deploy fails', (dir) => rmSync(join(dir, 'release-fail')))
      expect(error?.message).to.equal('Deploy failed: web.1 crashed during boot.')
      expect(out).to.include('v3 keeps serving')
    } finally {
      supervisor().outcome = {ok: true}
    }

    const [latest] = await platform.releases(app, {num: 1})
    expect(latest).to.include({version: 5, status: 'failed'})
    expect(readApp(app).current).to.equal(3)
  })

  it('deploys new code with the current config, then rolls back code and config', async () => {
    const {release} = await push('message two', (dir) => writeFileSync(join(dir, 'message.txt'), 'two\n'))
    expect(release).to.include({version: 6, status: 'succeeded', configVersion: 2})
    await platform.setConfig(app, {FOO: 'changed'})
    const v1Dir = supervisor().deploys[0].release.dir
    const rolled = await platform.rollback(app, 1)
    expect(rolled).to.include({version: 8, description: 'Rollback to v1', status: 'succeeded', current: true, configVersion: 0})
    const state = supervisor().deploys.at(-1)!
    expect(state.release.dir).to.equal(v1Dir)
    expect(state.release.env).to.deep.equal({})
    expect(await platform.getConfig(app)).to.deep.equal({})
    const back = await platform.rollback(app)
    expect(back).to.include({description: 'Rollback to v7', version: 9})
    expect(await platform.getConfig(app)).to.include({FOO: 'changed'})
    expect(readFileSync(join(supervisor().deploys.at(-1)!.release.dir, 'message.txt'), 'utf8')).to.equal('two\n')
  })

  it('refuses a rollback to a failed or missing release', async () => {
    for (const version of [4, 99]) {
      let error: unknown
      try {
        await platform.rollback(app, version)
      } catch (error_) {
        error = error_
      }

      expect(error).to.be.instanceOf(HerogateError)
    }
  })

  it('scales known types, ignores sizes with a note, refuses unknown types before changing anything', async () => {
    const result = await platform.scale(app, [{type: 'web', quantity: 2}, {type: 'worker', delta: 1, size: 'standard-2x'}])
    expect(result.formation.map((f) => [f.type, f.quantity])).to.deep.equal([['web', 2], ['worker', 1]])
    expect(result.notes).to.deep.equal(['Sizes are ignored on the local platform: every process runs with what this machine has.'])
    expect(result.formation.filter((f) => f.size !== undefined), 'no AWS size on a local process type').to.deep.equal([])
    expect(supervisor().formation).to.deep.equal({web: 2, worker: 1})
    let error: unknown
    try {
      await platform.scale(app, [{type: 'web', quantity: 1}, {type: 'clock', quantity: 1}])
    } catch (error_) {
      error = error_
    }

    expect(error).to.be.instanceOf(InvalidInput)
    expect((error as InvalidInput).message).to.equal('Unknown process type clock.')
    expect((error as InvalidInput).suggestions).to.deep.equal(['its Procfile has: web, worker', `herogate ps -a ${app}`])
    expect(readApp(app).formation).to.deep.equal({web: 2, worker: 1})
    expect((await platform.ps(app)).map((p) => p.name)).to.deep.equal(['web.1', 'web.2', 'worker.1'])
    await platform.scale(app, [{type: 'web', quantity: 1}, {type: 'worker', quantity: 0}])
    expect(supervisor().formation).to.deep.equal({web: 1, worker: 0})
  })

  it('restarts and stops through the supervisor, refusing unknown types', async () => {
    await platform.restart(app, 'web')
    await platform.restart(app)
    expect(supervisor().restarts).to.deep.equal(['web', undefined])
    await platform.stop(app, 'web.1')
    expect(supervisor().stopped).to.deep.equal(['web.1'])
    let error: unknown
    try {
      await platform.restart(app, 'clock')
    } catch (error_) {
      error = error_
    }

    expect(error).to.be.instanceOf(InvalidInput)
  })

  it('runs one-off commands in the build with the config, passing the exit code through', async () => {
    const stdout = new PassThrough()
    let text = ''
    stdout.on('data', (chunk) => (text += chunk))
    const result = await platform.run(app, {
      command: ['echo "$FOO $EXTRA" && cat message.txt && exit 7'],
      env: {EXTRA: 'x'},
      detached: false,
      tty: false,
      stdout,
      stderr: new PassThrough(),
    })
    expect(result.exitCode).to.equal(7)
    expect(result.name).to.match(/^run\.\d{4}$/)
    expect(text).to.equal('changed x\ntwo\n')
    const argv = await platform.run(app, {command: ['sh', '-c', 'exit 0'], env: {}, detached: false, tty: false, stdout, stderr: stdout})
    expect(argv.exitCode).to.equal(0)
  })

  it('stops a one-off process when the signal aborts', async () => {
    const controller = new AbortController()
    const running = platform.run(app, {command: ['sleep 30'], env: {}, detached: false, tty: false, stdout: new PassThrough(), stderr: new PassThrough(), signal: controller.signal})
    controller.abort()
    const result = await running
    expect(result.interrupted).to.equal(true)
    expect(result.exitCode).to.not.equal(0)
  })

  it('brings the app back when its supervisor was restarted', async () => {
    await runtime.stopSupervisor(appPaths(app).dir)
    const processes = await platform.ps(app)
    expect(processes.map((p) => p.name)).to.deep.equal(['web.1'])
    expect(supervisor().deploys).to.have.length(1)
    expect(supervisor().deploys[0].release.version).to.equal(readApp(app).current)
  })

  it('serializes changes with a lock file, and breaks a lock whose holder died', async () => {
    const lock = appPaths(app).lock
    let error: unknown
    await withLock(app, 'test', async () => {
      try {
        await platform.setConfig(app, {HELD: '1'})
      } catch (error_) {
        error = error_
      }
    })
    expect(error).to.be.instanceOf(LockHeld)
    expect((error as Error).message).to.include('busy: test by')
    writeFileAtomic(lock, JSON.stringify({pid: 2 ** 22 + 12_345, operation: 'deploy', holder: 'ghost', since: new Date().toISOString()}))
    const change = await platform.setConfig(app, {HELD: '1'})
    expect(change.release?.description).to.equal('Set HELD config vars')
    expect(existsSync(lock)).to.equal(false)
  })

  it('installs dependencies and runs the build script of a Node app', async () => {
    const {release, out} = await push('with a dependency and a build step', (dir) => {
      mkdirSync(join(dir, 'vendor', 'greeter'), {recursive: true})
      writeFileSync(join(dir, 'vendor', 'greeter', 'package.json'), JSON.stringify({name: 'greeter', version: '1.0.0', main: 'index.js'}))
      writeFileSync(join(dir, 'vendor', 'greeter', 'index.js'), "module.exports = 'hi from a dependency'\n")
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
      pkg.dependencies = {greeter: 'file:./vendor/greeter'}
      pkg.scripts.build = 'node -e "require(\'fs\').writeFileSync(\'built.txt\', require(\'greeter\'))"'
      writeFileSync(join(dir, 'package.json'), JSON.stringify(pkg, null, 2))
    })
    expect(out).to.include('Installing dependencies (npm install)').and.include('Running build (npm run build)')
    expect(release?.status).to.equal('succeeded')
    const dir = supervisor().deploys.at(-1)!.release.dir
    expect(readFileSync(join(dir, 'built.txt'), 'utf8')).to.equal('hi from a dependency')
    // Later pushes go back to no dependencies, so they stay quick.
    sh(repo, 'git', ['revert', '--no-edit', 'HEAD'])
  })

  it('reuses the previous build\'s dependencies when the lockfile is the same', async () => {
    const first = await push('a locked tarball dependency', (dir) => {
      const pkgDir = join(dir, 'vendor', 'package')
      mkdirSync(pkgDir, {recursive: true})
      writeFileSync(join(pkgDir, 'package.json'), JSON.stringify({name: 'greeter', version: '1.0.0', main: 'index.js'}))
      writeFileSync(join(pkgDir, 'index.js'), "module.exports = 'hi from a tarball'\n")
      sh(join(dir, 'vendor'), 'tar', ['czf', 'greeter-1.0.0.tgz', 'package'])
      rmSync(pkgDir, {recursive: true})
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
      pkg.dependencies = {greeter: 'file:vendor/greeter-1.0.0.tgz'}
      writeFileSync(join(dir, 'package.json'), JSON.stringify(pkg, null, 2))
      sh(dir, 'npm', ['install', '--package-lock-only', '--offline', '--no-audit', '--no-fund'])
    })
    expect(first.out).to.include('Installing dependencies (npm ci)')
    const second = await push('same lockfile', (dir) => writeFileSync(join(dir, 'message.txt'), 'cached\n'))
    expect(second.out).to.include('Reusing dependencies from the previous build').and.not.include('npm ci')
    const dir = supervisor().deploys.at(-1)!.release.dir
    expect(readFileSync(join(dir, 'node_modules', 'greeter', 'index.js'), 'utf8')).to.include('hi from a tarball')
    sh(repo, 'git', ['revert', '--no-edit', 'HEAD~1..HEAD'])
  })

  it('rejects a push with nothing to run', async () => {
    const {error, out} = await push('no Procfile, no start script', (dir) => {
      rmSync(join(dir, 'Procfile'))
      rmSync(join(dir, 'package.json'))
    })
    expect(error?.message).to.match(/^Build failed: No Procfile and no "start" script/)
    expect(out).to.include('Build failed')
    sh(repo, 'git', ['revert', '--no-edit', 'HEAD'])
  })

  it('an app without a Procfile runs web from npm start: scale or restart of another type says so', async () => {
    const {error} = await push('no Procfile', (dir) => rmSync(join(dir, 'Procfile')))
    expect(error).to.equal(undefined)
    const refusals = await Promise.all([
      platform.scale(app, [{type: 'worker', quantity: 1}]).catch((e: unknown) => e),
      platform.restart(app, 'worker').catch((e: unknown) => e),
    ])
    for (const refused of refusals) {
      expect(refused).to.be.instanceOf(InvalidInput)
      expect((refused as InvalidInput).message).to.equal('Unknown process type worker.')
      expect((refused as InvalidInput).suggestions).to.deep.equal([
        `${app} has no Procfile and runs only web, from npm start (add a Procfile for other process types)`,
        `herogate ps -a ${app}`,
      ])
    }

    sh(repo, 'git', ['revert', '--no-edit', 'HEAD'])
  })

  it('keeps only the builds recent releases use', async () => {
    for (let i = 0; i < 6; i++) await push(`push ${i}`, (dir) => writeFileSync(join(dir, 'message.txt'), `m${i}\n`))
    const builds = readdirSync(appPaths(app).builds)
    expect(builds.length).to.be.at.most(6)
    const current = await platform.releaseInfo(app)
    expect(builds).to.include(current.image)
    // v1's build is gone: its commit can be pushed again, from any clone that has it, remote or not.
    const pruned = await platform.rollback(app, 1).catch((e: HerogateError) => e)
    expect((pruned as HerogateError).message).to.equal('The build of v1 has been pruned; deploy its commit again instead.')
    const v1 = (await platform.releaseInfo(app, 1)).commit!
    expect((pruned as HerogateError).suggestions).to.deep.equal([`git push ${appPaths(app).repo} ${v1.slice(0, 7)}:refs/heads/main --force`])
  })

  it('hides config values in what a release printed (build, release phase), keeps it per release, and records why it failed', async () => {
    const secret = 'postgres://app:s3cret-pw@db.internal/app'
    const serving = (await platform.setConfig(app, {DATABASE_URL: secret})).release!.version
    const failing = await push('release phase names the database', (dir) => {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
      pkg.scripts.build = 'node -e "console.log(\'building for \' + process.env.DATABASE_URL)"'
      writeFileSync(join(dir, 'package.json'), JSON.stringify(pkg, null, 2))
      writeFileSync(join(dir, 'release-fail'), '')
    })
    const version = failing.release!.version
    expect(failing.error?.message).to.equal('Release phase failed: release command exited with code 2.')
    expect(failing.out).to.include('       building for [DATABASE_URL]\n').and.include('       migrating [DATABASE_URL]\n')
    expect(failing.out).to.include(` !     Push rejected: Release phase failed: release command exited with code 2.\n !     More: herogate releases:output v${version} -a ${app}\n`)
    const info = await platform.releaseInfo(app, version)
    expect(info.failureOutput).to.deep.equal({process: 'the release command', lines: ['migrating [DATABASE_URL]', 'release phase failing on purpose'], more: `herogate releases:output v${version} -a ${app}`})
    const output = await platform.releaseOutput(app, version)
    expect(output.lines).to.include.members(['       building for [DATABASE_URL]', '       migrating [DATABASE_URL]', `-----> v${version} failed: release command exited with code 2; v${serving} keeps serving`])
    // What the push showed, line for line, from the build to how the release ended.
    expect(output.lines.join('\n') + '\n').to.equal(failing.out.slice(0, failing.out.indexOf(' !     Push rejected')))
    const logged = runtime.logs.lines.map((line) => line.message).join('\n')
    expect(logged).to.include('migrating [DATABASE_URL]')
    expect(failing.out + logged + readFileSync(join(appPaths(app).releases, `${String(version).padStart(6, '0')}.output`), 'utf8')).to.not.include('s3cret')

    supervisor().outcome = {ok: false, reason: 'web.1 crashed during boot (exit status 1)', output: {process: 'web.1', lines: ['booting', 'Error: connect ECONNREFUSED [DATABASE_URL]']}}
    try {
      const crashing = await push('release phase passes', (dir) => rmSync(join(dir, 'release-fail')))
      expect(crashing.out.slice(crashing.out.indexOf(' !     Push rejected'))).to.equal([
        ' !     Push rejected: Deploy failed: web.1 crashed during boot (exit status 1).',
        ' !     Last lines of web.1:',
        ' !       booting',
        ' !       Error: connect ECONNREFUSED [DATABASE_URL]',
        ` !     More: herogate logs -a ${app} --task web.1`,
        '',
      ].join('\n'))
      expect((await platform.releaseInfo(app, crashing.release!.version)).failureOutput).to.deep.equal({
        process: 'web.1', lines: ['booting', 'Error: connect ECONNREFUSED [DATABASE_URL]'], more: `herogate logs -a ${app} --task web.1`,
      })
    } finally {
      supervisor().outcome = {ok: true}
    }

    sh(repo, 'git', ['revert', '--no-edit', 'HEAD~1..HEAD'])
    await platform.unsetConfig(app, ['DATABASE_URL'])
  })

  it('a config change or rollback whose processes crash says why in their words, as a push does', async () => {
    supervisor().outcome = {ok: false, reason: 'web.1 crashed during boot (exit status 1)', output: {process: 'web.1', lines: ['Error: QUIET must be a number']}}
    try {
      for (const change of [() => platform.setConfig(app, {QUIET: 'yes'}), () => platform.rollback(app)]) {
        const error = (await change().catch((e: HerogateError) => e)) as HerogateError
        const version = latestVersion(appPaths(app).releases)
        expect({details: error.details, suggestions: error.suggestions}).to.deep.equal({
          details: ['Last lines of web.1:', '  Error: QUIET must be a number'],
          suggestions: [`herogate logs -a ${app} --task web.1`, `herogate releases:info v${version} -a ${app}`],
        })
      }
    } finally {
      supervisor().outcome = {ok: true}
    }
  })

  it('releases:output says why a release has none', async () => {
    const change = await platform.setConfig(app, {QUIET: '1'})
    const output = await platform.releaseOutput(app, change.release!.version)
    expect(output.lines[0]).to.equal(`-----> Deploying v${change.release!.version}`)
    const missing = await platform.releaseOutput(app, 9999).catch((e: HerogateError) => e.message)
    expect(missing).to.equal(`Release v9999 of ${app} not found.`)
  })

  it('destroys the app: supervisor stopped, remote removed, state gone', async () => {
    const result = await platform.destroyApp(app, {cwd: repo})
    expect(result.removed[0]).to.match(/^processes and router on 127\.0\.0\.1:\d+$/)
    expect(result.removed[1]).to.include('git remote herogate')
    expect(existsSync(appPaths(app).dir)).to.equal(false)
    expect(sh(repo, 'git', ['remote'])).to.equal('')
    let error: unknown
    try {
      await platform.appInfo(app)
    } catch (error_) {
      error = error_
    }

    expect(error).to.be.instanceOf(AppNotFound)
  })
})
