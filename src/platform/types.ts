import type {Readable, Writable} from 'node:stream'

import type {AddonsPlatform} from './addons.js'
import type {DomainsPlatform} from './domains.js'
import type {Autoscaling, AutoscalePlatform} from './autoscale.js'
import type {MaintenancePlatform} from './maintenance.js'
import type {SchedulerPlatform} from './scheduler.js'

/**
 * The one interface every command uses. Two drivers implement it: `aws` (the product) and
 * `local` (the same workflow on one machine). Output shapes here are the `--json` shapes.
 */

export type PlatformKind = 'aws' | 'local'

/** Which app a command operates on, as resolved from -a, HEROGATE_APP or the git remote. */
export interface AppTarget {
  name: string
  platform: PlatformKind
  /** AWS only: the app's region (from the git remote URL, --region or the AWS config). */
  region?: string
}

export interface AppSummary {
  name: string
  platform: PlatformKind
  region?: string
  /** 'creating' | 'idle' (no release yet) | 'running' | 'crashed' | 'failed' | 'deleting' | 'damaged' (local: unreadable record) */
  status: string
  webUrl?: string
  gitUrl: string
  createdAt?: string
  /** Why the app cannot be used (status 'damaged'), naming the file; `destroy` removes it. */
  problem?: string
}

export interface ProcessFormation {
  type: string
  quantity: number
  /** AWS: a size name from the size table (lib/sizes.ts), e.g. 'standard-1x'. Local processes have none: they get what the machine has. */
  size?: string
  command?: string
  /** Set when the type is autoscaled (ps:autoscale): its count moves between min and max. */
  autoscale?: Autoscaling
}

export interface AppInfo extends AppSummary {
  formation: ProcessFormation[]
  release?: Release
  /** AWS: the app's CloudFormation stack name. */
  stack?: string
  /** True while maintenance mode is on (maintenance:on). */
  maintenance?: boolean
}

export type ReleaseStatus = 'pending' | 'succeeded' | 'failed'

/** An immutable release: code plus config. */
export interface Release {
  version: number
  description: string
  status: ReleaseStatus
  author: string
  createdAt: string
  /** True for the release that is serving now. */
  current: boolean
  /** The git commit the code came from, when known. */
  commit?: string
  /** AWS: image digest URI (repo@sha256:...). Local: build id. */
  image?: string
  /** Config version the release carries (values are never part of a release record). */
  configVersion?: number
  /** Process types and their commands. */
  processTypes?: Record<string, string>
  /** AWS: task definition ARN per process type. */
  taskDefinitions?: Record<string, string>
  /** Why a failed release failed, one line (never config values). */
  failure?: string
  /** A failed release: the last lines of the process that made it fail (config values hidden), and where to read more. */
  failureOutput?: FailureOutput
}

/** The last lines a failing process printed, as a failure shows them. */
export interface FailureOutput {
  /** Which process: web.1, release (the release phase), web.1a2b3c4 (an AWS task as logs name it). */
  process: string
  /** Its last lines (about 20), config values hidden. */
  lines: string[]
  /** The command that shows more of what it printed. */
  more: string
}

/** A release's build and release-phase output, as `releases:output` prints it (config values hidden). */
export interface ReleaseOutput {
  version: number
  lines: string[]
  /** Why there is nothing to show, when there is not (a config change builds nothing). */
  note?: string
}

export interface ProcessInfo {
  /** Heroku style: web.1 */
  name: string
  type: string
  /** ECS task id, or local process id. */
  id: string
  /** 'starting' | 'up' | 'crashed' | 'stopping' | 'down' | AWS lastStatus lowercased */
  status: string
  health: 'healthy' | 'unhealthy' | 'unknown'
  release?: number
  /** AWS only (see ProcessFormation.size). */
  size?: string
  startedAt?: string
  command?: string
  /** Local web processes: where one listens beyond 127.0.0.1 (ADDRESS:PORT), which other machines reach without the router. */
  exposed?: string[]
}

export interface LogLine {
  time: Date
  /** 'app': the app's own processes; 'herogate': what herogate itself reports (router access lines, process state changes, build, release phase, deploy). */
  source: 'app' | 'herogate'
  /** web.1, router, build, release, deploy, run.1234 */
  process: string
  message: string
  /** Local: the release the process runs, so that the old and the new web.1 of a rolling deploy are told apart. */
  release?: number
}

export interface LogOptions {
  num: number
  tail: boolean
  processType?: string
  task?: string
  source?: 'app' | 'herogate'
  since?: Date
  /** Aborting ends a tail cleanly (Ctrl-C). */
  signal?: AbortSignal
}

export interface RunOptions {
  /** argv of the command to run; joined by a shell where the platform needs one string. */
  command: string[]
  env: Record<string, string>
  size?: string
  detached: boolean
  /** Attach a TTY when one is available locally. */
  tty: boolean
  stdin?: Readable
  stdout: Writable
  stderr: Writable
  /** Aborting stops the one-off process and resolves with its outcome. */
  signal?: AbortSignal
  onProgress?: Progress
}

export interface RunResult {
  id: string
  name: string
  detached: boolean
  exitCode?: number
  /** Why the process stopped, when it did not exit on its own (AWS stoppedReason). */
  stopReason?: string
  /** True when it was stopped because the user interrupted. */
  interrupted?: boolean
}

export interface ScaleChange {
  type: string
  /** Absolute count (web=2). */
  quantity?: number
  /** Relative change (web+1, worker-1). */
  delta?: number
  size?: string
}

export interface ScaleResult {
  formation: ProcessFormation[]
  /** Things the user should know (e.g. sizes ignored on the local platform). */
  notes: string[]
}

export interface ConfigChange {
  /** Keys set or removed; never values. */
  keys: string[]
  release?: Release
  /** Why nothing changed (no release): the vars already had those values, or were not set. */
  note?: string
}

/** A config change of several kinds at once: what config:edit found changed in the file. */
export interface ConfigEdit {
  set: Record<string, string>
  unset: string[]
}

export interface DestroyResult {
  name: string
  /** Human readable list of what was removed, in order. */
  removed: string[]
  /** One-off processes (run, release phase) that were still running and were stopped, e.g. "run.1a2b3c4 (herogate run)". */
  stopped?: string[]
}

/** Where git:remote or git:clone set the app's remote. */
export interface GitRemoteResult {
  /** The top of the work tree the remote is in. */
  dir: string
  remote: string
  url: string
  /** What the remote pointed at before it was changed. */
  previous?: string
}

export interface RenameResult {
  name: string
  previous: string
  webUrl?: string
  gitUrl: string
  /** The repo whose remote was pointed at the new name. */
  remoteUpdated?: string
}

export interface CreateOptions {
  /** Omitted: the platform picks a Heroku-style random name. */
  name?: string
  /** Settings that differ from the defaults (lib/settings.ts validates them). */
  settings?: Partial<AppSettings>
  /** Directory whose git repo gets the "herogate" remote. */
  cwd: string
  /** AWS: the branch whose pushes deploy (default main). The local platform deploys main or master. */
  branch?: string
  onProgress?: Progress
  signal?: AbortSignal
}

export interface CreateResult extends AppInfo {
  /** AWS: the shared platform stack was created by this call. */
  platformCreated?: boolean
  /** Set when no remote was added (not a git repo, or a remote already points elsewhere): what to run instead. */
  remoteNote?: string
}

/** Per-app settings (lib/settings.ts: names, defaults, allowed values). Not part of releases. */
export interface AppSettings {
  /** Seconds a new web process has to answer its health check before it counts as failed. */
  'boot-timeout': number
  /** The path probed during deploys (AWS: the target group's health check path). */
  'health-check-path': string
}

export type SettingName = keyof AppSettings

/** One setting as `apps:settings` shows it. */
export interface AppSetting {
  name: SettingName
  value: number | string
  default: number | string
  /** True when the value is the default one. */
  isDefault: boolean
}

export interface SettingsChange {
  /** Every setting, after the change. */
  settings: AppSetting[]
  /** The settings whose value changed (none: nothing was done). */
  changed: SettingName[]
  /** 'now': what runs uses them from now on; 'next-deploy': nothing runs yet, the next deploy uses them. */
  takesEffect: 'now' | 'next-deploy'
  /** What the change did, one line each (shown on stderr). */
  notes: string[]
}

export interface DeployOptions {
  cwd: string
  branch?: string
  onProgress?: Progress
  signal?: AbortSignal
}

export interface OperationOptions {
  onProgress?: Progress
  signal?: AbortSignal
}

/** Progress of a long operation. Commands choose how to render it (rows, lines, nothing). */
export type ProgressEvent =
  | {
      kind: 'resource'
      /** Stable id of the row: logical resource id (and stack). */
      id: string
      stack?: string
      resourceType: string
      /** CloudFormation status or a similar word: CREATE_IN_PROGRESS, CREATE_COMPLETE, ... */
      status: string
      /** Short human description from the template's Metadata. */
      description?: string
      reason?: string
    }
  | {
      kind: 'step'
      id: string
      message: string
      status: 'start' | 'done' | 'failed' | 'skipped'
      /** Said in place of the status word when the step ends: `Running ls on demo... up, run.1234`. */
      detail?: string
    }
  | {kind: 'output'; stream: string; line: string}
  | {kind: 'warning'; message: string}

export type Progress = (event: ProgressEvent) => void

export interface Platform extends AddonsPlatform, DomainsPlatform, MaintenancePlatform, AutoscalePlatform, SchedulerPlatform {
  readonly kind: PlatformKind

  createApp(options: CreateOptions): Promise<CreateResult>
  listApps(): Promise<AppSummary[]>
  appInfo(app: string): Promise<AppInfo>
  /** Its add-ons go with it; a Postgres first leaves a final snapshot or dump (`snapshot: false`: none), which `removed` names. */
  destroyApp(app: string, options: OperationOptions & {cwd: string; snapshot?: boolean}): Promise<DestroyResult>
  /** Local: renames the app and everything it owns. AWS refuses, saying why and what to do instead. */
  renameApp(app: string, newName: string, options: OperationOptions & {cwd: string}): Promise<RenameResult>
  /** Adds (or points) the git remote of the repo around `cwd` at the app (git:remote). */
  gitRemote(app: string, options: {cwd: string; remote?: string}): Promise<GitRemoteResult>
  /** Clones the app's repo into a new directory under `cwd`, its remote named as git:remote names it (git:clone). */
  gitClone(app: string, options: {cwd: string; directory?: string; remote?: string}): Promise<GitRemoteResult>

  getConfig(app: string): Promise<Record<string, string>>
  setConfig(app: string, vars: Record<string, string>, options?: OperationOptions): Promise<ConfigChange>
  unsetConfig(app: string, keys: string[], options?: OperationOptions): Promise<ConfigChange>
  /** Sets some vars and removes others as one release (config:edit); only what differs from the current config counts. */
  editConfig(app: string, edit: ConfigEdit, options?: OperationOptions): Promise<ConfigChange>

  settings(app: string): Promise<AppSetting[]>
  /** Not a release: applied at once where the platform can, else by the next deploy. */
  setSettings(app: string, settings: Partial<AppSettings>, options?: OperationOptions): Promise<SettingsChange>
  /** Puts the named settings back to their defaults. */
  unsetSettings(app: string, names: SettingName[], options?: OperationOptions): Promise<SettingsChange>

  formation(app: string): Promise<ProcessFormation[]>
  scale(app: string, changes: ScaleChange[], options?: OperationOptions): Promise<ScaleResult>
  /** Warnings about what runs (no web process type, a process reachable beyond the router) go to onProgress. */
  ps(app: string, options?: OperationOptions): Promise<ProcessInfo[]>
  restart(app: string, processType?: string, options?: OperationOptions): Promise<ProcessInfo[]>
  stop(app: string, id: string): Promise<void>
  run(app: string, options: RunOptions): Promise<RunResult>
  logs(app: string, options: LogOptions): AsyncIterable<LogLine>

  releases(app: string, options: {num: number}): Promise<Release[]>
  releaseInfo(app: string, version?: number): Promise<Release>
  /** The build and release-phase output of a release (default: the newest one). */
  releaseOutput(app: string, version?: number): Promise<ReleaseOutput>
  rollback(app: string, version?: number, options?: OperationOptions): Promise<Release>
  deploy(app: string, options: DeployOptions): Promise<Release>
}
