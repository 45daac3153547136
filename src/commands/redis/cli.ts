import {Args, Flags} from '@oclif/core'

import {ofService} from '../../lib/addons.js'
import {HerogateCommand} from '../../lib/base.js'
import {attachedEnded} from '../../lib/errors.js'
import {appFlags} from '../../lib/flags.js'
import type {RunResult} from '../../platform/types.js'

export default class RedisCli extends HerogateCommand {
  static description = `open a redis-cli session with the app's Redis

Interactive in a terminal; with -c, it runs that one command (words split on spaces) and exits.`
  static examples = ['<%= config.bin %> redis:cli -a demo', '<%= config.bin %> redis:cli -c "LLEN jobs"']
  static args = {name: Args.string({description: 'add-on name or config var (default: the app\'s first Redis)'})}
  static flags = {...appFlags, command: Flags.string({char: 'c', description: 'a Redis command to run, then exit'})}

  async run(): Promise<RunResult> {
    const {args, flags} = await this.parse(RedisCli)
    const {target, platform} = await this.resolveTarget(flags)
    const [addon] = ofService(await platform.addons(target.name), 'redis', target.name, args.name)
    const result = await platform.addonShell(target.name, 'redis', addon.name, {
      command: flags.command === undefined ? [] : flags.command.trim().split(/\s+/),
      env: {}, detached: false, tty: Boolean(process.stdin.isTTY && process.stdout.isTTY),
      stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, signal: this.signal, onProgress: this.progress,
    })
    return attachedEnded(result, `herogate addons -a ${target.name}`)
  }
}
