import {lstatSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'

import type {ProcessInfo} from '../types.js'
import {processRunning, processStartTime, processState} from './processes.js'
import {writeFileAtomic} from './state.js'

/**
 * Where an app's supervisor keeps its files (all in the app directory), and who it is.
 *
 * The running supervisor is named by its record, `supervisor.json`: its pid and that pid's
 * start time (so a reused pid is not taken for it), its watchdog's, and the path of its
 * socket. A client reads the socket path there rather than working it out, so a command run
 * with another TMPDIR (or anything else in its environment) reaches the same supervisor, and a
 * new daemon refuses to start while the recorded one lives.
 */
export interface SupervisorPaths {
  /** SupervisorRecord of the running daemon. */
  record: string
  /** Where a daemon with a short enough app directory listens; deeper ones get a fresh private temp directory. */
  socket: string
  /** The daemon's and its watchdog's own output (start-up errors, crashes), kept across restarts. */
  output: string
  /** Pids of the running processes (no environment), so a restarted daemon can stop orphans. */
  children: string
  /** Held while a CLI starts the daemon, so two commands never start two. */
  startLock: string
  /** Held (a directory) while a daemon checks the record and claims it. */
  claimLock: string
  /** What runs, as the daemon last published it (PublishedStatus): what reads show without asking it. */
  status: string
}

export interface ProcessIdentity {
  pid: number
  /** The start time the OS gave the process (undefined where it cannot be read). */
  start?: string
}

export interface SupervisorRecord extends ProcessIdentity {
  /** Unset while the daemon starts up; clients wait for it. */
  socket?: string
  /** The shell loop that starts the daemon again when it dies. */
  watchdog?: ProcessIdentity
}

/**
 * How a daemon exits, for its watchdog and the CLI that started it. The watchdog starts it
 * again after anything but `stopped` and `twin`; after `router` and `startup` only when it had
 * run before (a first start that fails is the starting command's to report).
 */
export const DAEMON_EXIT = {stopped: 0, crashed: 1, router: 3, startup: 4, twin: 5} as const

/** Unix socket paths are limited to ~104 bytes. */
const SOCKET_PATH_MAX = 100

/** supervisor.out is kept across starts (it holds the last crash's reason) but not forever. */
const OUTPUT_MAX_BYTES = 256 * 1024

/** What the daemon prints before exiting when its router cannot listen; the client shows the rest. */
export const ROUTER_ERROR_PREFIX = 'herogate-router-error: '
/** What it prints before exiting when anything else stops it from starting. */
export const START_ERROR_PREFIX = 'herogate-start-error: '

export function supervisorPaths(appDir: string): SupervisorPaths {
  return {
    record: join(appDir, 'supervisor.json'),
    socket: join(appDir, 'supervisor.sock'),
    output: join(appDir, 'supervisor.out'),
    children: join(appDir, 'supervisor.children.json'),
    startLock: join(appDir, 'supervisor.starting'),
    claimLock: join(appDir, 'supervisor.claim'),
    status: join(appDir, 'supervisor.status.json'),
  }
}

/**
 * The socket path for a new daemon: in the app directory when it fits; otherwise in a new
 * directory made by mkdtemp (ours, 0700, a name nobody could have created before us), so
 * another local user cannot block it by creating a directory first.
 */
export function newSocketPath(appDir: string): string {
  const inAppDir = supervisorPaths(appDir).socket
  if (Buffer.byteLength(inAppDir) <= SOCKET_PATH_MAX) return inAppDir
  const prefix = `herogate-${process.getuid?.() ?? 'user'}-`
  const fits = (base: string) => Buffer.byteLength(join(base, `${prefix}XXXXXX`, 'supervisor.sock')) <= SOCKET_PATH_MAX
  const base = fits(tmpdir()) ? tmpdir() : '/tmp'
  return join(mkdtempSync(join(base, prefix)), 'supervisor.sock')
}

/** Removes a socket and, when it lived in its own temp directory, that directory. */
export function removeSocket(appDir: string, socket: string | undefined): void {
  if (!socket) return
  try {
    rmSync(socket, {force: true})
    if (dirname(socket) !== appDir) rmdirSync(dirname(socket))
  } catch {}
}

/**
 * The socket's directory must be ours and closed to others: the socket carries config values.
 * Undefined when it is; otherwise what is wrong with it, in words for the user.
 */
export function socketDirProblem(socket: string): string | undefined {
  const dir = dirname(socket)
  let stat
  try {
    stat = lstatSync(dir)
  } catch (error) {
    return `${dir} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`
  }

  const uid = process.getuid?.()
  if (!stat.isDirectory()) return `${dir} is not a directory`
  if (uid !== undefined && stat.uid !== uid) return `${dir} belongs to another user (uid ${stat.uid})`
  // Others may pass through (o+x, no read or write): a local Postgres run as the postgres user reaches its data that way; the socket itself is 0600.
  if ((stat.mode & 0o076) !== 0) return `${dir} is open to other users (mode ${(stat.mode & 0o777).toString(8)})`
  return undefined
}

/** Keeps supervisor.out bounded: past the limit, only its newer half stays. */
export function trimOutput(path: string): void {
  try {
    if (statSync(path).size <= OUTPUT_MAX_BYTES) return
    const tail = readFileSync(path, 'utf8').slice(-OUTPUT_MAX_BYTES / 2)
    writeFileSync(path, tail.slice(tail.indexOf('\n') + 1), {mode: 0o600})
  } catch {}
}

export function readRecord(appDir: string): SupervisorRecord | undefined {
  try {
    const record = JSON.parse(readFileSync(supervisorPaths(appDir).record, 'utf8')) as SupervisorRecord
    return Number.isInteger(record.pid) && record.pid > 1 ? record : undefined
  } catch {
    return undefined
  }
}

export function writeRecord(appDir: string, record: SupervisorRecord): void {
  writeFileAtomic(supervisorPaths(appDir).record, JSON.stringify(record))
}

/**
 * What the daemon runs, written by the daemon itself whenever any of it changes (a process
 * starts, comes up, crashes, stops; a scheduled run starts or ends), before it answers
 * whoever caused the change. Reads (ps, info, apps) show it without a request to the daemon:
 * no socket, no round trip (bench/startup.ts).
 */
export interface PublishedStatus extends ProcessIdentity {
  /** Still bringing back the release that ran before it started: what runs is not yet what the records say. */
  restoring: boolean
  processes: ProcessInfo[]
}

/** The daemon's side: the file is replaced whole, so a reader sees one state or the next. */
export function publishStatus(appDir: string, status: PublishedStatus): void {
  writeFileAtomic(supervisorPaths(appDir).status, JSON.stringify(status))
}

/**
 * What the app's supervisor runs, as it last published it, when that is still the truth: the
 * publisher is the supervisor of the record, it runs (not stopped: a SIGSTOPped daemon is
 * not watching its processes) and it has its release back. Undefined otherwise, and the
 * caller asks the daemon (which waits for it, or brings it back).
 */
export function publishedProcesses(appDir: string): ProcessInfo[] | undefined {
  const record = readRecord(appDir)
  if (!record?.socket) return undefined
  let published: PublishedStatus
  try {
    published = JSON.parse(readFileSync(supervisorPaths(appDir).status, 'utf8')) as PublishedStatus
  } catch {
    return undefined
  }

  if (published.pid !== record.pid || published.start !== record.start || published.restoring || !Array.isArray(published.processes)) return undefined
  const state = processState(record.pid)
  // Without /proc (macOS): whether it runs is all there is to know.
  const watching = state ? state.start === record.start && !'TtZX'.includes(state.code) : stillRunning(record)
  return watching ? published.processes : undefined
}

/** The identity of a process now (its pid and start time). */
export function identify(pid: number): ProcessIdentity {
  const start = processStartTime(pid)
  return start === undefined ? {pid} : {pid, start}
}

/** The very process that was recorded still runs (not a zombie, not a later process given the same pid). */
export function stillRunning(identity: ProcessIdentity | undefined): boolean {
  if (!identity || !processRunning(identity.pid)) return false
  return identity.start === undefined || processStartTime(identity.pid) === identity.start
}

/**
 * Runs `fn` holding the app's claim lock (a directory: mkdir is atomic). A lock left by a
 * daemon that died while holding it is stale after a few seconds. Undefined when the lock
 * stayed busy.
 */
export async function withClaimLock<T>(appDir: string, fn: () => T): Promise<T | undefined> {
  const lock = supervisorPaths(appDir).claimLock
  for (let attempt = 0; attempt < 200; attempt++) {
    try {
      mkdirSync(lock, {mode: 0o700})
    } catch {
      try {
        if (Date.now() - statSync(lock).mtimeMs > 5000) rmdirSync(lock)
      } catch {}

      await new Promise((resolve) => setTimeout(resolve, 25))
      continue
    }

    try {
      return fn()
    } finally {
      try {
        rmdirSync(lock)
      } catch {}
    }
  }

  return undefined
}
