import {Args} from '@oclif/core'

import {HerogateCommand} from '../../lib/base.js'
import {recordsText} from '../../lib/domains-text.js'
import {appFlags} from '../../lib/flags.js'
import {validateHostname} from '../../lib/hostname.js'
import type {DomainResult} from '../../platform/domains.js'

export default class DomainsAdd extends HerogateCommand {
  static description = `add a custom domain to the app

AWS: requests a free ACM certificate validated by DNS and routes the host to the app on the shared load balancer (HTTP at once; HTTPS, with HTTP redirected to it, once the certificate is issued). Prints the DNS records to create; when the domain's zone is in Route 53 in the same account, herogate creates them itself.
Local: maps the host to the app's router; HOST.localhost needs no DNS.`
  static enableJsonFlag = true
  static examples = ['<%= config.bin %> domains:add www.example.com -a demo', '<%= config.bin %> domains:add www.demo.localhost -a demo']
  static args = {hostname: Args.string({description: 'the host name, e.g. www.example.com', required: true})}
  static flags = {...appFlags}

  async run(): Promise<DomainResult> {
    const {args, flags} = await this.parse(DomainsAdd)
    const hostname = validateHostname(args.hostname)
    const {target, platform} = await this.resolveTarget(flags)
    const result = await platform.addDomain(target.name, hostname, {onProgress: this.progress, signal: this.signal})
    const {domain} = result
    this.log(`Added ${domain.hostname} to ${target.name} (${domain.status}): ${domain.url}`)
    const records = recordsText(domain)
    if (records) this.log(records)
    for (const note of result.notes) this.note(note)
    return result
  }
}
