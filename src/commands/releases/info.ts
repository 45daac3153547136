import {Args} from '@oclif/core'

import {HerogateCommand} from '../../lib/base.js'
import {heading, keyValues} from '../../lib/format.js'
import {appFlags} from '../../lib/flags.js'
import {parseReleaseVersion} from '../../lib/parse.js'
import {failureDetails} from '../../lib/process-output.js'
import type {Release} from '../../platform/types.js'

export default class ReleasesInfo extends HerogateCommand {
  static description = 'show one release (default: the current one)'
  static enableJsonFlag = true
  static examples = ['<%= config.bin %> releases:info v12 -a demo', '<%= config.bin %> releases:info --json']
  static args = {release: Args.string({description: 'release version, e.g. v12'})}
  static flags = {...appFlags}

  async run(): Promise<Release> {
    const {args, flags} = await this.parse(ReleasesInfo)
    const version = args.release ? parseReleaseVersion(args.release) : undefined
    const {target, platform} = await this.resolveTarget(flags)
    const release = await platform.releaseInfo(target.name, version)
    this.log(heading(`Release v${release.version}${release.current ? ' (current)' : ''}`, this.colors))
    this.log(keyValues([
      ['Description', release.description],
      ['Status', this.colors.status(release.status)],
      ['Failure', release.failure],
      ['By', release.author],
      ['When', release.createdAt],
      ['Commit', release.commit],
      ['Image', release.image],
      ['Config version', release.configVersion],
      ['Processes', release.processTypes ? Object.entries(release.processTypes).map(([type, command]) => `${type}: ${command}`).join('; ') : undefined],
    ]))
    // Why it failed, in the words of the process that made it fail.
    if (release.failureOutput) this.log(['', ...failureDetails(release.failureOutput), `More: ${release.failureOutput.more}`].join('\n'))
    return release
  }
}
