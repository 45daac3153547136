import {HerogateError} from '../../lib/errors.js'
import type {Addon, AddonCreateOptions, AddonDestroyOptions, AddonPlan, AddonResult, AddonService, Backup} from '../addons.js'
import type {OperationOptions, RunOptions, RunResult} from '../types.js'
import type {AwsContext} from './context.js'

/**
 * Add-ons on AWS (RDS for PostgreSQL, ElastiCache): one stack per add-on in the platform's
 * private data subnets. Not in this version yet: every call says so, and what works instead.
 */
function notYet(app: string): HerogateError {
  return new HerogateError('Add-ons on AWS are not in this version of herogate yet.', {
    suggestions: [`herogate config:set DATABASE_URL=... -a ${app} (a database you run yourself)`, 'herogate create --local (add-ons work on the local platform)'],
  })
}

export function addonPlans(_service?: AddonService): AddonPlan[] {
  return []
}

export async function addons(_ctx: AwsContext, _app: string): Promise<Addon[]> {
  return []
}

export async function addonInfo(_ctx: AwsContext, app: string, _name: string): Promise<Addon> {
  throw notYet(app)
}

export async function createAddon(_ctx: AwsContext, app: string, _options: AddonCreateOptions): Promise<AddonResult> {
  throw notYet(app)
}

export async function waitAddons(_ctx: AwsContext, app: string, _name: string | undefined, _options?: OperationOptions): Promise<Addon[]> {
  throw notYet(app)
}

export async function destroyAddon(_ctx: AwsContext, app: string, _name: string, _options?: AddonDestroyOptions): Promise<AddonResult> {
  throw notYet(app)
}

export async function addonShell(_ctx: AwsContext, app: string, _service: AddonService, _name: string | undefined, _options: RunOptions): Promise<RunResult> {
  throw notYet(app)
}

export async function backups(_ctx: AwsContext, _app: string, _name?: string): Promise<Backup[]> {
  return []
}

export async function captureBackup(_ctx: AwsContext, app: string, _name: string | undefined, _options?: OperationOptions): Promise<Backup> {
  throw notYet(app)
}

export async function restoreBackup(_ctx: AwsContext, app: string, _id: string, _options?: OperationOptions & {into?: string}): Promise<Backup> {
  throw notYet(app)
}
