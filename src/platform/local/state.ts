import {existsSync, linkSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {hostname} from 'node:os'
import {join} from 'node:path'

import {AppNotFound, HerogateError, LockHeld} from '../../lib/errors.js'
import {localAppDir, localAppsDir, localRepoPath} from '../../lib/home.js'
import {appNameProblem, checkAppName} from '../../lib/naming.js'
import type {AppSettings} from '../types.js'
import {processRunning, processStartTime} from './processes.js'

/**
 * A local app's state on disk, under HEROGATE_HOME/apps/NAME (mode 0700):
 *   app.json            AppRecord (port, formation, current release, current config version, settings)
 *   repo.git/           the bare repo that is the "herogate" remote
 *   releases/NNNNNN.json  one immutable release record each (only its status moves on)
 *   config/NNNNNN.json    one config snapshot each, 0600: releases refer to them by number
 *   builds/ID/          checked-out, built code a release runs
 *   lock                who is changing the app now (pid and start time, operation): see withLock
 * Every write goes to a temporary file first and is renamed into place, so a crash never
 * leaves half a file behind.
 */

export interface AppRecord {
  name: string
  /** The router's port on 127.0.0.1, fixed at create time. */
  port: number
  createdAt: string
  /** Process type to count. */
  formation: Record<string, number>
  /** The release serving now (0: none yet). */
  current: number
  /** The config snapshot in effect now (0: empty config). */
  configVersion: number
  /** App settings that differ from their defaults (lib/settings.ts); not part of releases. */
  settings?: Partial<AppSettings>
}

export const appPaths = (app: string) => {
  const dir = localAppDir(checkAppName(app))
  return {
    dir,
    record: join(dir, 'app.json'),
    repo: localRepoPath(app),
    releases: join(dir, 'releases'),
    config: join(dir, 'config'),
    builds: join(dir, 'builds'),
    lock: join(dir, 'lock'),
  }
}

export type AppPaths = ReturnType<typeof appPaths>

/** Writes `data` to `file` atomically: a temporary file beside it, then rename. */
export function writeFileAtomic(file: string, data: string, mode = 0o600): void {
  const temporary = `${file}.${process.pid}.${randomHex(4)}.tmp`
  try {
    writeFileSync(temporary, data, {mode})
    renameSync(temporary, file)
  } catch (error) {
    rmSync(temporary, {force: true})
    throw error
  }
}

export function writeJsonAtomic(file: string, value: unknown, mode = 0o600): void {
  writeFileAtomic(file, JSON.stringify(value, null, 2) + '\n', mode)
}

export function readJson<T>(file: string): T {
  return JSON.parse(readFileSync(file, 'utf8')) as T
}

export function appExists(app: string): boolean {
  return existsSync(appPaths(app).record)
}

/** An app whose directory is there but whose app.json is missing or unreadable: it can only be destroyed. */
export class DamagedApp extends HerogateError {
  constructor(readonly app: string, readonly file: string, readonly problem: string) {
    super(`App ${app} is damaged: ${file} ${problem}.`, {suggestions: [`herogate destroy -a ${app} --confirm ${app} (removes it)`]})
  }
}

export function readApp(app: string): AppRecord {
  const paths = appPaths(app)
  if (!existsSync(paths.record)) {
    if (existsSync(paths.dir)) throw new DamagedApp(app, paths.record, 'is missing')
    throw new AppNotFound(app, 'the local platform', ['herogate apps', `herogate create ${app} --local`])
  }

  let record: AppRecord
  try {
    record = readJson<AppRecord>(paths.record)
  } catch {
    throw new DamagedApp(app, paths.record, 'is not valid JSON')
  }

  const sound = record && typeof record === 'object' && Number.isInteger(record.port) && Number.isInteger(record.current) &&
    Number.isInteger(record.configVersion ?? 0) && typeof record.formation === 'object' && record.formation !== null
  if (!sound) throw new DamagedApp(app, paths.record, 'lacks the port, formation or current release')
  return {...record, name: app}
}

export function writeApp(record: AppRecord): void {
  writeJsonAtomic(appPaths(record.name).record, record)
}

/** Every app under HEROGATE_HOME/apps, by name (damaged ones too: readApp tells). */
export function listAppNames(): string[] {
  const dir = localAppsDir()
  if (!existsSync(dir)) return []
  return readdirSync(dir, {withFileTypes: true})
    .filter((entry) => entry.isDirectory() && !appNameProblem(entry.name))
    .map((entry) => entry.name)
    .sort()
}

export function makePrivateDir(dir: string): void {
  mkdirSync(dir, {recursive: true, mode: 0o700})
}

/** Zero-padded so that a directory listing sorts by version. */
export function versionFile(dir: string, version: number): string {
  return join(dir, `${String(version).padStart(6, '0')}.json`)
}

/** Highest N among NNNNNN.json files in `dir` (0 when there are none). */
export function latestVersion(dir: string): number {
  if (!existsSync(dir)) return 0
  let latest = 0
  for (const name of readdirSync(dir)) {
    const match = /^(\d{6,})\.json$/.exec(name)
    if (match) latest = Math.max(latest, Number(match[1]))
  }

  return latest
}

/**
 * The app lock: who is changing the app now. The lock file is written complete under a
 * temporary name and then hard-linked into place, which fails if a lock is there: it appears
 * whole or not at all, so no one ever reads a lock that is half written, and of two takers
 * exactly one wins. A lock is taken over only when its holder is provably dead: its pid is
 * gone, or that pid now belongs to a process that started at another time. The removal of a
 * dead holder's lock is itself guarded (breakDead) so that two waiters breaking the same
 * stale lock can never remove the lock one of them took meanwhile. The holder can hand the
 * lock to another process (the supervisor, which then owns the release: takeOverLock).
 */
interface LockInfo {
  pid: number
  /** The holder's start time as the OS reports it: tells the holder from a later process given the same pid. */
  start?: string
  host: string
  operation: string
  holder: string
  since: string
  /** This holding's own mark: only its holder releases it or hands it over. */
  token: string
}

export interface HeldLock {
  readonly token: string
  /** Lets go, unless the lock has been handed over (then its new holder lets go). */
  release(): void
}

export interface LockOptions {
  /** How long to wait for another holder before giving up with LockHeld. */
  waitMs?: number
  sleep?: (ms: number) => Promise<void>
  now?: () => number
}

/** A lock file nobody can parse (an older herogate mid-write, or damage) counts as dead once it is this old. */
const UNREADABLE_STALE_MS = 5000

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

let ownStart: string | undefined
function lockInfo(operation: string, holder: string): LockInfo {
  const start = (ownStart ??= processStartTime(process.pid))
  return {pid: process.pid, ...(start ? {start} : {}), host: hostname(), operation, holder, since: new Date().toISOString(), token: randomHex(12)}
}

/** Creates `file` with `info` in it, atomically: false when it exists already. */
function createExclusive(file: string, info: LockInfo): boolean {
  const temporary = `${file}.${process.pid}.${randomHex(4)}.tmp`
  try {
    writeFileSync(temporary, JSON.stringify(info), {mode: 0o600})
    linkSync(temporary, file)
    return true
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw error
  } finally {
    rmSync(temporary, {force: true})
  }
}

/** What a lock file says now: its holder, and a key naming this very file (its token, or its inode when unreadable). */
function readLock(file: string): {key: string; info?: LockInfo; modified: number} | undefined {
  let text: string
  let stat
  try {
    stat = statSync(file)
    text = readFileSync(file, 'utf8')
  } catch {
    return undefined
  }

  let info: LockInfo | undefined
  try {
    const parsed = JSON.parse(text) as LockInfo
    if (typeof parsed.pid === 'number') info = parsed
  } catch {}

  // An older herogate's lock has no token: its inode names it (a new lock always has a token).
  return {key: typeof info?.token === 'string' ? info.token : `inode-${stat.ino}`, info, modified: stat.mtimeMs}
}

function holderDead(lock: {info?: LockInfo; modified: number}): boolean {
  const {info} = lock
  if (!info) return Date.now() - lock.modified > UNREADABLE_STALE_MS
  // Another machine's process (a shared home directory) cannot be checked from here.
  if (info.host && info.host !== hostname()) return false
  if (!processRunning(info.pid)) return true
  if (!info.start) return false
  const start = processStartTime(info.pid)
  return start !== undefined && start !== info.start
}

/**
 * Removes the lock `file` when its holder is dead. Whoever removes a given lock must first
 * create FILE.break-KEY (exclusively) and re-read the lock under it: a lock taken by someone
 * else in the meantime has another key and is left alone. A breaker that died holding its
 * guard is dead in turn, and its guard is broken the same way.
 */
function breakDead(file: string, depth = 0): void {
  const seen = readLock(file)
  if (!seen || !holderDead(seen)) return
  const guard = `${file}.break-${seen.key}`
  if (!createExclusive(guard, lockInfo('break', 'herogate'))) {
    if (depth < 3) breakDead(guard, depth + 1)
    return
  }

  try {
    if (readLock(file)?.key === seen.key) rmSync(file, {force: true})
  } finally {
    rmSync(guard, {force: true})
  }
}

function held(file: string, token: string): HeldLock {
  return {
    token,
    release() {
      // Under the guard takeOverLock takes, so the lock cannot pass to a new holder in between the
      // check and the removal. The guard is held for a few system calls: wait for it.
      const guard = `${file}.break-${token}`
      const take = () => {
        try {
          return createExclusive(guard, lockInfo('release', 'herogate'))
        } catch {
          return undefined // The app's directory is gone (destroy): so is the lock.
        }
      }

      for (let attempt = 0; ; attempt++) {
        const taken = take()
        if (taken === undefined || (!taken && attempt === 200)) return
        if (taken) break
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5)
      }

      try {
        if (readLock(file)?.key === token) rmSync(file, {force: true})
      } finally {
        rmSync(guard, {force: true})
      }
    },
  }
}

/** Takes the app's lock once, without waiting: the held lock, or undefined when someone alive holds it. */
export function tryLock(app: string, operation: string, holder: string): HeldLock | undefined {
  const file = appPaths(app).lock
  for (let attempt = 0; attempt < 2; attempt++) {
    const info = lockInfo(operation, holder)
    try {
      if (createExclusive(file, info)) return held(file, info.token)
    } catch (error) {
      // The app's directory is gone: destroyed while this change waited for it.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new AppNotFound(app, 'the local platform')
      throw error
    }

    breakDead(file)
  }

  return undefined
}

/**
 * Takes over the lock `token` names from its holder, who asked for it and waits: under the
 * same guard as breakDead, so a breaker cannot remove the lock as it changes hands. Undefined
 * when the lock is not (or no longer) held with that token.
 */
export function takeOverLock(lockFile: string, token: string, operation: string): HeldLock | undefined {
  const seen = readLock(lockFile)
  if (seen?.key !== token || !seen.info) return undefined
  const guard = `${lockFile}.break-${token}`
  if (!createExclusive(guard, lockInfo('hand-over', 'herogate'))) return undefined
  try {
    if (readLock(lockFile)?.key !== token) return undefined
    const info = lockInfo(operation, seen.info.holder)
    writeJsonAtomic(lockFile, info)
    return held(lockFile, info.token)
  } finally {
    rmSync(guard, {force: true})
  }
}

function lockHolder(app: string): LockInfo | undefined {
  return readLock(appPaths(app).lock)?.info
}

/** Serializes changes of one app across processes: waits up to waitMs for the lock, then LockHeld. */
export async function withLock<T>(app: string, operation: string, fn: (lock: HeldLock) => Promise<T>, options: LockOptions = {}): Promise<T> {
  const sleep = options.sleep ?? defaultSleep
  const now = options.now ?? Date.now
  const waitMs = options.waitMs ?? 120_000
  const holder = process.env.USER || 'herogate'
  const start = now()
  for (;;) {
    const lock = tryLock(app, operation, holder)
    if (lock) {
      try {
        return await fn(lock)
      } finally {
        lock.release()
      }
    }

    if (now() - start >= waitMs) {
      const info = lockHolder(app)
      throw new LockHeld(app, info?.holder ?? 'another process', new Date(info?.since ?? start), info?.operation ?? 'a change')
    }

    await sleep(50)
  }
}

/** Random bytes in hex, from WebCrypto's global: node loads its crypto only when a change needs it, not for reads. */
function randomHex(bytes: number): string {
  return Buffer.from(globalThis.crypto.getRandomValues(new Uint8Array(bytes))).toString('hex')
}
