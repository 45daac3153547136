import {Args} from '@oclif/core'

import {addonView} from '../../lib/addons.js'
import {HerogateCommand} from '../../lib/base.js'
import {appFlags} from '../../lib/flags.js'
import type {Addon} from '../../platform/addons.js'

export default class AddonsInfo extends HerogateCommand {
  static description = 'show an add-on: service, plan, state, its config var, and where it runs (never its password)'
  static enableJsonFlag = true
  static examples = ['<%= config.bin %> addons:info postgres-1 -a demo', '<%= config.bin %> addons:info postgres-1 --json']
  static args = {name: Args.string({description: 'add-on name (herogate addons lists them)', required: true})}
  static flags = {...appFlags}

  async run(): Promise<Addon> {
    const {args, flags} = await this.parse(AddonsInfo)
    const {target, platform} = await this.resolveTarget(flags)
    const addon = await platform.addonInfo(target.name, args.name)
    this.log(addonView(addon, this.now(), this.colors))
    return addon
  }
}
