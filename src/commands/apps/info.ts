import {Args} from '@oclif/core'

import {HerogateCommand} from '../../lib/base.js'
import {InvalidInput} from '../../lib/errors.js'
import {appFlags} from '../../lib/flags.js'
import {appsInfo} from '../../lib/reads.js'
import type {AppInfo} from '../../platform/types.js'

export default class AppsInfo extends HerogateCommand {
  static aliases = ['info']
  static description = 'show an app: status, URLs, region, process formation, current release'
  static enableJsonFlag = true
  static examples = ['<%= config.bin %> info -a demo', '<%= config.bin %> info demo', '<%= config.bin %> info --json']
  static args = {app: Args.string({description: 'app name (the same as -a, as Heroku takes it)'})}
  static flags = {...appFlags}

  async run(): Promise<AppInfo> {
    const {args, flags} = await this.parse(AppsInfo)
    if (args.app && flags.app && args.app !== flags.app) {
      throw new InvalidInput(`Two apps given: ${args.app} and -a ${flags.app}.`, {suggestions: [`herogate info ${args.app}`, `herogate info -a ${flags.app}`]})
    }

    return appsInfo(this.io, {...flags, app: args.app ?? flags.app})
  }
}
