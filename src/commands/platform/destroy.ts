import {HerogateCommand} from '../../lib/base.js'
import {awsFlags, confirm} from '../../lib/flags.js'
import type {DestroyResult} from '../../platform/types.js'
import type {AwsPlatform} from '../../platform/aws/index.js'

export default class PlatformDestroy extends HerogateCommand {
  static description = `remove the shared AWS platform stack of a region (VPC, cluster, load balancer)

Also empties its artifact bucket and deletes the image cache's ECR repositories
(herogate-public/*), so nothing billable is left. Refused while any app still uses it.
Asks first, or takes --confirm REGION.`
  static enableJsonFlag = true
  static examples = ['<%= config.bin %> platform:destroy --region eu-west-1 --confirm eu-west-1']
  static flags = {...awsFlags, confirm: {...confirm, description: 'skip the prompt by giving the region'}}

  async run(): Promise<DestroyResult> {
    const {flags} = await this.parse(PlatformDestroy)
    const platform = (await this.platform('aws', flags)) as AwsPlatform
    const region = platform.ctx.region
    await this.confirmDestructive(region, flags.confirm, 'removes the herogate platform of region')
    const result = await platform.destroyPlatform({onProgress: this.progress, signal: this.signal})
    this.log(`Removed the herogate platform in ${region}:`)
    for (const item of result.removed) this.log(`  - ${item}`)
    return result
  }
}
