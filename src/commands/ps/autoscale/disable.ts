import {Args} from '@oclif/core'

import {HerogateCommand} from '../../../lib/base.js'
import {appFlags} from '../../../lib/flags.js'
import type {AutoscaleResult} from '../../../platform/autoscale.js'

export default class PsAutoscaleDisable extends HerogateCommand {
  static description = 'stop autoscaling a process type: its count stays where the autoscaler left it, and scale sets it again'
  static enableJsonFlag = true
  static examples = ['<%= config.bin %> ps:autoscale:disable web -a demo']
  static args = {type: Args.string({description: 'process type', required: true})}
  static flags = {...appFlags}

  async run(): Promise<AutoscaleResult> {
    const {args, flags} = await this.parse(PsAutoscaleDisable)
    const {target, platform} = await this.resolveTarget(flags)
    const result = await this.step(`Disabling autoscaling of ${args.type} on ${target.name}`, () =>
      platform.disableAutoscale(target.name, args.type, {onProgress: this.progress, signal: this.signal}))
    for (const note of result.notes) this.note(note)
    this.log(`${args.type}: ${result.quantity} (scaled by hand)`)
    return result
  }
}
