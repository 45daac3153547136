/**
 * Local platform workflow benchmark, through the built CLI as a user runs it:
 *
 *     npx tsx bench/local-deploy.ts [--pushes 5] [--logs 10] [--parallel 16] [--build] [--no-runtime] [--json]
 *
 * In a temporary HEROGATE_HOME it creates an app from test/fixtures/node-app
 * (`herogate create --local`), then measures
 *   - push-to-live: from `git push herogate main` starting to the new code answering over
 *     HTTP (a pusher-visible change per push; median of --pushes warm pushes, plus the first,
 *     cold push that also starts the supervisor),
 *   - log latency: from the app writing a line to `herogate logs -t` printing it (median),
 *   - the supervisor daemon's RSS with the app running,
 *   - keys lost when --parallel config:set of different keys run at once (each one a release
 *     with a rolling restart, serialised by the app lock), and gaps or duplicates in the
 *     release numbers they made,
 * and then runs the runtime benchmark (bench/local-runtime.ts: failed requests during
 * rolling deploys under load, router overhead) unless --no-runtime. Each figure is printed
 * with its goal. Exit status 0 when every goal holds, 1 otherwise.
 */
import {spawn, spawnSync} from 'node:child_process'
import {cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {parseArgs} from 'node:util'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
const CLI = join(ROOT, 'bin', 'run.js')
const FIXTURE = join(ROOT, 'test', 'fixtures', 'node-app')
const GOALS = {pushToLiveMs: 5000, logLatencyMs: 100, rssMb: 80}

interface Figure {
  name: string
  value: number
  unit: string
  goal: string
  ok: boolean
}

const {values: flags} = parseArgs({
  options: {
    pushes: {type: 'string', default: '5'},
    logs: {type: 'string', default: '10'},
    parallel: {type: 'string', default: '16'},
    build: {type: 'boolean', default: false},
    'no-runtime': {type: 'boolean', default: false},
    json: {type: 'boolean', default: false},
  },
})

const say = (text: string) => process.stderr.write(text + '\n')
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

function run(cwd: string, command: string, args: string[], env: NodeJS.ProcessEnv): string {
  const result = spawnSync(command, args, {cwd, env, encoding: 'utf8'})
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed:\n${result.stdout}${result.stderr}`)
  return result.stdout
}

async function body(url: string): Promise<string | undefined> {
  try {
    const response = await fetch(url, {signal: AbortSignal.timeout(2000)})
    return response.ok ? await response.text() : undefined
  } catch {
    return undefined
  }
}

/** Runs a command to its end without blocking the event loop: exit code and output. */
function runAsync(cwd: string, command: string, args: string[], env: NodeJS.ProcessEnv): Promise<{code: number | null; output: string}> {
  return new Promise((resolve) => {
    const child = spawn(command, args, {cwd, env, stdio: ['ignore', 'pipe', 'pipe']})
    let output = ''
    child.stdout.on('data', (chunk) => (output += chunk))
    child.stderr.on('data', (chunk) => (output += chunk))
    child.once('close', (code) => resolve({code, output}))
  })
}

/** `count` config:set of different keys at once through the CLI: keys lost, failed commands, and release numbers that are not one each, in a row. */
async function parallelConfigSet(repo: string, env: NodeJS.ProcessEnv, count: number, herogate: (...args: string[]) => string) {
  const before = (JSON.parse(herogate('releases', '-n', '1', '--json')) as Array<{version: number}>)[0]?.version ?? 0
  const keys = Array.from({length: count}, (_, i) => `BENCH_PARALLEL_${i}`)
  const start = performance.now()
  const runs = await Promise.all(keys.map((key) => runAsync(repo, process.execPath, [CLI, 'config:set', `${key}=value ${key}`], env)))
  const ms = performance.now() - start
  const config = JSON.parse(herogate('config', '--json')) as Record<string, string>
  const versions = (JSON.parse(herogate('releases', '-n', String(count + 10), '--json')) as Array<{version: number}>).map((r) => r.version).filter((v) => v > before)
  const expected = Array.from({length: count}, (_, i) => before + count - i)
  return {
    ms,
    lost: keys.filter((key) => config[key] !== `value ${key}`).length,
    failed: runs.filter((run) => run.code !== 0).length,
    badNumbers: JSON.stringify(versions) === JSON.stringify(expected) ? 0 : Math.max(1, Math.abs(versions.length - count)),
  }
}

/** Starts `git push` and polls the app until it answers with `expected`; ms from push start to that answer. */
async function pushToLive(repo: string, url: string, expected: string, env: NodeJS.ProcessEnv): Promise<{liveMs: number; pushMs: number}> {
  const start = performance.now()
  let pushMs = -1
  let pushOutput = ''
  const push = spawn('git', ['push', '--quiet', 'herogate', 'main'], {cwd: repo, env, stdio: ['ignore', 'pipe', 'pipe']})
  push.stdout.on('data', (chunk) => (pushOutput += chunk))
  push.stderr.on('data', (chunk) => (pushOutput += chunk))
  const pushed = new Promise<number>((resolve) =>
    push.once('close', (code) => {
      pushMs = performance.now() - start
      resolve(code ?? 1)
    }),
  )
  let liveMs = -1
  const deadline = start + 60_000
  while (performance.now() < deadline) {
    if ((await body(url))?.startsWith(expected)) {
      liveMs = performance.now() - start
      break
    }

    await sleep(5)
  }

  if ((await pushed) !== 0) throw new Error(`git push failed:\n${pushOutput}`)
  if (liveMs < 0) throw new Error(`${url} never answered "${expected}"`)
  return {liveMs, pushMs}
}

/** ms from asking the app to log a marker to `logs -t` printing it, `count` times. */
async function logLatencies(app: string, url: string, env: NodeJS.ProcessEnv, count: number): Promise<number[]> {
  const tail = spawn(process.execPath, [CLI, 'logs', '-t', '-n', '1', '-a', app], {env, stdio: ['ignore', 'pipe', 'pipe']})
  let seen = ''
  const waiters: Array<{marker: string; resolve: () => void}> = []
  tail.stdout.setEncoding('utf8')
  tail.stdout.on('data', (chunk: string) => {
    seen += chunk
    for (const waiter of waiters.filter((w) => seen.includes(w.marker))) {
      waiters.splice(waiters.indexOf(waiter), 1)
      waiter.resolve()
    }
  })
  try {
    // Wait until the tail is live: a marker logged before it started would be history, not latency.
    const ready = `ready-${Date.now()}`
    for (let i = 0; i < 200 && !seen.includes(ready); i++) {
      await body(`${url}/log?msg=${ready}`)
      await sleep(50)
    }

    if (!seen.includes(ready)) throw new Error('herogate logs -t never showed the app output')
    const latencies: number[] = []
    for (let i = 0; i < count; i++) {
      const marker = `marker-${i}-${Math.random().toString(36).slice(2)}`
      const printed = new Promise<void>((resolve) => waiters.push({marker, resolve}))
      const start = performance.now()
      await body(`${url}/log?msg=${marker}`)
      await Promise.race([printed, sleep(10_000).then(() => Promise.reject(new Error(`${marker} never reached logs -t`)))])
      latencies.push(performance.now() - start)
      await sleep(50)
    }

    return latencies
  } finally {
    tail.kill('SIGINT')
  }
}

function rssMb(pid: number): number | undefined {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return match ? Number(match[1]) / 1024 : undefined
  } catch {
    return undefined
  }
}

async function main(): Promise<number> {
  if (flags.build || !existsSync(join(ROOT, 'dist', 'platform', 'local', 'hook-main.js'))) {
    say('Building herogate (npm run build)...')
    run(ROOT, 'npm', ['run', 'build'], process.env)
  }

  const home = mkdtempSync(join(tmpdir(), 'herogate-bench-home-'))
  const repo = mkdtempSync(join(tmpdir(), 'herogate-bench-app-'))
  const env = {...process.env, HEROGATE_HOME: home}
  const app = 'bench-app'
  const figures: Figure[] = []
  const herogate = (...args: string[]) => run(repo, process.execPath, [CLI, ...args], env)
  try {
    cpSync(FIXTURE, repo, {recursive: true})
    run(repo, 'git', ['init', '--quiet', '--initial-branch=main'], env)
    run(repo, 'git', ['add', '-A'], env)
    run(repo, 'git', ['-c', 'user.name=bench', '-c', 'user.email=bench@herogate.invalid', 'commit', '--quiet', '-m', 'v0'], env)
    const created = JSON.parse(herogate('create', app, '--local', '--json')) as {webUrl: string}
    const url = created.webUrl
    const pushes = Number(flags.pushes)
    const warm: number[] = []
    for (let i = 0; i <= pushes; i++) {
      writeFileSync(join(repo, 'message.txt'), `push-${i}\n`)
      run(repo, 'git', ['-c', 'user.name=bench', '-c', 'user.email=bench@herogate.invalid', 'commit', '--quiet', '-am', `push ${i}`], env)
      const {liveMs, pushMs} = await pushToLive(repo, url, `push-${i} from`, env)
      say(`push ${i}${i === 0 ? ' (cold: starts the supervisor)' : ''}: live after ${liveMs.toFixed(0)} ms, git push returned after ${pushMs.toFixed(0)} ms`)
      if (i === 0) figures.push({name: 'first push to live (cold supervisor)', value: liveMs / 1000, unit: 's', goal: `< ${GOALS.pushToLiveMs / 1000} s`, ok: liveMs < GOALS.pushToLiveMs})
      else warm.push(liveMs)
    }

    if (warm.length > 0) {
      const value = median(warm)
      figures.push({name: `push to live (median of ${warm.length})`, value: value / 1000, unit: 's', goal: `< ${GOALS.pushToLiveMs / 1000} s`, ok: value < GOALS.pushToLiveMs})
    }

    const latencies = await logLatencies(app, url, env, Number(flags.logs))
    const logMs = median(latencies)
    say(`log latencies (ms): ${latencies.map((l) => l.toFixed(0)).join(', ')}`)
    figures.push({name: `log line to logs -t (median of ${latencies.length})`, value: logMs, unit: 'ms', goal: `< ${GOALS.logLatencyMs} ms`, ok: logMs < GOALS.logLatencyMs})

    const parallel = Number(flags.parallel)
    if (parallel > 0) {
      const result = await parallelConfigSet(repo, env, parallel, herogate)
      say(`${parallel} config:set at once: ${result.failed} failed, ${result.lost} keys lost, release numbers ${result.badNumbers ? 'NOT one each in a row' : 'one each, in a row'}, all done after ${(result.ms / 1000).toFixed(1)} s`)
      figures.push({name: `keys lost by ${parallel} config:set at once`, value: result.lost + result.failed + result.badNumbers, unit: 'keys', goal: '0', ok: result.lost + result.failed + result.badNumbers === 0})
    }

    const pidFile = join(home, 'apps', app, 'supervisor.pid')
    const rss = existsSync(pidFile) ? rssMb(Number(readFileSync(pidFile, 'utf8'))) : undefined
    if (rss !== undefined) figures.push({name: 'supervisor + router RSS (one app)', value: rss, unit: 'MB', goal: `< ${GOALS.rssMb} MB`, ok: rss < GOALS.rssMb})
    else say('supervisor RSS: not measurable here (no /proc)')
  } finally {
    try {
      herogate('destroy', '-a', app, '--confirm', app)
    } catch (error) {
      say(`cleanup: ${(error as Error).message.split('\n')[0]}`)
    }

    rmSync(home, {recursive: true, force: true})
    rmSync(repo, {recursive: true, force: true})
  }

  let runtimeOk = true
  const runtimeBench = join(ROOT, 'bench', 'local-runtime.ts')
  if (!flags['no-runtime'] && existsSync(runtimeBench)) {
    say('\nRuntime benchmark (bench/local-runtime.ts):')
    const result = spawnSync(process.execPath, ['--import', 'tsx', runtimeBench], {cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit']})
    runtimeOk = result.status === 0
  } else if (!flags['no-runtime']) {
    say('\nbench/local-runtime.ts is not there: failed requests during rolling deploys and router overhead not measured.')
  }

  if (flags.json) {
    process.stdout.write(JSON.stringify({figures, runtimeOk}, null, 2) + '\n')
  } else {
    process.stdout.write('\nLocal workflow figures\n')
    const width = Math.max(...figures.map((f) => f.name.length))
    for (const f of figures) {
      const value = f.unit === 's' ? f.value.toFixed(2) : f.value.toFixed(f.unit === 'MB' ? 1 : 0)
      process.stdout.write(`  ${f.name.padEnd(width)}  ${`${value} ${f.unit}`.padStart(9)}   goal ${f.goal.padEnd(9)} ${f.ok ? 'ok' : 'MISSED'}\n`)
    }
  }

  return figures.every((f) => f.ok) && runtimeOk ? 0 : 1
}

process.exitCode = await main()
