import {Args} from '@oclif/core'

import {HerogateCommand} from '../../lib/base.js'
import {appFlags} from '../../lib/flags.js'
import {parseReleaseVersion} from '../../lib/parse.js'
import type {ReleaseOutput} from '../../platform/types.js'

export default class ReleasesOutput extends HerogateCommand {
  static description = `print a release's build and release-phase output (default: the newest release)

What the push or deploy showed while the release was made (config values hidden): the build, the release command, the rollout. Local apps keep it for their newest 50 releases; on AWS it is the build's log in CloudWatch Logs.`
  static enableJsonFlag = true
  static examples = ['<%= config.bin %> releases:output v12 -a demo', '<%= config.bin %> releases:output --json']
  static args = {release: Args.string({description: 'release version, e.g. v12'})}
  static flags = {...appFlags}

  async run(): Promise<ReleaseOutput> {
    const {args, flags} = await this.parse(ReleasesOutput)
    const version = args.release ? parseReleaseVersion(args.release) : undefined
    const {target, platform} = await this.resolveTarget(flags)
    const output = await platform.releaseOutput(target.name, version)
    if (output.lines.length > 0) this.log(output.lines.join('\n'))
    if (output.note) this.note(output.note)
    return output
  }
}
