import {chmodSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {createServer, type IncomingMessage, type ServerResponse} from 'node:http'

import {configMasker} from '../../lib/process-output.js'
import {AddonServers} from './addon-servers.js'
import type {ProcessInfo} from '../types.js'
import type {BootCheck, DeployOutcome, DesiredState, LogWriter, ReleaseRequest, RunSpec, SupervisorOptions} from './contracts.js'
import {JobRunner} from './job-runner.js'
import {publicListeners} from './listening.js'
import {openLogStore} from './logstore.js'
import {MaintenanceSwitch} from './maintenance.js'
import {PortAllocator} from './ports.js'
import {type Clock, groupRunning, ManagedProcess, ProcessManager, type ProcessManagerOptions, type ProcessSpec, processStartTime, systemClock} from './processes.js'
import {LockNotHeld, takeRelease} from './release-owner.js'
import {bringBack, currentState, settleLeftovers} from './restore.js'
import {probeHttp, Router} from './router.js'
import {
  DAEMON_EXIT, identify, newSocketPath, publishStatus, readRecord, removeSocket, type ProcessIdentity, ROUTER_ERROR_PREFIX,
  socketDirProblem, START_ERROR_PREFIX, stillRunning, supervisorPaths, type SupervisorRecord, trimOutput, withClaimLock, writeRecord,
} from './supervisor-paths.js'

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
  /** How long a new web process has to answer its health check when no deploy said (Heroku: 60 s); deploys bring the app's boot-timeout. */
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
  /** One health probe of a web process: true when it answered GET `path` with 200-399. */
  probe(port: number, path: string): Promise<boolean>
  clock?: Clock
  sleep?(ms: number): Promise<void>
  tuning?: Partial<SupervisorTuning>
  /** Process manager knobs (spawn, kill, backoff); the supervisor supplies log, clock and hooks. */
  processes?: Omit<ProcessManagerOptions, 'log' | 'clock' | 'onCrash' | 'onRestart' | 'onStateChange'>
  /** Called, synchronously, whenever anything status() shows changed (the daemon publishes it, and records pids for orphan cleanup). */
  onChange?(): void
  /** Where each of these process groups listens beyond loopback (listening.ts publicListeners); undefined where the machine cannot tell. */
  exposedAddresses?(pgids: number[]): Map<number, string[]> | undefined
}

/** Thrown for requests naming something that does not exist (the daemon answers 404). */
export class NotFoundError extends Error {}

type Check = {ok: true} | {ok: false; reason: string; output?: {process: string; lines: string[]}}

/** Abandons a deploy at the first failing process: the others stop checking, and its failure is the deploy's. */
interface Abort {
  reason: string | undefined
  failed?: Check & {ok: false}
}

/** How long a process that died during its check gets for the rest of its output to be read (it can trail the exit). */
const OUTPUT_WAIT_MS = 1000

export class Supervisor {
  readonly manager: ProcessManager
  private release: RunSpec | undefined
  private formation: Record<string, number> = {}
  /** The app's boot check as the last deploy brought it. */
  private boot: BootCheck | undefined
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
      onCrash: (process) => this.unroute(process),
      onRestart: (process) => void this.admit(process),
      onStateChange: () => deps.onChange?.(),
    })
  }

  get currentRelease(): number | undefined {
    return this.release?.version
  }

  /** Health-checked rolling deploy of `state`; on failure the running release is left untouched. */
  deploy(state: DesiredState): Promise<DeployOutcome> {
    return this.serial(async () => {
      if (state.boot) this.boot = state.boot
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
        startedAt: process.startedAt.toISOString(),
        command: process.spec.command,
        ...(process.exposed.length > 0 ? {exposed: process.exposed} : {}),
      }))
  }

  /**
   * Where web processes that answer their health check listen beyond loopback: looked up once,
   * as they come up, with one read of the machine's socket table for all of them (reads only
   * show what is found here).
   */
  private findExposed(processes: ManagedProcess[]): void {
    const web = processes.filter((process) => process.type === 'web' && process.id)
    if (web.length === 0) return
    const found = this.deps.exposedAddresses?.(web.map((process) => Number(process.id)))
    for (const process of web) process.exposed = found?.get(Number(process.id)) ?? []
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

    let output: {process: string; lines: string[]} | undefined
    {
      const abort: Abort = {reason: undefined}
      const results = await Promise.all(fresh.map((process) => this.check(process, abort)))
      const failed = abort.failed ?? results.find((result): result is Check & {ok: false} => !result.ok)
      failure = failed?.reason
      output = failed?.output
    }

    if (failure) {
      this.note(`v${release.version} abandoned: ${failure}`)
      await Promise.all(fresh.map((process) => this.manager.stop(process, Math.min(this.tuning.stopGraceMs, 2000))))
      return {ok: false, reason: failure, ...(output ? {output} : {})}
    }

    const old = this.manager.list().filter((process) => !fresh.includes(process) && selected(process.type))
    this.findExposed(fresh)
    for (const process of fresh) {
      process.probation = false
      this.manager.markUp(process, process.type === 'web' ? 'healthy' : 'unknown')
      if (process.type === 'web') this.route(process)
    }

    await Promise.all(old.map((process) => this.retire(process)))
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
  }

  private async spawn(release: RunSpec, type: string, index: number, probation: boolean): Promise<ManagedProcess | undefined> {
    const command = release.processTypes[type]
    if (command === undefined) return undefined
    const spec: ProcessSpec = {type, index, command, dir: release.dir, env: release.env, release: release.version}
    if (type === 'web') spec.port = await this.deps.nextPort()
    const process = this.manager.start(spec)
    process.probation = probation
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
      this.findExposed([process])
      this.manager.markUp(process, process.type === 'web' ? 'healthy' : 'unknown')
      if (process.type === 'web') this.route(process)
      return
    }

    this.note(`Error R10 (Boot timeout) -> ${process.name}: ${result.reason}`)
    this.manager.markUnhealthy(process)
    if (process.child) this.manager.kill(process.child, 'SIGKILL')
  }

  /** Waits until the process is ready: a web process answers its health check, any other survives its grace period. */
  private async check(process: ManagedProcess, abort: Abort): Promise<Check> {
    const generation = process.generation
    const started = this.clock.now()
    const fail = (reason: string): Check => {
      // What it printed, config values hidden: where the push and `deploy` say why it failed.
      const lines = process.recent.lines().map(configMasker(process.spec.env))
      const failed: Check & {ok: false} = {ok: false, reason, ...(lines.length > 0 ? {output: {process: process.name, lines}} : {})}
      abort.reason ??= reason
      abort.failed ??= failed
      return failed
    }

    const web = process.type === 'web'
    const {timeoutMs, path} = this.boot ?? {timeoutMs: this.tuning.bootTimeoutMs, path: '/'}
    const deadline = started + (web ? timeoutMs : this.tuning.graceMs)
    for (;;) {
      if (abort.reason) return {ok: false, reason: abort.reason}
      if (this.closing) return fail('the supervisor is shutting down')
      if (process.generation !== generation || !process.alive) {
        await Promise.race([process.outputRead, this.sleep(OUTPUT_WAIT_MS)])
        return fail(`${process.name} crashed during boot (${process.exitCode === null ? 'killed by a signal' : `exit status ${process.exitCode}`})`)
      }

      if (web) {
        if (await this.deps.probe(process.spec.port as number, path)) {
          if (process.generation === generation && process.alive) return {ok: true}
          continue
        }
      } else if (this.clock.now() >= deadline) {
        return {ok: true}
      }

      if (this.clock.now() >= deadline) {
        return fail(`${process.name} did not answer GET ${path} with 200-399 on its $PORT (${process.spec.port}) within the boot-timeout (${Math.round(timeoutMs / 1000)} s)`)
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
// The daemon: one per app, detached from the CLI that started it, under a watchdog that starts
// it again if it dies (supervisor-client.ts). It holds the Supervisor and the Router, answers
// HTTP/JSON on an owner-only Unix socket, and on start brings back the app's current release
// from its records, so a restart needs no command.

export interface DaemonConfig extends SupervisorOptions {
  tuning?: Partial<SupervisorTuning>
}

/** Runs the daemon until it is told to shut down (or gets SIGTERM/SIGINT); then the process exits. */
export async function runDaemon(config: DaemonConfig): Promise<void> {
  const paths = supervisorPaths(config.appDir)
  // Its output is a file, maybe on a full disk: a failed write there must not become a crash.
  process.stderr.on('error', () => {})
  const say = (line: string) => {
    try {
      process.stderr.write(`${new Date().toISOString()} ${line}\n`)
    } catch {}
  }

  const me = identify(process.pid)
  const watchdogPid = Number(process.env.HEROGATE_WATCHDOG)
  delete process.env.HEROGATE_WATCHDOG
  const watchdog = watchdogPid > 1 && watchdogPid === process.ppid ? identify(watchdogPid) : undefined
  const claim = await claimApp(config.appDir, me, watchdog)
  if ('twin' in claim) {
    process.stderr.write(`${START_ERROR_PREFIX}another supervisor of ${config.app} is running (pid ${claim.twin.pid})\n`)
    process.exit(DAEMON_EXIT.twin)
  }

  const startFailed = (why: string, code: number = DAEMON_EXIT.startup): never => {
    try {
      process.stderr.write(`${code === DAEMON_EXIT.router ? ROUTER_ERROR_PREFIX : START_ERROR_PREFIX}${why}\n`)
    } catch {}

    if (readRecord(config.appDir)?.pid === process.pid) rmSync(paths.record, {force: true})
    process.exit(code)
  }

  if ('error' in claim) startFailed(claim.error)
  // Until it listens, whatever goes wrong is a start-up failure, and the starting command shows why.
  let listening = false
  process.on('uncaughtException', (error) => {
    if (!listening) startFailed(error.message)
    say(`supervisor error: ${error.stack ?? error.message}`)
    void exit(DAEMON_EXIT.crashed)
  })

  const previous = 'previous' in claim ? claim.previous : undefined
  // Started again by its watchdog: nobody reads the output from where it was, so it may be trimmed.
  if (Number(process.env.HEROGATE_RUN) > 1) trimOutput(paths.output)
  delete process.env.HEROGATE_RUN
  removeSocket(config.appDir, previous?.socket)
  const log = openLogStore(config.appDir, {buffered: true, onTrouble: (message) => say(`log store: ${message}`)})
  await reapOrphans(paths.children)

  // Read before the router takes a request: an app in maintenance mode stays in it across restarts.
  const maintenance = new MaintenanceSwitch(config.appDir)
  const router: Router = new Router({
    host: config.host || '127.0.0.1',
    port: config.port,
    log,
    whyNoBackend: (): {code: string; desc: string} => supervisor.whyNoWeb(),
    maintenancePage: () => maintenance.page(),
  })
  try {
    await router.listen()
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    // Never our own supervisor: the claim above refused to start beside a live one.
    const why = code === 'EADDRINUSE' ? 'is already in use by another program' : `cannot be opened (${errorCode(error)})`
    startFailed(`port ${config.port} on ${config.host} ${why}`, DAEMON_EXIT.router)
  }

  const ports = new PortAllocator('127.0.0.1')
  const starts = new Map<number, string>()
  let recordScheduled = false
  const recordChildren = () => {
    if (recordScheduled) return
    recordScheduled = true
    setImmediate(() => {
      recordScheduled = false
      const pids = [...supervisor.manager.list().flatMap((process) => (process.child?.pid && process.alive ? [process.child.pid] : [])), ...addonServers.pids()]
      const children = pids.map((pid) => {
        if (!starts.has(pid)) starts.set(pid, processStartTime(pid) ?? '')
        return {pid, start: starts.get(pid)}
      })
      try {
        writeFileSync(paths.children, JSON.stringify(children), {mode: 0o600})
      } catch {}
    })
  }

  /**
   * What ps shows, published (supervisor-paths.ts publishStatus) as it changes, before whoever
   * caused the change hears back. Unpublishable (a full disk), it is removed: reads then ask.
   */
  let published: string | undefined
  const publish = () => {
    const status = {...me, restoring, processes: [...supervisor.status(), ...jobs.status()]}
    const text = JSON.stringify(status)
    if (text === published) return
    try {
      publishStatus(config.appDir, status)
      published = text
    } catch (error) {
      say(`cannot publish what runs: ${errorCode(error)}`)
      rmSync(paths.status, {force: true})
      published = undefined
    }
  }

  const changed = () => {
    recordChildren()
    publish()
  }

  const supervisor: Supervisor = new Supervisor({
    log,
    router,
    nextPort: () => ports.next(),
    // Refused connections answer at once; a slow first page gets a few seconds.
    probe: (port, path) => probeHttp(port, {path, timeoutMs: 5000}),
    tuning: config.tuning,
    onChange: changed,
    exposedAddresses: publicListeners,
  })
  const addonServers = new AddonServers(config.appDir, log, recordChildren)

  // Scheduled jobs run while the supervisor does (listed by ps with its processes).
  const jobs = new JobRunner({app: config.app, appDir: config.appDir, log, onChange: publish})
  let exiting = false
  let socket: string | undefined
  /** True until the release the app ran before this daemon started is back (or failed to come back). */
  let restoring = true
  const control = createServer((req, res) => {
    void answer(req, res)
  })

  const exit = async (code: number) => {
    if (exiting) return
    exiting = true
    // Whatever hangs on the way out, the process still ends (the watchdog then decides).
    setTimeout(() => process.exit(code), (config.tuning?.stopGraceMs ?? defaultTuning.stopGraceMs) + 5000).unref()
    try {
      await Promise.all([supervisor.shutdown(), jobs.stop()]).catch(() => {})
      // The add-on servers last: the app's processes may use them until they stop.
      await addonServers.shutdown().catch(() => {})
      await router.close().catch(() => {})
      log.flush()
      control.close()
      removeSocket(config.appDir, socket)
      if (readRecord(config.appDir)?.pid === process.pid) rmSync(paths.record, {force: true})
      for (const path of [paths.children, paths.status]) rmSync(path, {force: true})
    } finally {
      process.exit(code)
    }
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
          reply(200, {pid: process.pid, app: config.app, port: router.port, release: supervisor.currentRelease ?? null, restoring})
          return
        }

        case 'GET /status': {
          reply(200, [...supervisor.status(), ...jobs.status()])
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

        case 'POST /addons': {
          reply(200, await addonServers.sync())
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

        case 'POST /maintenance': {
          reply(200, {enabled: maintenance.reload()})
          return
        }

        case 'POST /shutdown': {
          await Promise.all([supervisor.shutdown(), jobs.stop()])
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

  try {
    socket = newSocketPath(config.appDir)
  } catch (error) {
    startFailed(`cannot make a private directory for the supervisor socket (${errorCode(error)})`)
  }

  const problem = socketDirProblem(socket as string)
  if (problem) startFailed(`refusing to put the supervisor socket there: ${problem}`)

  const umask = process.umask(0o177)
  try {
    // Ours to replace: the claim says no other supervisor of this app runs.
    rmSync(socket as string, {force: true})
    await new Promise<void>((resolve, reject) => {
      control.once('error', reject)
      control.listen(socket, () => {
        control.off('error', reject)
        resolve()
      })
    })
    chmodSync(socket as string, 0o600)
    writeRecord(config.appDir, {...me, ...(watchdog ? {watchdog} : {}), socket})
  } catch (error) {
    removeSocket(config.appDir, socket)
    startFailed(`cannot listen on ${socket} (${errorCode(error)})`)
  } finally {
    process.umask(umask)
  }

  listening = true
  void jobs.loop().catch((error: Error) => say(`scheduler error: ${error.message}`))

  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => void exit(DAEMON_EXIT.stopped))
  // Its own session already keeps it clear of terminal hang-ups; a stray SIGHUP must not stop the app.
  process.on('SIGHUP', () => {})

  try {
    const note = (message: string) => log.append({time: new Date(), source: 'herogate', process: 'deploy', message})
    // The app's processes connect to its add-ons as they boot: those first.
    for (const server of await addonServers.sync()) if (!server.ready) note(`Add-on ${server.name}: ${server.reason}`)
    // A release the supervisor before this one was killed in is settled first (marked failed,
    // its branch moved back), so that what comes back is the release the records call current.
    await settleLeftovers(config.app, config.appDir, note)
    const state = currentState(config.app, config.appDir)
    if (state) await bringBack(state, (wanted) => supervisor.deploy(wanted), note)
  } catch (error) {
    say(`could not bring back the current release: ${(error as Error).message}`)
  } finally {
    restoring = false
    publish()
  }
}

/**
 * Makes this process the app's supervisor in its record, unless the recorded one still runs
 * (then `twin`): never two supervisors of one app, whatever the environment of whoever
 * started this one. `previous` is the record of a supervisor that died.
 */
async function claimApp(appDir: string, me: ProcessIdentity, watchdog: ProcessIdentity | undefined): Promise<{twin: SupervisorRecord} | {previous?: SupervisorRecord} | {error: string}> {
  try {
    const claimed = await withClaimLock(appDir, () => {
      const previous = readRecord(appDir)
      if (previous && previous.pid !== me.pid && stillRunning(previous)) return {twin: previous}
      writeRecord(appDir, {...me, ...(watchdog ? {watchdog} : {})})
      return previous ? {previous} : {}
    })
    return claimed ?? {error: `${supervisorPaths(appDir).claimLock} stayed locked`}
  } catch (error) {
    return {error: `cannot write ${supervisorPaths(appDir).record} (${errorCode(error)})`}
  }
}

function errorCode(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? (error as Error).message
}


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
