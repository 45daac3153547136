import {spawn} from 'node:child_process'
import {chmodSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeSync} from 'node:fs'
import {request} from 'node:http'
import {createRequire} from 'node:module'
import {fileURLToPath, pathToFileURL} from 'node:url'

import {HerogateError} from '../../lib/errors.js'
import type {ProcessInfo} from '../types.js'
import type {DeployOutcome, DesiredState, ReleaseEnded, ReleaseEvent, ReleaseRequest, SupervisorClient, SupervisorOptions} from './contracts.js'
import {processRunning} from './processes.js'
import {socketDirSafe, supervisorPaths} from './supervisor-paths.js'

/**
 * How the workflow reaches an app's runtime. Every function takes the app directory
 * (lib/home localAppDir) and talks HTTP/JSON over the owner-only Unix socket in it.
 *
 *   const supervisor = await ensureSupervisor({appDir, app, port, host})  // connects, or starts the daemon
 *   if ((await supervisor.status()).length === 0) await supervisor.deploy(state)  // a fresh daemon runs nothing
 *   const outcome = await supervisor.deploy({release, formation})  // {ok:false, reason} leaves the old release serving
 *   const ended = await supervisor.release({lock, release, releasePhase, branch}, onEvent)  // it owns the release from here
 *   await supervisor.scale({web: 2}) / restart('web') / stop('web.1') / status()
 *   await stopSupervisor(appDir)   // destroy: stops every process and the router; never starts a daemon
 *   await supervisorRunning(appDir)
 *
 * Errors are HerogateErrors: the router port taken by another program, the daemon failing to
 * start, an unknown process id (stop), a restart whose new processes failed (the old ones keep serving).
 * Set HEROGATE_BOOT_TIMEOUT (seconds, default 60) to change how long a new web process has
 * to answer HTTP before its release is abandoned; it applies when the daemon starts.
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
  /** True when this call started the daemon (it runs nothing yet). */
  readonly started: boolean
}

const START_TIMEOUT_MS = 20_000

/** Connects to the app's supervisor, starting the daemon when none answers. */
export async function ensureSupervisor(options: SupervisorOptions & {tuning?: SupervisorTimings}): Promise<SupervisorHandle> {
  const running = await connectSupervisor(options.appDir)
  if (running) return running
  mkdirSync(options.appDir, {recursive: true, mode: 0o700})
  try {
    chmodSync(options.appDir, 0o700)
  } catch {}

  const paths = supervisorPaths(options.appDir)
  const deadline = Date.now() + START_TIMEOUT_MS
  for (;;) {
    const unlock = takeLock(paths.startLock)
    if (unlock) {
      try {
        const raced = await connectSupervisor(options.appDir)
        if (raced) return raced
        return await startDaemon(options)
      } finally {
        unlock()
      }
    }

    // Another command is starting it: wait for it to answer.
    await pause(50)
    const started = await connectSupervisor(options.appDir)
    if (started) return started
    if (Date.now() > deadline) throw new HerogateError(`The supervisor of ${options.app} did not start in time.`, {suggestions: [`look at ${paths.output}`, `herogate ps -a ${options.app}`]})
  }
}

/** The running supervisor of the app, or undefined when none answers (never starts one). */
export async function connectSupervisor(appDir: string): Promise<SupervisorHandle | undefined> {
  const socket = supervisorPaths(appDir).socket
  if (!existsSync(socket) || !socketDirSafe(socket)) return undefined
  try {
    const ping = (await call(socket, 'GET', '/ping', undefined, 3000)) as {pid: number; app: string}
    return new Client(socket, ping.app, ping.pid, false)
  } catch {
    return undefined
  }
}

export async function supervisorRunning(appDir: string): Promise<boolean> {
  return (await connectSupervisor(appDir)) !== undefined
}

/**
 * Stops the app's supervisor and every process it runs, frees the router port, removes its
 * files. A daemon that does not answer is killed; processes a killed daemon left behind are
 * stopped too. True when a supervisor was running.
 */
export async function stopSupervisor(appDir: string): Promise<boolean> {
  const paths = supervisorPaths(appDir)
  const client = await connectSupervisor(appDir)
  const pid = client?.pid ?? readPid(paths.pid)
  if (client) {
    try {
      await client.shutdown()
    } catch {}
  }

  let wasRunning = client !== undefined
  if (pid && isDaemon(pid)) {
    wasRunning = true
    if (!client) signal(pid, 'SIGTERM')
    for (let i = 0; i < 300 && isAlive(pid); i++) await pause(50)
    if (isAlive(pid)) signal(pid, 'SIGKILL')
  }

  if (existsSync(paths.children)) {
    const {reapOrphans} = await import('./supervisor.js')
    await reapOrphans(paths.children)
  }

  for (const path of [paths.socket, paths.pid, paths.children, paths.startLock]) rmSync(path, {force: true})
  return wasRunning
}

class Client implements SupervisorHandle {
  constructor(private readonly socket: string, private readonly app: string, readonly pid: number, readonly started: boolean) {}

  async deploy(state: DesiredState): Promise<DeployOutcome> {
    return (await this.send('POST', '/deploy', state)) as DeployOutcome
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
    // The supervisor stopped mid-release: whoever takes the app lock next records how it ended.
    throw new HerogateError(`The supervisor of ${this.app} stopped during ${started ? `v${started}` : 'the release'}; the previous release is brought back by the next command.`, {
      suggestions: [`herogate releases -a ${this.app}`, `herogate ps -a ${this.app}`],
    })
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

  private async send(method: string, path: string, body?: unknown): Promise<unknown> {
    try {
      return await call(this.socket, method, path, body)
    } catch (error) {
      if (error instanceof HerogateError) throw error
      throw new HerogateError(`The supervisor of ${this.app} stopped answering (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}).`, {
        cause: error,
        suggestions: [`herogate ps -a ${this.app} (starts it again)`],
      })
    }
  }
}

class SupervisorRequestError extends HerogateError {}

/** One request to the supervisor. With `onLine`, a 200 answer is a stream of JSON lines, each passed on as it comes. */
async function call(socket: string, method: string, path: string, body?: unknown, timeoutMs?: number, onLine?: (line: string) => void): Promise<unknown> {
  const payload = body === undefined ? undefined : JSON.stringify(body)
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

async function startDaemon(options: SupervisorOptions & {tuning?: SupervisorTimings}): Promise<SupervisorHandle> {
  const paths = supervisorPaths(options.appDir)
  const fromSource = import.meta.url.endsWith('.ts')
  const main = fileURLToPath(new URL(fromSource ? './supervisor-main.ts' : './supervisor-main.js', import.meta.url))
  // Run from source (tests, bin/dev.js), the daemon needs the same TypeScript loader.
  const args = fromSource ? ['--import', pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href, main] : [main]
  const tuning: SupervisorTimings = {...options.tuning}
  const boot = Number(process.env.HEROGATE_BOOT_TIMEOUT)
  if (tuning.bootTimeoutMs === undefined && boot > 0) tuning.bootTimeoutMs = boot * 1000
  const env: Record<string, string> = {}
  for (const key of ['PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'LANG', 'LC_ALL', 'LC_CTYPE', 'TMPDIR', 'TZ', 'HEROGATE_HOME'])
    if (process.env[key] !== undefined) env[key] = process.env[key] as string
  env.HEROGATE_SUPERVISOR = JSON.stringify({appDir: options.appDir, app: options.app, port: options.port, host: options.host || '127.0.0.1', tuning})

  const output = openSync(paths.output, 'w', 0o600)
  let exited: number | null | undefined
  try {
    const child = spawn(process.execPath, args, {detached: true, stdio: ['ignore', output, output], cwd: options.appDir, env})
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
    const client = await connectSupervisor(options.appDir)
    if (client) return new Client(paths.socket, options.app, client.pid, true)
    if (exited !== undefined) break
  }

  const said = readTail(paths.output)
  const routerError = said.split('\n').find((line) => line.startsWith('herogate-router-error: '))
  if (routerError) {
    throw new HerogateError(`Could not start the router of ${options.app}: ${routerError.slice('herogate-router-error: '.length)}.`, {
      suggestions: ['stop the program that uses the port and run the command again', 'HEROGATE_BIND=0.0.0.0 only if you mean to listen beyond this machine'],
    })
  }

  throw new HerogateError(`The supervisor of ${options.app} ${exited === undefined ? 'did not answer in time' : `exited at start-up (code ${exited})`}.`, {
    suggestions: [`look at ${paths.output}`],
  })
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

function readPid(path: string): number | undefined {
  try {
    const pid = Number(readFileSync(path, 'utf8').trim())
    return pid > 1 ? pid : undefined
  } catch {
    return undefined
  }
}

/** Guards against a stale pid file naming a pid the OS has since given to something else. */
function isDaemon(pid: number): boolean {
  if (!isAlive(pid)) return false
  // No /proc (macOS): trust the pid file, which the daemon removes when it exits.
  if (!existsSync('/proc/self/cmdline')) return true
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
    return cmdline.includes('supervisor-main') || cmdline.includes('herogate-supervisor')
  } catch {
    return false
  }
}

function isAlive(pid: number): boolean {
  return processRunning(pid)
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name)
  } catch {}
}

function readTail(path: string): string {
  try {
    return readFileSync(path, 'utf8').slice(-4000)
  } catch {
    return ''
  }
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
