import {HerogateCommand} from '../../lib/base.js'
import {certsText} from '../../lib/domains-text.js'
import {appFlags} from '../../lib/flags.js'
import type {Certificate} from '../../platform/domains.js'

export default class Certs extends HerogateCommand {
  static description = 'show the certificate of each of the app\'s custom domains and its status'
  static enableJsonFlag = true
  static examples = ['<%= config.bin %> certs -a demo', '<%= config.bin %> certs --json']
  static flags = {...appFlags}

  async run(): Promise<Certificate[]> {
    const {flags} = await this.parse(Certs)
    const {target, platform} = await this.resolveTarget(flags)
    const certs = await platform.certs(target.name, {onProgress: this.progress, signal: this.signal})
    this.log(certsText(target.name, certs))
    return certs
  }
}
