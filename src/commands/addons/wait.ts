import {Args} from '@oclif/core'

import {HerogateCommand} from '../../lib/base.js'
import {appFlags} from '../../lib/flags.js'
import type {Addon} from '../../platform/addons.js'

export default class AddonsWait extends HerogateCommand {
  static description = 'wait until an add-on (or every one being created) is available and attached'
  static enableJsonFlag = true
  static examples = ['<%= config.bin %> addons:wait -a demo', '<%= config.bin %> addons:wait postgres-1']
  static args = {name: Args.string({description: 'add-on name (default: every add-on being created)'})}
  static flags = {...appFlags}

  async run(): Promise<Addon[]> {
    const {args, flags} = await this.parse(AddonsWait)
    const {target, platform} = await this.resolveTarget(flags)
    const addons = await this.step(`Waiting for ${args.name ?? `the add-ons of ${target.name}`}`, () =>
      platform.waitAddons(target.name, args.name, {onProgress: this.progress, signal: this.signal}))
    if (addons.length === 0) this.note(`${target.name} has no add-ons being created.`)
    for (const addon of addons) this.log(`${addon.name} is ${addon.state} as ${addon.configVar}`)
    return addons
  }
}
