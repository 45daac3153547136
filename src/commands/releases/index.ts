import {HerogateCommand} from '../../lib/base.js'
import {appFlags, count} from '../../lib/flags.js'
import {releases} from '../../lib/reads.js'
import type {Release} from '../../platform/types.js'

export default class Releases extends HerogateCommand {
  static description = 'list the app\'s releases, newest first'
  static enableJsonFlag = true
  static examples = ['<%= config.bin %> releases -a demo', '<%= config.bin %> releases -n 5 --json']
  static flags = {...appFlags, num: count({char: 'n', description: 'number of releases to show', default: 15, min: 1, max: 1000})}

  async run(): Promise<Release[]> {
    const {flags} = await this.parse(Releases)
    return releases(this.io, flags)
  }
}

