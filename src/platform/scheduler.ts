import {createHash} from 'node:crypto'

import {HerogateError, InvalidInput} from '../lib/errors.js'
import {parseSchedule} from '../lib/schedule.js'
import {isSize, SIZES} from '../lib/sizes.js'
import type {OperationOptions} from './types.js'

/**
 * Scheduled jobs, as Heroku Scheduler users know them: a command of the app run on a
 * schedule, each run a one-off process (scheduler.N) with the app's current release and
 * config. Jobs come from two places: `scheduler:add` (kept by the platform) and the `cron`
 * list of the repo's app.json (Dokku's format, so they travel with the code), applied by
 * each release. On AWS each job is an EventBridge Scheduler schedule starting an ECS task;
 * locally the app's supervisor runs them. Both drivers implement SchedulerPlatform.
 */

/** Where a job was declared: `scheduler:add`, or the app.json of the current release. */
export type JobSource = 'cli' | 'app.json'

export interface ScheduledJob {
  /** Short and stable: what scheduler:remove takes. */
  id: string
  /** The EventBridge Scheduler expression: cron(...) or rate(...), evaluated in UTC. */
  schedule: string
  command: string
  /** AWS: the size of each run (default standard-1x). Local runs get what the machine has. */
  size?: string
  source: JobSource
  createdAt: string
  /** The next time it runs, when it runs again. */
  nextRun?: string
  lastRun?: JobRun
}

export interface JobRun {
  /** scheduler.N: its name in ps and logs. */
  name: string
  startedAt: string
  /** running, or how it ended: succeeded (exit 0), failed (another exit code), or did not run (no exit code: stopReason says why). */
  status: 'running' | 'succeeded' | 'failed'
  exitCode?: number
  stopReason?: string
}

export interface JobSpec {
  /** As typed: parseSchedule turns it into the stored expression. */
  schedule: string
  command: string
  size?: string
}

export interface SchedulerPlatform {
  scheduledJobs(app: string): Promise<ScheduledJob[]>
  /** onProgress: an AWS app made before scheduled jobs has its stack upgraded first, with progress rows. */
  addScheduledJob(app: string, job: JobSpec, options?: OperationOptions): Promise<ScheduledJob>
  /** Jobs declared in app.json cannot be removed here: they come back with the next release. */
  removeScheduledJob(app: string, id: string): Promise<ScheduledJob>
}

/** What app.json's jobs may take of a release record (about 3.8 KB, shared with the process types and config changes). */
export const DECLARED_JOBS_BYTES = 1500

/** A job's id: the same schedule, command and size is the same job (scheduler:add refuses it twice). */
export function jobId(schedule: string, command: string, size?: string): string {
  return createHash('sha256').update(JSON.stringify([schedule, command, size ?? null])).digest('hex').slice(0, 7)
}

/** Validates a job before anything is changed; returns it with its schedule as EventBridge takes it. */
export function validateJob(job: JobSpec, where?: string): {schedule: string; command: string; size?: string} {
  const at = where ? ` (${where})` : ''
  let schedule: string
  try {
    schedule = parseSchedule(job.schedule)
  } catch (error) {
    if (!where || !(error instanceof InvalidInput)) throw error
    throw new InvalidInput(`${where}: ${error.message}`, {suggestions: error.suggestions})
  }

  const command = job.command.trim()
  if (command === '') throw new InvalidInput(`A scheduled job needs a command${at}.`, {suggestions: ['herogate scheduler:add "rate(1 hour)" -- node scripts/report.js']})
  if (command.includes('\0')) throw new InvalidInput(`The command of a scheduled job cannot hold a NUL byte${at}.`)
  if (job.size !== undefined && !isSize(job.size)) throw new InvalidInput(`Unknown size "${job.size}"${at}.`, {suggestions: [`use one of: ${Object.keys(SIZES).join(', ')}`]})
  return {schedule, command, ...(job.size ? {size: job.size} : {})}
}

/**
 * The `cron` list of an app.json (Dokku's format: [{"command": "...", "schedule": "..."}],
 * herogate adds an optional "size"), validated as scheduler:add validates. A bad entry fails
 * the release that brings it, naming the entry, before anything runs.
 */
export function declaredJobs(appJson: string | undefined): Array<{id: string; schedule: string; command: string; size?: string}> {
  if (appJson === undefined) return []
  let parsed: unknown
  try {
    parsed = JSON.parse(appJson)
  } catch (error) {
    throw new InvalidInput(`app.json is not valid JSON: ${(error as Error).message}.`)
  }

  const cron = (parsed as {cron?: unknown} | null)?.cron
  if (cron === undefined) return []
  if (!Array.isArray(cron)) throw new InvalidInput('app.json "cron" must be a list of {"command": "...", "schedule": "..."}.')
  const jobs = cron.map((entry: unknown, i) => {
    const where = `app.json cron[${i}]`
    const {command, schedule, size} = (entry ?? {}) as Record<string, unknown>
    if (typeof command !== 'string' || typeof schedule !== 'string' || (size !== undefined && typeof size !== 'string')) {
      throw new InvalidInput(`${where} must be {"command": "...", "schedule": "..."} with an optional "size".`)
    }

    const job = validateJob({command, schedule, ...(size === undefined ? {} : {size})}, where)
    return {id: jobId(job.schedule, job.command, job.size), ...job}
  })
  const ids = new Set(jobs.map((job) => job.id))
  if (ids.size !== jobs.length) throw new InvalidInput('app.json "cron" lists the same job twice.')
  // On AWS the jobs travel in the release's record (an SSM parameter), whole: they must leave room for the rest of it.
  const size = Buffer.byteLength(JSON.stringify(jobs))
  if (size > DECLARED_JOBS_BYTES) {
    throw new InvalidInput(`app.json "cron" is too long to go with a release (${size} bytes of jobs, at most ${DECLARED_JOBS_BYTES}).`, {
      suggestions: ['put long commands in scripts in the repo and schedule the scripts', 'herogate scheduler:add (jobs kept outside the release)'],
    })
  }

  return jobs
}

/** The refusals both drivers give, in the same words. */
export const jobRefusals = {
  twice: (app: string, id: string, source: JobSource) =>
    new InvalidInput(`${app} has this job already: ${id}${source === 'app.json' ? ' (from app.json)' : ''}.`, {suggestions: [`herogate scheduler -a ${app}`]}),
  declared: (app: string, id: string) =>
    new InvalidInput(`Job ${id} of ${app} is declared in app.json: remove it from app.json's "cron" list and deploy.`, {suggestions: ['git commit -am "Remove a scheduled job" && git push herogate main']}),
  unknown: (app: string, id: string) =>
    new HerogateError(`${app} has no scheduled job ${id}.`, {suggestions: [`herogate scheduler -a ${app} (lists the jobs and their ids)`]}),
}
