import {Flags} from '@oclif/core'

import {splitAtCommand} from '../lib/argv.js'
import {HerogateCommand} from '../lib/base.js'
import {ExitCode, HerogateError, Interrupted, InvalidInput} from '../lib/errors.js'
import {appFlags} from '../lib/flags.js'
import {parseConfigArgs} from '../lib/parse.js'
import {isSize, SIZES} from '../lib/sizes.js'
import type {RunResult} from '../platform/types.js'

export default class Run extends HerogateCommand {
  static description = `run a one-off process with the app's code and config

Output streams live and herogate exits with the command's exit code. Everything after the command's first word belongs to the command. Ctrl-C stops the process.

-e values are not secret: on AWS they travel in the task's plain environment overrides, which DescribeTasks and CloudTrail show. Put secrets in config vars (herogate config:set), which reach the process as ECS secrets.`
  static strict = false
  static examples = [
    '<%= config.bin %> run rake db:migrate -a demo',
    '<%= config.bin %> run -e DEBUG=1 --size standard-2x node scripts/backfill.js',
    '<%= config.bin %> run --detached node scripts/long-job.js',
    '<%= config.bin %> run -- ls -la',
  ]
  static flags = {
    ...appFlags,
    env: Flags.string({char: 'e', description: 'extra environment for this process, KEY=VALUE (repeatable; visible in AWS task details, not for secrets)', multiple: true}),
    size: Flags.string({char: 's', description: `process size: ${Object.keys(SIZES).join(', ')}`}),
    detached: Flags.boolean({char: 'd', description: 'start it and return at once, printing its id (output goes to logs)'}),
    'no-tty': Flags.boolean({description: 'never attach a TTY'}),
  }

  async run(): Promise<RunResult> {
    const {flagArgv, command} = splitAtCommand(this.argv, {
      withValue: ['-a', '--app', '-e', '--env', '-s', '--size', '--region', '--profile'],
      boolean: ['-d', '--detached', '--no-tty'],
    })
    const {flags} = await this.parse({...Run, strict: true}, flagArgv)
    if (command.length === 0) throw new InvalidInput('No command given.', {suggestions: ['herogate run bash', 'herogate run -- node -v']})
    if (flags.size && !isSize(flags.size)) throw new InvalidInput(`Unknown size "${flags.size}".`, {suggestions: [`use one of: ${Object.keys(SIZES).join(', ')}`]})
    const env = parseConfigArgs(flags.env ?? [])
    const {target, platform} = await this.resolveTarget(flags)
    const tty = !flags['no-tty'] && !flags.detached && Boolean(process.stdin.isTTY && process.stdout.isTTY)
    const result = await platform.run(target.name, {
      command, env, size: flags.size, detached: flags.detached ?? false, tty,
      stdin: process.stdin, stdout: process.stdout, stderr: process.stderr,
      signal: this.signal, onProgress: this.progress,
    })
    if (result.detached) {
      this.note(`Started ${result.name} (${result.id}) on ${target.name}. Follow it with: herogate logs -t --task ${result.name} -a ${target.name}`)
      this.log(result.id)
      return result
    }

    if (result.interrupted) throw new Interrupted(`Stopped ${result.name} (Ctrl-C).`)
    if (result.exitCode === undefined) {
      throw new HerogateError(`${result.name} did not run${result.stopReason ? `: ${result.stopReason}` : '.'}`, {suggestions: [`herogate logs --task ${result.name} -a ${target.name}`]})
    }

    if (result.exitCode !== 0) throw new ExitCode(result.exitCode)
    return result
  }
}
