import {Flags} from '@oclif/core'

import {HerogateCommand} from '../lib/base.js'
import {UpToDate} from '../lib/errors.js'
import {appFlags} from '../lib/flags.js'
import type {Release} from '../platform/types.js'

export default class Deploy extends HerogateCommand {
  static description = `push the current commit and follow the build, release phase and rollout until it is live

The same as git push herogate HEAD:main, with progress, and a non-zero exit when the release fails. When the commit is already live, it says "Everything up-to-date" and exits 0 (--json: the live release, with "upToDate": true).`
  static enableJsonFlag = true
  static examples = ['<%= config.bin %> deploy', '<%= config.bin %> deploy -a demo --branch master']
  static flags = {...appFlags, branch: Flags.string({description: 'branch of the app\'s repo to push to (default: the app\'s branch, main)'})}

  async run(): Promise<Release & {upToDate?: true}> {
    const {flags} = await this.parse(Deploy)
    const {target, platform} = await this.resolveTarget(flags)
    try {
      const release = await platform.deploy(target.name, {cwd: process.cwd(), branch: flags.branch, onProgress: this.progress, signal: this.signal})
      this.log(`Released v${release.version}: ${release.description} (${release.status})`)
      return release
    } catch (error) {
      if (!(error instanceof UpToDate)) throw error
      this.note(error.message)
      return {...error.release, upToDate: true}
    }
  }
}
