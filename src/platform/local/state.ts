import {randomBytes} from 'node:crypto'
import {closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {AppNotFound, LockHeld} from '../../lib/errors.js'
import {localAppDir, localAppsDir, localRepoPath} from '../../lib/home.js'
import type {AppSettings} from '../types.js'

/**
 * A local app's state on disk, under HEROGATE_HOME/apps/NAME (mode 0700):
 *   app.json            AppRecord (port, formation, current release, current config version, settings)
 *   repo.git/           the bare repo that is the "herogate" remote
 *   releases/NNNNNN.json  one immutable release record each (only its status moves on)
 *   config/NNNNNN.json    one config snapshot each, 0600: releases refer to them by number
 *   builds/ID/          checked-out, built code a release runs
 *   lock                who is changing the app now (pid, operation)
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
  const dir = localAppDir(app)
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
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`
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

export function readApp(app: string): AppRecord {
  const paths = appPaths(app)
  if (!existsSync(paths.record)) throw new AppNotFound(app, 'the local platform', ['herogate apps', `herogate create ${app} --local`])
  return readJson<AppRecord>(paths.record)
}

export function writeApp(record: AppRecord): void {
  writeJsonAtomic(appPaths(record.name).record, record)
}

/** Every app under HEROGATE_HOME/apps, by name. */
export function listAppNames(): string[] {
  const dir = localAppsDir()
  if (!existsSync(dir)) return []
  return readdirSync(dir, {withFileTypes: true})
    .filter((entry) => entry.isDirectory() && existsSync(join(dir, entry.name, 'app.json')))
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

interface LockInfo {
  pid: number
  operation: string
  holder: string
  since: string
}

export interface LockOptions {
  /** How long to wait for another holder before giving up with LockHeld. */
  waitMs?: number
  sleep?: (ms: number) => Promise<void>
  now?: () => number
}

/** No change of one app takes this long; an older lock outlived its holder even if its pid is in use again. */
const STALE_AFTER_MS = 60 * 60 * 1000

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Takes the app's lock once, without waiting: the release function, or undefined when someone else holds it. */
export function tryLock(app: string, operation: string, holder: string): (() => void) | undefined {
  const file = appPaths(app).lock
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o600)
      const info: LockInfo = {pid: process.pid, operation, holder, since: new Date().toISOString()}
      writeFileSync(fd, JSON.stringify(info))
      closeSync(fd)
      return () => {
        // Only remove the lock if it is still ours (a stale-lock breaker may have replaced it).
        try {
          if (readJson<LockInfo>(file).pid === process.pid) rmSync(file, {force: true})
        } catch {
          // Already gone.
        }
      }
    } catch (error) {
      // The app's directory is gone: destroyed while this change waited for it.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new AppNotFound(app, 'the local platform')
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      const info = readLockInfo(file)
      if (info && pidAlive(info.pid) && Date.now() - Date.parse(info.since) < STALE_AFTER_MS) return undefined
      // The holder died (or its pid went to another process long ago, or the file is half
      // written by a crash): the lock is stale.
      rmSync(file, {force: true})
    }
  }

  return undefined
}

function readLockInfo(file: string): LockInfo | undefined {
  try {
    return readJson<LockInfo>(file)
  } catch {
    return undefined
  }
}

/** Serializes changes of one app across processes: waits up to waitMs for the lock, then LockHeld. */
export async function withLock<T>(app: string, operation: string, fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  const sleep = options.sleep ?? defaultSleep
  const now = options.now ?? Date.now
  const waitMs = options.waitMs ?? 120_000
  const holder = process.env.USER || 'herogate'
  const start = now()
  for (;;) {
    const release = tryLock(app, operation, holder)
    if (release) {
      try {
        return await fn()
      } finally {
        release()
      }
    }

    if (now() - start >= waitMs) {
      const info = readLockInfo(appPaths(app).lock)
      throw new LockHeld(app, info?.holder ?? 'another process', new Date(info?.since ?? start), info?.operation ?? 'a change')
    }

    await sleep(50)
  }
}
