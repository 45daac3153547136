import {Flags} from '@oclif/core'
import {resolve} from 'node:path'

import {HerogateCommand} from '../../lib/base.js'
import {appFlags} from '../../lib/flags.js'
import type {Maintenance} from '../../platform/maintenance.js'

export default class MaintenanceOn extends HerogateCommand {
  static description = `put the app in maintenance mode: every web request gets a 503 maintenance page at once

No deploy and no restart: processes keep running, herogate run and workers work as usual, deploys go on behind the page. On AWS a fixed-response rule of the load balancer answers in front of the app's rules; locally the app's router does. --page serves your own HTML page instead of herogate's (on AWS at most 1024 bytes, the load balancer's limit for a fixed response).`
  static enableJsonFlag = true
  static examples = ['<%= config.bin %> maintenance:on -a demo', '<%= config.bin %> maintenance:on --page maintenance.html']
  static flags = {...appFlags, page: Flags.string({description: 'HTML file to serve as the maintenance page (default: herogate\'s page)'})}

  async run(): Promise<Maintenance & {changed: boolean}> {
    const {flags} = await this.parse(MaintenanceOn)
    const {target, platform} = await this.resolveTarget(flags)
    const result = await this.step(`Enabling maintenance mode for ${target.name}`, () =>
      platform.setMaintenance(target.name, true, {page: flags.page === undefined ? undefined : resolve(flags.page), onProgress: this.progress, signal: this.signal}))
    if (!result.changed) this.note(`${target.name} was in maintenance mode already${flags.page ? '; its page is now the one given' : ''}.`)
    return result
  }
}
