import {HerogateCommand} from '../../lib/base.js'
import {appFlags} from '../../lib/flags.js'
import {table, timeAgo} from '../../lib/format.js'
import type {JobRun, ScheduledJob} from '../../platform/scheduler.js'

export default class Scheduler extends HerogateCommand {
  static description = `list the app's scheduled jobs: schedule, command, size, next run, last run and its exit code

Jobs come from scheduler:add and from the "cron" list of the app.json in the app's repo, which each release applies. Schedules are in UTC.`
  static enableJsonFlag = true
  static examples = ['<%= config.bin %> scheduler -a demo', '<%= config.bin %> scheduler --json']
  static flags = {...appFlags}

  async run(): Promise<ScheduledJob[]> {
    const {flags} = await this.parse(Scheduler)
    const {target, platform} = await this.resolveTarget(flags)
    const jobs = await platform.scheduledJobs(target.name)
    if (jobs.length === 0) {
      this.log(`${target.name} has no scheduled jobs.`)
      this.note(`Add one with: herogate scheduler:add "rate(1 hour)" -- COMMAND -a ${target.name} (or a "cron" list in app.json)`)
      return jobs
    }

    const now = this.now()
    this.log(table(jobs, [
      {header: 'Id', get: (job) => job.id},
      {header: 'Schedule', get: (job) => job.schedule},
      {header: 'Command', get: (job) => job.command},
      ...(jobs.some((job) => job.size) ? [{header: 'Size', get: (job: ScheduledJob) => job.size}] : []),
      {header: 'From', get: (job) => job.source},
      {header: 'Next run', get: (job) => (job.nextRun ? `${job.nextRun.slice(0, 16).replace('T', ' ')} UTC` : 'never')},
      {header: 'Last run', get: (job) => (job.lastRun ? `${job.lastRun.name} ${timeAgo(job.lastRun.startedAt, now)}` : 'never')},
      {header: 'Exit', get: (job) => exitText(job.lastRun), color: (text, job) => (job.lastRun?.status === 'failed' ? this.colors.red(text) : text)},
    ]))
    return jobs
  }
}

function exitText(run: JobRun | undefined): string {
  if (!run) return ''
  if (run.status === 'running') return 'running'
  if (run.exitCode !== undefined) return String(run.exitCode)
  return `did not run${run.stopReason ? `: ${run.stopReason}` : ''}`
}
