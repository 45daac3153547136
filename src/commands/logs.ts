import {Flags} from '@oclif/core'

import {HerogateCommand} from '../lib/base.js'
import {appFlags, count} from '../lib/flags.js'
import {logs} from '../lib/reads.js'

export default class Logs extends HerogateCommand {
  static description = `show the app's logs: processes, router, builds, releases and deploys

Lines look like Heroku's: 2026-11-21T10:00:00.000Z app[web.1]: message, in time order (with -t too). --source herogate shows build, release phase and deploy events. During a rolling deploy herogate's lines about a process name its release: herogate[web.1]: State changed from starting to up (v8).

--json prints one JSON object per line (JSON Lines, not one array): {"time":"2026-11-21T10:00:00.000Z","source":"app","process":"web.1","message":"..."}, with "release" where the line's process has one.`
  static examples = [
    '<%= config.bin %> logs -a demo',
    '<%= config.bin %> logs -t',
    '<%= config.bin %> logs -n 200 -d worker',
    '<%= config.bin %> logs -d web.1 --json',
    '<%= config.bin %> logs --source herogate --since 1h',
  ]
  static flags = {
    ...appFlags,
    num: count({char: 'n', description: 'number of lines to show', default: 100, min: 1, max: 10_000}),
    tail: Flags.boolean({char: 't', description: 'keep streaming new lines (Ctrl-C to stop)'}),
    dyno: Flags.string({char: 'd', description: 'only this process type (web) or process (web.1), as Heroku\'s -d', exclusive: ['process-type', 'task']}),
    'process-type': Flags.string({char: 'p', description: 'only this process type (web, worker, ...)'}),
    task: Flags.string({description: 'only this process (web.1) or task id'}),
    source: Flags.string({char: 's', description: 'app: the app\'s processes; herogate: builds, release phase, deploys', options: ['app', 'herogate']}),
    since: Flags.string({description: 'only lines since this time: 10m, 2h, 1d or an ISO time'}),
    json: Flags.boolean({description: 'print one JSON object per line (JSON Lines), not an array'}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(Logs)
    await logs(this.io, flags)
  }
}

