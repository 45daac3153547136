import {Args, Flags} from '@oclif/core'

import {ofService} from '../../lib/addons.js'
import {HerogateCommand} from '../../lib/base.js'
import {attachedEnded} from '../../lib/errors.js'
import {appFlags} from '../../lib/flags.js'
import type {RunResult} from '../../platform/types.js'

export default class PgPsql extends HerogateCommand {
  static description = `open a psql session with the app's Postgres database

Interactive in a terminal; with -c, or SQL on standard input, it runs that and exits with psql's exit code.`
  static examples = ['<%= config.bin %> pg:psql -a demo', '<%= config.bin %> pg:psql -c "select count(*) from users"', 'echo "select 1" | <%= config.bin %> pg:psql']
  static args = {name: Args.string({description: 'add-on name or config var (default: the app\'s first Postgres)'})}
  static flags = {...appFlags, command: Flags.string({char: 'c', description: 'SQL to run, then exit'})}

  async run(): Promise<RunResult> {
    const {args, flags} = await this.parse(PgPsql)
    const {target, platform} = await this.resolveTarget(flags)
    const [addon] = ofService(await platform.addons(target.name), 'postgres', target.name, args.name)
    const result = await platform.addonShell(target.name, 'postgres', addon.name, {
      command: flags.command === undefined ? [] : ['-c', flags.command],
      env: {}, detached: false, tty: Boolean(process.stdin.isTTY && process.stdout.isTTY),
      stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, signal: this.signal, onProgress: this.progress,
    })
    return attachedEnded(result, `herogate addons -a ${target.name}`)
  }
}

