import {Flags} from '@oclif/core'

import {HerogateCommand} from '../lib/base.js'
import {appFlags} from '../lib/flags.js'
import type {Release} from '../platform/types.js'

export default class Deploy extends HerogateCommand {
  static description = `push the current commit and follow the build, release phase and rollout until it is live

The same as git push herogate HEAD:main, with progress, and a non-zero exit when the release fails.`
  static enableJsonFlag = true
  static examples = ['<%= config.bin %> deploy', '<%= config.bin %> deploy -a demo --branch master']
  static flags = {...appFlags, branch: Flags.string({description: 'branch of the app\'s repo to push to (default: the app\'s branch, main)'})}

  async run(): Promise<Release> {
    const {flags} = await this.parse(Deploy)
    const {target, platform} = await this.resolveTarget(flags)
    const release = await platform.deploy(target.name, {cwd: process.cwd(), branch: flags.branch, onProgress: this.progress, signal: this.signal})
    this.log(`Released v${release.version}: ${release.description} (${release.status})`)
    return release
  }
}
