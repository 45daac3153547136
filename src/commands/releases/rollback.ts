import {Args} from '@oclif/core'

import {HerogateCommand} from '../../lib/base.js'
import {appFlags} from '../../lib/flags.js'
import {parseReleaseVersion} from '../../lib/parse.js'
import type {Release} from '../../platform/types.js'

export default class ReleasesRollback extends HerogateCommand {
  static aliases = ['rollback']
  static description = `roll back to an earlier release's code and config, without a rebuild

Default: the release before the current one that succeeded. The rollback is itself a new release.`
  static enableJsonFlag = true
  static examples = ['<%= config.bin %> rollback -a demo', '<%= config.bin %> rollback v7']
  static args = {release: Args.string({description: 'release to roll back to, e.g. v7'})}
  static flags = {...appFlags}

  async run(): Promise<Release> {
    const {args, flags} = await this.parse(ReleasesRollback)
    const version = args.release ? parseReleaseVersion(args.release) : undefined
    const {target, platform} = await this.resolveTarget(flags)
    const release = await this.step(`Rolling back ${target.name}${version ? ` to v${version}` : ''}`, () =>
      platform.rollback(target.name, version, {onProgress: this.progress, signal: this.signal}))
    this.log(`v${release.version}: ${release.description}`)
    return release
  }
}
