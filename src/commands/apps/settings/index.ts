import {HerogateCommand} from '../../../lib/base.js'
import {appFlags} from '../../../lib/flags.js'
import {BOOT_TIMEOUT_RANGE, settingsText} from '../../../lib/settings.js'
import type {AppSetting} from '../../../platform/types.js'

export default class AppsSettings extends HerogateCommand {
  static description = `show the app's settings: each value and whether it is the default

boot-timeout (default 60, ${BOOT_TIMEOUT_RANGE.min} to ${BOOT_TIMEOUT_RANGE.max}): seconds a new web process has to answer its health check before it counts as failed and the deploy is abandoned. On AWS the web service's health-check grace period is this plus 10 s.
health-check-path (default /): the path probed during deploys; a process is healthy when it answers GET on it with 200-399. On AWS it is the load balancer's health check path.`
  static enableJsonFlag = true
  static examples = ['<%= config.bin %> apps:settings -a demo', '<%= config.bin %> apps:settings --json']
  static flags = {...appFlags}

  async run(): Promise<AppSetting[]> {
    const {flags} = await this.parse(AppsSettings)
    const {target, platform} = await this.resolveTarget(flags)
    const settings = await platform.settings(target.name)
    this.log(settingsText(target.name, settings))
    return settings
  }
}
