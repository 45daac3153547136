import {Args} from '@oclif/core'

import {parseService, plansTable} from '../../lib/addons.js'
import {HerogateCommand} from '../../lib/base.js'
import {appFlags} from '../../lib/flags.js'
import type {AddonPlan} from '../../platform/addons.js'

export default class AddonsPlans extends HerogateCommand {
  static description = 'list the plans of the add-on services, with what each costs per month where the platform charges'
  static enableJsonFlag = true
  static examples = ['<%= config.bin %> addons:plans -a demo', '<%= config.bin %> addons:plans postgres --json']
  static args = {service: Args.string({description: 'postgres or redis (default: both)'})}
  static flags = {...appFlags}

  async run(): Promise<AddonPlan[]> {
    const {args, flags} = await this.parse(AddonsPlans)
    const {platform} = await this.resolveTarget(flags)
    const plans = args.service ? platform.addonPlans(parseService(args.service, platform.addonPlans())) : platform.addonPlans()
    this.log(plansTable(plans))
    return plans
  }
}
