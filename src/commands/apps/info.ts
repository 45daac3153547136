import {HerogateCommand} from '../../lib/base.js'
import {appFlags} from '../../lib/flags.js'
import {appsInfo} from '../../lib/reads.js'
import type {AppInfo} from '../../platform/types.js'

export default class AppsInfo extends HerogateCommand {
  static aliases = ['info']
  static description = 'show an app: status, URLs, region, process formation, current release'
  static enableJsonFlag = true
  static examples = ['<%= config.bin %> info -a demo', '<%= config.bin %> info --json']
  static flags = {...appFlags}

  async run(): Promise<AppInfo> {
    const {flags} = await this.parse(AppsInfo)
    return appsInfo(this.io, flags)
  }
}
