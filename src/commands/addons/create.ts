import {Args, Flags} from '@oclif/core'

import {parseService, resolvePlan, usd} from '../../lib/addons.js'
import {HerogateCommand} from '../../lib/base.js'
import {appFlags} from '../../lib/flags.js'
import type {AddonResult} from '../../platform/addons.js'

export default class AddonsCreate extends HerogateCommand {
  static description = `create an add-on (postgres or redis) and attach it: its URL becomes a config var

The first Postgres sets DATABASE_URL, the first Redis REDIS_URL; another of a kind (or --as NAME) sets NAME_URL. Attaching is a config release, so every process type restarts with it, as config:set does. Without --wait the command returns while the add-on is being created: addons:wait follows it to the end.`
  static enableJsonFlag = true
  static examples = [
    '<%= config.bin %> addons:create postgres -a demo --wait',
    '<%= config.bin %> addons:create redis --plan mini',
    '<%= config.bin %> addons:create postgres --as reports (sets REPORTS_URL)',
  ]
  static args = {service: Args.string({description: 'postgres or redis (Heroku\'s heroku-postgresql and heroku-redis work too)', required: true})}
  static flags = {
    ...appFlags,
    plan: Flags.string({description: 'the plan (herogate addons:plans lists them; default: the service\'s default plan)'}),
    as: Flags.string({description: 'name of the add-on; its config var is then NAME_URL'}),
    wait: Flags.boolean({description: 'return only once the add-on is available and attached'}),
  }

  async run(): Promise<AddonResult> {
    const {args, flags} = await this.parse(AddonsCreate)
    const {target, platform} = await this.resolveTarget(flags)
    const plans = platform.addonPlans()
    const service = parseService(args.service, plans)
    const plan = resolvePlan(service, flags.plan ?? args.service.split(':')[1], plans)
    const cost = plan.monthlyUsd === undefined ? '' : ` (${usd(plan.monthlyUsd)}/month)`
    const result = await this.step(`Creating ${service} ${plan.name} on ${target.name}${cost}`, () =>
      platform.createAddon(target.name, {service, plan: plan.name, as: flags.as, wait: flags.wait, onProgress: this.progress, signal: this.signal}))
    for (const note of result.notes) this.note(note)
    const {addon} = result
    if (result.config?.release) this.note(`Released v${result.config.release.version}`)
    if (addon.state === 'available') this.log(`Created ${addon.name} as ${addon.configVar}`)
    else this.log(`${addon.name} is being created; it sets ${addon.configVar} when it is available. Follow it with: herogate addons:wait ${addon.name} -a ${target.name}`)
    return result
  }
}
