import {Args} from '@oclif/core'

import {HerogateCommand} from '../../lib/base.js'
import {InvalidInput} from '../../lib/errors.js'
import {appFlags} from '../../lib/flags.js'
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
    // Heroku restarts one dyno (`restart web.1`); here a process is replaced by stopping it.
    const one = args.type === undefined ? undefined : /^([A-Za-z0-9_]{1,30})\.[0-9a-z]+$/.exec(args.type)
    if (one) {
      const [name, type] = one
      throw new InvalidInput(`${name} is a process, not a process type.`, {
        suggestions: type === 'run'
          ? [`herogate ps:stop ${name} -a ${target.name} (stops the one-off process; nothing takes its place)`]
          : [`herogate ps:stop ${name} -a ${target.name} (stops it; a new ${type} process takes its place)`, `herogate restart ${type} -a ${target.name} (restarts every ${type} process)`],
      })
    }

    return this.step(`Restarting ${args.type ? `${args.type} processes` : 'all processes'} on ${target.name}`, () =>
      platform.restart(target.name, args.type, {onProgress: this.progress, signal: this.signal}))
  }
}
