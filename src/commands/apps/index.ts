import {Flags} from '@oclif/core'

import {HerogateCommand} from '../../lib/base.js'
import {awsFlags} from '../../lib/flags.js'
import {apps} from '../../lib/reads.js'
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
    return apps(this.io, flags)
  }
}

