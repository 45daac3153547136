import {Flags} from '@oclif/core'

import {HerogateCommand} from '../../lib/base.js'
import {appFlags} from '../../lib/flags.js'
import {config} from '../../lib/reads.js'

export default class Config extends HerogateCommand {
  static description = 'show the app\'s config vars (values included: you asked for them)'
  static enableJsonFlag = true
  static examples = ['<%= config.bin %> config -a demo', '<%= config.bin %> config --shell > .env', '<%= config.bin %> config --json']
  static flags = {...appFlags, shell: Flags.boolean({char: 's', description: 'print KEY=value lines for a shell or .env file'})}

  async run(): Promise<Record<string, string>> {
    const {flags} = await this.parse(Config)
    return config(this.io, flags)
  }
}

