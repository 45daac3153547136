import {Args} from '@oclif/core'

import {HerogateCommand} from '../../lib/base.js'
import {appFlags} from '../../lib/flags.js'
import {validateHostname} from '../../lib/hostname.js'
import type {Domain} from '../../platform/domains.js'

export default class DomainsWait extends HerogateCommand {
  static description = 'wait until a custom domain is active: its certificate issued (once the DNS records exist) and the app served on it over HTTPS'
  static enableJsonFlag = true
  static examples = ['<%= config.bin %> domains:wait www.example.com -a demo']
  static args = {hostname: Args.string({description: 'the host name, as domains lists it', required: true})}
  static flags = {...appFlags}

  async run(): Promise<Domain> {
    const {args, flags} = await this.parse(DomainsWait)
    const hostname = validateHostname(args.hostname, 'domains:wait')
    const {target, platform} = await this.resolveTarget(flags)
    const domain = await platform.waitDomain(target.name, hostname, {onProgress: this.progress, signal: this.signal})
    this.log(`${domain.hostname} is ${domain.status}: ${domain.url}`)
    return domain
  }
}
