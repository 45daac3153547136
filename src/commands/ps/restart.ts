import {Args} from '@oclif/core'

import {HerogateCommand} from '../../lib/base.js'
import {appFlags} from '../../lib/flags.js'
import {processNotType} from '../../lib/hints.js'
import type {ProcessInfo} from '../../platform/types.js'

export default class PsRestart extends HerogateCommand {
  static aliases = ['restart']
  static description = 'restart every process, or those of one process type'
  static enableJsonFlag = true
  static examples = ['<%= config.bin %> ps:restart -a demo', '<%= config.bin %> ps:restart worker', '<%= config.bin %> restart']
  static args = {type: Args.string({description: 'process type to restart (default: all)'})}
  static flags = {...appFlags}

  async run(): Promise<ProcessInfo[]> {
    const {args, flags} = await this.parse(PsRestart)
    const {target, platform} = await this.resolveTarget(flags)
    const refusal = args.type === undefined ? undefined : processNotType(args.type, target.name)
    if (refusal) throw refusal

    return this.step(`Restarting ${args.type ? `${args.type} processes` : 'all processes'} on ${target.name}`, () =>
      platform.restart(target.name, args.type, {onProgress: this.progress, signal: this.signal}))
  }
}
