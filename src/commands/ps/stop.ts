import {Args} from '@oclif/core'

import {HerogateCommand} from '../../lib/base.js'
import {appFlags} from '../../lib/flags.js'

export default class PsStop extends HerogateCommand {
  static aliases = ['ps:kill']
  static description = 'stop one process (its service starts a replacement to keep the formation)'
  static examples = ['<%= config.bin %> ps:stop web.1', '<%= config.bin %> ps:stop 0f1e2d3c4b5a69788796a5b4c3d2e1f0']
  static args = {process: Args.string({description: 'process name (web.1) or id', required: true})}
  static flags = {...appFlags}

  async run(): Promise<void> {
    const {args, flags} = await this.parse(PsStop)
    const {target, platform} = await this.resolveTarget(flags)
    await this.step(`Stopping ${args.process} on ${target.name}`, () => platform.stop(target.name, args.process))
  }
}
