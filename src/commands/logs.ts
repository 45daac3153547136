import {Flags} from '@oclif/core'

import {HerogateCommand} from '../lib/base.js'
import {appFlags} from '../lib/flags.js'
import {logs} from '../lib/reads.js'

export default class Logs extends HerogateCommand {
  static description = `show the app's logs: processes, router, builds, releases and deploys

Lines look like Heroku's: 2026-11-21T10:00:00.000Z app[web.1]: message. --source herogate shows build, release phase and deploy events.`
  static examples = [
    '<%= config.bin %> logs -a demo',
    '<%= config.bin %> logs -t',
    '<%= config.bin %> logs -n 200 -p worker',
    '<%= config.bin %> logs --source herogate --since 1h',
  ]
  static flags = {
    ...appFlags,
    num: Flags.integer({char: 'n', description: 'number of lines to show', default: 100, min: 1, max: 10_000}),
    tail: Flags.boolean({char: 't', description: 'keep streaming new lines (Ctrl-C to stop)'}),
    'process-type': Flags.string({char: 'p', description: 'only this process type (web, worker, ...)'}),
    task: Flags.string({description: 'only this process (web.1) or task id'}),
    source: Flags.string({description: 'app: the app\'s processes; herogate: builds, release phase, deploys', options: ['app', 'herogate']}),
    since: Flags.string({description: 'only lines since this time: 10m, 2h, 1d or an ISO time'}),
    json: Flags.boolean({description: 'one JSON object per line'}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(Logs)
    await logs(this.io, flags)
  }
}
