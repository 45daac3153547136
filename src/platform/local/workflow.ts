import {git} from '../../lib/git.js'
import type {LogLine} from '../types.js'
import {type ReleaseEnded, type ReleaseEvent, type ReleaseRequest, ReleaseCutShort, type SupervisorClient} from './contracts.js'
import {settle as settleLocked, settleIfFree as settleFree} from './release-owner.js'
import {readRelease} from './releases.js'
import {bringBack, currentState} from './restore.js'
import {bindHost, defaultRuntime, type LocalRuntime} from './runtime.js'
import {appPaths, type HeldLock, readApp, tryLock, withLock} from './state.js'

/**
 * The pieces of the local workflow that both LocalPlatform (in the CLI) and the push hook
 * (git's proc-receive) use: the app lock with settling, reaching the supervisor, handing it
 * a release (which it then owns: release-owner.ts).
 */

export interface LocalContext {
  runtime: LocalRuntime
  now: () => Date
  /** How long a change waits for another one on the same app before LockHeld. */
  lockWaitMs?: number
}

export const defaultContext = (): LocalContext => ({runtime: defaultRuntime, now: () => new Date()})

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

export function log(ctx: LocalContext, app: string, process: string, message: string): void {
  const line: LogLine = {time: ctx.now(), source: 'herogate', process, message}
  try {
    ctx.runtime.logWriter(appPaths(app).dir).append(line)
  } catch {
    // Logging must never break a deploy.
  }
}

/**
 * The app's supervisor, started when needed. A supervisor settles and brings back the current
 * release itself as it starts (restore.ts); one this call started that still runs nothing
 * (it found nothing to run, or a runtime that does not restore) gets the current release from
 * here. Unless the caller holds the app lock already (`locked`, and has settled), a free lock
 * is taken to settle what a killed owner left first.
 */
export async function connect(ctx: LocalContext, app: string, options: {locked?: boolean} = {}): Promise<SupervisorClient> {
  const record = readApp(app)
  const paths = appPaths(app)
  const client = await ctx.runtime.ensureSupervisor({appDir: paths.dir, app, port: record.port, host: bindHost()})
  // A supervisor this call did not start already got its release (or failed to run it and
  // said so): retrying on every command would make each one wait for a crashing app.
  const fresh = (client as {started?: boolean}).started !== false
  if (options.locked) {
    if (fresh) await recover(ctx, app, client, false)
    return client
  }

  // Someone else holding the lock (a push mid-deploy, or the supervisor owning a release) is
  // about to hand the supervisor a release anyway, and settles when it ends.
  const lock = tryLock(app, 'recover', process.env.USER || 'herogate')
  if (lock) {
    try {
      const changed = await settle(ctx, app)
      if (fresh || changed) await recover(ctx, app, client, changed)
    } finally {
      lock.release()
    }
  }

  return client
}

/** Has the supervisor run the current release: when it runs nothing, or (`force`) when the current release has just been settled. */
async function recover(ctx: LocalContext, app: string, client: SupervisorClient, force: boolean): Promise<void> {
  const state = currentState(app, appPaths(app).dir)
  if (!state || (!force && (await client.status()).length > 0)) return
  await bringBack(state, (wanted) => client.deploy(wanted), (message) => log(ctx, app, 'deploy', message))
}

/** Settles the releases (below) when no one holds the app lock; when someone does, they settle. */
export async function settleIfFree(ctx: LocalContext, app: string): Promise<void> {
  await settleFree(app, (message) => log(ctx, app, 'deploy', message))
}

/** Records what the last owner of the lock left unrecorded (release-owner.ts) and logs it; true when the current release changed. */
function settle(ctx: LocalContext, app: string): Promise<boolean> {
  return settleLocked(app, (message) => log(ctx, app, 'deploy', message))
}

/**
 * Runs a change of the app under its lock (waiting for the change before it), after settling
 * what a change that died left behind.
 */
export function withAppLock<T>(ctx: LocalContext, app: string, operation: string, fn: (lock: HeldLock) => Promise<T>): Promise<T> {
  return withLock(
    app,
    operation,
    async (lock) => {
      await settle(ctx, app)
      return fn(lock)
    },
    {waitMs: ctx.lockWaitMs},
  )
}

/**
 * Hands a new release and the app lock to the supervisor, which owns it from then on
 * (release-owner.ts), and follows it until it ends. If this process dies meanwhile, the
 * release still ends and is recorded; if the supervisor dies, the next change records it.
 */
export async function handOver(
  ctx: LocalContext,
  app: string,
  lock: HeldLock,
  request: Omit<ReleaseRequest, 'lock'>,
  onEvent?: (event: ReleaseEvent) => void,
): Promise<ReleaseEnded> {
  const client = await connect(ctx, app, {locked: true})
  try {
    return await client.release({...request, lock: lock.token}, onEvent)
  } catch (error) {
    if (!(error instanceof ReleaseCutShort) || error.version === undefined) throw error
    // The supervisor was killed mid-release and its watchdog has started it again, which
    // settled the release (or it is settled here, when no watchdog did): say how it ended.
    await settleIfFree(ctx, app)
    const release = readRelease(appPaths(app), error.version)
    if (!release || release.status === 'pending') throw error
    const ended: ReleaseEnded = {kind: 'ended', release, ok: release.status === 'succeeded', ...(release.status === 'failed' ? {reason: release.reason ?? error.message, stage: 'deploy' as const} : {})}
    onEvent?.(ended)
    return ended
  }
}
