import type {Certificate, Domain, DomainResult} from '../../src/platform/domains.js'
import type {AutoscaleResult, Autoscaling} from '../../src/platform/autoscale.js'
import type {Maintenance, MaintenanceOptions} from '../../src/platform/maintenance.js'
import {jobId, type JobSpec, type ScheduledJob, validateJob} from '../../src/platform/scheduler.js'
import type {Addon, AddonCreateOptions, AddonDestroyOptions, AddonPlan, AddonResult, AddonService, Backup} from '../../src/platform/addons.js'
import type {
  AppInfo, AppSetting, AppSettings, AppSummary, ConfigChange, ConfigEdit, CreateOptions, CreateResult, DeployOptions, DestroyResult, GitRemoteResult, LogLine, LogOptions,
  Platform, ProcessFormation, ProcessInfo, Release, ReleaseOutput, RenameResult, RunOptions, RunResult, ScaleChange, ScaleResult, SettingName, SettingsChange,
} from '../../src/platform/types.js'
import {AppNotFound, ConfigUnchanged, HerogateError} from '../../src/lib/errors.js'
import {applyScale} from '../../src/lib/parse.js'
import {changeSettings, defaultsOf, nothingChanged, settingsView} from '../../src/lib/settings.js'

/** An in-memory Platform that records every call, for command tests. */
export class FakePlatform implements Platform {
  readonly kind = 'aws' as const
  calls: Array<{method: string; args: unknown[]}> = []
  apps = new Map<string, AppInfo>()
  config: Record<string, string> = {}
  processes: ProcessInfo[] = []
  releaseList: Release[] = []
  logLines: LogLine[] = []
  runResult: RunResult = {id: 'task-1', name: 'run.1', detached: false, exitCode: 0}
  /** Stored settings per app (only those that differ from the defaults). */
  storedSettings = new Map<string, Partial<AppSettings>>()

  constructor(apps: string[] = ['demo']) {
    for (const name of apps) this.apps.set(name, fakeApp(name))
  }

  private record(method: string, ...args: unknown[]) {
    this.calls.push({method, args})
  }

  private app(name: string): AppInfo {
    const app = this.apps.get(name)
    if (!app) throw new AppNotFound(name, 'us-east-1')
    return app
  }

  async createApp(options: CreateOptions): Promise<CreateResult> {
    this.record('createApp', options.name, ...(options.branch ? [options.branch] : []), ...(options.settings ? [options.settings] : []))
    const app = fakeApp(options.name ?? 'random-name-1234')
    this.apps.set(app.name, app)
    if (options.settings) this.storedSettings.set(app.name, changeSettings({}, options.settings).stored)
    return {...app, platformCreated: true}
  }

  async listApps(): Promise<AppSummary[]> {
    this.record('listApps')
    return [...this.apps.values()].map(({formation: _f, release: _r, stack: _s, ...summary}) => summary)
  }

  async appInfo(app: string): Promise<AppInfo> {
    this.record('appInfo', app)
    return this.app(app)
  }

  async destroyApp(app: string): Promise<DestroyResult> {
    this.record('destroyApp', app)
    this.app(app)
    this.apps.delete(app)
    return {name: app, removed: [`stack herogate-${app}`, `git remote herogate`]}
  }

  async renameApp(app: string, newName: string): Promise<RenameResult> {
    this.record('renameApp', app, newName)
    const info = this.app(app)
    this.apps.delete(app)
    this.apps.set(newName, {...info, name: newName})
    return {name: newName, previous: app, webUrl: info.webUrl, gitUrl: `https://git-codecommit.us-east-1.amazonaws.com/v1/repos/herogate-${newName}`}
  }

  async gitRemote(app: string, options: {cwd: string; remote?: string}): Promise<GitRemoteResult> {
    this.record('gitRemote', app, options.remote)
    return {dir: options.cwd, remote: options.remote ?? 'herogate', url: this.app(app).gitUrl}
  }

  async gitClone(app: string, options: {cwd: string; directory?: string; remote?: string}): Promise<GitRemoteResult> {
    this.record('gitClone', app, options.directory, options.remote)
    return {dir: `${options.cwd}/${options.directory ?? app}`, remote: options.remote ?? 'herogate', url: this.app(app).gitUrl}
  }

  async getConfig(app: string): Promise<Record<string, string>> {
    this.record('getConfig', app)
    this.app(app)
    return {...this.config}
  }

  async setConfig(app: string, vars: Record<string, string>): Promise<ConfigChange> {
    this.record('setConfig', app, vars)
    if (Object.keys(vars).every((key) => this.config[key] === vars[key])) throw new ConfigUnchanged(Object.keys(vars), 'same value')
    Object.assign(this.config, vars)
    return {keys: Object.keys(vars), release: fakeRelease(7, `Set ${Object.keys(vars).join(', ')} config vars`)}
  }

  async unsetConfig(app: string, keys: string[]): Promise<ConfigChange> {
    this.record('unsetConfig', app, keys)
    if (!keys.some((key) => Object.hasOwn(this.config, key))) throw new ConfigUnchanged(keys, 'not set')
    for (const key of keys) delete this.config[key]
    return {keys, release: fakeRelease(8, `Remove ${keys.join(', ')} config vars`)}
  }

  async editConfig(app: string, edit: ConfigEdit): Promise<ConfigChange> {
    this.record('editConfig', app, edit)
    this.app(app)
    const set = Object.keys(edit.set).filter((key) => this.config[key] !== edit.set[key])
    const unset = edit.unset.filter((key) => Object.hasOwn(this.config, key))
    if (set.length + unset.length === 0) throw new ConfigUnchanged([...Object.keys(edit.set), ...edit.unset], 'same value')
    Object.assign(this.config, edit.set)
    for (const key of unset) delete this.config[key]
    return {keys: [...set, ...unset], release: fakeRelease(9, `Set ${set.join(', ')} and remove ${unset.join(', ')} config vars`)}
  }

  async settings(app: string): Promise<AppSetting[]> {
    this.record('settings', app)
    this.app(app)
    return settingsView(this.storedSettings.get(app) ?? {})
  }

  async setSettings(app: string, settings: Partial<AppSettings>): Promise<SettingsChange> {
    this.record('setSettings', app, settings)
    return this.changeSettings(app, settings)
  }

  async unsetSettings(app: string, names: SettingName[]): Promise<SettingsChange> {
    this.record('unsetSettings', app, names)
    return this.changeSettings(app, defaultsOf(names))
  }

  /** As the AWS driver answers: applied at once. */
  private changeSettings(app: string, wanted: Partial<AppSettings>): SettingsChange {
    this.app(app)
    const change = changeSettings(this.storedSettings.get(app), wanted)
    this.storedSettings.set(app, change.stored)
    const notes = change.changed.length === 0
      ? [nothingChanged(Object.keys(wanted) as SettingName[], change.after)]
      : [`Applied now: ${change.changed.join(', ')}.`]
    return {settings: settingsView(change.stored), changed: change.changed, takesEffect: 'now', notes}
  }

  async formation(app: string): Promise<ProcessFormation[]> {
    this.record('formation', app)
    return this.app(app).formation
  }

  async scale(app: string, changes: ScaleChange[]): Promise<ScaleResult> {
    this.record('scale', app, changes)
    const formation = this.app(app).formation
    for (const change of changes) {
      const entry = formation.find((p) => p.type === change.type)!
      entry.quantity = applyScale(entry.quantity, change)
      if (change.size) entry.size = change.size
    }

    return {formation, notes: []}
  }

  async ps(app: string): Promise<ProcessInfo[]> {
    this.record('ps', app)
    return this.processes
  }

  async restart(app: string, processType?: string): Promise<ProcessInfo[]> {
    this.record('restart', app, processType)
    return this.processes
  }

  async stop(app: string, id: string): Promise<void> {
    this.record('stop', app, id)
  }

  async run(app: string, options: RunOptions): Promise<RunResult> {
    this.record('run', app, options.command, options.env, options.detached)
    return {...this.runResult, detached: options.detached}
  }

  async *logs(app: string, options: LogOptions): AsyncIterable<LogLine> {
    this.record('logs', app, options)
    yield* this.logLines.slice(-options.num)
  }

  async releases(app: string, options: {num: number}): Promise<Release[]> {
    this.record('releases', app, options.num)
    return this.releaseList.slice(0, options.num)
  }

  async releaseInfo(app: string, version?: number): Promise<Release> {
    this.record('releaseInfo', app, version)
    return this.releaseList.find((r) => (version ? r.version === version : r.current))!
  }

  /** Output per release version. */
  outputs = new Map<number, string[]>()

  async releaseOutput(app: string, version?: number): Promise<ReleaseOutput> {
    this.record('releaseOutput', app, version)
    const wanted = version ?? this.releaseList[0]?.version ?? 0
    const lines = this.outputs.get(wanted)
    return lines ? {version: wanted, lines} : {version: wanted, lines: [], note: `v${wanted} has no output.`}
  }

  async rollback(app: string, version?: number): Promise<Release> {
    this.record('rollback', app, version)
    return fakeRelease(9, `Rollback to v${version ?? 5}`)
  }

  async deploy(app: string, options: DeployOptions): Promise<Release> {
    this.record('deploy', app, options.branch)
    return fakeRelease(10, 'Deploy 1a2b3c4')
  }

  // Add-ons: what the command tests set, returned as it is; every call recorded.
  addonList: Addon[] = []
  backupList: Backup[] = []

  addonPlans(service?: AddonService): AddonPlan[] {
    const plans: AddonPlan[] = [
      {service: 'postgres', name: 'essential-0', description: 'db.t4g.micro, 20 GB', monthlyUsd: 15, default: true},
      {service: 'redis', name: 'mini', description: 'cache.t4g.micro', monthlyUsd: 12, default: true},
    ]
    return plans.filter((plan) => !service || plan.service === service)
  }

  async addons(app: string): Promise<Addon[]> {
    this.record('addons', app)
    return this.addonList
  }

  async addonInfo(app: string, name: string): Promise<Addon> {
    this.record('addonInfo', app, name)
    const addon = this.addonList.find((a) => a.name === name)
    if (!addon) throw new HerogateError(`No add-on named ${name} on ${app}.`, {suggestions: [`herogate addons -a ${app}`]})
    return addon
  }

  async createAddon(app: string, options: AddonCreateOptions): Promise<AddonResult> {
    this.record('createAddon', app, {service: options.service, plan: options.plan, as: options.as, wait: options.wait})
    if (options.as && this.addonList.some((a) => a.name === options.as)) throw new HerogateError(`${app} already has an add-on named ${options.as}.`, {suggestions: [`--as ANOTHER_NAME`]})
    const addon: Addon = {
      name: options.as ?? `${options.service}-${this.addonList.length + 1}`,
      service: options.service,
      plan: options.plan ?? this.addonPlans(options.service)[0].name,
      state: options.wait ? 'available' : 'creating',
      configVar: options.as ? `${options.as.toUpperCase()}_URL` : options.service === 'postgres' ? 'DATABASE_URL' : 'REDIS_URL',
      createdAt: '2026-11-21T10:00:00.000Z',
      details: [],
    }
    this.addonList.push(addon)
    return {addon, notes: []}
  }

  async waitAddons(app: string, name: string | undefined): Promise<Addon[]> {
    this.record('waitAddons', app, name)
    return this.addonList.filter((a) => !name || a.name === name).map((a) => ({...a, state: 'available' as const}))
  }

  async destroyAddon(app: string, name: string, options: AddonDestroyOptions = {}): Promise<AddonResult> {
    this.record('destroyAddon', app, name, {snapshot: options.snapshot})
    const addon = await this.addonInfo(app, name)
    this.addonList = this.addonList.filter((a) => a !== addon)
    return {addon: {...addon, state: 'deleting'}, notes: []}
  }

  async addonShell(app: string, service: AddonService, name: string | undefined, options: RunOptions): Promise<RunResult> {
    this.record('addonShell', app, service, name, options.command)
    return this.runResult
  }

  async backups(app: string, name?: string): Promise<Backup[]> {
    this.record('backups', app, name)
    return this.backupList
  }

  async captureBackup(app: string, name: string | undefined): Promise<Backup> {
    this.record('captureBackup', app, name)
    const backup: Backup = {id: `b00${this.backupList.length + 1}`, addon: name ?? 'postgres-1', createdAt: '2026-11-21T10:00:00.000Z', state: 'completed', location: 'backups/b001.dump'}
    this.backupList.push(backup)
    return backup
  }

  async restoreBackup(app: string, id: string, options: {into?: string} = {}): Promise<Backup> {
    this.record('restoreBackup', app, id, options.into)
    const backup = this.backupList.find((b) => b.id === id)
    if (!backup) throw new HerogateError(`No backup ${id} of ${app}.`)
    return backup
  }

  // Domains: what the command tests set, returned as it is; every call recorded.
  domainList: Domain[] = []

  async domains(app: string): Promise<Domain[]> {
    this.record('domains', app)
    return this.domainList
  }

  async addDomain(app: string, hostname: string): Promise<DomainResult> {
    this.record('addDomain', app, hostname)
    const domain = fakeDomain(hostname)
    this.domainList.push(domain)
    return {domain, notes: [`Until then ${hostname} is served over HTTP.`]}
  }

  async removeDomain(app: string, hostname: string): Promise<DomainResult> {
    this.record('removeDomain', app, hostname)
    const domain = this.domainList.find((d) => d.hostname === hostname)
    if (!domain) throw new HerogateError(`${hostname} is not a domain of ${app}.`)
    this.domainList = this.domainList.filter((d) => d !== domain)
    return {domain, notes: []}
  }

  async waitDomain(app: string, hostname: string): Promise<Domain> {
    this.record('waitDomain', app, hostname)
    const domain = this.domainList.find((d) => d.hostname === hostname)
    if (!domain) throw new HerogateError(`${hostname} is not a domain of ${app}.`)
    return {...domain, status: 'active', url: `https://${hostname}`, certificate: {...domain.certificate, status: 'ISSUED'}}
  }

  async certs(app: string): Promise<Certificate[]> {
    this.record('certs', app)
    return this.domainList.map((d) => d.certificate)
  }

  // Maintenance mode and autoscaling (platform/maintenance.ts, platform/autoscale.ts): the app's
  // AppInfo carries both, as the drivers' appInfo does. Reads of autoscaling are not recorded (ps makes one).
  async maintenance(app: string): Promise<Maintenance> {
    this.record('maintenance', app)
    const info = this.app(app)
    return {app, enabled: Boolean(info.maintenance), ...(info.maintenance ? {page: 'default'} : {})}
  }

  async setMaintenance(app: string, enabled: boolean, options: MaintenanceOptions = {}): Promise<Maintenance & {changed: boolean}> {
    this.record('setMaintenance', app, enabled, ...(options.page ? [options.page] : []))
    const info = this.app(app)
    const changed = Boolean(info.maintenance) !== enabled
    info.maintenance = enabled
    return {app, enabled, ...(enabled ? {page: options.page ?? 'default'} : {}), changed}
  }

  async autoscaling(app: string): Promise<Autoscaling[]> {
    return this.app(app).formation.flatMap((p) => (p.autoscale ? [p.autoscale] : []))
  }

  async autoscale(app: string, settings: Autoscaling): Promise<AutoscaleResult> {
    this.record('autoscale', app, settings)
    const entry = this.app(app).formation.find((p) => p.type === settings.type)
    if (!entry) throw new HerogateError(`Unknown process type ${settings.type} in ${app}.`)
    entry.autoscale = settings
    entry.quantity = Math.min(Math.max(entry.quantity, settings.min), settings.max)
    return {autoscaling: settings, quantity: entry.quantity, notes: []}
  }

  async disableAutoscale(app: string, type: string): Promise<AutoscaleResult> {
    this.record('disableAutoscale', app, type)
    const entry = this.app(app).formation.find((p) => p.type === type)
    if (!entry?.autoscale) throw new HerogateError(`${type} of ${app} is not autoscaled.`)
    delete entry.autoscale
    return {quantity: entry.quantity, notes: []}
  }

  // Scheduled jobs: what the command tests set, as the drivers answer; every call recorded.
  jobs: ScheduledJob[] = []

  async scheduledJobs(app: string): Promise<ScheduledJob[]> {
    this.record('scheduledJobs', app)
    this.app(app)
    return this.jobs
  }

  async addScheduledJob(app: string, spec: JobSpec): Promise<ScheduledJob> {
    this.record('addScheduledJob', app, spec)
    const valid = validateJob(spec)
    const job: ScheduledJob = {id: jobId(valid.schedule, valid.command, valid.size), ...valid, source: 'cli', createdAt: '2026-11-21T10:00:00.000Z', nextRun: '2026-11-21T11:00:00.000Z'}
    this.jobs.push(job)
    return job
  }

  async removeScheduledJob(app: string, id: string): Promise<ScheduledJob> {
    this.record('removeScheduledJob', app, id)
    const job = this.jobs.find((j) => j.id === id)
    if (!job) throw new HerogateError(`No scheduled job ${id} on ${app}.`, {suggestions: [`herogate scheduler -a ${app}`]})
    this.jobs = this.jobs.filter((j) => j !== job)
    return job
  }
}

/** A domain just added on AWS: certificate pending, the two records to create. */
export function fakeDomain(hostname: string): Domain {
  return {
    hostname,
    status: 'pending',
    url: `http://${hostname}`,
    records: [
      {purpose: 'validation', name: `_a1b2.${hostname}.`, type: 'CNAME', value: '_c3d4.acm-validations.aws.'},
      {purpose: 'traffic', name: hostname, type: 'CNAME', value: 'herogate-alb.example'},
    ],
    certificate: {hostname, status: 'PENDING_VALIDATION', arn: 'arn:aws:acm:us-east-1:123456789012:certificate/1', note: 'waiting for the validation record in DNS'},
    createdAt: '2026-11-21T10:00:00.000Z',
  }
}

export function fakeApp(name: string): AppInfo {
  return {
    name,
    platform: 'aws',
    region: 'us-east-1',
    status: 'running',
    webUrl: `http://herogate-alb.example:10000/`,
    gitUrl: `https://git-codecommit.us-east-1.amazonaws.com/v1/repos/herogate-${name}`,
    createdAt: '2026-11-21T10:00:00.000Z',
    formation: [
      {type: 'web', quantity: 1, size: 'standard-1x', command: 'npm start'},
      {type: 'worker', quantity: 0, size: 'standard-1x', command: 'node worker.js'},
    ],
    stack: `herogate-${name}`,
  }
}

export function fakeRelease(version: number, description: string, current = true): Release {
  return {version, description, status: 'succeeded', author: 'dev@example.com', createdAt: '2026-11-21T10:00:00.000Z', current}
}
