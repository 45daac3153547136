import {existsSync, readdirSync, readFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import type {Readable} from 'node:stream'

import {LastLines} from '../../lib/process-output.js'
import type {LogWriter} from './contracts.js'
import {appEnv} from './app-env.js'

/** child_process, loaded once a process is started or asked about: a read command does neither on Linux. */
const childProcess = (): typeof import('node:child_process') => createRequire(import.meta.url)('node:child_process')

/**
 * The process manager: starts each process of a release as `sh -c COMMAND` in its own
 * process group, captures stdout and stderr line by line into the log store, and restarts
 * a crashed process with exponential backoff (capped, reset once it stayed up).
 * Spawning, killing and time are injected, so its policy is tested without real processes.
 */

export type ProcessStatus = 'starting' | 'up' | 'crashed' | 'stopping'
export type ProcessHealth = 'healthy' | 'unhealthy' | 'unknown'

/** What the manager needs of a child process (node's ChildProcess fits). */
export interface ChildHandle {
  readonly pid?: number
  readonly stdout: Readable | null
  readonly stderr: Readable | null
  on(event: 'exit', listener: (code: number | null, signal: NodeJS.Signals | null) => void): unknown
  on(event: 'error', listener: (error: Error) => void): unknown
}

export type SpawnFn = (command: string, options: {cwd: string; env: Record<string, string>}) => ChildHandle
export type KillFn = (child: ChildHandle, signal: NodeJS.Signals) => void

export interface Clock {
  now(): number
  setTimeout(callback: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
}

/** Environment a process inherits from the machine; everything else comes from the app's config. */
export const INHERITED_ENV = ['PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'LANG', 'LC_ALL', 'LC_CTYPE', 'TMPDIR', 'TZ']

/** `sh -c COMMAND` as the leader of a new process group, so stopping it stops its children too. */
export const spawnShell: SpawnFn = (command, options) =>
  childProcess().spawn('sh', ['-c', shellLine(command)], {cwd: options.cwd, env: options.env, detached: true, stdio: ['ignore', 'pipe', 'pipe']})

/**
 * A failed spawn as one line. Node's error for an environment it cannot pass quotes the
 * offending value, and environments carry config values: name the variable instead.
 */
export function spawnErrorMessage(error: unknown): string {
  const message = (error as Error).message
  const key = /options\.env\['([^']*)'\]/.exec(message)?.[1]
  if (key !== undefined) return `the environment variable ${key} cannot be passed to a process (it holds a NUL byte)`
  if ((error as NodeJS.ErrnoException).code?.startsWith('ERR_INVALID_ARG')) return 'an argument or environment variable cannot be passed to a process'
  return message
}

export const killGroup: KillFn = (child, signal) => {
  if (!child.pid) return
  try {
    process.kill(-child.pid, signal)
  } catch {
    try {
      process.kill(child.pid, signal)
    } catch {}
  }
}

/** True while any process of the child's group is left (the shell may be gone, its command not yet). */
export const groupAlive = (child: ChildHandle): boolean => (child.pid ? groupRunning(child.pid) : false)

/**
 * Whether a process group still has a live member. Signal 0 also reaches zombies (exited
 * processes nobody reaped yet: some containers' init never reaps), so on Linux the members
 * are looked up in /proc and zombies do not count.
 */
export function groupRunning(pgid: number): boolean {
  try {
    process.kill(-pgid, 0)
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }

  const members = groupMembers(new Set([pgid]), true)
  return members === undefined || members.size > 0
}

/**
 * The live (not zombie) processes of each of the groups `pgids`, from one pass over /proc;
 * a group with none is left out. Undefined without /proc. `first`: stop at the first one found.
 */
export function groupMembers(pgids: ReadonlySet<number>, first = false): Map<number, number[]> | undefined {
  let entries: string[]
  try {
    entries = readdirSync('/proc')
  } catch {
    return undefined
  }

  const members = new Map<number, number[]>()
  for (const entry of entries) {
    if (entry.charCodeAt(0) < 48 || entry.charCodeAt(0) > 57) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      // After the command name (which may hold spaces): state, ppid, pgrp, ...
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      const pgid = Number(fields[2])
      if (!pgids.has(pgid) || fields[0] === 'Z' || fields[0] === 'X') continue
      members.set(pgid, [...(members.get(pgid) ?? []), Number(entry)])
      if (first) break
    } catch {}
  }

  return members
}

/**
 * A process's state code (R, S, D, T for stopped, Z for a zombie...) and start time, from one
 * read of /proc/PID/stat; undefined when it is gone or there is no /proc.
 */
export function processState(pid: number): {code: string; start: string} | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Fields after the command name (which may contain spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return {code: fields[0], start: fields[19]}
  } catch {
    return undefined
  }
}

/** A process's start time as the OS reports it, to tell a surviving child from a reused pid. */
export function processStartTime(pid: number): string | undefined {
  const state = processState(pid)
  if (state) return state.start

  try {
    return childProcess().execFileSync('ps', ['-o', 'lstart=', '-p', String(pid)], {encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore']}).trim() || undefined
  } catch {
    return undefined
  }
}

/** The process exists and is not a zombie (which signal 0 would still reach). */
export function processRunning(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }

  const state = processState(pid)
  // No /proc (macOS): signal 0 is all there is.
  return state ? state.code !== 'Z' && state.code !== 'X' : !existsSync('/proc/self')
}

const SHELL_WORDS = new Set(['cd', 'export', 'set', 'unset', '.', 'source', 'if', 'for', 'while', 'until', 'case', '{', '!', 'eval', 'exec', 'trap', 'ulimit', 'umask', 'wait', 'alias', 'read', 'shift', 'test', '[', 'true', 'false', 'command', 'builtin', 'time'])

/**
 * The shell line a process runs: a plain command is exec'd, so the process the supervisor
 * signals and watches is the app itself, not a shell in front of it. Anything with shell
 * syntax (pipes, lists, variables, redirections, leading assignments) runs as written.
 */
export function shellLine(command: string): string {
  const trimmed = command.trim()
  if (/[;&|<>()$`\\\n*?~]/.test(trimmed)) return command
  const first = trimmed.split(/\s+/)[0]
  if (!first || first.includes('=') || SHELL_WORDS.has(first)) return command
  return `exec ${trimmed}`
}

export interface ProcessSpec {
  type: string
  /** 1-based: web.1 */
  index: number
  command: string
  dir: string
  env: Record<string, string>
  release: number
  /** web processes: the port the process is told to listen on. */
  port?: number
}

export class ManagedProcess {
  readonly name: string
  child: ChildHandle | undefined
  status: ProcessStatus = 'starting'
  health: ProcessHealth = 'unknown'
  startedAt: Date
  /** Consecutive crashes; decides the next restart delay. */
  crashes = 0
  /** While a deploy checks a new process, a crash is the deploy's to handle, not restarted. */
  probation = true
  stopping = false
  exited = false
  exitCode: number | null = null
  restartTimer: unknown
  /** Bumps on every (re)start so stale health checks can tell they are stale. */
  generation = 0
  /** A web process: where it listens beyond 127.0.0.1, found once it answers (listening.ts). */
  exposed: string[] = []
  /** The last lines the current run printed (stdout and stderr), for a failure to show. */
  recent = new LastLines()
  /** Resolves once the current run's output has been read to its end (it can trail its exit). */
  outputRead: Promise<void> = Promise.resolve()
  private exitWaiters: Array<() => void> = []

  constructor(readonly spec: ProcessSpec, now: number) {
    this.name = `${spec.type}.${spec.index}`
    this.startedAt = new Date(now)
  }

  get type(): string {
    return this.spec.type
  }

  get id(): string {
    return this.child?.pid ? String(this.child.pid) : ''
  }

  get alive(): boolean {
    return this.child !== undefined && !this.exited
  }

  /** Resolves once the current child has exited (at once if none runs). */
  async waitExit(): Promise<void> {
    if (!this.alive) return
    await new Promise<void>((resolve) => this.exitWaiters.push(resolve))
  }

  markExited(code: number | null): void {
    this.exited = true
    this.exitCode = code
    const waiters = this.exitWaiters
    this.exitWaiters = []
    for (const resolve of waiters) resolve()
  }
}

export interface BackoffPolicy {
  /** First restart delay. */
  baseMs: number
  capMs: number
  /** A process up this long has its crash count reset. */
  stableMs: number
}

export interface ProcessManagerOptions {
  log: LogWriter
  spawn?: SpawnFn
  kill?: KillFn
  /** Whether anything of the child's process group still runs (default: signal 0 to the group). */
  groupAlive?: (child: ChildHandle) => boolean
  clock?: Clock
  backoff?: Partial<BackoffPolicy>
  /** SIGKILL this long after SIGTERM (default 10 s). */
  stopGraceMs?: number
  /** The machine environment processes inherit (default: a few variables of this process). */
  baseEnv?: Record<string, string>
  /** An unexpected exit (crash); on probation or not. */
  onCrash?(process: ManagedProcess, code: number | null, signal: NodeJS.Signals | null): void
  /** A crashed process was started again. */
  onRestart?(process: ManagedProcess): void
  /** Anything ps shows changed: a process was added, removed, or changed status, health or pid. */
  onStateChange?(): void
}

export class ProcessManager {
  private readonly processes = new Set<ManagedProcess>()
  private readonly spawn: SpawnFn
  /** Signals a child's whole process group. */
  readonly kill: KillFn
  private readonly groupAlive: (child: ChildHandle) => boolean
  private readonly clock: Clock
  private readonly backoff: BackoffPolicy
  private readonly stopGraceMs: number
  private readonly baseEnv: Record<string, string>

  constructor(private readonly options: ProcessManagerOptions) {
    this.spawn = options.spawn ?? spawnShell
    this.kill = options.kill ?? killGroup
    this.groupAlive = options.groupAlive ?? (options.kill ? () => false : groupAlive)
    this.clock = options.clock ?? systemClock
    this.backoff = {baseMs: 1000, capMs: 30_000, stableMs: 30_000, ...options.backoff}
    this.stopGraceMs = options.stopGraceMs ?? 10_000
    this.baseEnv = options.baseEnv ?? pickEnv(process.env, INHERITED_ENV)
  }

  list(): ManagedProcess[] {
    return [...this.processes]
  }

  /** By process name (web.1), pid, or every process of a type (web). */
  find(id: string): ManagedProcess[] {
    const all = this.list()
    const exact = all.filter((process) => process.name === id || process.id === id)
    return exact.length > 0 ? exact : all.filter((process) => process.type === id)
  }

  /** The delay before the next restart of a process that just crashed. */
  restartDelay(process: ManagedProcess): number {
    return Math.min(this.backoff.capMs, this.backoff.baseMs * 2 ** Math.max(0, process.crashes - 1))
  }

  start(spec: ProcessSpec): ManagedProcess {
    const process = new ManagedProcess(spec, this.clock.now())
    this.processes.add(process)
    this.launch(process)
    return process
  }

  /** SIGTERM, SIGKILL after the grace period; resolves once it is gone. */
  async stop(process: ManagedProcess, graceMs = this.stopGraceMs): Promise<void> {
    if (!this.processes.has(process)) return
    const before = process.status
    process.stopping = true
    if (process.restartTimer !== undefined) {
      this.clock.clearTimeout(process.restartTimer)
      process.restartTimer = undefined
    }

    if (process.alive && process.child) {
      process.status = 'stopping'
      this.options.onStateChange?.()
      if (before !== 'stopping') this.event(process, `State changed from ${before} to stopping`)
      this.event(process, 'Stopping process with SIGTERM')
      const child = process.child
      const deadline = this.clock.now() + graceMs
      this.kill(child, 'SIGTERM')
      const timer = this.clock.setTimeout(() => {
        if (process.alive && process.child === child) {
          this.event(process, 'Process did not stop in time: SIGKILL')
          this.kill(child, 'SIGKILL')
        }
      }, graceMs)
      await process.waitExit()
      this.clock.clearTimeout(timer)
      // `sh -c` may be gone while the command it started still shuts down cleanly: give the
      // rest of the group its grace period too.
      while (this.groupAlive(child) && this.clock.now() < deadline) await this.pause(50)
      if (this.groupAlive(child)) this.kill(child, 'SIGKILL')
    }

    this.processes.delete(process)
    this.options.onStateChange?.()
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => this.clock.setTimeout(resolve, ms))
  }

  private launch(process: ManagedProcess): void {
    const {spec} = process
    process.exited = false
    process.exitCode = null
    process.status = 'starting'
    process.health = 'unknown'
    process.exposed = []
    process.startedAt = new Date(this.clock.now())
    process.generation++
    const env: Record<string, string> = appEnv(spec.dir, {...this.baseEnv, ...spec.env, DYNO: process.name})
    if (spec.port !== undefined) env.PORT = String(spec.port)
    this.event(process, `Starting process with command \`${spec.command}\``)

    let child: ChildHandle
    try {
      child = this.spawn(spec.command, {cwd: spec.dir, env})
    } catch (error) {
      this.event(process, `Process failed to start: ${spawnErrorMessage(error)}`)
      process.child = undefined
      this.exited(process, 127, null)
      return
    }

    process.child = child
    this.options.onStateChange?.()
    const generation = process.generation
    const recent = new LastLines()
    process.recent = recent
    const streams = [child.stdout, child.stderr].filter((stream) => stream !== null)
    process.outputRead = new Promise((resolve) => {
      let open = streams.length
      if (open === 0) resolve()
      for (const stream of streams) {
        capture(stream, (message) => {
          recent.add(message)
          this.appLine(process, message)
        }, () => {
          if (--open === 0) resolve()
        })
      }
    })
    let gone = false
    const onGone = (code: number | null, signal: NodeJS.Signals | null) => {
      if (gone) return
      gone = true
      // A crash: leftover children of the shell share its group, take them down with it.
      // (Being stopped, they get their grace period in stop().)
      if (!process.stopping) this.kill(child, 'SIGKILL')
      if (process.generation === generation) this.exited(process, code, signal)
    }

    child.on('exit', onGone)
    child.on('error', (error) => {
      this.event(process, `Process failed to start: ${spawnErrorMessage(error)}`)
      onGone(127, null)
    })
  }

  private exited(process: ManagedProcess, code: number | null, signal: NodeJS.Signals | null): void {
    process.markExited(code)
    const status = signal ? `Process exited on signal ${signal}` : `Process exited with status ${code}`
    this.event(process, status)
    if (process.stopping) return

    const was = process.status
    process.status = 'crashed'
    process.health = 'unhealthy'
    this.options.onStateChange?.()
    this.event(process, `State changed from ${was} to crashed`)
    if (this.clock.now() - process.startedAt.getTime() >= this.backoff.stableMs) process.crashes = 0
    process.crashes++
    this.options.onCrash?.(process, code, signal)
    if (process.probation || process.stopping || !this.processes.has(process)) return

    const delay = this.restartDelay(process)
    process.restartTimer = this.clock.setTimeout(() => {
      process.restartTimer = undefined
      if (process.stopping || !this.processes.has(process)) return
      this.launch(process)
      this.options.onRestart?.(process)
    }, delay)
  }

  /** Up → stopping (it drains before it gets SIGTERM), with the state line. */
  markStopping(process: ManagedProcess): void {
    if (process.status === 'stopping') return
    this.event(process, `State changed from ${process.status} to stopping`)
    process.status = 'stopping'
    this.options.onStateChange?.()
  }

  /** Starting → up, with the Heroku-style state line. */
  markUp(process: ManagedProcess, health: ProcessHealth): void {
    process.health = health
    if (process.status === 'starting') {
      process.status = 'up'
      this.event(process, 'State changed from starting to up')
    }

    this.options.onStateChange?.()
  }

  /** A process that failed its health check (it is killed next, and crashes). */
  markUnhealthy(process: ManagedProcess): void {
    process.health = 'unhealthy'
    this.options.onStateChange?.()
  }

  private appLine(process: ManagedProcess, message: string): void {
    this.options.log.append({time: new Date(this.clock.now()), source: 'app', process: process.name, message, release: process.spec.release})
  }

  private event(process: ManagedProcess, message: string): void {
    // The release tells the old and the new web.1 of a rolling deploy apart.
    this.options.log.append({time: new Date(this.clock.now()), source: 'herogate', process: process.name, message, release: process.spec.release})
  }
}

const MAX_LINE = 64 * 1024

/** Calls `onLine` for every line of the stream (a very long line is cut into pieces), and `onEnd` once it has ended. */
export function capture(stream: Readable | null, onLine: (line: string) => void, onEnd?: () => void): void {
  if (!stream) return
  let ended = false
  const end = () => {
    if (ended) return
    ended = true
    onEnd?.()
  }

  let rest = ''
  stream.setEncoding('utf8')
  stream.on('data', (chunk: string) => {
    const text = rest + chunk
    const lines = text.split('\n')
    rest = lines.pop() ?? ''
    for (const line of lines) onLine(line.endsWith('\r') ? line.slice(0, -1) : line)
    while (rest.length > MAX_LINE) {
      onLine(rest.slice(0, MAX_LINE))
      rest = rest.slice(MAX_LINE)
    }
  })
  stream.on('end', () => {
    if (rest) onLine(rest)
    rest = ''
    end()
  })
  stream.on('close', end)
  stream.on('error', () => {})
}

/** The variables of `env` named in `keys` that are set. */
export function pickEnv(env: NodeJS.ProcessEnv, keys: string[]): Record<string, string> {
  const picked: Record<string, string> = {}
  for (const key of keys) if (env[key] !== undefined) picked[key] = env[key] as string
  return picked
}
