import {Args} from '@oclif/core'

import {backupsTable, ofService} from '../../../lib/addons.js'
import {HerogateCommand} from '../../../lib/base.js'
import {appFlags} from '../../../lib/flags.js'
import type {Backup} from '../../../platform/addons.js'

export default class PgBackups extends HerogateCommand {
  static description = 'list the backups of the app\'s Postgres databases (AWS: snapshots; local: dumps under the app\'s directory)'
  static enableJsonFlag = true
  static examples = ['<%= config.bin %> pg:backups -a demo', '<%= config.bin %> pg:backups --json']
  static args = {name: Args.string({description: 'add-on name or config var (default: every Postgres of the app)'})}
  static flags = {...appFlags}

  async run(): Promise<Backup[]> {
    const {args, flags} = await this.parse(PgBackups)
    const {target, platform} = await this.resolveTarget(flags)
    const [addon] = ofService(await platform.addons(target.name), 'postgres', target.name, args.name)
    const backups = await platform.backups(target.name, args.name === undefined ? undefined : addon.name)
    if (backups.length === 0) this.note(`No backups yet. Try: herogate pg:backups:capture -a ${target.name}`)
    else this.log(backupsTable(backups, this.now()))
    return backups
  }
}
