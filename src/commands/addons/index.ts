import {HerogateCommand} from '../../lib/base.js'
import {addonsTable} from '../../lib/addons.js'
import {appFlags} from '../../lib/flags.js'
import type {Addon} from '../../platform/addons.js'

export default class Addons extends HerogateCommand {
  static description = 'list the app\'s add-ons: name, service, plan, price, state and the config var each sets'
  static enableJsonFlag = true
  static examples = ['<%= config.bin %> addons -a demo', '<%= config.bin %> addons --json']
  static flags = {...appFlags}

  async run(): Promise<Addon[]> {
    const {flags} = await this.parse(Addons)
    const {target, platform} = await this.resolveTarget(flags)
    const addons = await platform.addons(target.name)
    if (addons.length === 0) {
      this.note(`${target.name} has no add-ons. Try: herogate addons:create postgres -a ${target.name}`)
      return addons
    }

    this.log(addonsTable(addons, platform.addonPlans(), this.now()))
    return addons
  }
}
