import {Args, Flags} from '@oclif/core'

import {HerogateCommand} from '../../../lib/base.js'
import {appFlags, confirm} from '../../../lib/flags.js'
import type {Backup} from '../../../platform/addons.js'

export default class PgBackupsRestore extends HerogateCommand {
  static description = 'restore a backup into its Postgres database, replacing the data there (asks first, or takes --confirm APP)'
  static enableJsonFlag = true
  static examples = ['<%= config.bin %> pg:backups:restore b001 -a demo', '<%= config.bin %> pg:backups:restore b001 --into postgres-2 --confirm demo']
  static args = {id: Args.string({description: 'backup id (herogate pg:backups lists them)', required: true})}
  static flags = {...appFlags, confirm, into: Flags.string({description: 'the Postgres add-on to restore into (default: the one it was taken of)'})}

  async run(): Promise<Backup> {
    const {args, flags} = await this.parse(PgBackupsRestore)
    const {target, platform} = await this.resolveTarget(flags)
    const backup = (await platform.backups(target.name)).find((b) => b.id === args.id)
    const into = flags.into ?? backup?.addon
    await this.confirmDestructive(target.name, flags.confirm, `replaces the data of ${into ?? 'the database'} with backup ${args.id} in`)
    const restored = await this.step(`Restoring ${args.id} into ${into ?? 'its database'} of ${target.name}`, () =>
      platform.restoreBackup(target.name, args.id, {into: flags.into, onProgress: this.progress, signal: this.signal}))
    this.log(`Restored ${restored.id} into ${flags.into ?? restored.addon}`)
    return restored
  }
}
