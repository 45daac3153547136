import {HerogateCommand} from '../../lib/base.js'
import {heading, table, timeAgo} from '../../lib/format.js'
import {appFlags, count} from '../../lib/flags.js'
import {deployHint} from '../../lib/hints.js'
import type {Release} from '../../platform/types.js'

export default class Releases extends HerogateCommand {
  static description = 'list the app\'s releases, newest first'
  static enableJsonFlag = true
  static examples = ['<%= config.bin %> releases -a demo', '<%= config.bin %> releases -n 5 --json']
  static flags = {...appFlags, num: count({char: 'n', description: 'number of releases to show', default: 15, min: 1, max: 1000})}

  async run(): Promise<Release[]> {
    const {flags} = await this.parse(Releases)
    const {target, platform} = await this.resolveTarget(flags)
    const releases = await platform.releases(target.name, {num: flags.num})
    if (releases.length === 0) {
      this.log(`${target.name} has no releases yet. Deploy with: ${deployHint(target.name)}`)
    } else {
      const colors = this.colors
      const now = this.now()
      this.log(heading(`${target.name} Releases`, colors))
      this.log(table(releases, [
        {header: 'Version', get: (r) => `v${r.version}${r.current ? ' *' : ''}`},
        {header: 'Description', get: (r) => r.description},
        {header: 'Status', get: (r) => r.status, color: colors.status},
        {header: 'User', get: (r) => r.author},
        {header: 'Created', get: (r) => timeAgo(r.createdAt, now)},
      ]))
    }

    return releases
  }
}
