import {Args} from '@oclif/core'

import {HerogateCommand} from '../../lib/base.js'
import {appFlags} from '../../lib/flags.js'
import {validateAppName} from '../../lib/naming.js'
import type {RenameResult} from '../../platform/types.js'

export default class AppsRename extends HerogateCommand {
  static aliases = ['rename']
  static description = `rename a local app: its repo, releases, builds, config and logs move to the new name

Its processes stop for the move and start again under the new name, on the same port. The "herogate" remote of the repo you are in is pointed at the new name. Refused while a release is in flight. Apps on AWS cannot be renamed (the name is part of their stacks, IAM roles and repositories): the error says what to do instead.`
  static enableJsonFlag = true
  static examples = ['<%= config.bin %> apps:rename shiny-new-name -a demo']
  static args = {newname: Args.string({description: 'the new name (3 to 29 lowercase letters, digits and dashes)', required: true})}
  static flags = {...appFlags}

  async run(): Promise<RenameResult> {
    const {args, flags} = await this.parse(AppsRename)
    validateAppName(args.newname)
    const {target, platform} = await this.resolveTarget(flags)
    const result = await platform.renameApp(target.name, args.newname, {cwd: process.cwd(), onProgress: this.progress, signal: this.signal})
    this.log(`Renamed ${result.previous} to ${result.name}`)
    this.log(`${result.webUrl ?? '(no web URL yet)'} | ${result.gitUrl}`)
    if (result.remoteUpdated) this.note(`Git remote herogate in ${result.remoteUpdated} now points at ${result.name}.`)
    return result
  }
}
