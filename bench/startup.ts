/**
 * Start-up benchmark: herogate against the Heroku CLI, on the same machine, in the same run.
 *
 *     npx tsx bench/startup.ts [--runs 15] [--warmup 3] [--rss-runs 5] [--rss-method auto|python3|time]
 *                              [--heroku 11] [--build] [--keep-env] [--skip-local] [--json]
 *
 * Times `--version`, `--help` and a few commands' help for both CLIs (runs alternate between
 * the two so that machine noise hits both alike), measures each child's peak RSS, and prints
 * medians, the ratio and whether the goals hold: herogate takes at most 1/4 of the Heroku
 * CLI's time and uses no more memory at its peak. Then the local read commands (ps, config,
 * releases, info, apps, logs -n) of an app it deploys from examples/hello-node, typed in the
 * app's repo as a user types them, against `node -e 0` in the same rounds: at most 1.5 times
 * node's own start-up (--skip-local leaves them out). Exit status: 0 when every goal holds,
 * 1 when one is missed or a run fails, 2 when the Heroku CLI could not be installed (then
 * herogate's figures are printed alone).
 */
import {spawnSync, type SpawnSyncReturns} from 'node:child_process'
import {cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {parseArgs} from 'node:util'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
/** The Heroku CLI major the goal is measured against (npm package `heroku`). */
const HEROKU_MAJOR = '11'
const TIME_GOAL = 0.25
/** Local read commands: at most this many times `node -e 0`. */
const FLOOR_GOAL = 1.5
const RUN_TIMEOUT_MS = 60_000
const INSTALL_TIMEOUT_MS = 10 * 60_000

interface Options {
  runs: number
  warmup: number
  rssRuns: number
  heroku: string
  build: boolean
  keepEnv: boolean
  json: boolean
  skipLocal: boolean
  rssMethod: 'auto' | 'python3' | 'time'
}

/** One CLI under test: how to start it with node, and which command ids it has. */
interface Cli {
  name: string
  version: string
  file: string
  prefix: string[]
}

interface Case {
  label: string
  args: string[]
  /** A command id both CLIs must have for the case to run. */
  needs?: string
}

const CASES: Case[] = [
  {label: '--version', args: ['--version']},
  {label: '--help', args: ['--help']},
  {label: 'apps --help', args: ['apps', '--help'], needs: 'apps'},
  {label: 'config:set --help', args: ['config:set', '--help'], needs: 'config:set'},
]

/** What a user types in a local app's repo (the app from its `herogate` git remote). */
const LOCAL_READS: string[][] = [['ps'], ['config'], ['releases'], ['info'], ['apps'], ['logs', '-n', '20']]

interface ReadRow {
  label: string
  herogateMs: number
  /** herogate's time over `node -e 0`'s, medians of the same rounds. */
  ratio: number
  ok: boolean
}

interface Row {
  label: string
  herogateMs: number
  herokuMs?: number
  ratio?: number
  timeOk?: boolean
  herogateRssMb?: number
  herokuRssMb?: number
  rssOk?: boolean
}

class BenchError extends Error {}

function options(): Options {
  const {values} = parseArgs({
    options: {
      runs: {type: 'string', default: '15'},
      warmup: {type: 'string', default: '3'},
      'rss-runs': {type: 'string', default: '5'},
      heroku: {type: 'string', default: HEROKU_MAJOR},
      build: {type: 'boolean', default: false},
      'keep-env': {type: 'boolean', default: false},
      json: {type: 'boolean', default: false},
      'skip-local': {type: 'boolean', default: false},
      'rss-method': {type: 'string', default: 'auto'},
    },
  })
  const count = (name: string, raw: string, min: number): number => {
    const n = Number(raw)
    if (!Number.isInteger(n) || n < min) throw new BenchError(`--${name} must be an integer of at least ${min}, got ${raw}`)
    return n
  }
  if (!/^[\w.-]+$/.test(values.heroku)) throw new BenchError(`--heroku must be a version or major such as 11, got ${values.heroku}`)
  const rssMethod = values['rss-method']
  if (rssMethod !== 'auto' && rssMethod !== 'python3' && rssMethod !== 'time') throw new BenchError(`--rss-method must be auto, python3 or time, got ${rssMethod}`)
  return {
    rssMethod,
    runs: count('runs', values.runs, 1),
    warmup: count('warmup', values.warmup, 0),
    rssRuns: count('rss-runs', values['rss-runs'], 0),
    heroku: values.heroku,
    build: values.build,
    keepEnv: values['keep-env'],
    json: values.json,
    skipLocal: values['skip-local'],
  }
}

const say = (line: string): void => {
  process.stderr.write(`${line}\n`)
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

/** Node flags from a `#!/usr/bin/env [-S] node FLAGS` line, so each CLI starts as its bin would. */
function shebangFlags(file: string): string[] {
  const first = readFileSync(file, 'utf8').split('\n', 1)[0]
  const words = first.startsWith('#!') ? first.slice(2).trim().split(/\s+/) : []
  const node = words.findIndex((w) => w === 'node' || w.endsWith('/node'))
  return node === -1 ? [] : words.slice(node + 1)
}

function commandIds(root: string): Set<string> {
  const manifest = join(root, 'oclif.manifest.json')
  if (!existsSync(manifest)) return new Set()
  return new Set(Object.keys(JSON.parse(readFileSync(manifest, 'utf8')).commands ?? {}))
}

function newestMtime(dir: string): number {
  if (!existsSync(dir)) return 0
  let newest = 0
  for (const entry of readdirSync(dir, {recursive: true, withFileTypes: true})) {
    if (entry.isFile()) newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs)
  }
  return newest
}

function ensureBuilt(force: boolean): void {
  const manifest = join(ROOT, 'oclif.manifest.json')
  if (force || !existsSync(join(ROOT, 'dist', 'commands')) || !existsSync(manifest)) {
    say('building herogate (npm run build)...')
    const r = spawnSync('npm', ['run', 'build'], {cwd: ROOT, stdio: ['ignore', 2, 2]})
    if (r.status !== 0) throw new BenchError('npm run build failed; fix the build, then rerun the bench')
  } else if (newestMtime(join(ROOT, 'src', 'commands')) > statSync(manifest).mtimeMs) {
    say('warning: src/commands changed after the last build; pass --build to measure the current code')
  }
}

function herogateCli(): Cli {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))
  // The file `npm link` / `npm install -g` puts on the PATH.
  const file = join(ROOT, typeof pkg.bin === 'string' ? pkg.bin : pkg.bin.herogate)
  return {name: 'herogate', version: pkg.version, file, prefix: shebangFlags(file)}
}

/**
 * Installs the Heroku CLI from npm into a cache directory under the OS temp dir, keyed by the
 * requested version, so a rerun starts at once. A marker written after a complete install
 * keeps a half-finished one from being mistaken for a cached install.
 */
function herokuCli(spec: string): Cli {
  const dir = join(tmpdir(), 'herogate-bench-heroku', `heroku-${spec}`)
  const marker = join(dir, '.complete')
  const pkgFile = join(dir, 'node_modules', 'heroku', 'package.json')
  if (!existsSync(marker) || !existsSync(pkgFile)) {
    say(`installing heroku@${spec} from npm into ${dir} (once; later runs reuse it)...`)
    rmSync(dir, {recursive: true, force: true})
    mkdirSync(dir, {recursive: true})
    const r = spawnSync('npm', ['install', '--prefix', dir, `heroku@${spec}`, '--no-audit', '--no-fund', '--loglevel=error'], {
      cwd: dir,
      stdio: ['ignore', 'ignore', 'pipe'],
      timeout: INSTALL_TIMEOUT_MS,
    })
    if (r.status !== 0 || !existsSync(pkgFile)) {
      const why = r.error ? r.error.message : (r.stderr?.toString().trim().split('\n').find((l) => /error/i.test(l)) ?? `npm exited ${r.status}`)
      rmSync(dir, {recursive: true, force: true})
      throw new BenchError(`could not install heroku@${spec} from npm: ${why}`)
    }
    writeFileSync(marker, new Date().toISOString())
  }
  const pkg = JSON.parse(readFileSync(pkgFile, 'utf8'))
  const file = join(dir, 'node_modules', 'heroku', String(typeof pkg.bin === 'string' ? pkg.bin : pkg.bin.heroku))
  return {name: 'heroku', version: pkg.version, file, prefix: shebangFlags(file)}
}

/**
 * The children's environment: a throwaway HOME and XDG dirs (no user config, no credentials,
 * no cache from elsewhere), the Heroku CLI's update checks, autoupdate and telemetry off so
 * it never waits on the network, and without NODE_OPTIONS / NODE_EXTRA_CA_CERTS (a machine's
 * CA bundle adds the same fixed cost to every node start; --keep-env keeps them).
 */
function childEnv(home: string, keepEnv: boolean): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = {}
  const keep = keepEnv ? Object.keys(process.env) : ['PATH', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR']
  for (const key of keep) if (process.env[key] !== undefined) base[key] = process.env[key]
  for (const key of ['HEROKU_API_KEY', 'HEROKU_APP', 'HEROGATE_APP']) delete base[key]
  return {
    ...base,
    HOME: home,
    XDG_CACHE_HOME: join(home, '.cache'),
    XDG_CONFIG_HOME: join(home, '.config'),
    XDG_DATA_HOME: join(home, '.local', 'share'),
    HEROGATE_HOME: join(home, '.herogate'),
    DISABLE_TELEMETRY: 'true',
    HEROKU_DISABLE_AUTOUPDATE: 'true',
    HEROKU_SKIP_NEW_VERSION_CHECK: 'true',
    HEROKU_SKIP_ANALYTICS: '1',
    HEROKU_UPDATE_INSTRUCTIONS: 'updates are disabled in this benchmark',
  }
}

/**
 * Peak RSS of a child is its rusage's ru_maxrss, which only the parent that reaps it gets
 * (wait4); Node's spawn does not expose it and process.resourceUsage() covers only the
 * calling process. So a tiny reaper does the spawning: python3's os.wait4, or else GNU time's
 * %M. Both report the child's own high-water mark (and its reaped descendants'), not a sample.
 */
type RssProbe = {method: string; measure: (argv: string[], env: NodeJS.ProcessEnv, cwd: string) => number}

const PY_REAPER = `
import os, signal, subprocess, sys, time
p = subprocess.Popen(sys.argv[2:], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
deadline = time.monotonic() + float(sys.argv[1])
while True:
    pid, status, ru = os.wait4(p.pid, os.WNOHANG)
    if pid:
        break
    if time.monotonic() > deadline:
        os.kill(p.pid, signal.SIGKILL)
        pid, status, ru = os.wait4(p.pid, 0)
        break
    time.sleep(0.002)
p.returncode = os.waitstatus_to_exitcode(status)
print(ru.ru_maxrss * (1 if sys.platform == "darwin" else 1024), p.returncode)
`

function rssProbe(method: Options['rssMethod']): RssProbe | undefined {
  const py = method === 'time' ? undefined : spawnSync('python3', ['-c', 'import os; os.wait4; os.waitstatus_to_exitcode'], {stdio: 'ignore'})
  if (py?.status === 0) {
    return {
      method: 'python3 os.wait4 ru_maxrss',
      measure(argv, env, cwd) {
        const r = spawnSync('python3', ['-c', PY_REAPER, String(RUN_TIMEOUT_MS / 1000), ...argv], {env, cwd, encoding: 'utf8'})
        const [bytes, code] = (r.stdout ?? '').trim().split(/\s+/).map(Number)
        if (r.status !== 0 || code !== 0 || !bytes) throw new BenchError(`${argv.join(' ')} failed under the RSS probe (exit ${code ?? r.status})`)
        return bytes
      },
    }
  }
  const gnu = method === 'python3' ? undefined : spawnSync('/usr/bin/time', ['--version'], {encoding: 'utf8'})
  if (gnu?.status === 0 && /GNU/.test(`${gnu.stdout}${gnu.stderr}`)) {
    return {
      method: 'GNU time %M',
      measure(argv, env, cwd) {
        const out = join(cwd, 'time.out')
        const r = spawnSync('/usr/bin/time', ['-f', '%M', '-o', out, ...argv], {env, cwd, stdio: 'ignore', timeout: RUN_TIMEOUT_MS})
        const kib = Number(readFileSync(out, 'utf8').trim().split('\n').pop())
        if (r.status !== 0 || !kib) throw new BenchError(`${argv.join(' ')} failed under GNU time (exit ${r.status})`)
        return kib * 1024
      },
    }
  }
  return undefined
}

function argvOf(cli: Cli, args: string[]): string[] {
  return [process.execPath, ...cli.prefix, cli.file, ...args]
}

/** Wall time of one run, from spawn to exit; a run must exit 0 and print something. */
function timeOnce(argv: string[], env: NodeJS.ProcessEnv, cwd: string, expectOutput = true): number {
  const start = process.hrtime.bigint()
  const r: SpawnSyncReturns<Buffer> = spawnSync(argv[0], argv.slice(1), {env, cwd, stdio: ['ignore', 'pipe', 'pipe'], timeout: RUN_TIMEOUT_MS})
  const ms = Number(process.hrtime.bigint() - start) / 1e6
  if (r.error || r.status !== 0 || (expectOutput && r.stdout.length === 0)) {
    const why = r.error?.message ?? (r.signal ? `killed by ${r.signal}` : `exit ${r.status}: ${r.stderr.toString().trim().split('\n').slice(-2).join(' ')}`)
    throw new BenchError(`${argv.slice(1).join(' ')} failed (${why})`)
  }
  return ms
}

const mb = (bytes: number): number => Math.round((bytes / 1024 / 1024) * 10) / 10

function table(rows: Row[], probe: RssProbe | undefined, heroku: boolean): string {
  const head = ['command', 'herogate ms', ...(heroku ? ['heroku ms', 'ratio', `goal <= ${TIME_GOAL}`] : []), 'herogate peak RSS', ...(heroku ? ['heroku peak RSS', 'goal <= heroku'] : [])]
  const body = rows.map((r) => {
    const rss = (v?: number): string => (v === undefined ? (probe ? '-' : 'n/a') : `${v} MB`)
    const verdict = (ok?: boolean): string => (ok === undefined ? '-' : ok ? 'ok' : 'MISSED')
    return [
      r.label,
      r.herogateMs.toFixed(0),
      ...(heroku ? [r.herokuMs === undefined ? '-' : r.herokuMs.toFixed(0), r.ratio === undefined ? '-' : r.ratio.toFixed(3), verdict(r.timeOk)] : []),
      rss(r.herogateRssMb),
      ...(heroku ? [rss(r.herokuRssMb), verdict(r.rssOk)] : []),
    ]
  })
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)))
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd()
  return [line(head), ...body.map(line)].join('\n')
}

/**
 * A local app to read from: examples/hello-node in a git repo under the bench's HOME, created
 * and pushed with the built CLI, with one config var (so config and releases show two).
 */
function deployLocalApp(home: string, env: NodeJS.ProcessEnv): {cwd: string; destroy: () => void} {
  const cwd = join(home, 'hello-node')
  const cli = join(ROOT, 'bin', 'run.js')
  const run = (file: string, args: string[]): void => {
    const r = spawnSync(file, args, {cwd, env, encoding: 'utf8', timeout: 5 * RUN_TIMEOUT_MS})
    if (r.error || r.status !== 0) throw new BenchError(`${[file === process.execPath ? 'herogate' : file, ...(file === process.execPath ? args.slice(1) : args)].join(' ')} failed: ${(r.error?.message ?? `${r.stderr}${r.stdout}`).trim().split('\n').slice(-3).join(' ')}`)
  }
  cpSync(join(ROOT, 'examples', 'hello-node'), cwd, {recursive: true})
  run('git', ['init', '--quiet', '--initial-branch=main'])
  run('git', ['add', '-A'])
  run('git', ['-c', 'user.name=bench', '-c', 'user.email=bench@herogate.invalid', 'commit', '--quiet', '-m', 'bench'])
  run(process.execPath, [cli, 'create', 'bench-reads', '--local'])
  run('git', ['push', '--quiet', 'herogate', 'main'])
  run(process.execPath, [cli, 'config:set', 'GREETING=hello'])
  return {cwd, destroy: () => spawnSync(process.execPath, [cli, 'destroy', '--confirm', 'bench-reads'], {cwd, env, stdio: 'ignore', timeout: 5 * RUN_TIMEOUT_MS})}
}

function readTable(rows: ReadRow[], floorMs: number): string {
  const head = ['local read', 'herogate ms', 'node -e 0 ms', 'ratio', `goal <= ${FLOOR_GOAL}`]
  const body = rows.map((r) => [r.label, r.herogateMs.toFixed(0), floorMs.toFixed(0), r.ratio.toFixed(2), r.ok ? 'ok' : 'MISSED'])
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)))
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd()
  return [line(head), ...body.map(line)].join('\n')
}

function main(): number {
  const opts = options()
  ensureBuilt(opts.build)
  const herogate = herogateCli()
  let heroku: Cli | undefined
  let herokuProblem: string | undefined
  try {
    heroku = herokuCli(opts.heroku)
  } catch (error) {
    if (!(error instanceof BenchError)) throw error
    herokuProblem = error.message
    say(`${herokuProblem}; measuring herogate alone`)
  }

  const ours = commandIds(ROOT)
  const theirs = heroku ? commandIds(join(dirname(heroku.file), '..')) : undefined
  const cases = CASES.filter((c) => !c.needs || (ours.has(c.needs) && (!theirs || theirs.has(c.needs))))
  for (const c of CASES) if (!cases.includes(c)) say(`skipping "${c.label}": ${c.needs} is not a command of ${ours.has(c.needs!) ? 'heroku' : 'herogate'} yet`)

  const home = mkdtempSync(join(tmpdir(), 'herogate-bench-home-'))
  try {
    const env = childEnv(home, opts.keepEnv)
    const clis = heroku ? [herogate, heroku] : [herogate]
    const floorArgv = [process.execPath, '-e', '0']

    say(`warming up (${opts.warmup} runs of each)...`)
    for (let i = 0; i < opts.warmup; i++) {
      timeOnce(floorArgv, env, home, false)
      for (const c of cases) for (const cli of clis) timeOnce(argvOf(cli, c.args), env, home)
    }

    say(`timing ${opts.runs} runs of each, alternating ${clis.map((c) => c.name).join(' / ')}...`)
    const times = new Map<string, number[]>()
    const record = (key: string, ms: number): void => {
      times.set(key, [...(times.get(key) ?? []), ms])
    }
    for (let i = 0; i < opts.runs; i++) {
      record('floor', timeOnce(floorArgv, env, home, false))
      // Alternate who goes first, so drift and cache effects fall on both alike.
      const order = i % 2 ? [...clis].reverse() : clis
      for (const c of cases) for (const cli of order) record(`${cli.name} ${c.label}`, timeOnce(argvOf(cli, c.args), env, home))
    }

    let readRows: ReadRow[] = []
    let readFloorMs: number | undefined
    if (!opts.skipLocal) {
      say('deploying examples/hello-node as a local app to read from...')
      const app = deployLocalApp(home, env)
      try {
        const floors: number[] = []
        const reads = new Map<string, number[]>()
        for (let i = 0; i < opts.warmup; i++) for (const args of LOCAL_READS) timeOnce(argvOf(herogate, args), env, app.cwd)
        say(`timing ${opts.runs} runs of each local read, each round with node -e 0...`)
        for (let i = 0; i < opts.runs; i++) {
          floors.push(timeOnce(floorArgv, env, app.cwd, false))
          for (const args of LOCAL_READS) {
            const label = args.join(' ')
            reads.set(label, [...(reads.get(label) ?? []), timeOnce(argvOf(herogate, args), env, app.cwd)])
          }
        }

        readFloorMs = median(floors)
        readRows = LOCAL_READS.map((args) => {
          const label = args.join(' ')
          const ms = median(reads.get(label)!)
          return {label, herogateMs: ms, ratio: ms / readFloorMs!, ok: ms / readFloorMs! <= FLOOR_GOAL}
        })
      } finally {
        app.destroy()
      }
    }

    const probe = opts.rssRuns > 0 ? rssProbe(opts.rssMethod) : undefined
    const rss = new Map<string, number>()
    if (opts.rssRuns > 0 && !probe) say(`peak RSS not measured: needs ${opts.rssMethod === 'auto' ? 'python3 or GNU time (/usr/bin/time)' : opts.rssMethod}`)
    if (probe) {
      say(`measuring peak RSS (${probe.method}, ${opts.rssRuns} runs of each)...`)
      for (const c of cases) {
        for (const cli of clis) {
          const samples = Array.from({length: opts.rssRuns}, () => probe.measure(argvOf(cli, c.args), env, home))
          rss.set(`${cli.name} ${c.label}`, median(samples))
        }
      }
      rss.set('floor', median(Array.from({length: opts.rssRuns}, () => probe.measure(floorArgv, env, home))))
    }

    const rows: Row[] = cases.map((c) => {
      const ms = (cli: Cli): number => median(times.get(`${cli.name} ${c.label}`)!)
      const peak = (cli: Cli): number | undefined => {
        const bytes = rss.get(`${cli.name} ${c.label}`)
        return bytes === undefined ? undefined : mb(bytes)
      }
      const row: Row = {label: c.label, herogateMs: ms(herogate), herogateRssMb: peak(herogate)}
      if (heroku) {
        row.herokuMs = ms(heroku)
        row.ratio = row.herogateMs / row.herokuMs
        row.timeOk = row.ratio <= TIME_GOAL
        row.herokuRssMb = peak(heroku)
        if (row.herogateRssMb !== undefined && row.herokuRssMb !== undefined) row.rssOk = row.herogateRssMb <= row.herokuRssMb
      }
      return row
    })
    const floor = {ms: median(times.get('floor')!), rssMb: rss.has('floor') ? mb(rss.get('floor')!) : undefined}

    const result = {
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
      herogate: herogate.version,
      heroku: heroku?.version,
      herokuProblem,
      runs: opts.runs,
      rssRuns: opts.rssRuns,
      rssMethod: probe?.method,
      env: opts.keepEnv ? 'inherited' : 'clean',
      goal: {timeRatio: TIME_GOAL, rss: 'herogate <= heroku', localReadsOverFloor: FLOOR_GOAL},
      floor,
      rows,
      localReads: opts.skipLocal ? undefined : {floorMs: readFloorMs, rows: readRows},
    }
    mkdirSync(join(ROOT, '.bench'), {recursive: true})
    writeFileSync(join(ROOT, '.bench', 'startup.json'), `${JSON.stringify(result, null, 2)}\n`)

    if (opts.json) {
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`)
    } else {
      const against = heroku ? `vs Heroku CLI ${heroku.version}` : '(Heroku CLI unavailable)'
      process.stdout.write(`herogate ${herogate.version} start-up ${against}; node ${process.version} ${result.platform}; medians of ${opts.runs} runs, peak RSS median of ${opts.rssRuns}${probe ? ` (${probe.method})` : ''}\n\n`)
      if (herokuProblem) process.stdout.write(`No comparison: ${herokuProblem}\n\n`)
      process.stdout.write(`${table(rows, probe, Boolean(heroku))}\n\n`)
      process.stdout.write(`node -e 0 on this machine: ${floor.ms.toFixed(0)} ms${floor.rssMb === undefined ? '' : `, ${floor.rssMb} MB`} (the floor for any node CLI)\n`)
      if (readFloorMs !== undefined) process.stdout.write(`\nLocal read commands in the app's repo, medians of ${opts.runs} rounds with node -e 0:\n\n${readTable(readRows, readFloorMs)}\n`)
    }
    const readsOk = readRows.every((r) => r.ok)
    if (!heroku) return readsOk ? 2 : 1
    return rows.every((r) => r.timeOk !== false && r.rssOk !== false) && readsOk ? 0 : 1
  } finally {
    rmSync(home, {recursive: true, force: true})
  }
}

try {
  process.exitCode = main()
} catch (error) {
  if (!(error instanceof BenchError)) throw error
  say(`bench failed: ${error.message}`)
  process.exitCode = 1
}
