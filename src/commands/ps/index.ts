import {HerogateCommand} from '../../lib/base.js'
import {table} from '../../lib/format.js'
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
      this.log(table(processes, [
        {header: 'Name', get: (p) => p.name},
        {header: 'Status', get: (p) => p.status},
        {header: 'Health', get: (p) => p.health},
        {header: 'Release', get: (p) => (p.release === undefined ? '' : `v${p.release}`)},
        {header: 'Size', get: (p) => p.size},
        {header: 'Started', get: (p) => p.startedAt},
        {header: 'Id', get: (p) => p.id},
      ]))
    }

    return processes
  }
}
