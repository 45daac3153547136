import {HerogateCommand} from '../../lib/base.js'
import {appFlags} from '../../lib/flags.js'
import {ps} from '../../lib/reads.js'
import type {ProcessInfo} from '../../platform/types.js'

export default class Ps extends HerogateCommand {
  static description = 'list the app\'s running processes per process type'
  static enableJsonFlag = true
  static examples = ['<%= config.bin %> ps -a demo', '<%= config.bin %> ps --json']
  static flags = {...appFlags}

  async run(): Promise<ProcessInfo[]> {
    const {flags} = await this.parse(Ps)
    return ps(this.io, flags)
  }
}

