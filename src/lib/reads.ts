import type {AppInfo, AppSummary, AppTarget, LogOptions, Platform, PlatformKind, ProcessInfo, Progress, Release} from '../platform/types.js'
import {autoscaleText} from './autoscale.js'
import type {Palette} from './color.js'
import {AwsNotConfigured, HerogateError} from './errors.js'
import {formationText, formatLogLine, heading, keyValues, logLineJson, table, timeAgo} from './format.js'
import {deployHint, idleHint} from './hints.js'
import {parseSince} from './parse.js'
import {shellQuote} from './shell.js'

/**
 * The read commands (ps, config, releases, info, apps, logs) after their flags are parsed.
 * They live apart from their oclif classes, and import nothing of oclif, so that bin/run.cjs
 * can run them without loading oclif (lib/fast-path.ts): the command class and the fast path
 * run this same code, which is what keeps their output the same.
 */
export interface ReadContext {
  /** A line of data on stdout (nothing under --json). */
  log(message: string): void
  /** Text on stdout as it is (log lines). */
  write(text: string): void
  /** A line for the user on stderr (nothing under --json). */
  note(message: string): void
  /** Whether the command prints its result as JSON (then log and note print nothing). */
  json: boolean
  /** Colours for stdout: none when piped, with --no-color or NO_COLOR. */
  colors: Palette
  /** Now, for relative times in tables ("2m ago"). */
  now(): Date
  progress: Progress
  signal: AbortSignal
  resolveTarget(flags: AppFlags): Promise<{target: AppTarget; platform: Platform}>
  platform(kind: PlatformKind, options?: {region?: string; profile?: string}): Promise<Platform>
}

export interface AppFlags {
  app?: string
  region?: string
  profile?: string
}

export async function ps(io: ReadContext, flags: AppFlags): Promise<ProcessInfo[]> {
  const {target, platform} = await io.resolveTarget(flags)
  const [processes, autoscaled] = await Promise.all([platform.ps(target.name, {onProgress: io.progress}), platform.autoscaling(target.name)])
  if (processes.length === 0) {
    if (!io.json) io.log(idleHint(target.name, await platform.formation(target.name)))
  } else {
    const {colors} = io
    const now = io.now()
    io.log(table(processes, [
      {header: 'Name', get: (p) => p.name},
      {header: 'Status', get: (p) => p.status, color: colors.status},
      {header: 'Health', get: (p) => p.health, color: colors.status},
      {header: 'Release', get: (p) => (p.release === undefined ? '' : `v${p.release}`)},
      // Local processes have no size: they get what the machine has.
      ...(processes.some((p) => p.size) ? [{header: 'Size', get: (p: ProcessInfo) => p.size}] : []),
      {header: 'Started', get: (p) => timeAgo(p.startedAt, now)},
      {header: 'Id', get: (p) => p.id},
    ]))
  }

  for (const autoscaling of autoscaled) io.log(`${autoscaling.type} autoscales: ${autoscaleText(autoscaling)}`)
  return processes
}

export async function config(io: ReadContext, flags: AppFlags & {shell?: boolean}): Promise<Record<string, string>> {
  const {target, platform} = await io.resolveTarget(flags)
  const vars = await platform.getConfig(target.name)
  const keys = Object.keys(vars).sort()
  if (flags.shell) {
    for (const key of keys) io.log(`${key}=${shellQuote(vars[key])}`)
  } else if (keys.length === 0) {
    io.log(`${target.name} has no config vars.`)
  } else {
    io.log(heading(`${target.name} Config Vars`, io.colors))
    io.log(keyValues(keys.map((key) => [key, vars[key] === '' ? "''" : vars[key]])))
  }

  return vars
}

export async function releases(io: ReadContext, flags: AppFlags & {num: number}): Promise<Release[]> {
  const {target, platform} = await io.resolveTarget(flags)
  const list = await platform.releases(target.name, {num: flags.num})
  if (list.length === 0) {
    io.log(`${target.name} has no releases yet. Deploy with: ${deployHint(target.name)}`)
  } else {
    const {colors} = io
    const now = io.now()
    io.log(heading(`${target.name} Releases`, colors))
    io.log(table(list, [
      {header: 'Version', get: (r) => `v${r.version}${r.current ? ' *' : ''}`},
      {header: 'Description', get: (r) => r.description},
      {header: 'Status', get: (r) => r.status, color: colors.status},
      {header: 'User', get: (r) => r.author},
      {header: 'Created', get: (r) => timeAgo(r.createdAt, now)},
    ]))
  }

  return list
}

export async function appsInfo(io: ReadContext, flags: AppFlags): Promise<AppInfo> {
  const {target, platform} = await io.resolveTarget(flags)
  const app = await platform.appInfo(target.name)
  const release = app.release
  const {colors} = io
  io.log(heading(app.name, colors))
  io.log(keyValues([
    ['Platform', app.platform],
    ['Region', app.region],
    ['Status', colors.status(app.status)],
    ['Web URL', app.webUrl],
    ['Git URL', app.gitUrl],
    ['Stack', app.stack],
    ['Release', release ? `v${release.version} ${release.description} (${colors.status(release.status)})` : `none yet (deploy with: ${deployHint(app.name)})`],
    ['Formation', formationText(app.formation) || 'none'],
    ['Maintenance', app.maintenance ? colors.yellow('on') : undefined],
    ['Created', app.createdAt],
  ]))
  return app
}

export async function apps(io: ReadContext, flags: {region?: string; profile?: string; local?: boolean; aws?: boolean}): Promise<AppSummary[]> {
  const list: AppSummary[] = []
  if (!flags.aws) list.push(...(await (await io.platform('local')).listApps()))
  if (!flags.local) {
    try {
      list.push(...(await (await io.platform('aws', flags)).listApps()))
    } catch (error) {
      // Without AWS set up, the local apps are still worth listing; AWS asked for by name must work.
      if (flags.aws || flags.region || flags.profile || !(error instanceof HerogateError)) throw error
      // Someone who uses only the local platform hears nothing about AWS (apps --aws says why);
      // someone who set AWS up hears why their AWS apps are missing.
      if (!(error instanceof AwsNotConfigured)) io.note(`(AWS apps not listed: ${error.message})`)
    }
  }

  if (list.length === 0) io.log('You have no apps. Create one: herogate create --local (or herogate create on AWS)')
  else
    io.log(table(list, [
      {header: 'Name', get: (a) => a.name},
      {header: 'Platform', get: (a) => a.platform + (a.region ? ` (${a.region})` : '')},
      {header: 'Status', get: (a) => a.status, color: io.colors.status},
      {header: 'Web URL', get: (a) => a.webUrl},
    ]))
  for (const app of list.filter((a) => a.problem)) io.note(`${app.name} is damaged: ${app.problem}. Remove it: herogate destroy -a ${app.name} --confirm ${app.name}`)
  return list
}

export interface LogFlags extends AppFlags {
  num: number
  tail?: boolean
  /** Heroku's -d: a process type (web) or a process (web.1). */
  dyno?: string
  'process-type'?: string
  task?: string
  source?: string
  since?: string
  json?: boolean
}

export async function logs(io: ReadContext, flags: LogFlags): Promise<void> {
  const since = flags.since ? parseSince(flags.since) : undefined
  const {target, platform} = await io.resolveTarget(flags)
  const {dyno} = flags
  const lines = platform.logs(target.name, {
    num: flags.num,
    tail: flags.tail ?? false,
    processType: dyno && !dyno.includes('.') ? dyno : flags['process-type'],
    task: dyno?.includes('.') ? dyno : flags.task,
    source: flags.source as LogOptions['source'],
    since,
    signal: flags.tail ? io.signal : undefined,
  })
  const {colors} = io
  for await (const line of lines) io.write((flags.json ? logLineJson(line) : formatLogLine(line, colors)) + '\n')
}
