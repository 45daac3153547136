import type {ProcessInfo} from '../types.js'
import type {LogReader, LogWriter, SupervisorClient, SupervisorOptions} from './contracts.js'
import {openLogStore} from './logstore.js'
import {publishedProcesses, readRecord, stillRunning} from './supervisor-paths.js'

/**
 * What the workflow (LocalPlatform, the push hook) needs from the runtime: the supervisor
 * daemon of an app and its log store. Injected so tests can swap pieces; the default uses
 * the real supervisor client and log store.
 */
export interface LocalRuntime {
  /** Connects to the app's supervisor, starting it when it is not running. */
  ensureSupervisor(options: SupervisorOptions): Promise<SupervisorClient>
  /** Stops the app's supervisor if one runs (never starts one); true when one was running. */
  stopSupervisor(appDir: string): Promise<boolean>
  /** True when the app's supervisor answers. */
  supervisorRunning(appDir: string): Promise<boolean>
  /** For reads: what the app's supervisor runs, as it published it, while that is the truth (no request); never starts one. */
  publishedProcesses(appDir: string): Promise<ProcessInfo[] | undefined>
  /** For reads: true while the supervisor's process runs, from its record (no request). */
  supervisorAlive(appDir: string): boolean
  logWriter(appDir: string): LogWriter
  logReader(appDir: string): LogReader
}

type SupervisorModule = typeof import('./supervisor-client.js')

let supervisorModule: Promise<SupervisorModule> | undefined

/** Loaded on first use, so an app with no release yet never loads the client. */
function supervisor(): Promise<SupervisorModule> {
  supervisorModule ??= import('./supervisor-client.js')
  return supervisorModule
}

export const defaultRuntime: LocalRuntime = {
  async ensureSupervisor(options) {
    return (await supervisor()).ensureSupervisor(options)
  },
  async stopSupervisor(appDir) {
    return (await supervisor()).stopSupervisor(appDir)
  },
  async supervisorRunning(appDir) {
    return (await supervisor()).supervisorRunning(appDir)
  },
  publishedProcesses: async (appDir) => publishedProcesses(appDir),
  supervisorAlive: (appDir) => stillRunning(readRecord(appDir)),
  logWriter: (appDir) => openLogStore(appDir),
  logReader: (appDir) => openLogStore(appDir),
}

/** Where the supervisor binds its router: 127.0.0.1 unless the user asked for more. */
export function bindHost(): string {
  return process.env.HEROGATE_BIND || '127.0.0.1'
}
