import {Flags} from '@oclif/core'

import {HerogateCommand} from '../../lib/base.js'
import {appFlags} from '../../lib/flags.js'
import {names} from '../../lib/naming.js'
import type {GitRemoteResult} from '../../platform/types.js'

export default class GitRemote extends HerogateCommand {
  static description = `add the app's git remote to the repo you are in (a second clone, a new machine)

Points the "herogate" remote (or --remote NAME) at the app, adding it or changing where it points; on AWS it also makes herogate the remote's git credential helper. Then git push herogate main deploys.`
  static enableJsonFlag = true
  static examples = ['<%= config.bin %> git:remote -a demo', '<%= config.bin %> git:remote -a demo-staging --remote staging']
  static flags = {...appFlags, remote: Flags.string({char: 'r', description: `the git remote's name (default ${names.gitRemote()})`})}

  async run(): Promise<GitRemoteResult> {
    const {flags} = await this.parse(GitRemote)
    const {target, platform} = await this.resolveTarget(flags)
    const result = await platform.gitRemote(target.name, {cwd: process.cwd(), remote: flags.remote})
    this.log(`set git remote ${result.remote} to ${result.url}`)
    if (result.previous) this.note(`(it pointed at ${result.previous})`)
    return result
  }
}
