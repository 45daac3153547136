import {Args} from '@oclif/core'

import {ofService} from '../../../lib/addons.js'
import {HerogateCommand} from '../../../lib/base.js'
import {appFlags} from '../../../lib/flags.js'
import type {Backup} from '../../../platform/addons.js'

export default class PgBackupsCapture extends HerogateCommand {
  static description = 'back up a Postgres database now (AWS: a snapshot; local: a dump under the app\'s directory)'
  static enableJsonFlag = true
  static examples = ['<%= config.bin %> pg:backups:capture -a demo', '<%= config.bin %> pg:backups:capture postgres-2']
  static args = {name: Args.string({description: 'add-on name or config var (default: the app\'s first Postgres)'})}
  static flags = {...appFlags}

  async run(): Promise<Backup> {
    const {args, flags} = await this.parse(PgBackupsCapture)
    const {target, platform} = await this.resolveTarget(flags)
    const [addon] = ofService(await platform.addons(target.name), 'postgres', target.name, args.name)
    const backup = await this.step(`Backing up ${addon.name} of ${target.name}`, () =>
      platform.captureBackup(target.name, addon.name, {onProgress: this.progress, signal: this.signal}))
    this.log(`Backup ${backup.id} of ${backup.addon}: ${backup.location}`)
    return backup
  }
}
