import {join} from 'node:path'

import {git} from '../../lib/git.js'
import type {LogLine} from '../types.js'
import {readConfig} from './config.js'
import type {DesiredState, SupervisorClient} from './contracts.js'
import {finishRelease, readRelease, type ReleaseRecord} from './releases.js'
import {bindHost, defaultRuntime, type LocalRuntime} from './runtime.js'
import {type AppPaths, type AppRecord, appPaths, readApp, tryLock, writeApp} from './state.js'

/**
 * The pieces of the local workflow that both LocalPlatform (in the CLI) and the push hook
 * (in git's pre-receive) use: reaching the supervisor, handing it a release, recording the
 * outcome.
 */

export interface LocalContext {
  runtime: LocalRuntime
  now: () => Date
  /** How long a change waits for another one on the same app before LockHeld. */
  lockWaitMs?: number
}

export const defaultContext = (): LocalContext => ({runtime: defaultRuntime, now: () => new Date()})

/** What an app's processes inherit from this machine (the supervisor passes the same set): config does the rest. */
const INHERITED = ['PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'LANG', 'LC_ALL', 'LC_CTYPE', 'TMPDIR', 'TZ', 'TERM', 'COLORTERM']

/** The environment of the release phase and one-off processes, before config: as the app's processes see it. */
export function processEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const key of INHERITED) if (process.env[key] !== undefined) env[key] = process.env[key]
  return env
}

/** The environment of builds and git: the caller's (proxies, npm settings), minus git's hook variables. */
export function baseEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('GIT_') && key !== 'PORT' && key !== 'DYNO') env[key] = value
  }

  return env
}

/** Who made a change: git's user.email, else the login name. */
export async function currentAuthor(cwd = process.cwd()): Promise<string> {
  try {
    const email = await git(cwd, ['config', 'user.email'])
    if (email) return email
  } catch {
    // No git identity configured.
  }

  return process.env.USER || process.env.USERNAME || 'unknown'
}

/** Types the supervisor runs: everything in the Procfile but the release phase. */
export function runnableTypes(processTypes: Record<string, string> = {}): Record<string, string> {
  const {release: _release, ...types} = processTypes
  return types
}

/** Counts for a release's types: the current counts where known, web=1 and others 0 for new types (as Heroku does). */
export function formationFor(processTypes: Record<string, string>, current: Record<string, number>): Record<string, number> {
  const formation: Record<string, number> = {}
  for (const type of Object.keys(runnableTypes(processTypes))) formation[type] = current[type] ?? (type === 'web' ? 1 : 0)
  return formation
}

export function desiredState(paths: AppPaths, release: ReleaseRecord, formation: Record<string, number>): DesiredState {
  return {
    release: {
      version: release.version,
      dir: join(paths.builds, release.image ?? ''),
      processTypes: runnableTypes(release.processTypes),
      env: readConfig(paths, release.configVersion ?? 0),
    },
    formation: formationFor(release.processTypes ?? {}, formation),
  }
}

export function log(ctx: LocalContext, app: string, process: string, message: string): void {
  const line: LogLine = {time: ctx.now(), source: 'herogate', process, message}
  try {
    ctx.runtime.logWriter(appPaths(app).dir).append(line)
  } catch {
    // Logging must never break a deploy.
  }
}

/**
 * The app's supervisor, started when needed. A supervisor that has just been (re)started
 * runs nothing: it gets the current release again, so that after it was killed the next
 * herogate command brings the app back. `locked`: the caller holds the app lock already.
 */
export async function connect(ctx: LocalContext, app: string, options: {locked?: boolean} = {}): Promise<SupervisorClient> {
  const record = readApp(app)
  const paths = appPaths(app)
  const client = await ctx.runtime.ensureSupervisor({appDir: paths.dir, app, port: record.port, host: bindHost()})
  // A supervisor this call did not start already got its release (or failed to run it and
  // said so): retrying on every command would make each one wait for a crashing app.
  if (record.current === 0 || (client as {started?: boolean}).started === false) return client
  const recover = async () => {
    const fresh = readApp(app)
    const release = readRelease(paths, fresh.current)
    if (!release?.image) return
    const state = desiredState(paths, release, fresh.formation)
    if (!Object.values(state.formation).some((n) => n > 0)) return
    if ((await client.status()).length > 0) return
    log(ctx, app, 'deploy', `Supervisor started: bringing back v${release.version}`)
    const outcome = await client.deploy(state)
    if (!outcome.ok) log(ctx, app, 'deploy', `Could not bring back v${release.version}: ${outcome.reason ?? 'unknown reason'}`)
  }

  if (options.locked) {
    await recover()
    return client
  }

  // Someone else holding the lock (a push mid-deploy) is about to hand the supervisor a release anyway.
  const lock = tryLock(app, 'recover', process.env.USER || 'herogate')
  if (lock) {
    try {
      await recover()
    } finally {
      lock.release()
    }
  }

  return client
}

/**
 * Hands `release` to the supervisor (health-checked rolling deploy) and records the outcome:
 * on success it becomes current (with its config and formation); on failure it is marked
 * failed and the old release keeps serving. The caller holds the app lock.
 */
export async function activate(
  ctx: LocalContext,
  app: string,
  release: ReleaseRecord,
  formation: Record<string, number>,
): Promise<{ok: true; release: ReleaseRecord; record: AppRecord} | {ok: false; release: ReleaseRecord; reason: string}> {
  const paths = appPaths(app)
  const client = await connect(ctx, app, {locked: true})
  const state = desiredState(paths, release, formation)
  let outcome
  try {
    outcome = await client.deploy(state)
  } catch (error) {
    outcome = {ok: false, reason: (error as Error).message}
  }

  if (!outcome.ok) {
    const reason = outcome.reason ?? 'the new processes did not become healthy'
    log(ctx, app, 'deploy', `v${release.version} failed: ${reason}`)
    return {ok: false, release: finishRelease(paths, release, 'failed', reason), reason}
  }

  const done = finishRelease(paths, release, 'succeeded')
  const record: AppRecord = {...readApp(app), current: release.version, configVersion: release.configVersion ?? 0, formation: state.formation}
  writeApp(record)
  log(ctx, app, 'deploy', `v${release.version} is live`)
  return {ok: true, release: done, record}
}
