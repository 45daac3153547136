import {HerogateCommand} from '../../lib/base.js'
import {domainsText} from '../../lib/domains-text.js'
import {appFlags} from '../../lib/flags.js'
import type {Domain} from '../../platform/domains.js'

export default class Domains extends HerogateCommand {
  static description = 'list the app\'s custom domains: status, URL and the DNS records to create'
  static enableJsonFlag = true
  static examples = ['<%= config.bin %> domains -a demo', '<%= config.bin %> domains --json']
  static flags = {...appFlags}

  async run(): Promise<Domain[]> {
    const {flags} = await this.parse(Domains)
    const {target, platform} = await this.resolveTarget(flags)
    const domains = await platform.domains(target.name, {onProgress: this.progress, signal: this.signal})
    this.log(domainsText(target.name, domains))
    return domains
  }
}
