import {Flags} from '@oclif/core'

import {splitAtCommand} from '../../lib/argv.js'
import {HerogateCommand} from '../../lib/base.js'
import {InvalidInput} from '../../lib/errors.js'
import {appFlags} from '../../lib/flags.js'
import {SCHEDULE_FORMS} from '../../lib/schedule.js'
import {SIZES} from '../../lib/sizes.js'
import {type ScheduledJob, validateJob} from '../../platform/scheduler.js'

export default class SchedulerAdd extends HerogateCommand {
  static description = `schedule a command of the app: each run is a one-off process (scheduler.N) with the current release and config

The schedule, in UTC, is one of:
  ${SCHEDULE_FORMS.join('\n  ')}
Everything after the schedule (or after --) is the command. Jobs that should travel with the code go in app.json's "cron" list instead.`
  static strict = false
  static enableJsonFlag = true
  static examples = [
    '<%= config.bin %> scheduler:add "rate(10 minutes)" -- node scripts/sync.js',
    '<%= config.bin %> scheduler:add "0 3 * * *" -- npm run report',
    '<%= config.bin %> scheduler:add "cron(0 9 ? * MON-FRI *)" --size standard-2x -- rake digest:send',
  ]
  static flags = {
    ...appFlags,
    size: Flags.string({char: 's', description: `size of each run (AWS): ${Object.keys(SIZES).join(', ')}`}),
  }

  async run(): Promise<ScheduledJob> {
    const ctor = this.ctor as typeof SchedulerAdd
    // The schedule is the first word; the command is what follows it, its own flags included.
    const {flagArgv, command: rest} = splitAtCommand(this.argv, {
      withValue: ['-a', '--app', '-s', '--size', '--region', '--profile'],
      boolean: ['--json', '--no-color'],
    })
    const [schedule, ...afterSchedule] = rest
    const words = afterSchedule[0] === '--' ? afterSchedule.slice(1) : afterSchedule
    const command = words.join(' ')
    const {flags} = await this.parse({...ctor, baseFlags: ctor.baseFlags, strict: true}, flagArgv)
    if (schedule === undefined) throw new InvalidInput('No schedule given.', {suggestions: ['herogate scheduler:add "rate(1 hour)" -- COMMAND']})
    if (words.length === 0) throw new InvalidInput('No command given.', {suggestions: [`herogate scheduler:add "${schedule}" -- COMMAND`]})
    validateJob({schedule, command, size: flags.size})
    const {target, platform} = await this.resolveTarget(flags)
    const job = await this.step(`Scheduling ${command} on ${target.name}`, () =>
      platform.addScheduledJob(target.name, {schedule, command, ...(flags.size ? {size: flags.size} : {})}, {onProgress: this.progress}))
    this.log(`Added job ${job.id}: ${job.schedule} ${job.command}`)
    if (job.nextRun) this.note(`Next run: ${job.nextRun.slice(0, 16).replace('T', ' ')} UTC. Its runs show in herogate logs -d scheduler -a ${target.name}`)
    return job
  }
}
