import {existsSync, mkdirSync, renameSync, rmSync} from 'node:fs'
import {join, resolve} from 'node:path'

import {targetFromRemoteUrl} from '../../lib/app.js'
import {AppExists, ConfigUnchanged, HerogateError, Interrupted, InvalidInput, NoChanges, UpToDate} from '../../lib/errors.js'
import {localAppsDir} from '../../lib/home.js'
import {deployHint, noCodeYet, processTypeHints} from '../../lib/hints.js'
import {names, validateAppName} from '../../lib/naming.js'
import {failureDetails} from '../../lib/process-output.js'
import {applyScale, procfileWarning, validateConfigKey, validateConfigVar} from '../../lib/parse.js'
import {changeSettings, defaultsOf, nothingChanged, settingsView} from '../../lib/settings.js'
import type {JobSpec, ScheduledJob} from '../scheduler.js'
import type {Addon, AddonCreateOptions, AddonDestroyOptions, AddonPlan, AddonResult, AddonService, Backup} from '../addons.js'
import type {AutoscaleResult, Autoscaling} from '../autoscale.js'
import type {Maintenance, MaintenanceOptions} from '../maintenance.js'
import type {
  AppInfo, AppSetting, AppSettings, AppSummary, ConfigChange, ConfigEdit, CreateOptions, CreateResult, DeployOptions, DestroyResult, GitRemoteResult, LogLine, LogOptions,
  OperationOptions, Platform, ProcessFormation, ProcessInfo, Progress, Release, ReleaseOutput, RenameResult, RunOptions, RunResult, ScaleChange, ScaleResult, SettingName, SettingsChange,
} from '../types.js'
import {describeConfigChange, readConfig, writeConfig} from './config.js'
import type {ReleaseEnded, ReleaseRequest, SupervisorClient} from './contracts.js'
import {listenWarning} from './listening.js'
import {allReleases, createRelease, OUTPUTS_KEPT, previousRelease, readRelease, readReleaseOutput, type ReleaseRecord, runnableTypes, toRelease, unsettled} from './releases.js'
import {bindHost, defaultRuntime} from './runtime.js'
import {type AppRecord, appExists, appPaths, DamagedApp, type HeldLock, latestVersion, listAppNames, makePrivateDir, readApp, withLock, writeApp} from './state.js'
import type {LocalContext} from './workflow.js'
import type {Certificate, Domain, DomainResult} from '../domains.js'
import {addonPlans} from './addon-plans.js'
import * as autoscale from './autoscale.js'
import * as maintenance from './maintenance.js'

export type {LocalContext} from './workflow.js'

/**
 * Locks, settling, releases and the supervisor's start are loaded by what changes an app or
 * brings its supervisor back: a read that needs none of them loads none (bin/run.cjs's fast path).
 */
const workflow = () => import('./workflow.js')
const gitCommands = () => import('../../lib/git.js')
const releaseOwner = () => import('./release-owner.js')
/** Add-ons spawn servers and clients: loaded by the commands that use them only. */
const addonsModule = () => import('./addons.js')
const scheduler = () => import('./scheduler.js')

/**
 * The local driver: the whole workflow on this machine. Each app lives under
 * HEROGATE_HOME/apps/NAME with a bare git repo whose proc-receive hook builds and releases
 * what is pushed; a supervisor daemon per app runs its processes behind a router on
 * 127.0.0.1. Every operation first makes sure that supervisor runs the current release.
 */
export class LocalPlatform implements Platform {
  readonly kind = 'local' as const
  readonly ctx: LocalContext

  constructor(options: Partial<LocalContext> = {}) {
    // workflow.ts defaultContext(), without loading workflow.ts.
    this.ctx = {runtime: defaultRuntime, now: () => new Date(), ...options}
  }

  async createApp(options: CreateOptions): Promise<CreateResult> {
    const name = validateAppName(options.name ?? (await this.unusedName()))
    const paths = appPaths(name)
    mkdirSync(localAppsDir(), {recursive: true, mode: 0o700})
    step(options.onProgress, 'create', `Creating ${name}`, 'start')
    try {
      // mkdir without recursive claims the name atomically: of two creates, one gets EEXIST.
      mkdirSync(paths.dir, {mode: 0o700})
    } catch (error) {
      step(options.onProgress, 'create', `Creating ${name}`, 'failed')
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new AppExists(name, 'the local platform')
      throw error
    }

    let record: AppRecord
    try {
      await (await gitCommands()).git(paths.dir, ['init', '--quiet', '--bare', '--initial-branch=main', paths.repo])
      // Write paths load their modules when they run: a read loads only what it reads (bin/run.js's fast path).
      const {installHook} = await import('./git-hook.js')
      await installHook(paths.repo, name)
      const settings = changeSettings({}, options.settings ?? {}).stored
      record = {
        name, port: await this.unusedPort(), createdAt: this.ctx.now().toISOString(), formation: {}, current: 0, configVersion: 0,
        ...(Object.keys(settings).length > 0 ? {settings} : {}),
      }
      writeApp(record)
    } catch (error) {
      rmSync(paths.dir, {recursive: true, force: true})
      step(options.onProgress, 'create', `Creating ${name}`, 'failed')
      throw error
    }

    step(options.onProgress, 'create', `Creating ${name}`, 'done')
    const remoteNote = await this.addRemote(options.cwd, paths.repo)
    return {...this.summary(record, 'idle'), formation: [], ...(remoteNote ? {remoteNote} : {})}
  }

  async listApps(): Promise<AppSummary[]> {
    return Promise.all(
      listAppNames().map(async (name) => {
        try {
          const {record, processes} = await this.observe(name)
          return this.summary(record, statusOf(processes))
        } catch (error) {
          // One damaged app must not hide the others: it is listed as damaged, naming its file.
          if (!(error instanceof DamagedApp)) throw error
          return {name, platform: 'local' as const, status: 'damaged', gitUrl: appPaths(name).repo, problem: `${error.file} ${error.problem}`}
        }
      }),
    )
  }

  async appInfo(app: string): Promise<AppInfo> {
    const {record, release, processes} = await this.observe(app)
    return {
      ...this.summary(record, statusOf(processes)),
      formation: this.formationOf(record, release),
      ...(release ? {release: toRelease(release, record.current)} : {}),
      maintenance: maintenance.maintenance(app).enabled,
    }
  }

  async destroyApp(app: string, options: OperationOptions & {cwd: string; snapshot?: boolean}): Promise<DestroyResult> {
    const paths = appPaths(app)
    // A damaged app (unreadable app.json) can be destroyed too: its record is not needed for that.
    const port = soundRecord(app)?.port
    // Final dumps go outside the app's directory, which goes: the supervisor's stop below stops the servers.
    const removed: string[] = port === undefined ? [] : await (await addonsModule()).beforeAppDestroy(this, app, options)
    await withLock(
      app,
      'destroy',
      async () => {
        step(options.onProgress, 'destroy', `Stopping ${app}`, 'start')
        if (await this.ctx.runtime.stopSupervisor(paths.dir)) removed.push(`processes and router${port ? ` on 127.0.0.1:${port}` : ''}`)
        step(options.onProgress, 'destroy', `Stopping ${app}`, 'done')
        const {getRemoteUrl, gitRoot, removeRemote} = await gitCommands()
        const root = await gitRoot(options.cwd)
        const url = root ? await getRemoteUrl(root, names.gitRemote()) : undefined
        if (root && url && this.pointsAt(url, app)) {
          await removeRemote(root, names.gitRemote())
          removed.push(`git remote ${names.gitRemote()} in ${root}`)
        }

        // Inside the lock: a change waiting for it then finds the app gone (AppNotFound).
        rmSync(paths.dir, {recursive: true, force: true})
        removed.push(`app directory ${paths.dir} (repo, releases, config, builds, logs)`)
      },
      {waitMs: this.ctx.lockWaitMs},
    )
    return {name: app, removed}
  }

  /**
   * Renames everything under the app's directory (repo, releases, builds, config, logs) by
   * moving the directory, under the app's lock: refused while a release holds it. Processes
   * stop for the move and come back under the new name on the same port.
   */
  async renameApp(app: string, newName: string, options: OperationOptions & {cwd: string}): Promise<RenameResult> {
    validateAppName(newName)
    readApp(app)
    if (newName === app) throw new InvalidInput(`${app} is already called ${newName}.`)
    const from = appPaths(app)
    const to = appPaths(newName)
    if (existsSync(to.dir)) throw new AppExists(newName, 'the local platform')
    let remoteUpdated: string | undefined
    await withLock(
      app,
      'rename',
      async () => {
        step(options.onProgress, 'rename', `Stopping ${app}`, 'start')
        await this.ctx.runtime.stopSupervisor(from.dir)
        step(options.onProgress, 'rename', `Stopping ${app}`, 'done')
        renameSync(from.dir, to.dir)
        // The lock moved with the directory: the new name starts free.
        rmSync(to.lock, {force: true})
        writeApp({...readApp(newName), name: newName})
        // The hook names the app it deploys.
        const [{installHook}, {gitRoot, getRemoteUrl, setRemote}] = await Promise.all([import('./git-hook.js'), gitCommands()])
        await installHook(to.repo, newName)
        const root = await gitRoot(options.cwd)
        const url = root ? await getRemoteUrl(root, names.gitRemote()) : undefined
        if (root && url && this.pointsAt(url, app)) {
          await setRemote(root, names.gitRemote(), to.repo)
          remoteUpdated = root
        }
      },
      // A release in flight holds the lock: refused at once, not after it ends.
      {waitMs: 0},
    )
    const record = readApp(newName)
    if (this.serving(newName, record)) {
      step(options.onProgress, 'rename', `Starting ${newName}`, 'start')
      await this.ensure(newName)
      step(options.onProgress, 'rename', `Starting ${newName}`, 'done')
    }

    return {name: newName, previous: app, webUrl: this.summary(record, 'idle').webUrl, gitUrl: to.repo, ...(remoteUpdated ? {remoteUpdated} : {})}
  }

  async gitRemote(app: string, options: {cwd: string; remote?: string}): Promise<GitRemoteResult> {
    readApp(app)
    const {gitRoot, notARepo, setRemote} = await gitCommands()
    const root = await gitRoot(options.cwd)
    if (!root) throw notARepo(options.cwd, app)
    const remote = options.remote ?? names.gitRemote()
    const url = appPaths(app).repo
    const previous = await setRemote(root, remote, url)
    return {dir: root, remote, url, ...(previous ? {previous} : {})}
  }

  async gitClone(app: string, options: {cwd: string; directory?: string; remote?: string}): Promise<GitRemoteResult> {
    readApp(app)
    const remote = options.remote ?? names.gitRemote()
    const url = appPaths(app).repo
    const {cloneRepo} = await gitCommands()
    return {dir: await cloneRepo(options.cwd, url, options.directory ?? app, {origin: remote}), remote, url}
  }

  async getConfig(app: string): Promise<Record<string, string>> {
    const record = await this.forReading(app)
    return readConfig(appPaths(app), record.configVersion)
  }

  async setConfig(app: string, vars: Record<string, string>, options: OperationOptions = {}): Promise<ConfigChange> {
    const keys = Object.keys(vars)
    for (const key of keys) validateConfigVar(key, vars[key])
    if (keys.length === 0) throw new InvalidInput('No config vars given.', {suggestions: ['herogate config:set KEY=VALUE']})
    return this.changeConfig(app, options, (config) => {
      const changed = keys.filter((key) => config[key] !== vars[key])
      if (changed.length === 0) throw new ConfigUnchanged(keys, 'same value')
      return {next: {...config, ...vars}, description: describeConfigChange('Set', changed), keys: changed}
    })
  }

  async unsetConfig(app: string, keys: string[], options: OperationOptions = {}): Promise<ConfigChange> {
    if (keys.length === 0) throw new InvalidInput('No config var names given.', {suggestions: ['herogate config:unset KEY']})
    for (const key of keys) validateConfigKey(key)
    return this.changeConfig(app, options, (config) => {
      const present = keys.filter((key) => Object.hasOwn(config, key))
      if (present.length === 0) throw new ConfigUnchanged(keys, 'not set')
      const next = {...config}
      for (const key of present) delete next[key]
      return {next, description: describeConfigChange('Remove', present), keys: present}
    })
  }

  async editConfig(app: string, edit: ConfigEdit, options: OperationOptions = {}): Promise<ConfigChange> {
    const keys = [...Object.keys(edit.set), ...edit.unset]
    for (const key of Object.keys(edit.set)) validateConfigVar(key, edit.set[key])
    for (const key of edit.unset) validateConfigKey(key)
    if (keys.length === 0) throw new InvalidInput('No config changes given.', {suggestions: ['herogate config:edit']})
    return this.changeConfig(app, options, (config) => {
      const set = Object.keys(edit.set).filter((key) => config[key] !== edit.set[key])
      const unset = edit.unset.filter((key) => Object.hasOwn(config, key) && !Object.hasOwn(edit.set, key))
      if (set.length + unset.length === 0) throw new ConfigUnchanged(keys, 'same value')
      const next = {...config, ...edit.set}
      for (const key of unset) delete next[key]
      const description = set.length > 0 ? describeConfigChange('Set', set, unset) : describeConfigChange('Remove', unset)
      return {next, description, keys: [...set, ...unset]}
    })
  }

  async settings(app: string): Promise<AppSetting[]> {
    return settingsView(readApp(app).settings ?? {})
  }

  async setSettings(app: string, wanted: Partial<AppSettings>, options: OperationOptions = {}): Promise<SettingsChange> {
    return this.changeSettings(app, wanted, options)
  }

  async unsetSettings(app: string, names: SettingName[], options: OperationOptions = {}): Promise<SettingsChange> {
    return this.changeSettings(app, defaultsOf(names), options)
  }

  async formation(app: string): Promise<ProcessFormation[]> {
    const record = await this.forReading(app)
    return this.formationOf(record, readRelease(appPaths(app), record.current))
  }

  async scale(app: string, changes: ScaleChange[], options: OperationOptions = {}): Promise<ScaleResult> {
    const client = await this.ensure(app)
    if (!client) throw noCodeYet(app)
    return (await workflow()).withAppLock(
      this.ctx,
      app,
      'scale',
      async () => {
        const record = readApp(app)
        const release = this.serving(app, record)!
        const types = runnableTypes(release.processTypes)
        const unknown = changes.filter((change) => !Object.hasOwn(types, change.type))
        if (unknown.length > 0) throw this.unknownTypes(app, release, unknown.map((c) => c.type))

        const formation = {...record.formation}
        for (const change of changes) formation[change.type] = applyScale(formation[change.type] ?? 0, change)
        const notes = changes.some((change) => change.size)
          ? ['Sizes are ignored on the local platform: every process runs with what this machine has.']
          : []
        await client.scale(formation)
        const updated = {...record, formation}
        writeApp(updated)
        return {formation: this.formationOf(updated, release), notes}
      },
    )
  }

  async ps(app: string, options: OperationOptions = {}): Promise<ProcessInfo[]> {
    const {release, processes} = await this.observe(app)
    if (!release?.image) return []
    for (const warning of [procfileWarning(release.processTypes ?? {}), listenWarning(processes)]) {
      if (warning) options.onProgress?.({kind: 'warning', message: warning})
    }

    return processes
  }

  async restart(app: string, processType?: string, options: OperationOptions = {}): Promise<ProcessInfo[]> {
    const client = await this.ensure(app)
    if (!client) throw noCodeYet(app)
    if (processType) this.checkType(app, processType)
    await client.restart(processType)
    return client.status()
  }

  async stop(app: string, id: string): Promise<void> {
    const client = await this.ensure(app)
    if (!client) throw noCodeYet(app)
    await client.stop(id)
  }

  async run(app: string, options: RunOptions): Promise<RunResult> {
    await this.ensure(app)
    const record = readApp(app)
    const release = this.serving(app, record)
    if (!release) throw noCodeYet(app)
    const paths = appPaths(app)
    const {oneOffEnv, runOneOff} = await import('./run.js')
    const env = {...(await oneOffEnv(paths, release)), ...options.env}
    return runOneOff(options, {app, dir: join(paths.builds, release.image!), env, appDir: paths.dir})
  }

  async *logs(app: string, options: LogOptions): AsyncIterable<LogLine> {
    await this.forReading(app)
    yield* this.ctx.runtime.logReader(appPaths(app).dir).read(options)
  }

  async releases(app: string, options: {num: number}): Promise<Release[]> {
    const record = await this.forReading(app)
    return allReleases(appPaths(app))
      .slice(0, options.num)
      .map((r) => toRelease(r, record.current))
  }

  async releaseInfo(app: string, version?: number): Promise<Release> {
    const record = await this.forReading(app)
    const wanted = version ?? record.current
    if (wanted === 0) throw new HerogateError(`${app} has no releases yet.`, {suggestions: [deployHint(app)]})
    const release = readRelease(appPaths(app), wanted)
    if (!release) throw releaseNotFound(app, wanted)
    return toRelease(release, record.current)
  }

  async releaseOutput(app: string, version?: number): Promise<ReleaseOutput> {
    readApp(app)
    const paths = appPaths(app)
    const wanted = version ?? latestVersion(paths.releases)
    if (wanted === 0) throw new HerogateError(`${app} has no releases yet.`, {suggestions: [deployHint(app)]})
    if (!readRelease(paths, wanted)) throw releaseNotFound(app, wanted)
    const lines = readReleaseOutput(paths, wanted)
    if (lines) return {version: wanted, lines}
    const note = wanted <= latestVersion(paths.releases) - OUTPUTS_KEPT
      ? `The output of v${wanted} is no longer kept: herogate keeps the output of the newest ${OUTPUTS_KEPT} releases.`
      : `v${wanted} has no output: it built nothing and ran nothing (a config change while no release with code ran).`
    return {version: wanted, lines: [], note}
  }

  async rollback(app: string, version?: number, options: OperationOptions = {}): Promise<Release> {
    await this.ensure(app)
    const paths = appPaths(app)
    const {currentAuthor, withAppLock} = await workflow()
    const author = await currentAuthor()
    return withAppLock(
      this.ctx,
      app,
      'rollback',
      async (lock) => {
        const record = readApp(app)
        const target = version === undefined ? previousRelease(paths, record.current) : readRelease(paths, version)
        if (!target) throw releaseNotFound(app, version)
        if (!target.image) throw new HerogateError(`v${target.version} has no code to roll back to (it only changed config).`, {suggestions: [`herogate releases -a ${app}`]})
        if (target.status === 'failed') throw new HerogateError(`v${target.version} failed; roll back to a release that succeeded.`, {suggestions: [`herogate releases -a ${app}`]})
        if (!existsSync(join(paths.builds, target.image))) {
          throw new HerogateError(`The build of v${target.version} has been pruned; deploy its commit again instead.`, {
            // The app's repo by its path: it works from any clone that has the commit, with or without a "herogate" remote.
            suggestions: target.commit ? [`git push ${paths.repo} ${target.commit.slice(0, 7)}:refs/heads/main --force`] : [`herogate releases -a ${app}`],
          })
        }

        const release = {
          description: `Rollback to v${target.version}`,
          author,
          ...(target.commit ? {commit: target.commit} : {}),
          image: target.image,
          configVersion: target.configVersion ?? 0,
          processTypes: target.processTypes ?? {},
        }
        const ended = await this.follow(app, lock, {release}, options)
        if (!ended.ok) {
          throw new HerogateError(`Rollback to v${target.version} failed: ${ended.reason}. v${record.current} keeps serving.`, {
            details: failureDetails(ended.output),
            suggestions: [ended.output?.more ?? `herogate logs -a ${app}`, `herogate releases:info v${ended.release.version} -a ${app}`],
          })
        }

        return toRelease(ended.release, ended.release.version)
      },
    )
  }

  async deploy(app: string, options: DeployOptions): Promise<Release> {
    const paths = appPaths(app)
    readApp(app)
    const {getRemoteUrl, git, gitRoot} = await gitCommands()
    const root = await gitRoot(options.cwd)
    if (!root) throw new InvalidInput(`${options.cwd} is not a git repository.`, {suggestions: ['git init && git add . && git commit -m "first"']})
    const before = allReleases(paths)[0]?.version ?? 0
    const url = await getRemoteUrl(root, names.gitRemote())
    const remote = url && this.pointsAt(url, app) ? names.gitRemote() : paths.repo
    const ref = `${options.branch ?? 'HEAD'}:refs/heads/main`
    const lines: string[] = []
    let rejected = false
    const {runStreaming} = await import('./build.js')
    const code = await runStreaming('git', ['push', remote, ref], {
      cwd: root,
      env: (await workflow()).baseEnv(),
      signal: options.signal,
      onLine(line) {
        const remoteLine = /^remote: ?(.*)$/.exec(line)
        const text = remoteLine ? remoteLine[1].trimEnd() : line
        lines.push(text)
        // The rejection and why (its ` !` lines) are the error's to say, once.
        rejected ||= /Push rejected: /.test(text)
        if (!(rejected && remoteLine && text.startsWith(' !'))) options.onProgress?.({kind: 'output', stream: remoteLine ? 'remote' : 'git', line: text})
      },
    })
    const after = allReleases(paths)[0]
    if (options.signal?.aborted) {
      // The push stops, not a release the supervisor has taken over (git-hook.ts).
      if (after && after.version !== before) throw new Interrupted(`Interrupted: v${after.version} goes on in the background and is recorded when it ends (herogate releases -a ${app}).`)
      throw new Interrupted(`Interrupted. If the push got as far as a release, it goes on in the background and is recorded when it ends (herogate releases -a ${app}).`)
    }

    if (code !== 0) {
      if (lines.some((l) => /\(non-fast-forward\)|\(fetch first\)/.test(l))) {
        throw new HerogateError('Deploy failed: the app repo has commits your branch does not (rewritten history, or a push from another clone).', {
          suggestions: [`git push ${remote} ${options.branch ?? 'HEAD'}:main --force (deploys your code anyway)`, `herogate releases -a ${app}`],
        })
      }

      const reason = lines.map((l) => /Push rejected: (.*)$/.exec(l)?.[1]).find(Boolean) ?? lines.findLast((l) => l.trim())?.trim() ?? `git push exited with ${code}`
      // The hook's reasons say what failed already ("Build failed: ...", "Release phase failed: ...").
      const message = /^(Build|Release phase|Deploy) failed: /.test(reason) ? reason : `Deploy failed: ${reason}`
      // A release that failed says why: its failing process's last lines, and where to read more.
      const failed = after && after.version !== before && after.status === 'failed' ? after : undefined
      if (failed) {
        throw new HerogateError(message, {
          details: failureDetails(failed.failureOutput),
          suggestions: [failed.failureOutput?.more ?? `herogate logs -a ${app}`, `herogate releases:info v${failed.version} -a ${app}`],
        })
      }

      throw new HerogateError(message, {suggestions: [`herogate logs -a ${app} --source herogate`, `herogate releases -a ${app}`]})
    }

    if (!after || after.version === before) {
      const commit = await git(root, ['rev-parse', '--verify', `${options.branch ?? 'HEAD'}^{commit}`]).catch(() => undefined)
      const record = readApp(app)
      const live = readRelease(paths, record.current)
      if (live && commit && live.commit === commit) throw new UpToDate(toRelease(live, record.current))
      // The app's repo has the commit, yet another release serves (a rollback since): say how to serve it again.
      const released = commit ? allReleases(paths).find((r) => r.commit === commit && r.image && r.status === 'succeeded') : undefined
      throw new NoChanges(`Nothing to push: the app's repo already has ${commit ? commit.slice(0, 7) : 'that commit'}, but v${record.current} serves ${live?.commit ? live.commit.slice(0, 7) : 'other code'}.`, {
        suggestions: [...(released ? [`herogate rollback v${released.version} -a ${app} (serves it again, no rebuild)`] : []), 'commit a change, then deploy again', `herogate releases -a ${app}`],
      })
    }

    return toRelease(after, readApp(app).current)
  }

  // ---------------------------------------------------------------------------------------

  /**
   * The supervisor of an app that has code to run, brought back with its release when it had
   * stopped, after settling what a killed release owner left (so every command shows what
   * runs); undefined for an app with no release yet.
   */
  private async ensure(app: string): Promise<SupervisorClient | undefined> {
    if (!this.serving(app, readApp(app))) {
      // No supervisor to reach (connect settles on the way): settle here, it may make a release current.
      await (await workflow()).settleIfFree(this.ctx, app)
      if (!this.serving(app, readApp(app))) return undefined
    }

    return (await workflow()).connect(this.ctx, app)
  }

  /**
   * Before a read, the app's record: as it is, when it needs no settling and the supervisor of
   * an app with code to run is alive (then a read starts, locks and writes nothing, and asks the
   * supervisor nothing); otherwise after ensure(), which settles and brings the supervisor back.
   */
  private async forReading(app: string): Promise<AppRecord> {
    const record = readApp(app)
    const paths = appPaths(app)
    if (!unsettled(paths, record) && (!this.serving(app, record) || this.ctx.runtime.supervisorAlive(paths.dir))) return record
    await this.ensure(app)
    return readApp(app)
  }

  /**
   * For a read of what runs: the app's record, its current release and its processes, as its
   * supervisor last published them when that is the truth (no request, supervisor-paths.ts
   * publishedProcesses); otherwise as ensure()'s supervisor answers.
   */
  private async observe(app: string): Promise<{record: AppRecord; release: ReleaseRecord | undefined; processes: ProcessInfo[]}> {
    const paths = appPaths(app)
    const record = readApp(app)
    if (!unsettled(paths, record)) {
      const release = readRelease(paths, record.current)
      if (!release?.image) return {record, release, processes: []}
      const published = await this.ctx.runtime.publishedProcesses(paths.dir)
      if (published) return {record, release, processes: published}
    }

    const client = await this.ensure(app)
    const settled = readApp(app)
    return {record: settled, release: readRelease(paths, settled.current), processes: client ? await client.status() : []}
  }

  /**
   * Hands a release to the supervisor and follows it to its end. Ctrl-C (the signal) stops
   * the following, not the release: it is the supervisor's, which ends and records it.
   */
  private async follow(app: string, lock: HeldLock, request: Omit<ReleaseRequest, 'lock'>, options: OperationOptions): Promise<ReleaseEnded> {
    let version: number | undefined
    const {handOver} = await workflow()
    const ended = handOver(this.ctx, app, lock, request, (event) => {
      if (event.kind === 'started') version = event.release.version
    })
    const {signal} = options
    if (!signal) return ended
    return new Promise((resolve, reject) => {
      const stop = () => {
        const what = version ? `v${version}` : 'the release'
        reject(new Interrupted(`Interrupted: ${what} goes on in the background and is recorded when it ends (herogate releases -a ${app}).`))
      }

      if (signal.aborted) stop()
      signal.addEventListener('abort', stop, {once: true})
      ended.then(resolve, reject).finally(() => signal.removeEventListener('abort', stop))
    })
  }

  /** The current release when it carries code. */
  private serving(app: string, record: AppRecord): ReleaseRecord | undefined {
    const release = readRelease(appPaths(app), record.current)
    return release?.image ? release : undefined
  }

  private summary(record: AppRecord, status: string): AppSummary {
    return {
      name: record.name,
      platform: 'local',
      status,
      webUrl: `http://127.0.0.1:${record.port}`,
      gitUrl: appPaths(record.name).repo,
      createdAt: record.createdAt,
    }
  }

  private formationOf(record: AppRecord, release: ReleaseRecord | undefined): ProcessFormation[] {
    if (!release?.image) return []
    return Object.entries(runnableTypes(release.processTypes)).map(([type, command]) => ({
      type,
      quantity: record.formation[type] ?? 0,
      command,
    }))
  }

  private checkType(app: string, type: string): void {
    const release = this.serving(app, readApp(app))
    if (!Object.hasOwn(runnableTypes(release?.processTypes), type)) throw this.unknownTypes(app, release, [type])
  }

  /** Says which process types the app has, and where they come from: its Procfile, or npm start without one. */
  private unknownTypes(app: string, release: ReleaseRecord | undefined, unknown: string[]): InvalidInput {
    const types = Object.keys(runnableTypes(release?.processTypes))
    const procfile = release?.image !== undefined && existsSync(join(appPaths(app).builds, release.image, 'Procfile'))
    return new InvalidInput(`Unknown process type${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}.`, {
      suggestions: processTypeHints(app, types, procfile ? 'Procfile' : 'npm start'),
    })
  }

  private pointsAt(url: string, app: string): boolean {
    const target = targetFromRemoteUrl(url)
    return target?.platform === 'local' && target.name === app && resolve(url.replace(/^file:\/\//, '')) === resolve(appPaths(app).repo)
  }

  private async unusedName(): Promise<string> {
    const {randomAppName} = await import('../../lib/random-name.js')
    for (let attempt = 0; attempt < 20; attempt++) {
      const name = randomAppName()
      if (!appExists(name) && !existsSync(appPaths(name).dir)) return name
    }

    throw new HerogateError('Could not find an unused random name.', {suggestions: ['herogate create NAME --local']})
  }

  /** A free 127.0.0.1 port that no other local app has claimed (a stopped app keeps its port). */
  private async unusedPort(): Promise<number> {
    const {freePortNotIn} = await import('./ports.js')
    return freePortNotIn(new Set(listAppNames().map((name) => soundRecord(name)?.port)))
  }

  private async addRemote(cwd: string, repo: string): Promise<string | undefined> {
    const add = `git remote add ${names.gitRemote()} ${repo}`
    const {addRemote, getRemoteUrl, gitRoot} = await gitCommands()
    const root = await gitRoot(cwd)
    if (!root) return `${cwd} is not a git repository; in your app's repo run: ${add}`
    const existing = await getRemoteUrl(root, names.gitRemote())
    if (existing && resolve(existing) !== resolve(repo)) {
      return `A "${names.gitRemote()}" remote already points at ${existing}; to use this app: git remote set-url ${names.gitRemote()} ${repo}`
    }

    if (!existing) await addRemote(root, names.gitRemote(), repo)
    return undefined
  }

  /**
   * Settings are no release: they are kept in app.json and handed to the supervisor with the
   * release it runs (a deploy of the same release restarts nothing), so every process it
   * starts from now on gets them; every later deploy brings them too.
   */
  private async changeSettings(app: string, wanted: Partial<AppSettings>, options: OperationOptions): Promise<SettingsChange> {
    const client = await this.ensure(app)
    const [{withAppLock}, {desiredState}] = await Promise.all([workflow(), releaseOwner()])
    return withAppLock(
      this.ctx,
      app,
      'settings',
      async () => {
        const record = readApp(app)
        const next = changeSettings(record.settings, wanted)
        const {after, changed} = next
        const release = client ? this.serving(app, record) : undefined
        const takesEffect = release ? 'now' : 'next-deploy'
        if (changed.length === 0) return {settings: settingsView(next.stored), changed, takesEffect, notes: [nothingChanged(Object.keys(wanted) as SettingName[], after)]}
        const path = after['health-check-path']
        if (client && release && changed.includes('health-check-path') && (await client.status()).some((p) => p.type === 'web' && p.status === 'up')) {
          // As on AWS: a path the running release does not answer would fail its next restart.
          step(options.onProgress, 'health-check-path', `Checking that the running web processes answer GET ${path}`, 'start')
          const host = /^(0\.0\.0\.0|::)$/.test(bindHost()) ? '127.0.0.1' : bindHost()
          const {probeHttp} = await import('./router.js')
          if (!(await probeHttp(record.port, {host, path, timeoutMs: 5000}))) {
            step(options.onProgress, 'health-check-path', `Checking that the running web processes answer GET ${path}`, 'failed')
            throw new HerogateError(`The running web processes of ${app} do not answer GET ${path} with 200-399, so health-check-path stays ${next.before['health-check-path']}.`, {
              suggestions: [`deploy a release that answers GET ${path}, then: herogate apps:settings:set health-check-path=${path} -a ${app}`],
            })
          }

          step(options.onProgress, 'health-check-path', `Checking that the running web processes answer GET ${path}`, 'done')
        }

        const {settings: _old, ...rest} = record
        writeApp({...rest, ...(Object.keys(next.stored).length > 0 ? {settings: next.stored} : {})})
        const boot = `${after['boot-timeout']} s to answer GET ${path} with 200-399`
        if (!client || !release) return {settings: settingsView(next.stored), changed, takesEffect, notes: [`The first deploy gives its web processes ${boot}.`]}
        const outcome = await client.deploy(desiredState(appPaths(app), release, record.formation, next.stored))
        const notes = [`Web processes started from now on (deploys, restarts, scaling, crash restarts) get ${boot}; the running ones keep running.`]
        if (!outcome.ok) notes.push(`v${release.version} is not running: ${outcome.reason ?? 'its processes did not start'}.`)
        return {settings: settingsView(next.stored), changed, takesEffect, notes}
      },
    )
  }

  /** Config changes: a new snapshot and a release; with a running release, a rolling restart onto it. */
  private async changeConfig(
    app: string,
    options: OperationOptions,
    change: (config: Record<string, string>) => {next: Record<string, string>; description: string; keys: string[]},
  ): Promise<ConfigChange> {
    await this.ensure(app)
    const paths = appPaths(app)
    const {currentAuthor, withAppLock} = await workflow()
    const author = await currentAuthor()
    return withAppLock(
      this.ctx,
      app,
      'config',
      async (lock) => {
        const record = readApp(app)
        const {next, description, keys} = change(readConfig(paths, record.configVersion))
        makePrivateDir(paths.dir)
        const configVersion = writeConfig(paths, next)
        const serving = this.serving(app, record)
        const release = {
          description,
          author,
          configVersion,
          ...(serving?.commit ? {commit: serving.commit} : {}),
          ...(serving?.image ? {image: serving.image, processTypes: serving.processTypes ?? {}} : {}),
        }
        if (!serving) {
          // Nothing runs, so nothing restarts: the release is recorded as succeeded at once.
          const done = createRelease(paths, release, this.ctx.now(), 'succeeded')
          writeApp({...record, current: done.version, configVersion})
          return {keys, release: toRelease(done, done.version)}
        }

        const ended = await this.follow(app, lock, {release}, options)
        if (!ended.ok) {
          throw new HerogateError(`Config change not applied: ${ended.reason}. v${record.current} keeps serving with the old config.`, {
            details: failureDetails(ended.output),
            suggestions: [ended.output?.more ?? `herogate logs -a ${app}`, `herogate releases:info v${ended.release.version} -a ${app}`],
          })
        }

        return {keys, release: toRelease(ended.release, ended.release.version)}
      },
    )
  }

  addonPlans(service?: AddonService): AddonPlan[] {
    return addonPlans(service)
  }

  async addons(app: string): Promise<Addon[]> {
    return (await addonsModule()).addons(this, app)
  }

  async addonInfo(app: string, name: string): Promise<Addon> {
    return (await addonsModule()).addonInfo(this, app, name)
  }

  async createAddon(app: string, options: AddonCreateOptions): Promise<AddonResult> {
    return (await addonsModule()).createAddon(this, app, options)
  }

  async waitAddons(app: string, name: string | undefined, options?: OperationOptions): Promise<Addon[]> {
    return (await addonsModule()).waitAddons(this, app, name, options)
  }

  async destroyAddon(app: string, name: string, options?: AddonDestroyOptions): Promise<AddonResult> {
    return (await addonsModule()).destroyAddon(this, app, name, options)
  }

  async addonShell(app: string, service: AddonService, name: string | undefined, options: RunOptions): Promise<RunResult> {
    return (await addonsModule()).addonShell(this, app, service, name, options)
  }

  async backups(app: string, name?: string): Promise<Backup[]> {
    return (await addonsModule()).backups(this, app, name)
  }

  async captureBackup(app: string, name: string | undefined, options?: OperationOptions): Promise<Backup> {
    return (await addonsModule()).captureBackup(this, app, name, options)
  }

  async restoreBackup(app: string, id: string, options?: OperationOptions & {into?: string}): Promise<Backup> {
    return (await addonsModule()).restoreBackup(this, app, id, options)
  }

  async domains(app: string): Promise<Domain[]> {
    return (await localDomains()).domains(app)
  }

  async addDomain(app: string, hostname: string): Promise<DomainResult> {
    return (await localDomains()).addDomain(app, hostname, this.ctx.now())
  }

  async removeDomain(app: string, hostname: string): Promise<DomainResult> {
    return (await localDomains()).removeDomain(app, hostname)
  }

  async waitDomain(app: string, hostname: string): Promise<Domain> {
    return (await localDomains()).waitDomain(app, hostname)
  }

  async certs(app: string): Promise<Certificate[]> {
    return (await localDomains()).certs(app)
  }

  // Maintenance mode (local/maintenance.ts: the router answers) and autoscaling (refused here: local/autoscale.ts).
  async maintenance(app: string): Promise<Maintenance> {
    readApp(app)
    return maintenance.maintenance(app)
  }

  async setMaintenance(app: string, enabled: boolean, options: MaintenanceOptions = {}): Promise<Maintenance & {changed: boolean}> {
    readApp(app)
    return maintenance.setMaintenance(app, enabled, options, async () => {
      await (await this.ensure(app))?.reloadMaintenance?.()
    })
  }

  async autoscaling(app: string): Promise<Autoscaling[]> {
    return autoscale.autoscaling(app)
  }

  autoscale(app: string, settings: Autoscaling): Promise<AutoscaleResult> {
    return autoscale.refuse(app, settings.type)
  }

  disableAutoscale(app: string, type: string): Promise<AutoscaleResult> {
    return autoscale.refuse(app, type)
  }

  // Scheduled jobs: run by the app's supervisor (job-runner.ts), which must be running for them. Loaded when used: reads load no crypto.
  async scheduledJobs(app: string): Promise<ScheduledJob[]> {
    readApp(app)
    return (await scheduler()).scheduledJobs(app, this.ctx.now())
  }

  async addScheduledJob(app: string, job: JobSpec): Promise<ScheduledJob> {
    readApp(app)
    const added = await (await scheduler()).addScheduledJob(app, job, this.ctx.now())
    await this.ensure(app)
    return added
  }

  async removeScheduledJob(app: string, id: string): Promise<ScheduledJob> {
    readApp(app)
    return (await scheduler()).removeScheduledJob(app, id)
  }
}


/** Domains change no release: loaded when a domains command runs. */
const localDomains = () => import('./domains.js')

/** An app's status from what its supervisor runs. */
function statusOf(processes: ProcessInfo[]): string {
  if (processes.some((p) => p.status === 'up')) return 'running'
  if (processes.some((p) => p.status === 'crashed')) return 'crashed'
  if (processes.length === 0) return 'idle'
  return processes[0].status
}

function step(progress: Progress | undefined, id: string, message: string, status: 'start' | 'done' | 'failed'): void {
  progress?.({kind: 'step', id, message, status})
}

/** The app's record; undefined when the app is damaged (AppNotFound when there is no such app). */
function soundRecord(app: string): AppRecord | undefined {
  try {
    return readApp(app)
  } catch (error) {
    if (error instanceof DamagedApp) return undefined
    throw error
  }
}

function releaseNotFound(app: string, version: number | undefined): HerogateError {
  return new HerogateError(`Release v${version} of ${app} not found.`, {suggestions: [`herogate releases -a ${app}`]})
}
