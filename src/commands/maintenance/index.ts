import {HerogateCommand} from '../../lib/base.js'
import {appFlags} from '../../lib/flags.js'
import type {Maintenance} from '../../platform/maintenance.js'

export default class MaintenanceStatus extends HerogateCommand {
  static description = `show whether the app is in maintenance mode: on or off

While it is on, every web request gets a 503 maintenance page; processes keep running and herogate run works as usual.`
  static enableJsonFlag = true
  static examples = ['<%= config.bin %> maintenance -a demo', '<%= config.bin %> maintenance --json']
  static flags = {...appFlags}

  async run(): Promise<Maintenance> {
    const {flags} = await this.parse(MaintenanceStatus)
    const {target, platform} = await this.resolveTarget(flags)
    const maintenance = await platform.maintenance(target.name)
    this.log(maintenance.enabled ? 'on' : 'off')
    if (maintenance.enabled && maintenance.page && maintenance.page !== 'default') this.note(`Page: ${maintenance.page}`)
    return maintenance
  }
}
