import {Flags} from '@oclif/core'

import {splitAtCommand} from '../lib/argv.js'
import {HerogateCommand} from '../lib/base.js'
import {attachedEnded, InvalidInput} from '../lib/errors.js'
import {appFlags} from '../lib/flags.js'
import {parseConfigArgs} from '../lib/parse.js'
import {isSize, SIZES} from '../lib/sizes.js'
import {refuseShellWithoutInput} from '../lib/stdin.js'
import type {RunResult} from '../platform/types.js'

export default class Run extends HerogateCommand {
  static description = `run a one-off process with the app's code and config

Output streams live and herogate exits with the command's exit code. Everything after the command's first word belongs to the command. Ctrl-C stops the process. As on Heroku, "Running CMD on APP... up, run.1234" goes to stderr when it starts, and PORT is set, so a server started this way has a port to listen on.

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
    env: Flags.string({char: 'e', description: 'extra environment for this process, KEY=VALUE; several split by ";" as Heroku takes them, or -e repeated (visible in AWS task details, not for secrets)', multiple: true}),
    size: Flags.string({char: 's', description: `process size: ${Object.keys(SIZES).join(', ')}`}),
    detached: Flags.boolean({char: 'd', description: 'start it and return at once, printing its id (output goes to logs)'}),
    'no-tty': Flags.boolean({description: 'never attach a TTY'}),
    // Scripts written for Heroku pass -x to get the exit code, which herogate always passes through.
    'exit-code': Flags.boolean({char: 'x', description: 'accepted as Heroku takes it: herogate always exits with the command\'s exit code'}),
  }

  async run(): Promise<RunResult> {
    return this.runOneOff(false)
  }

  /** `run`, or `run:detached` (always detached). */
  protected async runOneOff(alwaysDetached: boolean): Promise<RunResult> {
    const ctor = this.ctor as typeof Run
    const {flagArgv, command} = splitAtCommand(this.argv, {
      withValue: ['-a', '--app', '-e', '--env', '-s', '--size', '--region', '--profile'],
      boolean: ['-d', '--detached', '--no-tty', '--no-color', '-x', '--exit-code'],
    })
    const {flags} = await this.parse({...ctor, baseFlags: ctor.baseFlags, strict: true}, flagArgv)
    const detached = alwaysDetached || (flags.detached ?? false)
    if (command.length === 0) {
      throw new InvalidInput('No command given.', {suggestions: alwaysDetached ? ['herogate run:detached -- node scripts/job.js'] : ['herogate run bash', 'herogate run -- node -v']})
    }

    if (flags.size && !isSize(flags.size)) throw new InvalidInput(`Unknown size "${flags.size}".`, {suggestions: [`use one of: ${Object.keys(SIZES).join(', ')}`]})
    // Heroku's -e takes "A=1;B=2", split on every ";": a value holding one is set by the command itself (run -- env 'X=a;b' CMD).
    const env = parseConfigArgs((flags.env ?? []).flatMap((value) => value.split(';')).filter((pair) => pair !== ''))
    const tty = !flags['no-tty'] && !detached && Boolean(process.stdin.isTTY && process.stdout.isTTY)
    if (!detached) await refuseShellWithoutInput(command, process.stdin)

    const {target, platform} = await this.resolveTarget(flags)
    const result = await platform.run(target.name, {
      command, env, size: flags.size, detached, tty,
      stdin: process.stdin, stdout: process.stdout, stderr: process.stderr,
      signal: this.signal, onProgress: this.progress,
    })
    if (result.detached) {
      this.note(`Follow its output with: herogate logs -t -d ${result.name} -a ${target.name}`)
      this.log(result.id)
      return result
    }

    return attachedEnded(result, `herogate logs -d ${result.name} -a ${target.name}`)
  }
}
