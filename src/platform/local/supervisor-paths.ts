import {createHash} from 'node:crypto'
import {lstatSync, mkdirSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'

/** Where an app's supervisor keeps its socket, pid, output and child list (all in the app directory). */
export interface SupervisorPaths {
  socket: string
  pid: string
  /** The daemon's own stdout and stderr (start-up errors); app output goes to the log store. */
  output: string
  /** Pids of the running processes (no environment), so a restarted daemon can stop orphans. */
  children: string
  /** Held while a CLI starts the daemon, so two commands never start two. */
  startLock: string
}

/** Unix socket paths are limited to ~104 bytes; a deeper app directory gets its socket in the temp dir. */
const SOCKET_PATH_MAX = 100

export function supervisorPaths(appDir: string): SupervisorPaths {
  let socket = join(appDir, 'supervisor.sock')
  if (Buffer.byteLength(socket) > SOCKET_PATH_MAX) {
    const uid = process.getuid?.() ?? 'user'
    socket = join(tmpdir(), `herogate-${uid}`, `${createHash('sha256').update(appDir).digest('hex').slice(0, 20)}.sock`)
  }

  return {
    socket,
    pid: join(appDir, 'supervisor.pid'),
    output: join(appDir, 'supervisor.out'),
    children: join(appDir, 'supervisor.children.json'),
    startLock: join(appDir, 'supervisor.starting'),
  }
}

/**
 * The socket's directory must be ours and closed to others: the socket carries config values.
 * Creates the private temp directory a long app path falls back to; false when a directory
 * there belongs to someone else or is open to others (then nobody should use the socket).
 */
export function socketDirSafe(socket: string, create = false): boolean {
  const dir = dirname(socket)
  if (create) {
    try {
      mkdirSync(dir, {recursive: true, mode: 0o700})
    } catch {}
  }

  try {
    const stat = lstatSync(dir)
    const uid = process.getuid?.()
    return stat.isDirectory() && (uid === undefined || stat.uid === uid) && (stat.mode & 0o077) === 0
  } catch {
    return false
  }
}
