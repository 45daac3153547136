import {existsSync, readFileSync} from 'node:fs'
import {join} from 'node:path'

import {checkoutFile} from '../../lib/checkout.js'
import {nextRun} from '../../lib/schedule.js'
import {declaredJobs, jobId, jobRefusals, type JobRun, type JobSpec, type ScheduledJob, validateJob} from '../scheduler.js'
import {readRelease, type ReleaseRecord} from './releases.js'
import {appPaths, readApp, readJson, withLock, writeJsonAtomic} from './state.js'

/**
 * Scheduled jobs on the local platform. Jobs added with scheduler:add live in the app's
 * scheduler.json; jobs declared in app.json are read from the current release's build, so
 * every release (push, config:set, rollback) applies its own. The app's supervisor runs them
 * (job-runner.ts) and records each job's last run in scheduler-runs.json, which it alone writes.
 */

interface StoredJob {
  id: string
  schedule: string
  command: string
  size?: string
  createdAt: string
}

export const schedulerFiles = (appDir: string) => ({jobs: join(appDir, 'scheduler.json'), runs: join(appDir, 'scheduler-runs.json')})

function readStored(appDir: string): StoredJob[] {
  const file = schedulerFiles(appDir).jobs
  return existsSync(file) ? readJson<{jobs: StoredJob[]}>(file).jobs : []
}

export function readRuns(appDir: string): Record<string, JobRun> {
  const file = schedulerFiles(appDir).runs
  if (!existsSync(file)) return {}
  try {
    return readJson<Record<string, JobRun>>(file)
  } catch {
    // Written atomically by one writer; a damaged file only loses the last runs shown.
    return {}
  }
}

export function writeRuns(appDir: string, runs: Record<string, JobRun>): void {
  writeJsonAtomic(schedulerFiles(appDir).runs, runs)
}

/** The jobs an app.json in a build directory declares (refused as scheduler:add refuses, naming the entry). */
export function appJsonJobs(dir: string): ReturnType<typeof declaredJobs> {
  const file = checkoutFile(dir, 'app.json')
  return declaredJobs(file ? readFileSync(file, 'utf8') : undefined)
}

/** The release whose code and config jobs run now, when the app has one. */
export function servingRelease(app: string): ReleaseRecord | undefined {
  const release = readRelease(appPaths(app), readApp(app).current)
  return release?.image ? release : undefined
}

/** Every job of the app without its runs: scheduler:add's, then the current release's app.json's. */
export function jobsOf(app: string, release = servingRelease(app)): ScheduledJob[] {
  const paths = appPaths(app)
  const added: ScheduledJob[] = readStored(paths.dir).map((job) => ({...job, source: 'cli'}))
  let declared: ScheduledJob[] = []
  if (release) {
    // Validated when the release was built: a release that got this far has a sound app.json.
    declared = appJsonJobs(join(paths.builds, release.image!)).map((job) => ({...job, source: 'app.json', createdAt: release.createdAt}))
  }

  return [...added, ...declared.filter((job) => !added.some((other) => other.id === job.id))]
}

export function scheduledJobs(app: string, now: Date): ScheduledJob[] {
  const runs = readRuns(appPaths(app).dir)
  return jobsOf(app).map((job) => {
    const next = nextRun(job.schedule, now, new Date(job.createdAt))
    return {...job, ...(next ? {nextRun: next.toISOString()} : {}), ...(runs[job.id] ? {lastRun: runs[job.id]} : {})}
  })
}

export async function addScheduledJob(app: string, spec: JobSpec, now: Date): Promise<ScheduledJob> {
  const job = validateJob(spec)
  // A size is kept (the job may move to AWS) but means nothing here: runs get what the machine has.
  const id = jobId(job.schedule, job.command, job.size)
  return withLock(app, 'scheduler:add', async () => {
    const existing = jobsOf(app).find((other) => other.id === id)
    if (existing) throw jobRefusals.twice(app, id, existing.source)
    const stored: StoredJob = {id, ...job, createdAt: now.toISOString()}
    writeJsonAtomic(schedulerFiles(appPaths(app).dir).jobs, {jobs: [...readStored(appPaths(app).dir), stored]})
    const next = nextRun(stored.schedule, now, now)
    return {...stored, source: 'cli' as const, ...(next ? {nextRun: next.toISOString()} : {})}
  })
}

export async function removeScheduledJob(app: string, id: string): Promise<ScheduledJob> {
  return withLock(app, 'scheduler:remove', async () => {
    const dir = appPaths(app).dir
    const stored = readStored(dir)
    const job = stored.find((j) => j.id === id)
    if (!job) {
      const declared = jobsOf(app).find((j) => j.id === id)
      throw declared ? jobRefusals.declared(app, id) : jobRefusals.unknown(app, id)
    }

    writeJsonAtomic(schedulerFiles(dir).jobs, {jobs: stored.filter((j) => j !== job)})
    return {...job, source: 'cli' as const}
  })
}

