import {spawn} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'

import {shellQuote} from '../../lib/shell.js'
import type {LogWriter} from './contracts.js'
import {addonDataDir, type AddonRecord, readAddons} from './addon-store.js'
import {type ChildHandle, groupAlive, killGroup, type ManagedProcess, ProcessManager, type SpawnFn, shellLine} from './processes.js'

/**
 * The add-on servers of one app, run by its supervisor next to the app's processes: each a
 * real PostgreSQL or Redis on 127.0.0.1, started before the app's processes (which connect
 * to them as they boot), brought back when it crashes, stopped after the app's processes.
 * Their output goes to the app's log as herogate[postgres] and herogate[redis] lines.
 */

/** What the server says when it takes connections. */
const READY: Record<AddonRecord['service'], RegExp> = {
  postgres: /database system is ready to accept connections/,
  redis: /Ready to accept connections/,
}

/** How long a server has to say it is ready (a Postgres replaying its WAL after a kill takes a while). */
const READY_TIMEOUT_MS = 60_000

export interface ServerLaunch {
  command: string
  cwd: string
  /** As root, PostgreSQL runs as the postgres user (it refuses to run as root). */
  user?: {uid: number; gid: number}
  /** Postgres: SIGINT is its fast shutdown (SIGTERM waits for every client to leave). */
  stopSignal: NodeJS.Signals
}

export function serverLaunch(appDir: string, record: AddonRecord): ServerLaunch {
  const data = addonDataDir(appDir, record.name)
  if (record.service === 'postgres') {
    const args = [
      join(record.server!, 'postgres'), '-D', join(data, 'pgdata'),
      '-c', 'listen_addresses=127.0.0.1', '-c', `port=${record.port}`, '-c', 'unix_socket_directories=',
      // A development database beside the app's processes: small, as on a Heroku essential plan.
      '-c', 'max_connections=40', '-c', 'shared_buffers=32MB',
    ]
    return {command: args.map(shellQuote).join(' '), cwd: data, ...(postgresUser() ? {user: postgresUser()} : {}), stopSignal: 'SIGINT'}
  }

  return {command: [record.server!, join(data, 'redis.conf')].map(shellQuote).join(' '), cwd: data, stopSignal: 'SIGTERM'}
}

/** As root: the uid and gid of the postgres user, which runs initdb and the server; undefined when not root. */
export function postgresUser(): {uid: number; gid: number} | undefined {
  if (process.getuid?.() !== 0) return undefined
  return systemUser('postgres')
}

export function systemUser(name: string): {uid: number; gid: number} | undefined {
  try {
    const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((entry) => entry.startsWith(`${name}:`))
    const [, , uid, gid] = line?.split(':') ?? []
    return uid === undefined ? undefined : {uid: Number(uid), gid: Number(gid)}
  } catch {
    return undefined
  }
}

function spawnAs(user: {uid: number; gid: number} | undefined): SpawnFn {
  return (command, options) =>
    spawn('sh', ['-c', shellLine(command)], {cwd: options.cwd, env: options.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'], ...(user ?? {})}) as ChildHandle
}

interface Served {
  record: AddonRecord
  manager: ProcessManager
  process: ManagedProcess
  ready: boolean
  waiters: Array<() => void>
}

export interface AddonServerState {
  name: string
  ready: boolean
  reason?: string
}

export class AddonServers {
  private readonly served = new Map<string, Served>()
  private queue: Promise<unknown> = Promise.resolve()

  constructor(private readonly appDir: string, private readonly log: LogWriter, private readonly onChange: () => void = () => {}) {}

  /** Serves every initialized add-on on disk and stops the ones gone or being deleted; resolves once each is ready (or could not be). */
  sync(): Promise<AddonServerState[]> {
    const next = this.queue.then(() => this.syncNow())
    this.queue = next.catch(() => {})
    return next
  }

  private async syncNow(): Promise<AddonServerState[]> {
    const wanted = readAddons(this.appDir).filter((record) => record.initialized && record.state !== 'deleting' && record.state !== 'failed')
    for (const [name, served] of this.served) {
      if (!wanted.some((record) => record.name === name && record.port === served.record.port)) await this.stopOne(name)
    }

    for (const record of wanted) if (!this.served.has(record.name)) this.startOne(record)
    this.onChange()
    return Promise.all(wanted.map(async (record) => {
      const ok = await this.whenReady(this.served.get(record.name)!)
      return {name: record.name, ready: ok, ...(ok ? {} : {reason: `${record.service} did not start in ${READY_TIMEOUT_MS / 1000} s (herogate logs --source herogate)`})}
    }))
  }

  private startOne(record: AddonRecord): void {
    const launch = serverLaunch(this.appDir, record)
    const pattern = READY[record.service]
    let served: Served
    const log: LogWriter = {
      append: (line) => {
        if (pattern.test(line.message) && !served.ready) {
          served.ready = true
          for (const resolve of served.waiters.splice(0)) resolve()
        }

        // herogate[postgres]: the server's own lines and herogate's about it, no release: it outlives them.
        this.log.append({time: line.time, source: 'herogate', process: record.service, message: line.message})
      },
    }
    const manager = new ProcessManager({
      log,
      spawn: spawnAs(launch.user),
      kill: (child, signal) => killGroup(child, signal === 'SIGTERM' ? launch.stopSignal : signal),
      groupAlive,
      stopGraceMs: 20_000,
      onCrash: () => {
        served.ready = false
        this.onChange()
      },
      onRestart: () => this.onChange(),
    })
    const process = manager.start({type: record.service, index: 1, command: launch.command, dir: launch.cwd, env: {}, release: 0})
    // Not on probation: a crash is restarted with backoff, as an app process's is.
    process.probation = false
    served = {record, manager, process, ready: false, waiters: []}
    this.served.set(record.name, served)
  }

  private whenReady(served: Served): Promise<boolean> {
    if (served.ready) return Promise.resolve(true)
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), READY_TIMEOUT_MS)
      served.waiters.push(() => {
        clearTimeout(timer)
        resolve(true)
      })
    })
  }

  private async stopOne(name: string): Promise<void> {
    const served = this.served.get(name)
    if (!served) return
    await served.manager.stop(served.process)
    this.served.delete(name)
  }

  /** After the app's processes: they may still be writing as they stop. */
  async shutdown(): Promise<void> {
    await this.queue
    await Promise.all([...this.served.keys()].map((name) => this.stopOne(name)))
    this.onChange()
  }

  pids(): number[] {
    return [...this.served.values()].flatMap((served) => (served.process.child?.pid && served.process.alive ? [served.process.child.pid] : []))
  }
}
