import Run from '../run.js'
import type {RunResult} from '../../platform/types.js'

export default class RunDetached extends Run {
  static description = `run a one-off process in the background: prints its id at once; its output goes to the logs

The same as herogate run --detached, under Heroku's name.`
  static examples = ['<%= config.bin %> run:detached node scripts/long-job.js -a demo', '<%= config.bin %> run:detached -e BATCH=7 rake backfill']
  // Always detached: the flags about attaching and the exit code are accepted (scripts written for run) and not shown.
  static flags = {...Run.flags, detached: {...Run.flags.detached, hidden: true}, 'no-tty': {...Run.flags['no-tty'], hidden: true}, 'exit-code': {...Run.flags['exit-code'], hidden: true}}

  async run(): Promise<RunResult> {
    return this.runOneOff(true)
  }
}
