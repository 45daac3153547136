import {Args, Flags} from '@oclif/core'

import {HerogateCommand} from '../../lib/base.js'
import {appFlags, confirm} from '../../lib/flags.js'
import type {AddonResult} from '../../platform/addons.js'

export default class AddonsDestroy extends HerogateCommand {
  static aliases = ['addons:remove']
  static description = `destroy an add-on and its data, and unset its config var (asks first, or takes --confirm APP)

A Postgres is first saved: a final snapshot on AWS, a final dump on the local platform (unless --no-snapshot); the command says where it is. Unsetting the config var is a config release: every process type restarts without it.`
  static enableJsonFlag = true
  static examples = ['<%= config.bin %> addons:destroy postgres-1 -a demo', '<%= config.bin %> addons:destroy redis-1 --confirm demo']
  static args = {name: Args.string({description: 'add-on name (herogate addons lists them)', required: true})}
  static flags = {
    ...appFlags,
    confirm,
    snapshot: Flags.boolean({description: 'Postgres: keep a final snapshot or dump first (--no-snapshot: none)', default: true, allowNo: true}),
  }

  async run(): Promise<AddonResult> {
    const {args, flags} = await this.parse(AddonsDestroy)
    const {target, platform} = await this.resolveTarget(flags)
    const addon = await platform.addonInfo(target.name, args.name)
    await this.confirmDestructive(target.name, flags.confirm, `destroys ${addon.name} and its data (${addon.configVar}) of`)
    const result = await this.step(`Destroying ${addon.name} on ${target.name}`, () =>
      platform.destroyAddon(target.name, addon.name, {snapshot: flags.snapshot, onProgress: this.progress, signal: this.signal}))
    for (const note of result.notes) this.note(note)
    if (result.config?.release) this.note(`Released v${result.config.release.version}`)
    this.log(`Destroyed ${result.addon.name} (${result.addon.configVar} unset)`)
    return result
  }
}
