import {HerogateCommand} from '../../lib/base.js'
import {table, timeAgo} from '../../lib/format.js'
import {appFlags} from '../../lib/flags.js'
import {idleHint} from '../../lib/hints.js'
import type {ProcessInfo} from '../../platform/types.js'

export default class Ps extends HerogateCommand {
  static description = 'list the app\'s running processes per process type'
  static enableJsonFlag = true
  static examples = ['<%= config.bin %> ps -a demo', '<%= config.bin %> ps --json']
  static flags = {...appFlags}

  async run(): Promise<ProcessInfo[]> {
    const {flags} = await this.parse(Ps)
    const {target, platform} = await this.resolveTarget(flags)
    const processes = await platform.ps(target.name, {onProgress: this.progress})
    if (processes.length === 0) {
      if (!this.jsonEnabled()) this.log(idleHint(target.name, await platform.formation(target.name)))
    } else {
      const colors = this.colors
      const now = this.now()
      this.log(table(processes, [
        {header: 'Name', get: (p) => p.name},
        {header: 'Status', get: (p) => p.status, color: colors.status},
        {header: 'Health', get: (p) => p.health, color: colors.status},
        {header: 'Release', get: (p) => (p.release === undefined ? '' : `v${p.release}`)},
        // Local processes have no size: they get what the machine has.
        ...(processes.some((p) => p.size) ? [{header: 'Size', get: (p: ProcessInfo) => p.size}] : []),
        {header: 'Started', get: (p) => timeAgo(p.startedAt, now)},
        {header: 'Id', get: (p) => p.id},
      ]))
    }

    return processes
  }
}
