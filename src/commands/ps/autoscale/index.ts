import {Args, Flags} from '@oclif/core'

import {autoscaleText, DEFAULT_CPU_TARGET, parseAutoscale} from '../../../lib/autoscale.js'
import {HerogateCommand} from '../../../lib/base.js'
import {appFlags} from '../../../lib/flags.js'
import type {AutoscaleResult} from '../../../platform/autoscale.js'

export default class PsAutoscale extends HerogateCommand {
  static description = `autoscale a process type between --min and --max processes (AWS)

The count follows a target: the average CPU of the type's processes (--cpu, default ${DEFAULT_CPU_TARGET} percent), or for web the requests each process gets per minute (--requests-per-process). AWS Application Auto Scaling adds processes within a minute or two of the target being passed and removes them more slowly. While a type is autoscaled, scale refuses to set its count (sizes can still change); deploys and rollbacks keep the count the autoscaler set. Run it again to change the bounds or target; ps:autoscale:disable goes back to scaling by hand. The local platform refuses it: one machine has no capacity to add.`
  static enableJsonFlag = true
  static examples = [
    '<%= config.bin %> ps:autoscale web --min 2 --max 10',
    '<%= config.bin %> ps:autoscale web --min 2 --max 10 --requests-per-process 1200',
    '<%= config.bin %> ps:autoscale worker --min 1 --max 4 --cpu 70',
  ]
  static args = {type: Args.string({description: 'process type (web, worker...)', required: true})}
  static flags = {
    ...appFlags,
    min: Flags.integer({description: 'fewest processes (1 or more)'}),
    max: Flags.integer({description: 'most processes (at most 100)'}),
    cpu: Flags.integer({description: `average CPU percent to keep (default ${DEFAULT_CPU_TARGET})`}),
    'requests-per-process': Flags.integer({description: 'web only: requests per process per minute to keep'}),
  }

  async run(): Promise<AutoscaleResult> {
    const {args, flags} = await this.parse(PsAutoscale)
    const settings = parseAutoscale({type: args.type, min: flags.min, max: flags.max, cpu: flags.cpu, requestsPerProcess: flags['requests-per-process']})
    const {target, platform} = await this.resolveTarget(flags)
    const result = await this.step(`Autoscaling ${settings.type} on ${target.name}`, () =>
      platform.autoscale(target.name, settings, {onProgress: this.progress, signal: this.signal}))
    for (const note of result.notes) this.note(note)
    this.log(`${settings.type}: ${autoscaleText(settings)}; now ${result.quantity}`)
    return result
  }
}
