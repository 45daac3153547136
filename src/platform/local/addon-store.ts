import {existsSync, readdirSync, rmSync} from 'node:fs'
import {join} from 'node:path'

import type {Addon} from '../addons.js'
import {processStartTime} from './processes.js'
import {readJson, writeJsonAtomic} from './state.js'

/**
 * A local add-on on disk: APPDIR/addons/NAME.json (mode 0600: it holds the password the
 * config var carries too) and its data under APPDIR/addons/NAME/. The supervisor serves the
 * records that are `initialized`; a create that died halfway leaves one whose creator is gone.
 */
export interface AddonRecord extends Pick<Addon, 'name' | 'service' | 'plan' | 'state' | 'configVar' | 'createdAt' | 'reason'> {
  port: number
  user: string
  password: string
  /** Postgres: its database; Redis: none. */
  database?: string
  /** Postgres: the release of the package (15.18.0-beta.17); Redis: the server's path. */
  version?: string
  server?: string
  /** Its data directory is made: the supervisor serves it from now on. */
  initialized: boolean
  /** The herogate process making or destroying it: when that is gone mid-way, it was interrupted. */
  owner?: {pid: number; start?: string}
}

export function addonsDir(appDir: string): string {
  return join(appDir, 'addons')
}

export function addonFile(appDir: string, name: string): string {
  return join(addonsDir(appDir), `${name}.json`)
}

export function addonDataDir(appDir: string, name: string): string {
  return join(addonsDir(appDir), name)
}

export function readAddons(appDir: string): AddonRecord[] {
  const dir = addonsDir(appDir)
  if (!existsSync(dir)) return []
  return readdirSync(dir)
    .filter((file) => file.endsWith('.json'))
    .flatMap((file) => {
      try {
        return [readJson<AddonRecord>(join(dir, file))]
      } catch {
        return []
      }
    })
    .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.name.localeCompare(b.name))
}

export function readAddon(appDir: string, name: string): AddonRecord | undefined {
  try {
    return readJson<AddonRecord>(addonFile(appDir, name))
  } catch {
    return undefined
  }
}

export function writeAddon(appDir: string, record: AddonRecord): void {
  writeJsonAtomic(addonFile(appDir, record.name), record)
}

export function removeAddon(appDir: string, name: string): void {
  rmSync(addonDataDir(appDir, name), {recursive: true, force: true})
  rmSync(addonFile(appDir, name), {force: true})
}

export function me(): {pid: number; start?: string} {
  const start = processStartTime(process.pid)
  return {pid: process.pid, ...(start ? {start} : {})}
}

/** Its owner is still at work on it (the same process: same pid, same start time). */
export function ownerAlive(record: AddonRecord): boolean {
  const owner = record.owner
  if (!owner) return false
  const start = processStartTime(owner.pid)
  return start !== undefined && (owner.start === undefined || owner.start === start)
}

/** A record left mid-way (creating or deleting) by a process that is gone. */
export function interrupted(record: AddonRecord): boolean {
  return (record.state === 'creating' || record.state === 'deleting') && !ownerAlive(record)
}
