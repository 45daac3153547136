/**
 * Local runtime benchmark: the supervisor daemon and router with real processes on 127.0.0.1.
 *
 *     node --import tsx bench/local-runtime.ts [--deploys 5] [--concurrency 16] [--requests 3000]
 *       [--slow 300] [--burst-mb 50] [--parallel 16] [--source] [--json]
 *
 * Measures
 *   1. requests failed during --deploys health-checked rolling deploys (web=2, worker=1)
 *      under constant load (--concurrency keep-alive clients looping GET / until the last
 *      deploy is done),
 *   2. the router's added latency: p50/p99 of --requests sequential keep-alive GETs through
 *      the router minus the same straight to a web process,
 *   3. the supervisor daemon's RSS (current and peak) after all that,
 *   4. slow clients: p99 of the others' GETs while --slow request bodies trickle in (a byte
 *      every 200 ms each), beside the same GETs without them,
 *   5. the daemon's RSS once a web process printed a --burst-mb log burst and it settled,
 *   6. kill -9 of the supervisor under load: seconds until the app serves again, with no
 *      herogate command (its watchdog starts it again, it brings back the current release),
 *   7. --parallel `herogate config:set` of different keys at once, through the CLI as users run
 *      it (each one a release with a rolling restart, serialised by the app lock): keys lost,
 *      commands failed, and release numbers that are not one each, in a row.
 * The daemon runs from dist/ when the project is built (as users run it), else from src/
 * under tsx (--source forces that). Exit status 0 when every goal holds, 1 otherwise.
 */
import {spawn} from 'node:child_process'
import {readFileSync, existsSync, mkdtempSync, rmSync} from 'node:fs'
import {Agent, request} from 'node:http'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'
import {parseArgs} from 'node:util'

import type {RunSpec} from '../src/platform/local/contracts.js'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
const FIXTURES = join(ROOT, 'test', 'fixtures', 'runtime')
const GOALS = {failed: 0, overheadP50Ms: 1, rssMb: 80, slowP99Ms: 50, backAfterKillS: 5}

const {values: flags} = parseArgs({
  options: {
    deploys: {type: 'string', default: '5'},
    concurrency: {type: 'string', default: '16'},
    requests: {type: 'string', default: '3000'},
    slow: {type: 'string', default: '300'},
    'burst-mb': {type: 'string', default: '50'},
    parallel: {type: 'string', default: '16'},
    source: {type: 'boolean', default: false},
    json: {type: 'boolean', default: false},
  },
})

// The apps of parts 6 and 7 live in records, as a push leaves them: a private HEROGATE_HOME for this run.
const home = mkdtempSync(join(tmpdir(), 'herogate-bench-home-'))
process.env.HEROGATE_HOME = home

const built = join(ROOT, 'dist', 'platform', 'local', 'supervisor-client.js')
const fromDist = !flags.source && existsSync(built)
const client = (await import(fromDist ? pathToFileURL(built).href : '../src/platform/local/supervisor-client.js')) as typeof import('../src/platform/local/supervisor-client.js')
const {freePort} = await import('../src/platform/local/ports.js')
const {openLogStore} = await import('../src/platform/local/logstore.js')
const {readRecord} = await import('../src/platform/local/supervisor-paths.js')
const {appOnDisk, slowBodies} = await import('../test/platform/local/helpers.js')
const {readConfig} = await import('../src/platform/local/config.js')
const {allReleases} = await import('../src/platform/local/releases.js')
const {appPaths, readApp} = await import('../src/platform/local/state.js')
/** The CLI as part 7 runs it: built, or from src/ under tsx like the daemon. */
const cli = fromDist ? [join(ROOT, 'bin', 'run.js')] : ['--import', 'tsx', join(ROOT, 'bin', 'dev.js')]

const say = (text: string) => {
  if (!flags.json) process.stderr.write(text + '\n')
}

const agent = new Agent({keepAlive: true, maxSockets: 64})

function get(port: number, path = '/'): Promise<{status: number; body: string}> {
  return new Promise((resolve, reject) => {
    const req = request({host: '127.0.0.1', port, path, agent}, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (body += chunk))
      res.on('end', () => resolve({status: res.statusCode ?? 0, body}))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end()
  })
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]
}

/** Sequential keep-alive GETs, alternating between the two ports so machine noise hits both alike. */
async function latencies(ports: [number, number], count: number): Promise<[number[], number[]]> {
  for (let i = 0; i < 200; i++) for (const port of ports) await get(port)
  const times: [number[], number[]] = [[], []]
  for (let i = 0; i < count; i++) {
    for (const [which, port] of ports.entries()) {
      const start = process.hrtime.bigint()
      const response = await get(port)
      times[which].push(Number(process.hrtime.bigint() - start) / 1e6)
      if (response.status !== 200) throw new Error(`status ${response.status}`)
    }
  }

  return [times[0].sort((a, b) => a - b), times[1].sort((a, b) => a - b)]
}

/** Sequential GETs: their latencies, sorted, and how many failed. */
async function timedGets(port: number, count: number): Promise<{times: number[]; failed: number}> {
  const times: number[] = []
  let failed = 0
  for (let i = 0; i < count; i++) {
    const start = process.hrtime.bigint()
    try {
      if ((await get(port)).status !== 200) failed++
    } catch {
      failed++
    }

    times.push(Number(process.hrtime.bigint() - start) / 1e6)
  }

  return {times: times.sort((a, b) => a - b), failed}
}

async function logged(appDir: string, message: string): Promise<boolean> {
  for await (const line of openLogStore(appDir).read({num: 50, tail: false, source: 'app'})) if (line.message === message) return true
  return false
}

async function until(check: () => Promise<boolean> | boolean, timeoutMs: number, everyMs = 20): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await check()) return true
    await new Promise((resolve) => setTimeout(resolve, everyMs))
  }

  return false
}

/** Runs a command to its end without blocking the event loop: its exit code. */
function runAsync(cwd: string, command: string, args: string[], env: NodeJS.ProcessEnv): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn(command, args, {cwd, env, stdio: 'ignore'})
    child.once('error', () => resolve(null))
    child.once('close', (code) => resolve(code))
  })
}

/**
 * `count` `herogate config:set` of different keys at once on `app`: keys lost (not in the
 * config afterwards), commands that failed, whether the releases they made are numbered one
 * each, in a row, and all succeeded.
 */
async function parallelConfigSet(app: string, count: number): Promise<{lost: number; failed: number; inARow: boolean; ms: number}> {
  const paths = appPaths(app)
  const before = readApp(app).current
  const keys = Array.from({length: count}, (_, i) => `BENCH_PARALLEL_${i}`)
  const env = {...process.env, HEROGATE_HOME: home, HEROGATE_APP: ''}
  const start = Date.now()
  const codes = await Promise.all(keys.map((key) => runAsync(ROOT, process.execPath, [...cli, 'config:set', `${key}=value of ${key}`, '-a', app], env)))
  const ms = Date.now() - start
  const config = readConfig(paths, readApp(app).configVersion)
  const made = allReleases(paths).filter((release) => release.version > before)
  const versions = made.map((release) => release.version).sort((a, b) => a - b)
  return {
    lost: keys.filter((key) => config[key] !== `value of ${key}`).length,
    failed: codes.filter((code) => code !== 0).length,
    inARow: versions.length === count && versions.every((version, i) => version === before + 1 + i) && made.every((release) => release.status === 'succeeded'),
    ms,
  }
}

function rssMb(pid: number): {rss: number; peak: number} {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const field = (name: string) => Number(status.match(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm'))?.[1] ?? 0) / 1024
  return {rss: field('VmRSS'), peak: field('VmHWM')}
}

const appDir = mkdtempSync(join(tmpdir(), 'herogate-bench-runtime-'))
const port = await freePort()
const killPort = await freePort()
const killDir = appOnDisk('bench-kill', killPort, {web: 2, worker: 1})
const configDir = appOnDisk('bench-config', await freePort(), {web: 1})
const spec = (version: number): RunSpec => ({version, dir: FIXTURES, processTypes: {web: 'node app.mjs', worker: 'node worker.mjs'}, env: {RELEASE: `v${version}`}})
let exitCode = 1
try {
  say(`Supervisor daemon from ${fromDist ? 'dist/ (built)' : 'src/ (tsx)'}; app dir ${appDir}; router on 127.0.0.1:${port}`)
  const supervisor = await client.ensureSupervisor({appDir, app: 'bench', port, host: '127.0.0.1'})
  const first = await supervisor.deploy({release: spec(1), formation: {web: 2, worker: 1}})
  if (!first.ok) throw new Error(`first deploy failed: ${first.reason}`)

  // 1. Rolling deploys under constant load.
  const deploys = Number(flags.deploys)
  const concurrency = Number(flags.concurrency)
  let loading = true
  const load = {ok: 0, failed: 0, errors: new Map<string, number>()}
  const clients = Array.from({length: concurrency}, async () => {
    while (loading) {
      try {
        const response = await get(port)
        if (response.status === 200) load.ok++
        else throw new Error(`status ${response.status}`)
      } catch (error) {
        load.failed++
        const key = (error as Error).message
        load.errors.set(key, (load.errors.get(key) ?? 0) + 1)
      }
    }
  })
  const deployTimes: number[] = []
  for (let i = 0; i < deploys; i++) {
    const start = Date.now()
    const outcome = await supervisor.deploy({release: spec(i + 2), formation: {web: 2, worker: 1}})
    deployTimes.push(Date.now() - start)
    if (!outcome.ok) throw new Error(`deploy v${i + 2} failed: ${outcome.reason}`)
    say(`  deploy v${i + 2}: ${deployTimes.at(-1)} ms (requests so far: ${load.ok} ok, ${load.failed} failed)`)
  }

  loading = false
  await Promise.all(clients)
  for (const [message, count] of load.errors) say(`  failure: ${message} (x${count})`)

  // 2. Router overhead: the same sequential requests through the router and straight to web.1.
  const count = Number(flags.requests)
  const direct = (JSON.parse((await get(port)).body) as {port: number}).port
  const [routed, straight] = await latencies([port, direct], count)
  const overhead = {p50: percentile(routed, 50) - percentile(straight, 50), p99: percentile(routed, 99) - percentile(straight, 99)}

  // 3. The daemon's memory after the deploys and the load.
  const memory = rssMb(supervisor.pid)

  // 4. Others' latency while slow request bodies trickle in, beside the same without them.
  const calm = await timedGets(port, 500)
  const slow = slowBodies(port, Number(flags.slow))
  await new Promise((resolve) => setTimeout(resolve, 1000))
  const flooded = await timedGets(port, 500)
  slow.stop()
  say(`  slow clients: ${flags.slow} bodies trickling, others ${flooded.failed} failed of ${flooded.times.length}`)

  // 5. A log burst from a web process: the daemon's memory once the burst is in the log store.
  const burstMb = Number(flags['burst-mb'])
  const burstStart = Date.now()
  await get(port, `/burst?mb=${burstMb}`)
  const burstDone = await until(() => logged(appDir, 'burst done'), 120_000, 250)
  say(`  log burst: ${burstMb} MB ${burstDone ? `in the log store after ${Date.now() - burstStart} ms` : 'NOT in the log store after 120 s'}`)
  await new Promise((resolve) => setTimeout(resolve, 2000))
  const afterBurst = rssMb(supervisor.pid)

  // 6. kill -9 of the supervisor of an app under load: seconds until it serves again, no command.
  const victim = await client.ensureSupervisor({appDir: killDir, app: 'bench-kill', port: killPort, host: '127.0.0.1'})
  let killedAt = 0
  let backAt = 0
  let killLoad = true
  const killClients = Array.from({length: 8}, async () => {
    while (killLoad) {
      try {
        const response = await get(killPort)
        if (response.status === 200 && killedAt > 0 && backAt === 0 && readRecord(killDir)?.pid !== victim.pid) backAt = Date.now()
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 10))
      }
    }
  })
  await new Promise((resolve) => setTimeout(resolve, 500))
  killedAt = Date.now()
  process.kill(victim.pid, 'SIGKILL')
  await until(() => backAt > 0, 60_000)
  killLoad = false
  await Promise.all(killClients)
  const backAfter = backAt > 0 ? (backAt - killedAt) / 1000 : Number.POSITIVE_INFINITY
  say(`  kill -9 of the supervisor: ${backAt > 0 ? `serving again after ${backAfter.toFixed(2)} s` : 'NOT serving again after 60 s'}`)

  // 7. Parallel config:set through the CLI: every key kept, one release each, in a row.
  const parallel = Number(flags.parallel)
  const configSets = await parallelConfigSet('bench-config', parallel)
  say(`  ${parallel} config:set at once: ${configSets.failed} failed, ${configSets.lost} keys lost, releases ${configSets.inARow ? 'one each, in a row, all succeeded' : 'NOT one each in a row'}, all done after ${(configSets.ms / 1000).toFixed(1)} s`)

  const figures = [
    {name: `failed requests in ${deploys} rolling deploys`, value: load.failed, unit: `of ${load.ok + load.failed}`, goal: '0', ok: load.failed <= GOALS.failed},
    {name: 'rolling deploy time (median)', value: deployTimes.sort((a, b) => a - b)[Math.floor(deploys / 2)], unit: 'ms', goal: '-', ok: true},
    {name: 'direct latency p50 / p99', value: `${percentile(straight, 50).toFixed(3)} / ${percentile(straight, 99).toFixed(3)}`, unit: 'ms', goal: '-', ok: true},
    {name: 'router latency p50 / p99', value: `${percentile(routed, 50).toFixed(3)} / ${percentile(routed, 99).toFixed(3)}`, unit: 'ms', goal: '-', ok: true},
    {name: 'router overhead p50', value: overhead.p50.toFixed(3), unit: 'ms', goal: `< ${GOALS.overheadP50Ms} ms`, ok: overhead.p50 < GOALS.overheadP50Ms},
    {name: 'router overhead p99', value: overhead.p99.toFixed(3), unit: 'ms', goal: '-', ok: true},
    {name: 'supervisor daemon RSS (peak)', value: `${memory.rss.toFixed(1)} (${memory.peak.toFixed(1)})`, unit: 'MB', goal: `< ${GOALS.rssMb} MB`, ok: memory.peak < GOALS.rssMb},
    {name: 'others p99 without slow clients', value: percentile(calm.times, 99).toFixed(3), unit: 'ms', goal: '-', ok: true},
    {
      name: `others p99 while ${flags.slow} slow bodies trickle`,
      value: percentile(flooded.times, 99).toFixed(3),
      unit: 'ms',
      goal: `< ${GOALS.slowP99Ms} ms`,
      ok: flooded.failed === 0 && percentile(flooded.times, 99) < GOALS.slowP99Ms,
    },
    {
      name: `daemon RSS after a ${burstMb} MB log burst (peak)`,
      value: `${afterBurst.rss.toFixed(1)} (${afterBurst.peak.toFixed(1)})`,
      unit: 'MB',
      goal: `< ${GOALS.rssMb} MB`,
      ok: burstDone && afterBurst.rss < GOALS.rssMb,
    },
    {
      name: 'serving again after kill -9 of the supervisor',
      value: Number.isFinite(backAfter) ? backAfter.toFixed(2) : 'never',
      unit: 's',
      goal: `< ${GOALS.backAfterKillS} s`,
      ok: backAfter < GOALS.backAfterKillS,
    },
    {
      name: `keys lost by ${parallel} parallel config:set`,
      value: configSets.lost,
      unit: `of ${parallel}`,
      goal: '0',
      ok: configSets.lost === 0 && configSets.failed === 0 && configSets.inARow,
    },
  ]

  if (flags.json) {
    process.stdout.write(JSON.stringify({fromDist, figures}, null, 2) + '\n')
  } else {
    process.stdout.write('\nLocal runtime figures\n')
    const width = Math.max(...figures.map((f) => f.name.length))
    for (const f of figures) process.stdout.write(`  ${f.name.padEnd(width)}  ${`${f.value} ${f.unit}`.padStart(22)}   goal ${f.goal.padEnd(8)} ${f.goal === '-' ? '' : f.ok ? 'ok' : 'MISSED'}\n`)
  }

  exitCode = figures.every((f) => f.ok) ? 0 : 1
} finally {
  agent.destroy()
  await client.stopSupervisor(appDir)
  await client.stopSupervisor(killDir)
  await client.stopSupervisor(configDir)
  rmSync(appDir, {recursive: true, force: true})
  rmSync(home, {recursive: true, force: true})
}

process.exit(exitCode)
