import {AwsClients} from '../../aws/clients.js'
import type {PlatformOptions} from '../index.js'
import type {Certificate, Domain, DomainResult, DomainWaitOptions} from '../domains.js'
import type {JobSpec, ScheduledJob} from '../scheduler.js'
import type {Addon, AddonCreateOptions, AddonDestroyOptions, AddonPlan, AddonResult, AddonService, Backup} from '../addons.js'
import type {AutoscaleResult, Autoscaling} from '../autoscale.js'
import type {Maintenance, MaintenanceOptions} from '../maintenance.js'
import type {
  AppInfo, AppSetting, AppSettings, AppSummary, ConfigChange, ConfigEdit, CreateOptions, CreateResult, DeployOptions, DestroyResult, GitRemoteResult, LogLine, LogOptions,
  OperationOptions, Platform, ProcessFormation, ProcessInfo, Release, ReleaseOutput, RunOptions, RunResult, ScaleChange, ScaleResult, SettingName, SettingsChange,
} from '../types.js'
import * as addons from './addons.js'
import * as apps from './apps.js'
import * as autoscale from './autoscale.js'
import * as config from './config.js'
import * as domains from './domains.js'
import {type AwsContext, systemClock} from './context.js'
import * as formation from './formation.js'
import * as logs from './logs.js'
import {type PlatformUpgrade, upgradePlatform} from './platform-upgrade.js'
import * as maintenance from './maintenance.js'
import {productionState, productionTeardown} from './production.js'
import * as releases from './releases.js'
import {commandContext} from './resources.js'
import {rollback} from './rollback.js'
import * as run from './run.js'
import * as scheduler from './scheduler.js'
import * as settings from './settings.js'

/** The AWS driver: CloudFormation for infrastructure, direct ECS/SSM/Logs calls for everything else. */
export class AwsPlatform implements Platform {
  readonly kind = 'aws' as const

  constructor(private readonly base: AwsContext) {}

  /**
   * The context of a call: the parts of a command that need an app's resources share one read
   * of them, forgotten when the command changes a stack they come from (resources.ts). The CLI
   * opens the driver for one command with a command's context, which all its calls share; a
   * driver made on another context gives each call one of its own.
   */
  get ctx(): AwsContext {
    return this.base.resourcesRead ? this.base : commandContext(this.base)
  }

  /** The driver for one CLI command, in a region platform/index.ts has resolved (regionFor). */
  static open(options: PlatformOptions & {region: string}): AwsPlatform {
    return new AwsPlatform(commandContext({region: options.region, clients: new AwsClients({region: options.region, profile: options.profile}), clock: systemClock}))
  }

  createApp(options: CreateOptions): Promise<CreateResult> {
    return apps.createApp(this.ctx, options)
  }

  listApps(): Promise<AppSummary[]> {
    return apps.listApps(this.ctx)
  }

  async appInfo(app: string): Promise<AppInfo> {
    const ctx = this.ctx
    const info = await apps.appInfo(ctx, app)
    return info.formation.length === 0 ? info : productionState(ctx, info)
  }

  async destroyApp(app: string, options: OperationOptions & {cwd: string; snapshot?: boolean}): Promise<DestroyResult> {
    const ctx = this.ctx
    const removed = await productionTeardown(ctx, app, options.onProgress)
    const result = await apps.destroyApp(ctx, app, options)
    return {...result, removed: [...removed, ...result.removed]}
  }

  renameApp(app: string, newName: string): Promise<never> {
    return apps.renameApp(this.ctx, app, newName)
  }

  gitRemote(app: string, options: {cwd: string; remote?: string}): Promise<GitRemoteResult> {
    return apps.gitRemote(this.ctx, app, options)
  }

  gitClone(app: string, options: {cwd: string; directory?: string; remote?: string}): Promise<GitRemoteResult> {
    return apps.gitClone(this.ctx, app, options)
  }

  /** AWS only: brings the region's platform stack to this herogate's template (add-ons' data subnets). */
  upgradePlatform(options: OperationOptions = {}): Promise<PlatformUpgrade> {
    return upgradePlatform(this.ctx, options)
  }

  /** AWS only: removes the shared platform stack once no app uses it. */
  destroyPlatform(options: OperationOptions = {}): Promise<DestroyResult> {
    return apps.destroyPlatform(this.ctx, options)
  }

  getConfig(app: string): Promise<Record<string, string>> {
    return config.getConfig(this.ctx, app)
  }

  setConfig(app: string, vars: Record<string, string>, options: OperationOptions = {}): Promise<ConfigChange> {
    return config.setConfig(this.ctx, app, vars, options)
  }

  unsetConfig(app: string, keys: string[], options: OperationOptions = {}): Promise<ConfigChange> {
    return config.unsetConfig(this.ctx, app, keys, options)
  }

  editConfig(app: string, edit: ConfigEdit, options: OperationOptions = {}): Promise<ConfigChange> {
    return config.editConfig(this.ctx, app, edit, options)
  }

  settings(app: string): Promise<AppSetting[]> {
    return settings.settings(this.ctx, app)
  }

  setSettings(app: string, wanted: Partial<AppSettings>, options: OperationOptions = {}): Promise<SettingsChange> {
    return settings.setSettings(this.ctx, app, wanted, options)
  }

  unsetSettings(app: string, names: SettingName[], options: OperationOptions = {}): Promise<SettingsChange> {
    return settings.unsetSettings(this.ctx, app, names, options)
  }

  async formation(app: string): Promise<ProcessFormation[]> {
    const ctx = this.ctx
    const [shown, autoscaled] = await Promise.all([formation.formation(ctx, app), autoscale.autoscaling(ctx, app)])
    return autoscale.withAutoscaling(ctx, app, shown, autoscaled)
  }

  async scale(app: string, changes: ScaleChange[], options: OperationOptions = {}): Promise<ScaleResult> {
    const ctx = this.ctx
    // Checked before anything changes: a count of an autoscaled type is refused.
    const autoscaled = await autoscale.refuseAutoscaledCounts(ctx, app, changes)
    const result = await formation.scale(ctx, app, changes, options)
    return {...result, formation: await autoscale.withAutoscaling(ctx, app, result.formation, autoscaled)}
  }

  ps(app: string): Promise<ProcessInfo[]> {
    return formation.ps(this.ctx, app)
  }

  restart(app: string, processType?: string, options: OperationOptions = {}): Promise<ProcessInfo[]> {
    return formation.restart(this.ctx, app, processType, options)
  }

  stop(app: string, id: string): Promise<void> {
    return formation.stop(this.ctx, app, id)
  }

  run(app: string, options: RunOptions): Promise<RunResult> {
    return run.run(this.ctx, app, options)
  }

  logs(app: string, options: LogOptions): AsyncIterable<LogLine> {
    return logs.logs(this.ctx, app, options)
  }

  releases(app: string, options: {num: number}): Promise<Release[]> {
    return releases.releases(this.ctx, app, options)
  }

  releaseInfo(app: string, version?: number): Promise<Release> {
    return releases.releaseInfo(this.ctx, app, version)
  }

  releaseOutput(app: string, version?: number): Promise<ReleaseOutput> {
    return releases.releaseOutput(this.ctx, app, version)
  }

  rollback(app: string, version?: number, options: OperationOptions = {}): Promise<Release> {
    return rollback(this.ctx, app, version, options)
  }

  deploy(app: string, options: DeployOptions): Promise<Release> {
    return releases.deploy(this.ctx, app, options)
  }

  addonPlans(service?: AddonService): AddonPlan[] {
    return addons.addonPlans(service)
  }

  addons(app: string): Promise<Addon[]> {
    return addons.addons(this.ctx, app)
  }

  addonInfo(app: string, name: string): Promise<Addon> {
    return addons.addonInfo(this.ctx, app, name)
  }

  createAddon(app: string, options: AddonCreateOptions): Promise<AddonResult> {
    return addons.createAddon(this.ctx, app, options)
  }

  waitAddons(app: string, name: string | undefined, options?: OperationOptions): Promise<Addon[]> {
    return addons.waitAddons(this.ctx, app, name, options)
  }

  destroyAddon(app: string, name: string, options?: AddonDestroyOptions): Promise<AddonResult> {
    return addons.destroyAddon(this.ctx, app, name, options)
  }

  addonShell(app: string, service: AddonService, name: string | undefined, options: RunOptions): Promise<RunResult> {
    return addons.addonShell(this.ctx, app, service, name, options)
  }

  backups(app: string, name?: string): Promise<Backup[]> {
    return addons.backups(this.ctx, app, name)
  }

  captureBackup(app: string, name: string | undefined, options?: OperationOptions): Promise<Backup> {
    return addons.captureBackup(this.ctx, app, name, options)
  }

  restoreBackup(app: string, id: string, options?: OperationOptions & {into?: string}): Promise<Backup> {
    return addons.restoreBackup(this.ctx, app, id, options)
  }

  domains(app: string, options?: OperationOptions): Promise<Domain[]> {
    return domains.domains(this.ctx, app, options)
  }

  addDomain(app: string, hostname: string, options?: OperationOptions): Promise<DomainResult> {
    return domains.addDomain(this.ctx, app, hostname, options)
  }

  removeDomain(app: string, hostname: string, options?: OperationOptions): Promise<DomainResult> {
    return domains.removeDomain(this.ctx, app, hostname, options)
  }

  waitDomain(app: string, hostname: string, options?: DomainWaitOptions): Promise<Domain> {
    return domains.waitDomain(this.ctx, app, hostname, options)
  }

  certs(app: string, options?: OperationOptions): Promise<Certificate[]> {
    return domains.certs(this.ctx, app, options)
  }

  // Maintenance mode (aws/maintenance.ts: fixed-response rules) and autoscaling (aws/autoscale.ts: Application Auto Scaling).
  maintenance(app: string): Promise<Maintenance> {
    return maintenance.maintenance(this.ctx, app)
  }

  setMaintenance(app: string, enabled: boolean, options: MaintenanceOptions = {}): Promise<Maintenance & {changed: boolean}> {
    return maintenance.setMaintenance(this.ctx, app, enabled, options)
  }

  autoscaling(app: string): Promise<Autoscaling[]> {
    return autoscale.autoscaling(this.ctx, app)
  }

  autoscale(app: string, settings: Autoscaling): Promise<AutoscaleResult> {
    return autoscale.autoscale(this.ctx, app, settings)
  }

  disableAutoscale(app: string, type: string): Promise<AutoscaleResult> {
    return autoscale.disableAutoscale(this.ctx, app, type)
  }

  // Scheduled jobs (aws/scheduler.ts: EventBridge Scheduler running the current release).
  scheduledJobs(app: string): Promise<ScheduledJob[]> {
    return scheduler.scheduledJobs(this.ctx, app)
  }

  addScheduledJob(app: string, job: JobSpec, options?: OperationOptions): Promise<ScheduledJob> {
    return scheduler.addScheduledJob(this.ctx, app, job, options)
  }

  removeScheduledJob(app: string, id: string): Promise<ScheduledJob> {
    return scheduler.removeScheduledJob(this.ctx, app, id)
  }
}
