import {Flags} from '@oclif/core'

import {HerogateCommand} from '../../lib/base.js'
import {InvalidInput, unchangedConfig} from '../../lib/errors.js'
import {appFlags} from '../../lib/flags.js'
import {parseConfigArgs, parseDotenv} from '../../lib/parse.js'
import {listWords} from '../../lib/shell.js'
import {readInput} from '../../lib/stdin.js'
import type {ConfigChange} from '../../platform/types.js'

export default class ConfigSet extends HerogateCommand {
  static description = `set config vars: a new release, then every process type restarts with them

Prints the keys it set, never the values. Values may hold =, spaces, newlines and unicode, not NUL bytes (no environment variable can); KEY= sets an empty value.`
  static enableJsonFlag = true
  static strict = false
  static examples = [
    '<%= config.bin %> config:set RAILS_ENV=production WEB_CONCURRENCY=3',
    '<%= config.bin %> config:set GREETING="hello world" -a demo',
    '<%= config.bin %> config:set --file .env',
    'cat .env | <%= config.bin %> config:set --file -',
  ]
  static flags = {...appFlags, file: Flags.string({char: 'f', description: 'read KEY=VALUE lines from a .env file ("-" for standard input)'})}

  async run(): Promise<ConfigChange> {
    const {argv, flags} = await this.parse(ConfigSet)
    const vars = {...(flags.file ? parseDotenv(await readInput(flags.file)) : {}), ...parseConfigArgs(argv as string[])}
    const keys = Object.keys(vars)
    if (keys.length === 0) throw new InvalidInput('No config vars given.', {suggestions: ['herogate config:set KEY=VALUE', 'herogate config:set --file .env']})
    const {target, platform} = await this.resolveTarget(flags)
    const change = await this.step(`Setting ${listWords(keys)} and restarting ${target.name}`, () =>
      platform.setConfig(target.name, vars, {onProgress: this.progress, signal: this.signal}).catch(unchangedConfig))
    if (change.note) this.note(change.note)
    if (change.release) this.note(`Released v${change.release.version}`)
    for (const key of change.keys) this.log(key)
    return change
  }
}
