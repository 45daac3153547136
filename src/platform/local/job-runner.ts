import {spawn} from 'node:child_process'
import {join, resolve} from 'node:path'
import {createInterface} from 'node:readline'

import {isDue} from '../../lib/schedule.js'
import type {JobRun, ScheduledJob} from '../scheduler.js'
import type {ProcessInfo} from '../types.js'
import {appEnv} from './app-env.js'
import type {LogWriter} from './contracts.js'
import {spawnErrorMessage} from './processes.js'
import {oneOffEnv} from './run.js'
import {jobsOf, readRuns, servingRelease, writeRuns} from './scheduler.js'
import {appPaths} from './state.js'

/**
 * The local scheduler, run by the app's supervisor: at the start of each minute (UTC) it
 * starts the jobs due then, each a one-off process of the current release with the
 * environment `run` gives (config, PORT, DYNO=scheduler.N), its output in the log store as
 * scheduler.N, its last run and exit code recorded in scheduler-runs.json. The clock and the
 * wait are injected: a test runs a minute in no time.
 */

export interface JobClock {
  now(): Date
  /** Resolves after `ms`, or at once when the signal aborts. */
  sleep(ms: number, signal: AbortSignal): Promise<void>
}

const systemJobClock: JobClock = {
  now: () => new Date(),
  sleep: (ms, signal) => new Promise((resolve) => {
    const timer = setTimeout(resolve, ms)
    signal.addEventListener('abort', () => {
      clearTimeout(timer)
      resolve()
    }, {once: true})
  }),
}

interface Running {
  info: ProcessInfo
  stop(): void
  ended: Promise<JobRun>
}

const MINUTE_MS = 60_000

export class JobRunner {
  private readonly running = new Set<Running>()
  private readonly abort = new AbortController()
  private readonly clock: JobClock

  /** onChange: a run started or ended (what status() lists changed). */
  constructor(private readonly options: {app: string; appDir: string; log: LogWriter; clock?: JobClock; onChange?: () => void}) {
    this.clock = options.clock ?? systemJobClock
  }

  /** Runs the jobs at each minute until stop(). A minute missed (a sleeping machine) is skipped, as cron skips it. */
  async loop(): Promise<void> {
    // A daemon run for another directory than the app's (as some tests run one) has no jobs to run.
    if (resolve(appPaths(this.options.app).dir) !== resolve(this.options.appDir)) return
    this.settleInterrupted()
    while (!this.abort.signal.aborted) {
      const now = this.clock.now().getTime()
      const minute = Math.floor(now / MINUTE_MS) * MINUTE_MS + MINUTE_MS
      await this.clock.sleep(minute - now, this.abort.signal)
      if (this.abort.signal.aborted) return
      void this.tick(new Date(minute)).catch(() => undefined)
    }
  }

  /** Starts the jobs due in `minute`; resolves with their runs once they have all ended. */
  async tick(minute: Date): Promise<JobRun[]> {
    let release
    let jobs: ScheduledJob[]
    try {
      release = servingRelease(this.options.app)
      if (!release) return []
      jobs = jobsOf(this.options.app, release).filter((job) => isDue(job.schedule, minute, new Date(job.createdAt)))
    } catch (error) {
      // An app being destroyed or renamed under its supervisor: nothing to run this minute.
      this.note('scheduler', `Could not read the scheduled jobs: ${(error as Error).message}`)
      return []
    }

    const paths = appPaths(this.options.app)
    const runs = await Promise.all(jobs.map(async (job) => this.start(job, join(paths.builds, release.image!), await oneOffEnv(paths, release), release.version)))
    return Promise.all(runs.map((run) => run.ended))
  }

  /** The runs in progress, as ps lists them. */
  status(): ProcessInfo[] {
    return [...this.running].map((run) => run.info)
  }

  /** No more runs; the runs in progress are stopped (SIGTERM), as a restarting dyno's are. */
  async stop(): Promise<void> {
    this.abort.abort()
    for (const run of this.running) run.stop()
    await Promise.all([...this.running].map((run) => run.ended))
  }

  private start(job: ScheduledJob, dir: string, env: NodeJS.ProcessEnv, release: number): Running {
    const name = `scheduler.${1000 + Math.floor(Math.random() * 9000)}`
    const startedAt = this.clock.now().toISOString()
    const append = (source: 'app' | 'herogate', message: string) => this.options.log.append({time: this.clock.now(), source, process: name, message, release})
    this.record(job.id, {name, startedAt, status: 'running'})
    append('herogate', `Starting process with command \`${job.command}\` (job ${job.id})`)
    let child: ReturnType<typeof spawn> | undefined
    let spawnError: string | undefined
    try {
      // Its own process group: stopping the job stops what it started.
      child = spawn('sh', ['-c', job.command], {cwd: dir, env: appEnv(dir, {...env, DYNO: name}), stdio: ['ignore', 'pipe', 'pipe'], detached: true})
    } catch (error) {
      spawnError = spawnErrorMessage(error)
    }

    const info: ProcessInfo = {name, type: 'scheduler', id: String(child?.pid ?? ''), status: 'up', health: 'unknown', release, startedAt, command: job.command}
    let settled = false
    const ended = new Promise<JobRun>((resolve) => {
      const finish = (run: JobRun) => {
        if (settled) return
        settled = true
        this.running.delete(entry)
        this.options.onChange?.()
        append('herogate', run.exitCode === undefined ? `Process did not run: ${run.stopReason}` : `Process exited with status ${run.exitCode}`)
        this.record(job.id, run)
        resolve(run)
      }

      if (!child) {
        // Once the entry below exists.
        queueMicrotask(() => finish({name, startedAt, status: 'failed', stopReason: spawnError ?? 'it could not be started'}))
        return
      }

      const outputs = [child.stdout!, child.stderr!].map((stream) => new Promise<void>((done) => {
        createInterface({input: stream, crlfDelay: Number.POSITIVE_INFINITY}).on('line', (line) => append('app', line)).on('close', done)
      }))
      child.once('error', (error) => finish({name, startedAt, status: 'failed', stopReason: spawnErrorMessage(error)}))
      child.once('close', (code, signal) => {
        void Promise.all(outputs).then(() => {
          const exitCode = code ?? 128 + (signal === 'SIGKILL' ? 9 : 15)
          finish({name, startedAt, status: exitCode === 0 ? 'succeeded' : 'failed', exitCode, ...(signal ? {stopReason: `stopped by ${signal}`} : {})})
        })
      })
    })
    const entry: Running = {
      info,
      ended,
      stop: () => {
        try {
          if (child?.pid) process.kill(-child.pid, 'SIGTERM')
        } catch {
          // Already gone.
        }
      },
    }
    this.running.add(entry)
    this.options.onChange?.()
    return entry
  }

  /** Runs a supervisor before this one was killed in (no exit code was ever recorded) ended with it. */
  private settleInterrupted(): void {
    const runs = readRuns(this.options.appDir)
    const cut = Object.entries(runs).filter(([, run]) => run.status === 'running')
    if (cut.length === 0) return
    for (const [id, run] of cut) runs[id] = {...run, status: 'failed', stopReason: 'the app\'s supervisor stopped during the run'}
    try {
      writeRuns(this.options.appDir, runs)
    } catch (error) {
      this.note('scheduler', `Could not record the runs cut short: ${(error as Error).message}`)
    }
  }

  private record(id: string, run: JobRun): void {
    try {
      writeRuns(this.options.appDir, {...readRuns(this.options.appDir), [id]: run})
    } catch (error) {
      this.note('scheduler', `Could not record the run of job ${id}: ${(error as Error).message}`)
    }
  }

  private note(process: string, message: string): void {
    this.options.log.append({time: this.clock.now(), source: 'herogate', process, message})
  }
}
