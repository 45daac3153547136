import {readFileSync, rmSync} from 'node:fs'
import {join} from 'node:path'

import {DEFAULT_MAINTENANCE_PAGE, readMaintenancePage} from '../../lib/maintenance-page.js'
import type {Maintenance, MaintenanceOptions} from '../maintenance.js'
import {appPaths, writeFileAtomic} from './state.js'

/**
 * Maintenance mode of a local app: one file in the app's directory, holding the page, so that
 * the state and the page change together (written atomically) and survive the supervisor's
 * restarts (it reads the file when it starts). maintenance:on/off write it, then ask a running
 * supervisor to read it again before they return: the router answers with the page from then on.
 */

/** The largest page maintenance:on --page takes locally. */
export const LOCAL_PAGE_LIMIT = 512 * 1024

interface Stored {
  enabled: true
  /** "default" or the name of the file given. */
  page: string
  body: string
}

export const maintenanceFile = (appDir: string) => join(appDir, 'maintenance.json')

/** What the file says; an unreadable or hand-edited file counts as on with herogate's page (the safe side of a maintenance window). */
export function readStored(appDir: string): Stored | undefined {
  let text: string
  try {
    text = readFileSync(maintenanceFile(appDir), 'utf8')
  } catch {
    return undefined
  }

  try {
    const stored = JSON.parse(text) as Partial<Stored>
    if (typeof stored.body === 'string' && stored.body.length > 0) return {enabled: true, page: typeof stored.page === 'string' ? stored.page : 'file', body: stored.body}
  } catch {}

  return {enabled: true, page: 'default', body: DEFAULT_MAINTENANCE_PAGE}
}

/** The supervisor's view: the page the router serves, read again on request. */
export class MaintenanceSwitch {
  private body: string | undefined

  constructor(private readonly appDir: string) {
    this.reload()
  }

  reload(): boolean {
    this.body = readStored(this.appDir)?.body
    return this.body !== undefined
  }

  page(): string | undefined {
    return this.body
  }
}

export function maintenance(app: string): Maintenance {
  const stored = readStored(appPaths(app).dir)
  return stored ? {app, enabled: true, page: stored.page} : {app, enabled: false}
}

/**
 * Writes the new state, then has the running supervisor (`tell`: started first when the app has
 * a release, as every operation does) read it again. An app with no release has no router: the
 * state waits for its first deploy.
 */
export async function setMaintenance(
  app: string,
  enabled: boolean,
  options: MaintenanceOptions,
  tell: () => Promise<void>,
): Promise<Maintenance & {changed: boolean}> {
  const page = options.page === undefined ? undefined : readMaintenancePage(options.page, LOCAL_PAGE_LIMIT, 'the local router')
  const dir = appPaths(app).dir
  const before = readStored(dir)
  if (enabled) {
    const stored: Stored = {enabled: true, page: page?.name ?? before?.page ?? 'default', body: page?.body ?? before?.body ?? DEFAULT_MAINTENANCE_PAGE}
    writeFileAtomic(maintenanceFile(dir), JSON.stringify(stored))
  } else {
    rmSync(maintenanceFile(dir), {force: true})
  }

  await tell()
  return {...maintenance(app), changed: Boolean(before) !== enabled}
}
