import {Args} from '@oclif/core'

import {HerogateCommand} from '../../lib/base.js'
import {appFlags, confirm} from '../../lib/flags.js'
import {validateHostname} from '../../lib/hostname.js'
import type {DomainResult} from '../../platform/domains.js'

export default class DomainsRemove extends HerogateCommand {
  static description = 'remove a custom domain from the app, with its routing, certificate and the DNS records herogate made (asks first, or takes --confirm APP)'
  static enableJsonFlag = true
  static examples = ['<%= config.bin %> domains:remove www.example.com -a demo --confirm demo']
  static args = {hostname: Args.string({description: 'the host name, as domains lists it', required: true})}
  static flags = {...appFlags, confirm}

  async run(): Promise<DomainResult> {
    const {args, flags} = await this.parse(DomainsRemove)
    const hostname = validateHostname(args.hostname, 'domains:remove')
    const {target, platform} = await this.resolveTarget(flags)
    await this.confirmDestructive(target.name, flags.confirm, `removes ${hostname} from`)
    const result = await platform.removeDomain(target.name, hostname, {onProgress: this.progress, signal: this.signal})
    this.log(`Removed ${hostname} from ${target.name}.`)
    for (const note of result.notes) this.note(note)
    return result
  }
}
