import {Args} from '@oclif/core'

import {addonView, ofService} from '../../lib/addons.js'
import {HerogateCommand} from '../../lib/base.js'
import {appFlags} from '../../lib/flags.js'
import type {Addon} from '../../platform/addons.js'

export default class PgInfo extends HerogateCommand {
  static description = 'show the app\'s Postgres databases: plan, state, version, where it runs, the latest backup'
  static enableJsonFlag = true
  static examples = ['<%= config.bin %> pg:info -a demo', '<%= config.bin %> pg:info postgres-2 --json']
  static args = {name: Args.string({description: 'add-on name or config var (default: every Postgres of the app)'})}
  static flags = {...appFlags}

  async run(): Promise<Addon[]> {
    const {args, flags} = await this.parse(PgInfo)
    const {target, platform} = await this.resolveTarget(flags)
    const addons = ofService(await platform.addons(target.name), 'postgres', target.name, args.name)
    this.log(addons.map((addon) => addonView(addon, this.now(), this.colors)).join('\n\n'))
    return addons
  }
}
