import {Flags} from '@oclif/core'

import {HerogateCommand} from '../../lib/base.js'
import {heading, keyValues} from '../../lib/format.js'
import {appFlags} from '../../lib/flags.js'
import {shellQuote} from '../../lib/shell.js'

export default class Config extends HerogateCommand {
  static description = 'show the app\'s config vars (values included: you asked for them)'
  static enableJsonFlag = true
  static examples = ['<%= config.bin %> config -a demo', '<%= config.bin %> config --shell > .env', '<%= config.bin %> config --json']
  static flags = {...appFlags, shell: Flags.boolean({char: 's', description: 'print KEY=value lines for a shell or .env file'})}

  async run(): Promise<Record<string, string>> {
    const {flags} = await this.parse(Config)
    const {target, platform} = await this.resolveTarget(flags)
    const vars = await platform.getConfig(target.name)
    const keys = Object.keys(vars).sort()
    if (flags.shell) {
      for (const key of keys) this.log(`${key}=${shellQuote(vars[key])}`)
    } else if (keys.length === 0) {
      this.log(`${target.name} has no config vars.`)
    } else {
      this.log(heading(`${target.name} Config Vars`, this.colors))
      this.log(keyValues(keys.map((key) => [key, vars[key] === '' ? "''" : vars[key]])))
    }

    return vars
  }
}
