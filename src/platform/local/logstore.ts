import {appendFileSync, closeSync, fstatSync, mkdirSync, openSync, readSync, renameSync, rmdirSync, statSync, watch, type FSWatcher} from 'node:fs'
import {join} from 'node:path'

import {inTimeOrder} from '../../lib/time-order.js'
import type {LogLine, LogOptions} from '../types.js'
import type {LogReader, LogWriter} from './contracts.js'

/**
 * One app's log store: append-only JSON lines in `<appDir>/logs/`, written by any process
 * (the supervisor writes app output and router lines; the CLI writes build and release
 * events). Each append is one O_APPEND write, so writers never interleave inside a line.
 * The live file rotates at `maxBytes` to one old file, so the store stays bounded.
 * A write that fails (full disk, quota, read-only) never reaches the writer: the store holds
 * a little, drops the rest, says so once, and on the first write that works again records how
 * many lines were lost, as Heroku's L12 does.
 */

export interface LogStoreOptions {
  /** Rotate the live file once it grows past this (default 4 MB). */
  maxBytes?: number
  /** Collect appends and write them in one go every `flushMs` (the supervisor: one write per burst, not per line). */
  buffered?: boolean
  /** How long a buffered store holds lines before writing them (default 20 ms). */
  flushMs?: number
  /** How often a tail looks for new lines when no file event arrived (default 200 ms). */
  pollMs?: number
  /** The file seam: appends text to a file (default appendFileSync; tests make it fail as a full disk does). */
  appendFile?: (path: string, text: string) => void
  /** Told once per outage that lines are being dropped, and why (the supervisor writes it to its output). */
  onTrouble?: (message: string) => void
  /** How long a tail holds fresh lines to print them in time order (default TAIL_HOLD_MS). */
  tailHoldMs?: number
}

/**
 * A buffered store writes at once past this much: a burst of output then costs a few
 * writes a millisecond instead of piling up in memory until the timer fires.
 */
const FLUSH_BYTES = 64 * 1024

/** What a failing store keeps for a retry; lines beyond it are dropped and counted. */
const HOLD_MAX_BYTES = 256 * 1024

const CURRENT = 'herogate.log.jsonl'
const OLD = 'herogate.log.1.jsonl'
const LOCK = '.rotate.lock'
const NEWLINE = 0x0a

interface StoredLine {
  time: string
  source: LogLine['source']
  process: string
  message: string
  release?: number
}

/**
 * How long a tail holds a fresh line so that lines of other writers stamped earlier can pass
 * it (the supervisor writes every 20 ms, a tail wakes on a file event or every 200 ms).
 */
export const TAIL_HOLD_MS = 400

export function logDir(appDir: string): string {
  return join(appDir, 'logs')
}

/** The log store of the app whose directory is `appDir`. */
export function openLogStore(appDir: string, options: LogStoreOptions = {}): LogStore {
  return new LogStore(logDir(appDir), options)
}

export class LogStore implements LogWriter, LogReader {
  readonly currentPath: string
  readonly oldPath: string
  private readonly maxBytes: number
  private readonly pollMs: number
  private pending: string[] = []
  private pendingBytes = 0
  private flushScheduled = false
  private dirReady = false
  private readonly appendFile: (path: string, text: string) => void
  /** Since when writes fail, how many lines were dropped since, and what a retry writes first. */
  private outage: {since: Date; dropped: number; held: string[]; heldBytes: number; code: string} | undefined

  constructor(readonly dir: string, private readonly options: LogStoreOptions = {}) {
    this.currentPath = join(dir, CURRENT)
    this.oldPath = join(dir, OLD)
    this.maxBytes = options.maxBytes ?? 4 * 1024 * 1024
    this.pollMs = options.pollMs ?? 200
    this.appendFile = options.appendFile ?? ((path, text) => appendFileSync(path, text, {mode: 0o600}))
  }

  append(line: LogLine): void {
    const stored: StoredLine = {
      time: line.time.toISOString(), source: line.source, process: line.process, message: line.message, ...(line.release === undefined ? {} : {release: line.release}),
    }
    const text = JSON.stringify(stored) + '\n'
    if (!this.options.buffered) {
      this.write([text])
      return
    }

    this.pending.push(text)
    this.pendingBytes += text.length
    if (this.pendingBytes >= FLUSH_BYTES) {
      this.flush()
      return
    }

    if (!this.flushScheduled) {
      this.flushScheduled = true
      setTimeout(() => {
        this.flushScheduled = false
        this.flush()
      }, this.options.flushMs ?? 20)
    }
  }

  /** Writes buffered lines now (buffered stores flush on their own shortly). */
  flush(): void {
    if (this.pending.length === 0) return
    const lines = this.pending
    this.pending = []
    this.pendingBytes = 0
    this.write(lines)
  }

  /** Lines dropped since writes started failing (0 while the store writes fine). */
  get dropped(): number {
    return this.outage?.dropped ?? 0
  }

  /** History in time order; a tail's lines too, across writers (see inTimeOrder). */
  read(options: LogOptions): AsyncIterable<LogLine> {
    if (!options.tail) return this.lines(options)
    return inTimeOrder(this.lines(options), (line) => line.time.getTime(), {holdMs: this.options.tailHoldMs ?? TAIL_HOLD_MS})
  }

  private write(lines: string[]): void {
    const outage = this.outage
    // After a failed append the file may end in half a line: a newline first seals it off (readers skip it).
    const text = outage ? ['\n', ...outage.held, this.dropNotice(outage), ...lines].join('') : lines.join('')
    try {
      if (!this.dirReady) {
        mkdirSync(this.dir, {recursive: true, mode: 0o700})
        this.dirReady = true
      }

      this.appendFile(this.currentPath, text)
    } catch (error) {
      this.hold(lines, (error as NodeJS.ErrnoException).code ?? (error as Error).message)
      return
    }

    this.outage = undefined
    let size = 0
    try {
      size = statSync(this.currentPath).size
    } catch {
      return
    }

    if (size > this.maxBytes) this.rotate()
  }

  private hold(lines: string[], code: string): void {
    if (!this.outage) {
      this.outage = {since: new Date(), dropped: 0, held: [], heldBytes: 0, code}
      try {
        this.options.onTrouble?.(`cannot write to ${this.currentPath} (${code}): keeping the newest lines in memory and dropping the rest until it works again`)
      } catch {}
    }

    const outage = this.outage
    for (const line of lines) {
      outage.held.push(line)
      outage.heldBytes += line.length
    }

    while (outage.heldBytes > HOLD_MAX_BYTES && outage.held.length > 0) {
      outage.heldBytes -= (outage.held.shift() as string).length
      outage.dropped++
    }
  }

  /** The one line that tells readers about the gap. */
  private dropNotice(outage: NonNullable<LogStore['outage']>): string {
    const since = outage.since.toISOString()
    const message =
      outage.dropped > 0
        ? `Error L12 (Local buffer overflow): ${outage.dropped} messages dropped since ${since} (writing the log store failed: ${outage.code})`
        : `The log store could not be written from ${since} (${outage.code}): ${outage.held.length === 1 ? '1 message was' : `${outage.held.length} messages were`} held and written late, none dropped`
    const stored: StoredLine = {time: new Date().toISOString(), source: 'herogate', process: 'logs', message}
    return JSON.stringify(stored) + '\n'
  }

  /** Under a mkdir lock, so two writers never both rotate (which would drop the old file's lines). */
  private rotate(): void {
    const lock = join(this.dir, LOCK)
    try {
      mkdirSync(lock)
    } catch {
      try {
        // A writer that died mid-rotation leaves the lock; it is stale after a few seconds.
        if (Date.now() - statSync(lock).mtimeMs > 5000) rmdirSync(lock)
      } catch {}

      return
    }

    try {
      if (statSync(this.currentPath).size > this.maxBytes) renameSync(this.currentPath, this.oldPath)
    } catch {
    } finally {
      try {
        rmdirSync(lock)
      } catch {}
    }
  }

  private async *lines(options: LogOptions): AsyncGenerator<LogLine> {
    const matches = matcher(options)
    const signal = options.signal
    if (signal?.aborted) return
    mkdirSync(this.dir, {recursive: true, mode: 0o700})

    // Open the live file first and read history through that same descriptor, so the tail
    // continues at exactly the byte where history stopped: nothing lost, nothing doubled.
    let fd = -1
    let position = 0
    let history: LogLine[] = []
    for (let attempt = 0; attempt < 5; attempt++) {
      fd = openOrNone(this.currentPath)
      const liveIno = fd === -1 ? -1 : fstatSync(fd).ino
      const oldIno = statOrNone(this.oldPath)?.ino
      if (fd !== -1 && oldIno === liveIno) {
        // Rotated between the open and the stat: start again with the new live file.
        closeSync(fd)
        fd = -1
        continue
      }

      history = []
      const old = readFrom(this.oldPath, 0)
      if (old) collect(old.buffer.subarray(0, old.complete), matches, history)
      if (fd !== -1) {
        const live = readFd(fd, 0)
        collect(live.buffer.subarray(0, live.complete), matches, history)
        position = live.complete
      }

      break
    }

    // Writers buffer a little (the supervisor flushes every few ms): show history in time order.
    history.sort((a, b) => a.time.getTime() - b.time.getTime())
    const limit = Math.max(0, options.num)
    try {
      for (const line of limit === 0 ? [] : history.slice(-limit)) yield line
      history = []
      if (!options.tail) return

      const waker = new Waker(this.dir, this.pollMs, signal)
      try {
        let partial: Buffer = Buffer.alloc(0)
        while (!signal?.aborted) {
          if (fd === -1) {
            fd = openOrNone(this.currentPath)
            position = 0
          }

          if (fd !== -1) {
            const chunk = readFd(fd, position)
            position += chunk.buffer.length
            const buffer = partial.length > 0 ? Buffer.concat([partial, chunk.buffer]) : chunk.buffer
            const end = buffer.lastIndexOf(NEWLINE) + 1
            partial = buffer.subarray(end)
            const fresh: LogLine[] = []
            collect(buffer.subarray(0, end), matches, fresh)
            for (const line of fresh) yield line

            const liveIno = statOrNone(this.currentPath)?.ino
            if (liveIno !== undefined && liveIno !== fstatSync(fd).ino) {
              // Rotated: finish the old file (already read to its end above), then follow the new one.
              const rest = readFd(fd, position)
              const tailBuffer = Buffer.concat([partial, rest.buffer])
              const tailLines: LogLine[] = []
              collect(tailBuffer, matches, tailLines)
              for (const line of tailLines) yield line
              partial = Buffer.alloc(0)
              closeSync(fd)
              fd = openOrNone(this.currentPath)
              position = 0
              continue
            }
          }

          await waker.wait()
        }
      } finally {
        waker.close()
      }
    } finally {
      if (fd !== -1) closeSync(fd)
    }
  }
}

function matcher(options: LogOptions): (line: StoredLine) => boolean {
  const since = options.since?.toISOString()
  return (line) => {
    if (options.source && line.source !== options.source) return false
    if (options.task && line.process !== options.task) return false
    if (options.processType && line.process.split('.')[0] !== options.processType) return false
    if (since && line.time < since) return false
    return true
  }
}

function collect(buffer: Buffer, matches: (line: StoredLine) => boolean, into: LogLine[]): void {
  if (buffer.length === 0) return
  for (const text of buffer.toString('utf8').split('\n')) {
    if (!text) continue
    let stored: StoredLine
    try {
      stored = JSON.parse(text) as StoredLine
    } catch {
      continue
    }

    if (!matches(stored)) continue
    into.push({time: new Date(stored.time), source: stored.source, process: stored.process, message: stored.message, ...(stored.release === undefined ? {} : {release: stored.release})})
  }
}

function openOrNone(path: string): number {
  try {
    return openSync(path, 'r')
  } catch {
    return -1
  }
}

function statOrNone(path: string): {ino: number; size: number} | undefined {
  try {
    return statSync(path)
  } catch {
    return undefined
  }
}

/** Everything from `position` to the end; `complete` is the length up to the last newline. */
function readFd(fd: number, position: number): {buffer: Buffer; complete: number} {
  const size = fstatSync(fd).size
  const length = Math.max(0, size - position)
  const buffer = Buffer.alloc(length)
  let read = 0
  while (read < length) {
    const n = readSync(fd, buffer, read, length - read, position + read)
    if (n === 0) break
    read += n
  }

  const data = buffer.subarray(0, read)
  return {buffer: data, complete: data.lastIndexOf(NEWLINE) + 1}
}

function readFrom(path: string, position: number): {buffer: Buffer; complete: number} | undefined {
  const fd = openOrNone(path)
  if (fd === -1) return undefined
  try {
    return readFd(fd, position)
  } finally {
    closeSync(fd)
  }
}

/** Resolves on a file event in the log directory, after `pollMs` at the latest, or on abort. */
class Waker {
  private watcher: FSWatcher | undefined
  private wake: (() => void) | undefined
  private dirty = false

  constructor(dir: string, private readonly pollMs: number, private readonly signal?: AbortSignal) {
    try {
      this.watcher = watch(dir, {persistent: false}, () => this.poke())
      this.watcher.on('error', () => this.closeWatcher())
    } catch {
      this.watcher = undefined
    }

    signal?.addEventListener('abort', this.poke, {once: true})
  }

  private readonly poke = (): void => {
    this.dirty = true
    this.wake?.()
  }

  async wait(): Promise<void> {
    if (this.dirty || this.signal?.aborted) {
      this.dirty = false
      return
    }

    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, this.pollMs)
      function done() {
        clearTimeout(timer)
        resolve()
      }

      this.wake = done
    })
    this.wake = undefined
    this.dirty = false
  }

  private closeWatcher(): void {
    this.watcher?.close()
    this.watcher = undefined
  }

  close(): void {
    this.closeWatcher()
    this.signal?.removeEventListener('abort', this.poke)
  }
}
