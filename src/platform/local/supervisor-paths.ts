import {lstatSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmdirSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'

import {processRunning, processStartTime} from './processes.js'

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
  const file = supervisorPaths(appDir).record
  const temporary = `${file}.${process.pid}.tmp`
  writeFileSync(temporary, JSON.stringify(record), {mode: 0o600})
  renameSync(temporary, file)
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
