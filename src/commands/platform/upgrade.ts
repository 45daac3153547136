import {HerogateCommand} from '../../lib/base.js'
import {awsFlags} from '../../lib/flags.js'
import type {AwsPlatform} from '../../platform/aws/index.js'
import type {PlatformUpgrade} from '../../platform/aws/platform-upgrade.js'

export default class PlatformUpgradeCommand extends HerogateCommand {
  static description = `bring the shared AWS platform stack of a region up to this herogate's template

Adds what newer herogate versions need and older platforms lack: private data subnets in two
availability zones (no route to the internet, no NAT) with the database and cache subnet groups
that add-ons use, and the ECR pull-through cache that builds pull their tools through. Only adds:
apps keep running.`
  static enableJsonFlag = true
  static examples = ['<%= config.bin %> platform:upgrade --region eu-west-1']
  static flags = {...awsFlags}

  async run(): Promise<PlatformUpgrade> {
    const {flags} = await this.parse(PlatformUpgradeCommand)
    const platform = (await this.platform('aws', flags)) as AwsPlatform
    const result = await platform.upgradePlatform({onProgress: this.progress, signal: this.signal})
    if (result.added.length === 0) {
      this.log(`The herogate platform of ${result.region} is up to date (version ${result.to}).`)
      return result
    }

    this.log(`Upgraded the herogate platform of ${result.region} from version ${result.from} to ${result.to}. Added:`)
    for (const item of result.added) this.log(`  - ${item}`)
    return result
  }
}
