import {chmodSync, closeSync, mkdirSync, openSync, readSync, rmSync, statSync, writeSync} from 'node:fs'
import {createRequire} from 'node:module'
import {fileURLToPath, pathToFileURL} from 'node:url'

import {HerogateError} from '../../lib/errors.js'
import type {ProcessInfo} from '../types.js'
import {type DeployOutcome, type DesiredState, type ReleaseEnded, type ReleaseEvent, type ReleaseRequest, ReleaseCutShort, type SupervisorClient, type SupervisorOptions} from './contracts.js'
import {groupRunning, INHERITED_ENV, pickEnv} from './processes.js'
import {
  DAEMON_EXIT, readRecord, removeSocket, ROUTER_ERROR_PREFIX, socketDirProblem, START_ERROR_PREFIX, stillRunning, supervisorPaths,
  type SupervisorRecord, trimOutput,
} from './supervisor-paths.js'

/**
 * How the workflow reaches an app's runtime. Every function takes the app directory
 * (lib/home localAppDir) and talks HTTP/JSON over the owner-only Unix socket its record names.
 *
 *   const supervisor = await ensureSupervisor({appDir, app, port, host})  // connects, or starts the daemon
 *   const outcome = await supervisor.deploy({release, formation})  // {ok:false, reason} leaves the old release serving
 *   const ended = await supervisor.release({lock, release, releasePhase, branch}, onEvent)  // it owns the release from here
 *   await supervisor.scale({web: 2}) / restart('web') / stop('web.1') / status()
 *   await stopSupervisor(appDir)   // destroy: stops every process and the router; never starts a daemon
 *   await supervisorRunning(appDir)
 *
 * The daemon runs under a watchdog, a small shell loop that starts it again when it dies
 * (kill -9, out of memory, a crash), and on every start the daemon brings back the app's
 * current release by itself: the app comes back without any command. There is never more
 * than one per app: a live supervisor that is slow to answer is waited for, never replaced.
 *
 * Errors are HerogateErrors: the router port taken by another program, the daemon failing to
 * start (with its reason), a supervisor that stays silent, an unknown process id (stop), a
 * restart whose new processes failed (the old ones keep serving).
 * How long a new web process has to answer, and on which path, comes with each deploy (the
 * app's boot-timeout and health-check-path settings), whatever daemon runs.
 */

export interface SupervisorTimings {
  bootTimeoutMs?: number
  probeIntervalMs?: number
  graceMs?: number
  stopGraceMs?: number
}

export interface SupervisorHandle extends SupervisorClient {
  /** The daemon's pid. */
  readonly pid: number
  /** True when this call started the daemon and it runs nothing (no release to bring back). */
  readonly started: boolean
}

export interface EnsureOptions extends SupervisorOptions {
  tuning?: SupervisorTimings
  /** How long a live supervisor may stay silent before a command gives up on it (default 10 s). */
  silentWaitMs?: number
}

const START_TIMEOUT_MS = 20_000
const SILENT_WAIT_MS = 10_000
const PING_TIMEOUT_MS = 3000
const WATCHDOG_WAIT_MS = 3000

/** Connects to the app's supervisor, starting the daemon (and its watchdog) when none runs. */
export async function ensureSupervisor(options: EnsureOptions): Promise<SupervisorHandle> {
  mkdirSync(options.appDir, {recursive: true, mode: 0o700})
  try {
    // Private, except that a local Postgres run as the postgres user (herogate as root) may pass through to its data (addons.ts).
    chmodSync(options.appDir, 0o700 | (statSync(options.appDir).mode & 0o001))
  } catch {}

  const paths = supervisorPaths(options.appDir)
  const deadline = Date.now() + START_TIMEOUT_MS
  let silentSince: number | undefined
  const since = Date.now()
  for (;;) {
    const found = await findSupervisor(options.appDir)
    if (found.state === 'answering') return settled(found, options, false)
    if (found.state === 'silent') {
      silentSince ??= Date.now()
      const wait = options.silentWaitMs ?? SILENT_WAIT_MS
      if (Date.now() - silentSince >= wait) throw notAnswering(options.app, found.record.pid, wait)
    } else {
      silentSince = undefined
    }

    // A watchdog restarts at once; one that still has not after a few seconds is backing off
    // from a supervisor that keeps failing: this command starts one itself, to say why it fails
    // (its claim keeps the watchdog's next try from making a second one).
    const startable = (state: Found['state']) => state === 'none' || (state === 'restarting' && Date.now() - since > WATCHDOG_WAIT_MS)
    if (startable(found.state)) {
      const unlock = takeLock(paths.startLock)
      if (unlock) {
        try {
          // Someone else may have started it while this call looked.
          if (startable((await findSupervisor(options.appDir)).state)) {
            const started = await startDaemon(options)
            if (started) return started
          }
        } finally {
          unlock()
        }
      }
    }

    // Starting up, started again by its watchdog, busy, or started by another command: wait for it.
    if (found.state !== 'silent' && Date.now() > deadline) {
      throw new HerogateError(`The supervisor of ${options.app} did not start in time.`, {suggestions: [`look at ${paths.output}`, `herogate ps -a ${options.app}`]})
    }

    await pause(50)
  }
}

/** True while the app's supervisor runs (answering or not), or its watchdog is starting it again. */
export async function supervisorRunning(appDir: string): Promise<boolean> {
  return (await findSupervisor(appDir)).state !== 'none'
}

/**
 * Stops the app's supervisor, its watchdog and every process it runs, frees the router port,
 * removes its files. A daemon that does not answer is stopped by signal; processes a killed
 * daemon left behind are stopped too. True when a supervisor was running.
 */
export async function stopSupervisor(appDir: string): Promise<boolean> {
  const paths = supervisorPaths(appDir)
  // A socket in a directory gone unsafe is not talked to, but its daemon is still stopped.
  const found = await findSupervisor(appDir).catch((): Found => ({state: 'silent', record: readRecord(appDir)!}))
  const record = found.state === 'none' ? undefined : found.record
  if (found.state === 'answering') {
    try {
      // The daemon stops its processes and exits 0, which ends its watchdog too.
      await call(found.record.socket!, 'POST', '/shutdown', {})
    } catch {}
  }

  // The watchdog first: it must not start the daemon again while this stops it.
  const watchdog = record?.watchdog && stillRunning(record.watchdog) ? record.watchdog.pid : undefined
  if (watchdog) signal(watchdog, 'SIGKILL')
  if (record && stillRunning(record)) {
    // A stopped (SIGSTOP) daemon acts on SIGTERM only once it runs again.
    if (found.state !== 'answering') {
      signal(record.pid, 'SIGCONT')
      signal(record.pid, 'SIGTERM')
    }

    for (let i = 0; i < 300 && stillRunning(record); i++) await pause(50)
    if (stillRunning(record)) signal(record.pid, 'SIGKILL')
  }

  // A daemon the watchdog had just started shares its process group.
  if (watchdog && groupRunning(watchdog)) signal(-watchdog, 'SIGKILL')
  const {reapOrphans} = await import('./supervisor.js')
  await reapOrphans(paths.children)
  removeSocket(appDir, record?.socket)
  for (const path of [paths.record, paths.children, paths.startLock, paths.status]) rmSync(path, {force: true})
  return found.state !== 'none'
}

interface Ping {
  pid: number
  app: string
  release: number | null
  /** The daemon is still bringing back the release that ran before it started. */
  restoring?: boolean
}

type Found =
  | {state: 'answering'; record: SupervisorRecord; ping: Ping}
  /** Alive but no answer (stalled, stopped, overloaded): to be waited for, never replaced. */
  | {state: 'silent'; record: SupervisorRecord}
  /** Alive, not listening yet. */
  | {state: 'starting'; record: SupervisorRecord}
  /** Dead, and its watchdog is starting it again. */
  | {state: 'restarting'; record: SupervisorRecord}
  | {state: 'none'}

async function findSupervisor(appDir: string): Promise<Found> {
  const record = readRecord(appDir)
  if (!record) return {state: 'none'}
  if (stillRunning(record)) {
    if (!record.socket) return {state: 'starting', record}
    const problem = socketDirProblem(record.socket)
    if (problem) {
      throw new HerogateError(`The supervisor socket of ${appDir} is not safe to use: ${problem}.`, {
        suggestions: [`stop it with: kill ${record.pid}`, 'then run the command again'],
      })
    }

    try {
      const ping = (await call(record.socket, 'GET', '/ping', undefined, PING_TIMEOUT_MS)) as Ping
      return {state: 'answering', record, ping}
    } catch {
      return {state: 'silent', record}
    }
  }

  if (stillRunning(record.watchdog)) return {state: 'restarting', record}
  return {state: 'none'}
}

/**
 * The handle of an answering daemon once it has brought back the release that ran before it
 * started: until then, what a command would see (or say) is not yet true.
 */
async function settled(found: Extract<Found, {state: 'answering'}>, options: EnsureOptions, started: boolean): Promise<SupervisorHandle> {
  let {ping} = found
  const socket = found.record.socket!
  // The default boot-timeout and some: a release slower to come back is reported as it is then.
  const deadline = Date.now() + (options.tuning?.bootTimeoutMs ?? 60_000) + 15_000
  while (ping.restoring && Date.now() < deadline) {
    await pause(50)
    try {
      ping = (await call(socket, 'GET', '/ping', undefined, PING_TIMEOUT_MS)) as Ping
    } catch {
      break
    }
  }

  return new Client(socket, options, ping.pid, started && ping.release === null)
}

function notAnswering(app: string, pid: number, waitedMs: number): HerogateError {
  return new HerogateError(`The supervisor of ${app} (pid ${pid}) is running but has not answered for ${waitedMs / 1000} s; it was left alone, and the app with it.`, {
    suggestions: [`if it was stopped (Ctrl-Z, SIGSTOP): kill -CONT ${pid}`, 'run the command again once it answers'],
  })
}

/** The supervisor went away mid-request (killed, crashed): nothing answered. */
class SupervisorGone extends HerogateError {}

class SupervisorRequestError extends HerogateError {}

class Client implements SupervisorHandle {
  constructor(private readonly socket: string, private readonly options: EnsureOptions, readonly pid: number, readonly started: boolean) {}

  async deploy(state: DesiredState): Promise<DeployOutcome> {
    try {
      return (await this.send('POST', '/deploy', state)) as DeployOutcome
    } catch (error) {
      if (!(error instanceof SupervisorGone)) throw error
      // Its watchdog starts it again with the release that was running: wait for that, so
      // that whoever reports this failure ("v8 keeps serving") reports what really runs.
      await ensureSupervisor(this.options)
      return {ok: false, reason: `the supervisor stopped during the deploy (${(error.cause as NodeJS.ErrnoException)?.code ?? 'no answer'}) and was started again with the release that was running`}
    }
  }

  async release(request: ReleaseRequest, onEvent?: (event: ReleaseEvent) => void): Promise<ReleaseEnded> {
    let ended: ReleaseEnded | undefined
    let started: number | undefined
    try {
      await call(this.socket, 'POST', '/release', request, undefined, (line) => {
        const event = JSON.parse(line) as ReleaseEvent
        if (event.kind === 'started') started = event.release.version
        if (event.kind === 'ended') ended = event
        onEvent?.(event)
      })
    } catch (error) {
      if (error instanceof HerogateError) throw error
    }

    if (ended) return ended
    // The supervisor stopped mid-release. Its watchdog starts it again, which settles the
    // release and brings back the one that was running: wait for that, so that whoever
    // reports how the release ended ("v8 keeps serving") reports what really runs.
    await ensureSupervisor(this.options)
    throw new ReleaseCutShort(this.options.app, started)
  }

  async scale(formation: Record<string, number>): Promise<void> {
    await this.send('POST', '/scale', {formation})
  }

  async restart(processType?: string): Promise<void> {
    await this.send('POST', '/restart', {type: processType})
  }

  async stop(id: string): Promise<void> {
    await this.send('POST', '/stop', {id})
  }

  async status(): Promise<ProcessInfo[]> {
    return (await this.send('GET', '/status')) as ProcessInfo[]
  }

  async shutdown(): Promise<void> {
    await this.send('POST', '/shutdown', {})
  }

  async syncAddons(): Promise<Array<{name: string; ready: boolean; reason?: string}>> {
    return (await this.send('POST', '/addons', {})) as Array<{name: string; ready: boolean; reason?: string}>
  }

  async reloadMaintenance(): Promise<void> {
    await this.send('POST', '/maintenance', {})
  }

  private async send(method: string, path: string, body?: unknown): Promise<unknown> {
    try {
      return await call(this.socket, method, path, body)
    } catch (error) {
      if (error instanceof HerogateError) throw error
      const app = this.options.app
      throw new SupervisorGone(`The supervisor of ${app} stopped answering (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}).`, {
        cause: error,
        suggestions: ['its watchdog starts it again with the current release: run the command again in a few seconds', `herogate ps -a ${app}`],
      })
    }
  }
}

/** One request to the supervisor. With `onLine`, a 200 answer is a stream of JSON lines, each passed on as it comes. */
async function call(socket: string, method: string, path: string, body?: unknown, timeoutMs?: number, onLine?: (line: string) => void): Promise<unknown> {
  const payload = body === undefined ? undefined : JSON.stringify(body)
  const {request} = await import('node:http')
  return new Promise((resolve, reject) => {
    const req = request(
      {socketPath: socket, method, path, agent: false, headers: payload ? {'content-type': 'application/json', 'content-length': Buffer.byteLength(payload)} : {}},
      (res) => {
        let text = ''
        res.setEncoding('utf8')
        if (onLine && res.statusCode === 200) {
          res.on('data', (chunk: string) => {
            text += chunk
            const lines = text.split('\n')
            text = lines.pop() ?? ''
            for (const line of lines) if (line) onLine(line)
          })
          // 'close' also comes when the supervisor dies mid-answer: the caller tells from what it got.
          res.on('close', () => resolve(undefined))
          res.on('error', () => {})
          return
        }

        res.on('data', (chunk: string) => (text += chunk))
        res.on('error', reject)
        res.on('end', () => {
          let parsed: unknown
          try {
            parsed = text ? JSON.parse(text) : undefined
          } catch {
            reject(new Error(`unreadable answer from the supervisor (${res.statusCode})`))
            return
          }

          if (res.statusCode === 200) {
            resolve(parsed)
            return
          }

          const message = (parsed as {error?: string} | undefined)?.error ?? `supervisor answered ${res.statusCode}`
          reject(new SupervisorRequestError(message, {suggestions: res.statusCode === 404 ? ['herogate ps'] : []}))
        })
      },
    )
    if (timeoutMs) req.setTimeout(timeoutMs, () => req.destroy(new Error('timeout')))
    req.on('error', reject)
    req.end(payload)
  })
}

/**
 * The watchdog: `sh -c WATCHDOG herogate-watchdog NODE ARGS...` runs the daemon and starts it
 * again whenever it dies, at once after a good run, then waiting 1, 2, 4 ... 30 s while it
 * keeps dying. It ends when the daemon stopped on purpose (0), when another supervisor of the
 * app runs (5), and when a first start fails (3, 4: the starting command reports why). Under
 * two megabytes of memory, and no node of its own.
 */
const WATCHDOG = `trap '' HUP
HEROGATE_WATCHDOG=$$
export HEROGATE_WATCHDOG
runs=0
delay=0
while :; do
  runs=$((runs + 1))
  HEROGATE_RUN=$runs
  export HEROGATE_RUN
  started=$(date +%s)
  "$@"
  code=$?
  case $code in
    ${DAEMON_EXIT.stopped}|${DAEMON_EXIT.twin}) exit $code ;;
    ${DAEMON_EXIT.router}|${DAEMON_EXIT.startup}) [ "$runs" -eq 1 ] && exit $code ;;
  esac
  if [ $(($(date +%s) - started)) -ge 60 ]; then delay=0; fi
  echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) watchdog: the supervisor exited with status $code; starting it again in $delay s" >&2
  sleep $delay
  delay=$((delay == 0 ? 1 : (delay >= 16 ? 30 : delay * 2)))
done`

/** Starts the watchdog and its daemon; undefined when it found another supervisor already running. */
async function startDaemon(options: EnsureOptions): Promise<SupervisorHandle | undefined> {
  // Loaded here, not with this module: reads that only ask the supervisor start nothing.
  const {spawn} = await import('node:child_process')
  const paths = supervisorPaths(options.appDir)
  const fromSource = import.meta.url.endsWith('.ts')
  const main = fileURLToPath(new URL(fromSource ? './supervisor-main.ts' : './supervisor-main.js', import.meta.url))
  // Run from source (tests, bin/dev.js), the daemon needs the same TypeScript loader. A 1 MB
  // young generation (node's default grows to 16 MB each way) and V8's memory-first heuristics
  // keep a burst of app output from growing the daemon: about 60 MB after a 50 MB burst, where
  // it grew past 100 (bench/local-runtime.ts). The router's latency stays the same.
  const heap = ['--max-semi-space-size=1', '--optimize-for-size']
  const args = [...heap, ...(fromSource ? ['--import', pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href, main] : [main])]
  const tuning: SupervisorTimings = {...options.tuning}
  const env = pickEnv(process.env, [...INHERITED_ENV, 'HEROGATE_HOME'])
  env.HEROGATE_SUPERVISOR = JSON.stringify({appDir: options.appDir, app: options.app, port: options.port, host: options.host || '127.0.0.1', tuning})

  // Appended to, not truncated: the reason the last daemon died stays readable.
  trimOutput(paths.output)
  const from = sizeOf(paths.output)
  const output = openSync(paths.output, 'a', 0o600)
  let exited: number | null | undefined
  let watchdog: number | undefined
  try {
    const child = spawn('/bin/sh', ['-c', WATCHDOG, 'herogate-watchdog', process.execPath, ...args], {detached: true, stdio: ['ignore', output, output], cwd: options.appDir, env})
    watchdog = child.pid
    child.on('exit', (code) => {
      exited = code
    })
    child.on('error', () => {
      exited = -1
    })
    child.unref()
  } finally {
    closeSync(output)
  }

  const deadline = Date.now() + START_TIMEOUT_MS
  while (Date.now() < deadline) {
    await pause(25)
    const found = await findSupervisor(options.appDir)
    if (found.state === 'answering') return settled(found, options, true)
    if (exited !== undefined) break
  }

  if (exited === DAEMON_EXIT.twin) return undefined
  const said = readFrom(paths.output, from)
  const reason = (prefix: string) => said.split('\n').find((line) => line.startsWith(prefix))?.slice(prefix.length)
  const routerError = reason(ROUTER_ERROR_PREFIX)
  if (routerError) {
    throw new HerogateError(`Could not start the router of ${options.app}: ${routerError}.`, {
      suggestions: ['stop the program that uses the port and run the command again', 'HEROGATE_BIND=0.0.0.0 only if you mean to listen beyond this machine'],
    })
  }

  const startError = reason(START_ERROR_PREFIX)
  if (startError) throw new HerogateError(`The supervisor of ${options.app} could not start: ${startError}.`, {suggestions: [`look at ${paths.output}`]})
  if (exited === undefined && watchdog) {
    throw new HerogateError(`The supervisor of ${options.app} did not answer within ${START_TIMEOUT_MS / 1000} s; it may still come up.`, {
      suggestions: [`look at ${paths.output}`, `herogate ps -a ${options.app}`],
    })
  }

  throw new HerogateError(`The supervisor of ${options.app} exited at start-up (status ${exited}).`, {suggestions: [`look at ${paths.output}`]})
}

/** An exclusive lock file; a lock older than the start timeout is stale (its holder died). */
function takeLock(path: string): (() => void) | undefined {
  try {
    const fd = openSync(path, 'wx', 0o600)
    writeSync(fd, String(process.pid))
    closeSync(fd)
    return () => rmSync(path, {force: true})
  } catch {
    try {
      if (Date.now() - statSync(path).mtimeMs > START_TIMEOUT_MS) rmSync(path, {force: true})
    } catch {}

    return undefined
  }
}

function sizeOf(path: string): number {
  try {
    return statSync(path).size
  } catch {
    return 0
  }
}

function readFrom(path: string, position: number): string {
  try {
    const fd = openSync(path, 'r')
    try {
      const buffer = Buffer.alloc(Math.max(0, Math.min(64 * 1024, statSync(path).size - position)))
      const read = readSync(fd, buffer, 0, buffer.length, position)
      return buffer.subarray(0, read).toString('utf8')
    } finally {
      closeSync(fd)
    }
  } catch {
    return ''
  }
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name)
  } catch {}
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
