import {join} from 'node:path'

import {git} from '../../lib/git.js'
import {BoundedOutput, configMasker, LastLines} from '../../lib/process-output.js'
import {effectiveSettings} from '../../lib/settings.js'
import type {AppSettings, FailureOutput, LogLine} from '../types.js'
import {pruneBuilds, runStreaming} from './build.js'
import {readConfig} from './config.js'
import {appEnv} from './app-env.js'
import {INHERITED_ENV, pickEnv} from './processes.js'
import type {BootCheck, DeployOutcome, DesiredState, LogWriter, ReleaseEnded, ReleaseEvent, ReleaseRequest} from './contracts.js'
import {createRelease, finishRelease, pruneReleaseOutputs, type ReleaseRecord, runnableTypes, unsettled, writeReleaseOutput} from './releases.js'
import {type AppPaths, type AppRecord, appPaths, readApp, takeOverLock, tryLock, writeApp} from './state.js'

/**
 * Who owns a release: the supervisor, which outlives the command that asked for it. A change
 * (push, config, rollback) prepares under the app lock (build, config snapshot), then hands
 * the lock and the release over (ownRelease): the supervisor records the release, runs its
 * release phase, rolls it out, records how it ended, moves the branch of a deploy and only
 * then lets the lock go. Killing the command, or the push, changes nothing of that.
 *
 * A release is `pending` only while its owner holds the lock, so whoever takes the lock next
 * and finds one pending knows its owner died (a supervisor killed mid-release):
 * settleReleases marks it failed, and finishes the recording steps of a succeeded one that a
 * crash cut short, so records, the branch and what runs agree again before anything else.
 * The first to do so is normally the supervisor its watchdog starts again (restore.ts), before
 * it brings back the current release; otherwise the next change or command.
 */

/**
 * The environment of the release phase and one-off processes, before config: what the app's
 * processes inherit from this machine, and the terminal's type for a one-off attached to one.
 */
export function processEnv(): NodeJS.ProcessEnv {
  return pickEnv(process.env, [...INHERITED_ENV, 'TERM', 'COLORTERM'])
}

/**
 * How the push shows what the release's owner reports (`remote:` lines), and how its output
 * is kept for `releases:output`: the same lines. `port` and `before` (the release serving
 * until now) say where it is live, or what keeps serving.
 */
export function releaseEventLines(event: ReleaseEvent, port: number, before: number): string[] {
  switch (event.kind) {
    case 'step':
      return [`-----> ${event.message}`]
    case 'line':
      return [`       ${event.line}`]
    case 'ended':
      return [event.ok
        ? `-----> Released v${event.release.version}: http://127.0.0.1:${port}`
        : `-----> v${event.release.version} failed: ${event.reason}; ${before ? `v${before} keeps serving` : 'nothing is serving'}`]
    default:
      return []
  }
}

/** Counts for a release's types: the current counts where known, web=1 and others 0 for new types (as Heroku does). */
export function formationFor(processTypes: Record<string, string>, current: Record<string, number>): Record<string, number> {
  const formation: Record<string, number> = {}
  for (const type of Object.keys(runnableTypes(processTypes))) formation[type] = current[type] ?? (type === 'web' ? 1 : 0)
  return formation
}

/** The supervisor's boot check from the app's settings. */
function bootCheck(stored: Partial<AppSettings> | undefined): BootCheck {
  const settings = effectiveSettings(stored)
  return {timeoutMs: settings['boot-timeout'] * 1000, path: settings['health-check-path']}
}

/** `settings`: the app's (AppRecord.settings), which travel with every deploy. */
export function desiredState(paths: AppPaths, release: ReleaseRecord, formation: Record<string, number>, settings: Partial<AppSettings> | undefined): DesiredState {
  return {
    release: {
      version: release.version,
      dir: join(paths.builds, release.image ?? ''),
      processTypes: runnableTypes(release.processTypes),
      env: readConfig(paths, release.configVersion ?? 0),
    },
    formation: formationFor(release.processTypes ?? {}, formation),
    boot: bootCheck(settings),
  }
}

export interface OwnerDeps {
  /** The supervisor's health-checked rolling deploy. */
  deploy(state: DesiredState): Promise<DeployOutcome>
  log: LogWriter
  now(): Date
}

/** The request names a lock its sender does not hold (or no longer): nothing was done. */
export class LockNotHeld extends Error {}

/**
 * Takes over the release `request` asks for: the app lock passes to this process now (or
 * LockNotHeld). The returned function runs the release to its end, reporting on `emit`, and
 * always lets the lock go.
 */
export function takeRelease(app: string, request: ReleaseRequest, deps: OwnerDeps): (emit: (event: ReleaseEvent) => void) => Promise<ReleaseEnded> {
  const paths = appPaths(app)
  const lock = takeOverLock(paths.lock, request.lock, request.branch ? 'deploy' : request.release.description)
  if (!lock) throw new LockNotHeld(`the app lock of ${app} is not held by the sender of this release`)
  let before: AppRecord
  let release: ReleaseRecord
  const output = new BoundedOutput(request.output ?? [])
  try {
    before = readApp(app)
    release = createRelease(paths, request.release, deps.now())
  } catch (error) {
    lock.release()
    throw error
  }

  // Kept from the start: a release cut short by a killed supervisor still has its build's output.
  keepOutput(paths, release.version, output)
  return async (emit) => {
    try {
      return await runRelease(app, paths, request, deps, (event) => {
        for (const line of releaseEventLines(event, before.port, before.current)) output.add(line)
        emit(event)
      }, before, release)
    } finally {
      keepOutput(paths, release.version, output)
      lock.release()
    }
  }
}

/** Writes a release's output; a full disk costs the output, never the release. */
function keepOutput(paths: AppPaths, version: number, output: BoundedOutput): void {
  try {
    writeReleaseOutput(paths, version, output.lines())
    pruneReleaseOutputs(paths)
  } catch {}
}

async function runRelease(
  app: string,
  paths: AppPaths,
  request: ReleaseRequest,
  deps: OwnerDeps,
  emit: (event: ReleaseEvent) => void,
  before: AppRecord,
  created: ReleaseRecord,
): Promise<ReleaseEnded> {
  const log = (process: string, message: string) => deps.log.append({time: deps.now(), source: 'herogate', process, message} satisfies LogLine)
  const step = (process: 'release' | 'deploy', message: string) => {
    log(process, message)
    emit({kind: 'step', process, message})
  }

  let release = created
  emit({kind: 'started', release})
  const end = (ok: boolean, reason?: string, stage: 'release' | 'deploy' = 'deploy', output?: FailureOutput): ReleaseEnded => {
    release = finishRelease(paths, release, ok ? 'succeeded' : 'failed', reason, output)
    return {kind: 'ended', release, ok, ...(reason ? {reason, stage} : {}), ...(output ? {output} : {})}
  }

  let ended: ReleaseEnded | undefined
  try {
    const command = request.releasePhase ? release.processTypes?.release : undefined
    if (command) {
      step('release', `Running release command: ${command}`)
      const dir = join(paths.builds, release.image ?? '')
      const config = readConfig(paths, release.configVersion ?? 0)
      const env = appEnv(dir, {...processEnv(), ...config, DYNO: 'release.1'})
      const mask = configMasker(config)
      const last = new LastLines()
      const code = await runStreaming('sh', ['-c', command], {
        cwd: dir,
        env,
        onLine(printed) {
          const line = mask(printed)
          last.add(line)
          log('release', line)
          emit({kind: 'line', process: 'release', line})
        },
      })
      if (code !== 0) {
        const lines = last.lines()
        const output = lines.length > 0 ? {process: 'the release command', lines, more: `herogate releases:output v${release.version} -a ${app}`} : undefined
        ended = end(false, `release command exited with code ${code}`, 'release', output)
      }
    }

    if (!ended) {
      step('deploy', `Deploying v${release.version}`)
      // The app's settings as they are now: they change only under the lock this release holds.
      const state = desiredState(paths, release, before.formation, before.settings)
      const outcome: DeployOutcome = await deps.deploy(state).catch((error: Error) => ({ok: false, reason: error.message}))
      if (outcome.ok) {
        // In this order, so that settleReleases can finish (or undo) what a crash cut short:
        // the branch, then the record (the point of no return), then app.json.
        if (request.branch) await moveBranch(paths, release, request.branch.ref, request.branch.old, release.commit, (message) => step('deploy', message))
        ended = end(true)
        writeApp({...readApp(app), current: release.version, configVersion: release.configVersion ?? 0, formation: state.formation})
      } else {
        const failed = outcome.output
        const output = failed ? {...failed, more: `herogate logs -a ${app} --task ${failed.process}`} : undefined
        ended = end(false, outcome.reason ?? 'the new processes did not become healthy', 'deploy', output)
      }
    }
  } catch (error) {
    ended ??= end(false, `herogate could not finish it: ${(error as Error).message}`)
  }

  const current = ended.ok ? release.version : before.current
  log('deploy', ended.ok ? `v${release.version} is live` : `v${release.version} failed: ${ended.reason}; ${before.current ? `v${before.current} keeps serving` : 'nothing is serving'}`)
  try {
    pruneBuilds(paths, current, release.image ? [release.image] : [])
  } catch {
    // Old builds can go next time.
  }

  emit(ended)
  return ended
}

/**
 * A deploy's branch follows the code that is live: moved from `from` to `to`, and only from
 * `from` (whatever moved it since wins, and is said).
 */
async function moveBranch(paths: AppPaths, release: ReleaseRecord, ref: string, from: string, to: string | undefined, say: (message: string) => void): Promise<void> {
  if (!to) return
  try {
    // To nothing: the branch did not exist before the release (a first push) and goes again.
    await git(paths.repo, to === ZERO ? ['update-ref', '-d', ref, from] : ['update-ref', '-m', `herogate: v${release.version}`, ref, to, from])
  } catch (error) {
    say(`${ref.replace('refs/heads/', '')} was not moved to ${to.slice(0, 7)}: ${(error as Error).message}`)
  }
}

/**
 * Run by whoever takes the app lock, before anything else. A release left `pending` lost its
 * owner (the supervisor was killed mid-release, and its processes with it): it is marked
 * failed, and a branch its deploy had moved already goes back. A succeeded one whose
 * recording was cut short becomes current in app.json. Returns what it did, for the log, and
 * whether the current release changed (the supervisor must then run it).
 */
export async function settleReleases(app: string): Promise<{message: string; currentChanged: boolean} | undefined> {
  const paths = appPaths(app)
  const record = readApp(app)
  const newest = unsettled(paths, record)
  if (!newest) return undefined
  if (newest.status === 'pending') {
    finishRelease(paths, newest, 'failed', 'interrupted: its supervisor stopped before the release ended')
    if (newest.branch && newest.commit) {
      const at = await git(paths.repo, ['rev-parse', '--verify', '--quiet', newest.branch.ref]).catch(() => '')
      if (at === newest.commit) await moveBranch(paths, newest, newest.branch.ref, newest.commit, newest.branch.old, () => {})
    }

    return {message: `v${newest.version} was interrupted (its supervisor stopped): marked failed`, currentChanged: false}
  }

  writeApp({...record, current: newest.version, configVersion: newest.configVersion ?? 0, formation: formationFor(newest.processTypes ?? {}, record.formation)})
  return {message: `v${newest.version} succeeded before its supervisor stopped: recorded as current`, currentChanged: true}
}

/**
 * settleReleases under the app lock when no one holds it (a live holder settles as it takes
 * the lock: workflow.ts withAppLock); says what it did on `say`.
 */
export async function settleIfFree(app: string, say: (message: string) => void): Promise<void> {
  const lock = tryLock(app, 'settle', process.env.USER || 'herogate')
  if (!lock) return
  try {
    await settle(app, say)
  } finally {
    lock.release()
  }
}

/** settleReleases for the holder of the app lock, saying what it did on `say`; true when the current release changed. */
export async function settle(app: string, say: (message: string) => void): Promise<boolean> {
  const settled = await settleReleases(app)
  if (settled) say(settled.message)
  return settled?.currentChanged ?? false
}

const ZERO = '0'.repeat(40)
