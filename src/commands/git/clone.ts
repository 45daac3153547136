import {Args, Flags} from '@oclif/core'

import {HerogateCommand} from '../../lib/base.js'
import {appFlags} from '../../lib/flags.js'
import {names} from '../../lib/naming.js'
import type {GitRemoteResult} from '../../platform/types.js'

export default class GitClone extends HerogateCommand {
  static description = `clone the app's repo into a new directory, its "herogate" remote set

On AWS herogate is the clone's git credential helper too. An app nothing was pushed to yet clones empty.`
  static enableJsonFlag = true
  static examples = ['<%= config.bin %> git:clone -a demo', '<%= config.bin %> git:clone -a demo ~/src/demo']
  static args = {directory: Args.string({description: 'where to clone it (default: the app\'s name)'})}
  static flags = {...appFlags, remote: Flags.string({char: 'r', description: `the git remote's name (default ${names.gitRemote()})`})}

  async run(): Promise<GitRemoteResult> {
    const {args, flags} = await this.parse(GitClone)
    const {target, platform} = await this.resolveTarget(flags)
    const result = await this.step(`Cloning ${target.name}`, () =>
      platform.gitClone(target.name, {cwd: process.cwd(), directory: args.directory, remote: flags.remote}))
    this.log(`Cloned ${target.name} into ${result.dir} (git remote ${result.remote}: ${result.url})`)
    return result
  }
}
