import {closeSync, openSync, readdirSync, readlinkSync, readSync} from 'node:fs'
import {endianness} from 'node:os'

import type {ProcessInfo} from '../types.js'
import {groupMembers} from './processes.js'

/**
 * Where a web process listens beyond loopback. An app that calls `listen(PORT)` without a
 * host listens on every interface, so other machines reach it without the router. Linux
 * tells: the group's sockets (/proc/PID/fd, `socket:[INODE]`) are matched with the listening
 * TCP sockets of /proc/net/tcp and tcp6. Elsewhere this says nothing rather than guess. The
 * supervisor looks once, as a web process comes up, and ps shows what it found (ProcessInfo
 * exposed): the socket table takes milliseconds to read, which a read command must not spend.
 */

const LISTEN = '0A'

/**
 * One line about the web processes that listen beyond loopback, unless HEROGATE_BIND says the
 * app is meant to be reachable; undefined when none do or this machine cannot tell.
 */
export function listenWarning(processes: ProcessInfo[], bind = process.env.HEROGATE_BIND): string | undefined {
  if (bind) return undefined
  const lines = processes
    .filter((process) => process.type === 'web' && process.status !== 'crashed' && process.exposed?.length)
    .map((process) => `${process.name} listens on ${process.exposed!.join(', ')}`)
  if (lines.length === 0) return undefined
  return `${lines.join('; ')}: beyond 127.0.0.1, so other machines can reach ${lines.length > 1 ? 'these processes' : 'it'} without the router. Listen on 127.0.0.1 (e.g. server.listen(process.env.PORT, '127.0.0.1')), or set HEROGATE_BIND if the app is meant to be reachable.`
}

/**
 * `ADDRESS:PORT` of every socket that each process group listens on beyond loopback, by group
 * id; undefined where /proc cannot tell. /proc is read once for all the groups: a busy
 * machine's socket table takes a while to read.
 */
export function publicListeners(pgids: number[]): Map<number, string[]> | undefined {
  const found = new Map<number, string[]>(pgids.map((pgid) => [pgid, []]))
  // The machine's few listening sockets first: with none beyond loopback, no process can have one.
  const listening = listeningSockets()
  if (!listening) return undefined
  if (listening.size === 0) return found
  const members = groupMembers(new Set(pgids))
  if (!members) return undefined
  const inodes = new Map<string, number>()
  for (const [pgid, pids] of members) {
    for (const pid of pids) for (const inode of socketInodes(pid)) inodes.set(inode, pgid)
  }

  for (const [inode, pgid] of inodes) {
    const address = listening.get(inode)
    if (address && !found.get(pgid)!.includes(address)) found.get(pgid)!.push(address)
  }

  return found
}

/** Inodes of the sockets a process holds (`socket:[INODE]` links in /proc/PID/fd); none when it cannot be read. */
function socketInodes(pid: number): string[] {
  let fds: string[]
  try {
    fds = readdirSync(`/proc/${pid}/fd`)
  } catch {
    return []
  }

  return fds.flatMap((fd) => {
    try {
      const inode = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1]
      return inode ? [inode] : []
    } catch {
      return []
    }
  })
}

/** Listening TCP sockets not bound to loopback, by inode; undefined without /proc/net/tcp. */
function listeningSockets(): Map<string, string> | undefined {
  const sockets = new Map<string, string>()
  let any = false
  for (const [file, decode] of [['/proc/net/tcp', ipv4], ['/proc/net/tcp6', ipv6]] as const) {
    const lines = listenLines(file)
    if (!lines) continue
    any = true
    for (const line of lines) {
      // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode ...
      const fields = line.trim().split(/\s+/)
      if (fields.length < 10 || fields[3] !== LISTEN) continue
      const [hex, port] = fields[1].split(':')
      const address = decode(hex)
      if (!address.loopback) sockets.set(fields[9], `${address.text}:${Number.parseInt(port, 16)}`)
    }
  }

  return any ? sockets : undefined
}

/**
 * The LISTEN lines of /proc/net/tcp or tcp6, read no further than they go: the kernel lists
 * listening sockets before all others (tcp_seq_start: the listening hash, then the
 * established one), and on a busy machine the others, thousands in TIME_WAIT, are most of the
 * file and of what reading it costs `herogate ps`. test/platform/local/listening.test.ts checks
 * that order on the machine it runs on. Undefined when the file cannot be read.
 */
function listenLines(file: string): string[] | undefined {
  let fd: number
  try {
    fd = openSync(file, 'r')
  } catch {
    return undefined
  }

  const lines: string[] = []
  try {
    // Small reads: the kernel formats about as many sockets as each read asks for.
    const buffer = Buffer.alloc(1024)
    let pending = ''
    let header = true
    for (;;) {
      const read = readSync(fd, buffer, 0, buffer.length, null)
      if (read === 0) return lines
      const parts = (pending + buffer.toString('latin1', 0, read)).split('\n')
      pending = parts.pop()!
      for (const line of parts) {
        if (header) {
          header = false
          continue
        }

        if (line.trim().split(/\s+/)[3] !== LISTEN) return lines
        lines.push(line)
      }
    }
  } catch {
    return lines.length > 0 ? lines : undefined
  } finally {
    closeSync(fd)
  }
}

/** The kernel prints each 32-bit word of an address in host byte order. */
function wordBytes(hex: string): number[] {
  const bytes = [0, 2, 4, 6].map((i) => Number.parseInt(hex.slice(i, i + 2), 16))
  return endianness() === 'LE' ? bytes.reverse() : bytes
}

function ipv4(hex: string): {text: string; loopback: boolean} {
  const bytes = wordBytes(hex)
  return {text: bytes.join('.'), loopback: bytes[0] === 127}
}

function ipv6(hex: string): {text: string; loopback: boolean} {
  const bytes = [0, 8, 16, 24].flatMap((i) => wordBytes(hex.slice(i, i + 8)))
  const groups = Array.from({length: 8}, (_, i) => ((bytes[2 * i] << 8) | bytes[2 * i + 1]).toString(16))
  const zeros = (from: number, to: number) => bytes.slice(from, to).every((b) => b === 0)
  const mapped = zeros(0, 10) && bytes[10] === 0xff && bytes[11] === 0xff
  const loopback = (zeros(0, 15) && bytes[15] === 1) || (mapped && bytes[12] === 127)
  // The URL parser writes an IPv6 address the short way ([::], [::1]).
  return {text: new URL(`http://[${groups.join(':')}]/`).hostname, loopback}
}
