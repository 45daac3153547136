import {HerogateCommand} from '../../lib/base.js'
import {keyValues} from '../../lib/format.js'
import {appFlags} from '../../lib/flags.js'
import {deployHint} from '../../lib/hints.js'
import type {AppInfo} from '../../platform/types.js'

export default class AppsInfo extends HerogateCommand {
  static aliases = ['info']
  static description = 'show an app: status, URLs, region, process formation, current release'
  static enableJsonFlag = true
  static examples = ['<%= config.bin %> info -a demo', '<%= config.bin %> info --json']
  static flags = {...appFlags}

  async run(): Promise<AppInfo> {
    const {flags} = await this.parse(AppsInfo)
    const {target, platform} = await this.resolveTarget(flags)
    const app = await platform.appInfo(target.name)
    const release = app.release
    this.log(`=== ${app.name}`)
    this.log(keyValues([
      ['Platform', app.platform],
      ['Region', app.region],
      ['Status', app.status],
      ['Web URL', app.webUrl],
      ['Git URL', app.gitUrl],
      ['Stack', app.stack],
      ['Release', release ? `v${release.version} ${release.description} (${release.status})` : `none yet (deploy with: ${deployHint(app.name)})`],
      ['Formation', app.formation.map((p) => `${p.type}=${p.quantity}:${p.size}`).join(' ') || 'none'],
      ['Created', app.createdAt],
    ]))
    return app
  }
}
