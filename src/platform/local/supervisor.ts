import {chmodSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {createServer, type IncomingMessage, type ServerResponse} from 'node:http'

import type {ProcessInfo} from '../types.js'
import type {DeployOutcome, DesiredState, LogWriter, ReleaseRequest, RunSpec, SupervisorOptions} from './contracts.js'
import {openLogStore} from './logstore.js'
import {PortAllocator} from './ports.js'
import {type Clock, groupRunning, ManagedProcess, ProcessManager, type ProcessManagerOptions, type ProcessSpec, processStartTime, systemClock} from './processes.js'
import {LockNotHeld, takeRelease} from './release-owner.js'
import {probeHttp, Router} from './router.js'
import {socketDirSafe, supervisorPaths} from './supervisor-paths.js'

/**
 * The supervisor of one app: keeps the desired formation of the current release running,
 * and replaces releases with health-checked rolling deploys. It owns the process manager
 * and drives the router's backend set. Its state lives in memory only (the release's
 * environment carries config values); runDaemon below wraps it in the detached daemon.
 */

/** The part of the router the supervisor drives (Router fits; tests pass a recorder). */
export interface RouterControl {
  add(key: string, name: string, port: number): void
  drain(key: string): Promise<void>
  drop(key: string): void
}

export interface SupervisorTuning {
  /** How long a new web process has to answer its first HTTP request (Heroku: 60 s). */
  bootTimeoutMs: number
  /** Pause between health probes of a booting web process. */
  probeIntervalMs: number
  /** A non-web process still running after this long counts as up. */
  graceMs: number
  /** SIGKILL this long after SIGTERM. */
  stopGraceMs: number
}

export const defaultTuning: SupervisorTuning = {bootTimeoutMs: 60_000, probeIntervalMs: 100, graceMs: 1000, stopGraceMs: 10_000}

export interface SupervisorDeps {
  log: LogWriter
  router: RouterControl
  /** A free port for a new web process. */
  nextPort(): Promise<number>
  /** One health probe of a web process: true when it answered any HTTP response. */
  probe(port: number): Promise<boolean>
  clock?: Clock
  sleep?(ms: number): Promise<void>
  tuning?: Partial<SupervisorTuning>
  /** Process manager knobs (spawn, kill, backoff); the supervisor supplies log, clock and hooks. */
  processes?: Omit<ProcessManagerOptions, 'log' | 'clock' | 'onCrash' | 'onRestart'>
  /** Called whenever the set of running processes changed (the daemon records pids for orphan cleanup). */
  onChange?(): void
}

/** Thrown for requests naming something that does not exist (the daemon answers 404). */
export class NotFoundError extends Error {}

type Check = {ok: true} | {ok: false; reason: string}

export class Supervisor {
  readonly manager: ProcessManager
  private release: RunSpec | undefined
  private formation: Record<string, number> = {}
  private queue: Promise<unknown> = Promise.resolve()
  private closing = false
  private readonly tuning: SupervisorTuning
  private readonly clock: Clock
  private readonly sleep: (ms: number) => Promise<void>
  private readonly routed = new Map<ManagedProcess, string>()

  constructor(private readonly deps: SupervisorDeps) {
    this.tuning = {...defaultTuning, ...deps.tuning}
    this.clock = deps.clock ?? systemClock
    this.sleep = deps.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)))
    this.manager = new ProcessManager({
      stopGraceMs: this.tuning.stopGraceMs,
      ...deps.processes,
      log: deps.log,
      clock: this.clock,
      onCrash: (process) => {
        this.unroute(process)
        deps.onChange?.()
      },
      onRestart: (process) => {
        deps.onChange?.()
        void this.admit(process)
      },
    })
  }

  get currentRelease(): number | undefined {
    return this.release?.version
  }

  /** Health-checked rolling deploy of `state`; on failure the running release is left untouched. */
  deploy(state: DesiredState): Promise<DeployOutcome> {
    return this.serial(async () => {
      if (this.release && sameRelease(this.release, state.release)) {
        await this.applyFormation(state.formation)
        return {ok: true}
      }

      const outcome = await this.replace(state.release, state.formation, () => true)
      if (outcome.ok) {
        this.release = state.release
        this.formation = {...state.formation}
      }

      return outcome
    })
  }

  scale(formation: Record<string, number>): Promise<void> {
    return this.serial(async () => {
      await this.applyFormation(formation)
    })
  }

  /** Rolling restart of every process, or of one type; the old ones serve until the new ones are up. */
  restart(processType?: string): Promise<void> {
    return this.serial(async () => {
      const release = this.release
      if (!release) return
      if (processType && !this.manager.list().some((process) => process.type === processType))
        throw new NotFoundError(`No ${processType} processes are running.`)
      const outcome = await this.replace(release, this.formation, (type) => !processType || type === processType)
      if (!outcome.ok) throw new Error(`Restart abandoned, the running processes keep serving: ${outcome.reason}`)
    })
  }

  /** Stops a process (by name web.1, pid, or type) and starts it again, as Heroku's ps:stop does for formation processes. */
  stop(id: string): Promise<void> {
    return this.serial(async () => {
      const targets = this.manager.find(id)
      if (targets.length === 0) throw new NotFoundError(`No process ${id}.`)
      // One at a time, each back before the next goes: stopping every web process stops none of the traffic for long.
      for (const process of targets) {
        await this.retire(process)
        if (!this.release || this.closing) return
        const count = this.formation[process.type] ?? 0
        if (process.spec.index > count || process.spec.release !== this.release.version) continue
        const fresh = await this.spawn(this.release, process.type, process.spec.index, false)
        if (fresh) await this.admit(fresh)
      }
    })
  }

  /** What the router answers while no web process takes traffic, in Heroku's words. */
  whyNoWeb(): {code: string; desc: string} {
    const web = this.manager.list().filter((process) => process.type === 'web')
    if (web.some((process) => process.status === 'crashed')) return {code: 'H10', desc: 'App crashed'}
    if (web.some((process) => process.status === 'starting')) return {code: 'H20', desc: 'App boot timeout'}
    return {code: 'H14', desc: 'No web processes running'}
  }

  status(): ProcessInfo[] {
    return this.manager
      .list()
      .sort((a, b) => a.type.localeCompare(b.type) || a.spec.index - b.spec.index || a.spec.release - b.spec.release)
      .map((process) => ({
        name: process.name,
        type: process.type,
        id: process.id,
        status: process.status,
        health: process.health,
        release: process.spec.release,
        size: 'standard-1x',
        startedAt: process.startedAt.toISOString(),
        command: process.spec.command,
      }))
  }

  /** Stops every process (in parallel) and takes no more work. */
  async shutdown(): Promise<void> {
    this.closing = true
    await Promise.all(
      this.manager.list().map(async (process) => {
        this.unroute(process)
        await this.manager.stop(process)
      }),
    )
    this.deps.onChange?.()
  }

  private serial<T>(operation: () => Promise<T>): Promise<T> {
    const run = this.queue.then(() => {
      if (this.closing) throw new Error('The supervisor is shutting down.')
      return operation()
    })
    this.queue = run.catch(() => {})
    return run
  }

  /**
   * Starts the new processes of the selected types beside the old ones, waits until every
   * new web process answers and every other one survives its grace period, then moves
   * traffic over, drains and stops the old ones. If any new process crashes or never
   * answers, the new ones are killed and the old ones serve on.
   */
  private async replace(release: RunSpec, formation: Record<string, number>, selected: (type: string) => boolean): Promise<DeployOutcome> {
    const fresh: ManagedProcess[] = []
    let failure: string | undefined
    for (const type of Object.keys(formation))
      if (selected(type) && formation[type] > 0 && release.processTypes[type] === undefined) this.note(`v${release.version}: no ${type} in the Procfile, not started`)
    for (const [type, count] of Object.entries(formation)) {
      if (!selected(type)) continue
      for (let index = 1; index <= count; index++) {
        const process = await this.spawn(release, type, index, true)
        if (process) fresh.push(process)
      }
    }

    {
      const abort = {reason: undefined as string | undefined}
      const results = await Promise.all(fresh.map((process) => this.check(process, abort)))
      failure = results.find((result): result is {ok: false; reason: string} => !result.ok)?.reason
    }

    if (failure) {
      this.note(`v${release.version} abandoned: ${failure}`)
      await Promise.all(fresh.map((process) => this.manager.stop(process, Math.min(this.tuning.stopGraceMs, 2000))))
      this.deps.onChange?.()
      return {ok: false, reason: failure}
    }

    const old = this.manager.list().filter((process) => !fresh.includes(process) && selected(process.type))
    for (const process of fresh) {
      process.probation = false
      this.manager.markUp(process, process.type === 'web' ? 'healthy' : 'unknown')
      if (process.type === 'web') this.route(process)
    }

    await Promise.all(old.map((process) => this.retire(process)))
    this.deps.onChange?.()
    return {ok: true}
  }

  /** Stops taking traffic, lets in-flight requests finish, then stops the process. */
  private async retire(process: ManagedProcess): Promise<void> {
    const key = this.routed.get(process)
    if (key) {
      this.routed.delete(process)
      this.manager.markStopping(process)
      await this.deps.router.drain(key)
    }

    await this.manager.stop(process)
    this.deps.onChange?.()
  }

  private async applyFormation(formation: Record<string, number>): Promise<void> {
    const release = this.release
    this.formation = {...this.formation, ...formation}
    if (!release) return
    const starting: ManagedProcess[] = []
    const stopping: Array<Promise<void>> = []
    for (const [type, count] of Object.entries(this.formation)) {
      const running = this.manager.list().filter((process) => process.type === type)
      for (const process of running) if (process.spec.index > count) stopping.push(this.retire(process))
      for (let index = 1; index <= count; index++) {
        if (running.some((process) => process.spec.index === index)) continue
        const process = await this.spawn(release, type, index, false)
        if (process) starting.push(process)
      }
    }

    await Promise.all([...stopping, ...starting.map((process) => this.admit(process))])
    this.deps.onChange?.()
  }

  private async spawn(release: RunSpec, type: string, index: number, probation: boolean): Promise<ManagedProcess | undefined> {
    const command = release.processTypes[type]
    if (command === undefined) return undefined
    const spec: ProcessSpec = {type, index, command, dir: release.dir, env: release.env, release: release.version}
    if (type === 'web') spec.port = await this.deps.nextPort()
    const process = this.manager.start(spec)
    process.probation = probation
    this.deps.onChange?.()
    return process
  }

  /**
   * Lets a process that is not on probation (scaled up, restarted after a crash) take work
   * once it is ready. A web process that never answers is killed (Heroku's R10), which
   * makes it crash and restart with backoff.
   */
  private async admit(process: ManagedProcess): Promise<void> {
    const generation = process.generation
    const result = await this.check(process, {reason: undefined})
    if (process.generation !== generation || process.stopping || !process.alive) return
    if (result.ok) {
      this.manager.markUp(process, process.type === 'web' ? 'healthy' : 'unknown')
      if (process.type === 'web') this.route(process)
      return
    }

    this.note(`Error R10 (Boot timeout) -> ${process.name}: ${result.reason}`)
    process.health = 'unhealthy'
    if (process.child) this.manager.kill(process.child, 'SIGKILL')
  }

  /** Waits until the process is ready: a web process answers HTTP, any other survives its grace period. */
  private async check(process: ManagedProcess, abort: {reason: string | undefined}): Promise<Check> {
    const generation = process.generation
    const started = this.clock.now()
    const fail = (reason: string): Check => {
      abort.reason ??= reason
      return {ok: false, reason}
    }

    const web = process.type === 'web'
    const deadline = started + (web ? this.tuning.bootTimeoutMs : this.tuning.graceMs)
    for (;;) {
      if (abort.reason) return {ok: false, reason: abort.reason}
      if (this.closing) return fail('the supervisor is shutting down')
      if (process.generation !== generation || !process.alive)
        return fail(`${process.name} crashed during boot (${process.exitCode === null ? 'killed by a signal' : `exit status ${process.exitCode}`})`)
      if (web) {
        if (await this.deps.probe(process.spec.port as number)) {
          if (process.generation === generation && process.alive) return {ok: true}
          continue
        }
      } else if (this.clock.now() >= deadline) {
        return {ok: true}
      }

      if (this.clock.now() >= deadline) {
        return fail(`${process.name} did not answer HTTP on its $PORT (${process.spec.port}) within ${Math.round(this.tuning.bootTimeoutMs / 1000)} s`)
      }

      await this.sleep(web ? this.tuning.probeIntervalMs : Math.min(this.tuning.probeIntervalMs, Math.max(0, deadline - this.clock.now())))
    }
  }

  private route(process: ManagedProcess): void {
    if (process.spec.port === undefined) return
    const key = `${process.name}@${process.spec.port}`
    this.routed.set(process, key)
    this.deps.router.add(key, process.name, process.spec.port)
  }

  private unroute(process: ManagedProcess): void {
    const key = this.routed.get(process)
    if (!key) return
    this.routed.delete(process)
    this.deps.router.drop(key)
  }

  private note(message: string): void {
    this.deps.log.append({time: new Date(this.clock.now()), source: 'herogate', process: 'deploy', message})
  }
}

function sameRelease(a: RunSpec, b: RunSpec): boolean {
  return a.version === b.version && a.dir === b.dir && JSON.stringify(a.processTypes) === JSON.stringify(b.processTypes) && JSON.stringify(sortKeys(a.env)) === JSON.stringify(sortKeys(b.env))
}

function sortKeys(record: Record<string, string>): Array<[string, string]> {
  return Object.entries(record).sort(([a], [b]) => a.localeCompare(b))
}

// ---------------------------------------------------------------------------------------
// The daemon: one per app, detached from the CLI that started it. It holds the Supervisor
// and the Router, and answers HTTP/JSON on an owner-only Unix socket in the app directory.

export interface DaemonConfig extends SupervisorOptions {
  tuning?: Partial<SupervisorTuning>
}

/** Runs the daemon until it is told to shut down (or gets SIGTERM/SIGINT); then the process exits. */
export async function runDaemon(config: DaemonConfig): Promise<void> {
  const paths = supervisorPaths(config.appDir)
  const log = openLogStore(config.appDir, {buffered: true})
  await reapOrphans(paths.children)

  const router: Router = new Router({
    host: config.host || '127.0.0.1',
    port: config.port,
    log,
    whyNoBackend: (): {code: string; desc: string} => supervisor.whyNoWeb(),
  })
  try {
    await router.listen()
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    const why = code === 'EADDRINUSE' ? 'is already in use by another program' : `cannot be opened (${code ?? (error as Error).message})`
    process.stderr.write(`${ROUTER_ERROR_PREFIX}port ${config.port} on ${config.host} ${why}\n`)
    process.exit(3)
  }

  const ports = new PortAllocator('127.0.0.1')
  const starts = new Map<number, string>()
  let recordScheduled = false
  const recordChildren = () => {
    if (recordScheduled) return
    recordScheduled = true
    setImmediate(() => {
      recordScheduled = false
      const children = supervisor.manager.list().flatMap((process) => {
        const pid = process.child?.pid
        if (!pid || !process.alive) return []
        if (!starts.has(pid)) starts.set(pid, processStartTime(pid) ?? '')
        return [{pid, start: starts.get(pid)}]
      })
      try {
        writeFileSync(paths.children, JSON.stringify(children), {mode: 0o600})
      } catch {}
    })
  }

  const supervisor: Supervisor = new Supervisor({
    log,
    router,
    nextPort: () => ports.next(),
    // Refused connections answer at once; a slow first page gets a few seconds.
    probe: (port) => probeHttp(port, 5000),
    tuning: config.tuning,
    onChange: recordChildren,
  })

  let exiting = false
  const control = createServer((req, res) => {
    void answer(req, res)
  })

  const exit = async (code: number) => {
    if (exiting) return
    exiting = true
    await supervisor.shutdown().catch(() => {})
    await router.close().catch(() => {})
    log.flush()
    control.close()
    for (const path of [paths.socket, paths.pid, paths.children]) rmSync(path, {force: true})
    process.exit(code)
  }

  async function answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const reply = (status: number, body: unknown) => {
      const text = JSON.stringify(body ?? null)
      res.writeHead(status, {'content-type': 'application/json', 'content-length': Buffer.byteLength(text)})
      res.end(text)
    }

    try {
      const body = req.method === 'POST' ? await readJson(req) : {}
      const route = `${req.method} ${req.url}`
      switch (route) {
        case 'GET /ping': {
          reply(200, {pid: process.pid, app: config.app, port: router.port, release: supervisor.currentRelease ?? null})
          return
        }

        case 'GET /status': {
          reply(200, supervisor.status())
          return
        }

        case 'POST /deploy': {
          reply(200, await supervisor.deploy(body as DesiredState))
          return
        }

        case 'POST /release': {
          // From here the release is this daemon's: it runs to its end and is recorded even if the sender goes away.
          let run
          try {
            run = takeRelease(config.app, body as ReleaseRequest, {deploy: (state) => supervisor.deploy(state), log, now: () => new Date()})
          } catch (error) {
            if (!(error instanceof LockNotHeld)) throw error
            reply(409, {error: error.message})
            return
          }

          res.writeHead(200, {'content-type': 'application/x-ndjson'})
          res.on('error', () => {})
          // It ends the release whatever happens (an error is recorded as how it ended).
          await run((event) => {
            if (!res.destroyed) res.write(JSON.stringify(event) + '\n')
          }).catch(() => {})
          res.end()
          return
        }

        case 'POST /scale': {
          await supervisor.scale((body as {formation: Record<string, number>}).formation)
          reply(200, {ok: true})
          return
        }

        case 'POST /restart': {
          await supervisor.restart((body as {type?: string}).type)
          reply(200, {ok: true})
          return
        }

        case 'POST /stop': {
          await supervisor.stop((body as {id: string}).id)
          reply(200, {ok: true})
          return
        }

        case 'POST /shutdown': {
          await supervisor.shutdown()
          await router.close()
          res.on('finish', () => void exit(0))
          reply(200, {ok: true})
          return
        }

        default: {
          reply(404, {error: `No such supervisor request: ${route}`})
        }
      }
    } catch (error) {
      reply(error instanceof NotFoundError ? 404 : 500, {error: (error as Error).message})
    }
  }

  if (!socketDirSafe(paths.socket, true)) {
    process.stderr.write(`the directory of ${paths.socket} is open to other users; refusing to put the supervisor socket there\n`)
    await exit(4)
    return
  }

  rmSync(paths.socket, {force: true})
  const umask = process.umask(0o177)
  try {
    await new Promise<void>((resolve, reject) => {
      control.once('error', reject)
      control.listen(paths.socket, () => {
        control.off('error', reject)
        resolve()
      })
    })
  } finally {
    process.umask(umask)
  }

  chmodSync(paths.socket, 0o600)
  writeFileSync(paths.pid, String(process.pid), {mode: 0o600})
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => void exit(0))
  // Its own session already keeps it clear of terminal hang-ups; a stray SIGHUP must not stop the app.
  process.on('SIGHUP', () => {})
  process.on('uncaughtException', (error) => {
    process.stderr.write(`${new Date().toISOString()} supervisor error: ${error.stack ?? error.message}\n`)
    void exit(1)
  })
}

/** What the daemon prints before exiting when its router cannot listen; the client shows the rest. */
export const ROUTER_ERROR_PREFIX = 'herogate-router-error: '

async function readJson(req: IncomingMessage): Promise<unknown> {
  let text = ''
  req.setEncoding('utf8')
  for await (const chunk of req) text += chunk
  return text ? JSON.parse(text) : {}
}

/**
 * Processes left running by a supervisor that was killed (SIGKILL, OOM): stop them before
 * starting over, so no process or port outlives its supervisor for long.
 */
export async function reapOrphans(childrenFile: string): Promise<number> {
  let recorded: Array<{pid: number; start?: string}> = []
  try {
    recorded = JSON.parse(readFileSync(childrenFile, 'utf8')) as Array<{pid: number; start?: string}>
  } catch {
    return 0
  }

  const orphans = recorded.filter(({pid, start}) => pid > 1 && start && processStartTime(pid) === start)
  const signal = (pid: number, name: NodeJS.Signals) => {
    try {
      process.kill(-pid, name)
    } catch {
      try {
        process.kill(pid, name)
      } catch {}
    }
  }

  for (const {pid} of orphans) signal(pid, 'SIGTERM')
  for (let i = 0; i < 40 && orphans.some(({pid}) => groupRunning(pid)); i++) await new Promise((resolve) => setTimeout(resolve, 50))
  for (const {pid} of orphans) signal(pid, 'SIGKILL')
  rmSync(childrenFile, {force: true})
  return orphans.length
}
