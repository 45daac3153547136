import {Args} from '@oclif/core'

import {addonView, ofService} from '../../lib/addons.js'
import {HerogateCommand} from '../../lib/base.js'
import {appFlags} from '../../lib/flags.js'
import type {Addon} from '../../platform/addons.js'

export default class RedisInfo extends HerogateCommand {
  static description = 'show the app\'s Redis add-ons: plan, state, version, where it runs'
  static enableJsonFlag = true
  static examples = ['<%= config.bin %> redis:info -a demo', '<%= config.bin %> redis:info redis-2 --json']
  static args = {name: Args.string({description: 'add-on name or config var (default: every Redis of the app)'})}
  static flags = {...appFlags}

  async run(): Promise<Addon[]> {
    const {args, flags} = await this.parse(RedisInfo)
    const {target, platform} = await this.resolveTarget(flags)
    const addons = ofService(await platform.addons(target.name), 'redis', target.name, args.name)
    this.log(addons.map((addon) => addonView(addon, this.now(), this.colors)).join('\n\n'))
    return addons
  }
}
