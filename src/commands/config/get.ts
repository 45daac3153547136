import {Args} from '@oclif/core'

import {HerogateCommand} from '../../lib/base.js'
import {HerogateError} from '../../lib/errors.js'
import {appFlags} from '../../lib/flags.js'
import {validateConfigKey} from '../../lib/parse.js'

export default class ConfigGet extends HerogateCommand {
  static description = 'print one config var\'s value'
  static enableJsonFlag = true
  static examples = ['<%= config.bin %> config:get DATABASE_URL -a demo']
  static args = {key: Args.string({description: 'config var name', required: true})}
  static flags = {...appFlags}

  async run(): Promise<{key: string; value: string}> {
    const {args, flags} = await this.parse(ConfigGet)
    const key = validateConfigKey(args.key)
    const {target, platform} = await this.resolveTarget(flags)
    const vars = await platform.getConfig(target.name)
    if (!Object.hasOwn(vars, key)) {
      throw new HerogateError(`${key} is not set on ${target.name}.`, {suggestions: [`herogate config -a ${target.name}`, `herogate config:set ${key}=VALUE -a ${target.name}`]})
    }

    this.log(vars[key])
    return {key, value: vars[key]}
  }
}
