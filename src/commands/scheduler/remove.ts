import {Args} from '@oclif/core'

import {HerogateCommand} from '../../lib/base.js'
import {appFlags} from '../../lib/flags.js'
import {shellQuote} from '../../lib/shell.js'
import type {ScheduledJob} from '../../platform/scheduler.js'

export default class SchedulerRemove extends HerogateCommand {
  static description = `remove a scheduled job (a run in progress finishes)

As in Heroku Scheduler, nothing is asked: a job is put back with scheduler:add, which this command prints. Jobs from app.json are removed from app.json, by the next release.`
  static enableJsonFlag = true
  static examples = ['<%= config.bin %> scheduler:remove 3f2a1b9 -a demo']
  static args = {id: Args.string({description: 'the job\'s id, as herogate scheduler lists it', required: true})}
  static flags = {...appFlags}

  async run(): Promise<ScheduledJob> {
    const {args, flags} = await this.parse(SchedulerRemove)
    const {target, platform} = await this.resolveTarget(flags)
    const job = await this.step(`Removing job ${args.id} from ${target.name}`, () => platform.removeScheduledJob(target.name, args.id))
    this.log(`Removed job ${job.id}: ${job.schedule} ${job.command}`)
    // Flags first and the command as one quoted word: what scheduler:add reads back as this very job.
    this.note(`Put it back with: herogate scheduler:add -a ${target.name}${job.size ? ` --size ${job.size}` : ''} ${shellQuote(job.schedule)} -- ${shellQuote(job.command)}`)
    return job
  }
}
