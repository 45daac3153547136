import {expect} from 'chai'
import {execFileSync, spawnSync} from 'node:child_process'
import {cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync} from 'node:fs'
import {createRequire, Module} from 'node:module'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'
import {Script} from 'node:vm'

import {type Tracer, tracer} from './helpers/trace.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const CLI = join(ROOT, 'bin', 'run.js')
/** The same command line through oclif alone, as bin/run.js ran every command before its fast path. */
const EXECUTE = pathToFileURL(createRequire(import.meta.url).resolve('@oclif/core/execute')).href
const OCLIF = `const {execute} = await import(${JSON.stringify(EXECUTE)}); await execute({dir: ${JSON.stringify(pathToFileURL(CLI).href)}, args: process.argv.slice(1)})`

/**
 * bin/run.js runs the read commands of local apps without oclif (lib/fast-path.ts). Their
 * output must be oclif's to the byte, for every command line, the ones the fast path leaves
 * to oclif included; they must load none of what was cut; and they must still show what runs.
 */
describe('read commands without oclif (bin/run.js fast path)', function () {
  this.timeout(300_000)
  const app = 'fast-reads'
  let work: string
  let repo: string
  let env: NodeJS.ProcessEnv
  let trace: Tracer

  before(function () {
    if (!existsSync(join(ROOT, 'dist', 'lib', 'fast-path.js'))) {
      if (process.env.CI) throw new Error('missing dist (run npm run build)')
      this.skip()
    }

    work = mkdtempSync(join(tmpdir(), 'herogate-fast-'))
    repo = join(work, 'repo')
    env = {...process.env, HEROGATE_HOME: join(work, 'home')}
    delete env.NODE_OPTIONS
    cpSync(join(ROOT, 'examples', 'hello-node'), repo, {recursive: true})
    const git = (...args: string[]) => execFileSync('git', args, {cwd: repo, env, stdio: 'ignore'})
    git('init', '--quiet', '--initial-branch=main')
    git('add', '-A')
    git('commit', '--quiet', '-m', 'hello')
    herogate(['create', app, '--local'])
    git('push', '--quiet', 'herogate', 'main')
    herogate(['config:set', 'GREETING=hello there', "QUOTE=it's"])
    trace = tracer()
  })

  after(function () {
    trace?.dispose()
    if (!work) return
    spawnSync(process.execPath, [CLI, 'destroy', '--confirm', app, '-a', app], {cwd: work, env})
    rmSync(work, {recursive: true, force: true})
  })

  function herogate(args: string[], options: {cwd?: string; env?: NodeJS.ProcessEnv} = {}) {
    const r = spawnSync(process.execPath, [CLI, ...args], {cwd: options.cwd ?? repo, env: options.env ?? env, encoding: 'utf8'})
    return {status: r.status, stdout: sameMoment(r.stdout), stderr: r.stderr}
  }

  function oclif(args: string[], options: {cwd?: string; env?: NodeJS.ProcessEnv} = {}) {
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', OCLIF, ...args], {cwd: options.cwd ?? repo, env: options.env ?? env, encoding: 'utf8'})
    return {status: r.status, stdout: sameMoment(r.stdout), stderr: r.stderr}
  }

  /**
   * The two runs are a moment apart, so a table's relative times ("6s ago") may differ by a
   * second, and its columns by a character: those are made alike, everything else compared as printed.
   */
  function sameMoment(text: string): string {
    return text.replaceAll(/\b(\d+[smhd] ago|just now)/g, 'N ago').replaceAll(/─+/g, '─').replaceAll(/ {2,}/g, '  ')
  }

  const reads: string[][] = [
    ['ps'], ['ps', '--json'],
    ['config'], ['config', '-s'], ['config', '--shell'], ['config', '--json'],
    ['releases'], ['releases', '-n', '1'], ['releases', '-n1'], ['releases', '--num=2'], ['releases', '--num', '15'], ['releases', '--json'],
    ['info'], ['apps:info', '--json'],
    ['apps'], ['apps', '--local'], ['apps', '--json'],
    ['logs', '-n', '5'], ['logs', '-n', '3', '--source', 'herogate'], ['logs', '-n', '2', '-p', 'web'], ['logs', '--json', '-n', '2'], ['logs', '-n', '2', '--since', '1d'],
    ['logs', '-n', '2', '-d', 'web'], ['logs', '-n', '2', '-d', 'web.1'], ['ps', '--no-color'], ['releases', '--no-color', '-n', '2'],
    // Left to oclif: a number above the flag's default, an AWS flag.
    ['releases', '-n', '16'], ['ps', '--region', 'us-east-1'],
  ]
  // Left to oclif, which refuses them: values it checks, flags the fast path does not take, help.
  const refused: string[][] = [
    ['releases', '-n', '0'], ['releases', '-n', 'x'], ['releases', '-n'], ['releases', '-n', '2', '-n', '3'],
    ['apps', '--local', '--aws'], ['logs', '--source', 'nope'], ['logs', '-d', 'web', '-p', 'web'], ['logs', '-n', '0'], ['logs', '-n', '2', '--since', 'yesterday'],
    ['ps', '-a', 'no-such-app'], ['ps', '-a', '../x'], ['config', 'EXTRA'], ['config', '--', '-a'], ['info', '-x'], ['ps', '--help'],
  ]
  for (const args of [...reads, ...refused]) {
    it(`herogate ${args.join(' ')}: oclif's output and exit status`, function () {
      const fast = herogate(args)
      expect(fast).to.deep.equal(oclif(args))
      if (reads.includes(args)) expect(fast.status, fast.stderr).to.equal(0)
      else if (!args.includes('--help')) expect(fast.status).to.not.equal(0)
    })
  }

  it('other commands go to oclif without loading the bundle (only the read commands\' words, dist/platform/local/reads.json)', () => {
    const r = trace.run([join(ROOT, 'bin', 'run.cjs'), 'deploy', '--help'], 'deploy-help', {cwd: repo, env})
    expect(r.status, r.stderr).to.equal(0)
    expect(r.loaded.filter((url) => url.includes('/dist/platform/local/reads.cjs'))).to.deep.equal([])
  })

  it('npm run build writes the bundle\'s V8 code cache, which this node accepts (bin/run.cjs loads the bundle with it)', () => {
    const bundle = join(ROOT, 'dist', 'platform', 'local', 'reads.cjs')
    const script = new Script(Module.wrap(readFileSync(bundle, 'utf8')), {filename: bundle, cachedData: readFileSync(`${bundle}.cache`)})
    expect(script.cachedDataRejected).to.equal(false)
  })

  it('runs every command through oclif when the bundle is missing (tsc without the rest of npm run build)', () => {
    const bundle = join(ROOT, 'dist', 'platform', 'local', 'reads.cjs')
    const expected = herogate(['releases'])
    renameSync(bundle, `${bundle}.away`)
    try {
      expect(herogate(['releases'])).to.deep.equal(expected)
    } finally {
      renameSync(`${bundle}.away`, bundle)
    }
  })

  it('takes the app from -a or HEROGATE_APP outside the repo as oclif does', () => {
    for (const [args, extra] of [[['releases', '-a', app], {}], [['info'], {HEROGATE_APP: app}], [['config'], {HEROGATE_APP: 'no-such-app'}]] as const) {
      const options = {cwd: work, env: {...env, ...extra}}
      expect(herogate([...args], options), `${args.join(' ')} ${JSON.stringify(extra)}`).to.deep.equal(oclif([...args], options))
    }
  })

  it('loads one bundled file: no oclif, no AWS code, no other module of dist, no socket (ps, info and apps read what the supervisor published)', () => {
    for (const args of [['ps'], ['config'], ['releases'], ['info'], ['apps'], ['logs', '-n', '5'], ['config', '--json']]) {
      bundleAlone(args)
      // What the fast path was cut to spare: node's HTTP client, child_process, crypto, streams
      // and sockets (process.stdout on a pipe would load both).
      const heavy = ['node:http', 'node:child_process', 'node:crypto', 'node:net', 'node:stream']
      const builtins = trace.builtins([join(ROOT, 'bin', 'run.cjs'), ...args], args.join('-'), {cwd: repo, env})
      expect(builtins.status, builtins.stderr).to.equal(0)
      expect(builtins.loaded.filter((name) => heavy.includes(name)), args.join(' ')).to.deep.equal([])
    }
  })

  /** Runs a read through bin/run.cjs and checks that the bundle answered it alone: had it failed halfway, oclif would have run it again. */
  function bundleAlone(args: string[]) {
    const r = trace.run([join(ROOT, 'bin', 'run.cjs'), ...args], args.join('-'), {cwd: repo, env})
    expect(r.status, r.stderr).to.equal(0)
    const ours = r.loaded.filter((url) => url.startsWith(pathToFileURL(ROOT).href))
    expect(ours.map((url) => url.slice(pathToFileURL(ROOT).href.length)), args.join(' ')).to.deep.equal(['bin/run.cjs', 'dist/platform/local/reads.cjs'])
    expect(r.loaded.filter((url) => url.includes('/node_modules/')), args.join(' ')).to.deep.equal([])
    return {status: r.status, stdout: r.stdout, stderr: r.stderr}
  }

  it('brings back a stopped supervisor, as every command for the app does, and shows what then runs', async () => {
    const appDir = join(env.HEROGATE_HOME!, 'apps', app)
    const record = () => JSON.parse(readFileSync(join(appDir, 'supervisor.json'), 'utf8')) as {pid: number; watchdog?: {pid: number}}
    const alive = (pid: number) => {
      try {
        process.kill(pid, 0)
        return true
      } catch {
        return false
      }
    }

    // The machine restarted, say: no watchdog, no supervisor, no app processes.
    const before = record()
    if (before.watchdog) process.kill(before.watchdog.pid, 'SIGKILL')
    process.kill(before.pid, 'SIGKILL')
    for (let i = 0; i < 200 && alive(before.pid); i++) await new Promise((resolve) => setTimeout(resolve, 25))
    // The bundle itself starts the supervisor again (its child_process and HTTP client are in it).
    bundleAlone(['releases'])
    expect(record().pid).to.not.equal(before.pid)
    expect(alive(record().pid)).to.equal(true)
    const ps = herogate(['ps', '--json'])
    expect(JSON.parse(ps.stdout).map((p: {name: string; status: string}) => `${p.name} ${p.status}`)).to.deep.equal(['web.1 up'])
  })

  it('settles a release its owner left pending before it shows the releases', () => {
    const releasesDir = join(env.HEROGATE_HOME!, 'apps', app, 'releases')
    const newest = readdirSync(releasesDir).filter((name) => /^\d+/.test(name)).sort((a, b) => Number.parseInt(b, 10) - Number.parseInt(a, 10))[0]
    const record = JSON.parse(readFileSync(join(releasesDir, newest), 'utf8'))
    const version = record.version + 1
    writeFileSync(join(releasesDir, `${String(version).padStart(6, '0')}.json`), JSON.stringify({...record, version, status: 'pending', description: 'Set LEFT config vars'}), {mode: 0o600})
    const shown = JSON.parse(bundleAlone(['releases', '--json']).stdout) as Array<{version: number; status: string; current: boolean}>
    expect(shown[0]).to.include({version, status: 'failed', current: false})
    expect(shown[1]).to.include({version: record.version, current: true})
  })
})
