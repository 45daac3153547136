import {HerogateCommand} from '../../lib/base.js'
import {appFlags} from '../../lib/flags.js'
import type {Maintenance} from '../../platform/maintenance.js'

export default class MaintenanceOff extends HerogateCommand {
  static description = 'take the app out of maintenance mode: web requests reach its processes again at once'
  static enableJsonFlag = true
  static examples = ['<%= config.bin %> maintenance:off -a demo']
  static flags = {...appFlags}

  async run(): Promise<Maintenance & {changed: boolean}> {
    const {flags} = await this.parse(MaintenanceOff)
    const {target, platform} = await this.resolveTarget(flags)
    const result = await this.step(`Disabling maintenance mode for ${target.name}`, () =>
      platform.setMaintenance(target.name, false, {onProgress: this.progress, signal: this.signal}))
    if (!result.changed) this.note(`${target.name} was not in maintenance mode.`)
    return result
  }
}
