import {Flags} from '@oclif/core'

import {HerogateCommand} from '../../lib/base.js'
import {AwsNotConfigured, HerogateError} from '../../lib/errors.js'
import {table} from '../../lib/format.js'
import {awsFlags} from '../../lib/flags.js'
import type {AppSummary} from '../../platform/types.js'

export default class Apps extends HerogateCommand {
  static description = 'list your apps on the local platform and on AWS'
  static enableJsonFlag = true
  static examples = ['<%= config.bin %> apps', '<%= config.bin %> apps --json', '<%= config.bin %> apps --region eu-west-1']
  static flags = {
    ...awsFlags,
    local: Flags.boolean({description: 'only apps on the local platform', exclusive: ['aws']}),
    aws: Flags.boolean({description: 'only apps on AWS', exclusive: ['local']}),
  }

  async run(): Promise<AppSummary[]> {
    const {flags} = await this.parse(Apps)
    const apps: AppSummary[] = []
    if (!flags.aws) apps.push(...(await (await this.platform('local')).listApps()))
    if (!flags.local) {
      try {
        apps.push(...(await (await this.platform('aws', flags)).listApps()))
      } catch (error) {
        // Without AWS set up, the local apps are still worth listing; AWS asked for by name must work.
        if (flags.aws || flags.region || flags.profile || !(error instanceof HerogateError)) throw error
        // Someone who uses only the local platform hears nothing about AWS (apps --aws says why);
        // someone who set AWS up hears why their AWS apps are missing.
        if (!(error instanceof AwsNotConfigured)) this.note(`(AWS apps not listed: ${error.message})`)
      }
    }

    if (apps.length === 0) this.log('You have no apps. Create one: herogate create --local (or herogate create on AWS)')
    else
      this.log(table(apps, [
        {header: 'Name', get: (a) => a.name},
        {header: 'Platform', get: (a) => a.platform + (a.region ? ` (${a.region})` : '')},
        {header: 'Status', get: (a) => a.status, color: this.colors.status},
        {header: 'Web URL', get: (a) => a.webUrl},
      ]))
    for (const app of apps.filter((a) => a.problem)) this.note(`${app.name} is damaged: ${app.problem}. Remove it: herogate destroy -a ${app.name} --confirm ${app.name}`)
    return apps
  }
}
