import {HerogateCommand} from '../../lib/base.js'
import {InvalidInput, unchangedConfig} from '../../lib/errors.js'
import {appFlags} from '../../lib/flags.js'
import {validateConfigKey} from '../../lib/parse.js'
import {listWords} from '../../lib/shell.js'
import type {ConfigChange} from '../../platform/types.js'

export default class ConfigUnset extends HerogateCommand {
  static description = 'remove config vars: a new release, then every process type restarts without them'
  static enableJsonFlag = true
  static strict = false
  static examples = ['<%= config.bin %> config:unset RAILS_ENV WEB_CONCURRENCY -a demo']
  static flags = {...appFlags}

  async run(): Promise<ConfigChange> {
    const {argv, flags} = await this.parse(ConfigUnset)
    const keys = (argv as string[]).map((key) => validateConfigKey(key))
    if (keys.length === 0) throw new InvalidInput('No config var names given.', {suggestions: ['herogate config:unset KEY']})
    const {target, platform} = await this.resolveTarget(flags)
    const change = await this.step(`Unsetting ${listWords(keys)} and restarting ${target.name}`, () =>
      platform.unsetConfig(target.name, keys, {onProgress: this.progress, signal: this.signal}).catch(unchangedConfig))
    if (change.note) this.note(change.note)
    if (change.release) this.note(`Released v${change.release.version}`)
    for (const key of change.keys) this.log(key)
    return change
  }
}
