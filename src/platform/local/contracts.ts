import type {LogLine, LogOptions, ProcessInfo} from '../types.js'

/**
 * The seam between the local platform's workflow (git, builds, releases, config: index.ts)
 * and its runtime (supervisor daemon, router, process manager, log store).
 * The supervisor writes nothing to disk but its record, socket and logs: after it is killed,
 * its watchdog starts it again and it brings back the current release from the app's records
 * (restore.ts); LocalPlatform hands it every change.
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
}

/** What LocalPlatform asks of a running supervisor (over a Unix socket in the app's directory). */
export interface SupervisorClient {
  /** Health-checked rolling deploy; on failure the old release keeps serving and ok is false. */
  deploy(state: DesiredState): Promise<DeployOutcome>
  scale(formation: Record<string, number>): Promise<void>
  restart(processType?: string): Promise<void>
  stop(id: string): Promise<void>
  status(): Promise<ProcessInfo[]>
  /** Stops every process and the router, frees the port, exits. */
  shutdown(): Promise<void>
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
