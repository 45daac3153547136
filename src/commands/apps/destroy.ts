import {Flags} from '@oclif/core'

import {HerogateCommand} from '../../lib/base.js'
import {appFlags, confirm} from '../../lib/flags.js'
import type {DestroyResult} from '../../platform/types.js'

export default class AppsDestroy extends HerogateCommand {
  static aliases = ['destroy']
  static description = 'permanently destroy an app and everything it owns (asks first, or takes --confirm APP)'
  static enableJsonFlag = true
  static examples = ['<%= config.bin %> destroy -a demo', '<%= config.bin %> destroy -a demo --confirm demo']
  static flags = {
    ...appFlags,
    confirm,
    snapshot: Flags.boolean({description: 'keep a final snapshot (AWS) or dump (local) of each Postgres add-on (--no-snapshot: none)', default: true, allowNo: true}),
  }

  async run(): Promise<DestroyResult> {
    const {flags} = await this.parse(AppsDestroy)
    const {target, platform} = await this.resolveTarget(flags)
    const addons = await platform.addons(target.name).catch(() => [])
    // What goes with the app, said before it is confirmed: its add-ons and their data.
    if (addons.length > 0) this.note(`${target.name} has add-ons, destroyed with it: ${addons.map((addon) => `${addon.name} (${addon.configVar})`).join(', ')}`)
    await this.confirmDestructive(target.name, flags.confirm, 'destroys the app')
    const result = await platform.destroyApp(target.name, {cwd: process.cwd(), snapshot: flags.snapshot, onProgress: this.progress, signal: this.signal})
    const lists: Array<[string, string[]]> = [...(result.stopped?.length ? [['Stopped', result.stopped] as [string, string[]]] : []), ['Removed', result.removed]]
    for (const [i, [title, items]] of lists.entries()) {
      this.log(i === 0 ? `Destroyed ${result.name}. ${title}:` : `${title}:`)
      for (const item of items) this.log(`  - ${item}`)
    }
    return result
  }
}
