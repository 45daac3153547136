import {HerogateError} from '../../lib/errors.js'
import type {FailureOutput, LogLine, LogOptions, ProcessInfo} from '../types.js'
import type {NewRelease, ReleaseRecord} from './releases.js'

/**
 * The seam between the local platform's workflow (git, builds, releases, config: index.ts)
 * and its runtime (supervisor daemon, router, process manager, log store).
 * The supervisor owns each new release it is handed (release-owner.ts: it records it, ends
 * it, moves its branch); beyond that it writes nothing to disk but its record, socket and
 * logs. After it is killed, its watchdog starts it again, and it settles the release it was
 * cut short in, then brings back the current release from the app's records (restore.ts).
 */

/** One release as the supervisor runs it. `env` holds config values: it travels only over the owner-only socket. */
export interface RunSpec {
  version: number
  /** Directory of the built app (processes start here). */
  dir: string
  /** Process type to shell command. */
  processTypes: Record<string, string>
  env: Record<string, string>
}

/** How a new web process shows it is up: the app's boot-timeout and health-check-path settings. */
export interface BootCheck {
  /** It must answer within this long after it starts... */
  timeoutMs: number
  /** ...a GET of this path with a 200-399 status, as the AWS load balancer's health check asks. */
  path: string
}

export interface DesiredState {
  release: RunSpec
  /** Process type to count. */
  formation: Record<string, number>
  /** Kept by the supervisor for every process it starts from now on (deploys, restarts, scaling). */
  boot?: BootCheck
}

export interface DeployOutcome {
  ok: boolean
  /** Why the new release was abandoned (crashed, never answered its health check). */
  reason?: string
  /** The process that made it fail and its last lines (config values hidden), when it printed any. */
  output?: {process: string; lines: string[]}
}

/** A new release, handed to the supervisor, which owns it from its record to its end (release-owner.ts). */
export interface ReleaseRequest {
  /** The token of the app lock the sender holds: the lock passes to the supervisor, which lets go when the release has ended. */
  lock: string
  /** The release to record (the supervisor gives it the next version). */
  release: NewRelease
  /** Run the Procfile's `release:` command before the rollout (deploys; not rollbacks or config changes, as on Heroku). */
  releasePhase?: boolean
  /** A deploy: the branch that moves from `old` to the release's commit once it is live. */
  branch?: {ref: string; old: string}
  /** What the push showed before the hand-over (the build, config values hidden): the start of the release's output. */
  output?: string[]
}

/** How a release ended, as its owner recorded it. */
export interface ReleaseEnded {
  kind: 'ended'
  release: ReleaseRecord
  ok: boolean
  reason?: string
  /** Where a failed release stopped. */
  stage?: 'release' | 'deploy'
  /** A failed release: the last lines of the process that made it fail. */
  output?: FailureOutput
}

/** What the supervisor reports while it runs a release (the same lines go to the app's logs). */
export type ReleaseEvent =
  | {kind: 'started'; release: ReleaseRecord}
  | {kind: 'step'; process: 'release' | 'deploy'; message: string}
  | {kind: 'line'; process: 'release'; line: string}
  | ReleaseEnded

/**
 * The supervisor stopped (killed, crashed) while it ran a release, `version` once it had
 * recorded one. Thrown once its watchdog has started it again, which settles that release
 * (release-owner.ts settleReleases) and brings back the one that was running.
 */
export class ReleaseCutShort extends HerogateError {
  constructor(readonly app: string, readonly version: number | undefined) {
    super(`The supervisor of ${app} stopped during ${version ? `v${version}` : 'the release'}; it was started again with the release that was running.`, {
      suggestions: [`herogate releases -a ${app}`, `herogate ps -a ${app}`],
    })
  }
}

/** What LocalPlatform asks of a running supervisor (over a Unix socket in the app's directory). */
export interface SupervisorClient {
  /** Health-checked rolling deploy of a release that is recorded already (bringing back the current one); on failure the old release keeps serving and ok is false. */
  deploy(state: DesiredState): Promise<DeployOutcome>
  /**
   * Takes the app lock and a new release over, runs it to its end (release phase, rollout,
   * records, branch) whether or not the sender stays, and reports on `onEvent`.
   */
  release(request: ReleaseRequest, onEvent?: (event: ReleaseEvent) => void): Promise<ReleaseEnded>
  scale(formation: Record<string, number>): Promise<void>
  restart(processType?: string): Promise<void>
  stop(id: string): Promise<void>
  status(): Promise<ProcessInfo[]>
  /** Stops every process and the router, frees the port, exits. */
  shutdown(): Promise<void>
  /** Serves the app's add-ons as they are on disk (addon-servers.ts); each one's readiness. Optional: test stand-ins have no add-ons. */
  syncAddons?(): Promise<Array<{name: string; ready: boolean; reason?: string}>>
  /** Reads the app's maintenance state again (maintenance:on/off), so the router serves by it from the answer on. */
  reloadMaintenance?(): Promise<void>
}

export interface SupervisorOptions {
  appDir: string
  app: string
  /** The router's port on 127.0.0.1 (fixed per app at create time). */
  port: number
  /** Bind address; 127.0.0.1 unless the user asked for more (HEROGATE_BIND). */
  host: string
}

/** Log store of one app: append-only JSON lines in the app directory, shared by every writer. */
export interface LogWriter {
  append(line: LogLine): void
}

export interface LogReader {
  /** The last `num` lines matching the options, then (with tail) new ones as they arrive, until the signal aborts. */
  read(options: LogOptions): AsyncIterable<LogLine>
}
