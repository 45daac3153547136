import {HerogateCommand} from '../../lib/base.js'
import type {ServiceInstall} from '../../platform/local/install.js'

export default class LocalInstall extends HerogateCommand {
  static description = `start local apps when this machine starts: writes a systemd user unit (Linux) or a launchd agent (macOS)

A supervisor that dies is started again by its watchdog without this. After a reboot, local apps stay down until a herogate command names one; with this service, every app with a release comes back on its own. The command writes the file and prints how to turn it on and off.`
  static enableJsonFlag = true
  static examples = ['<%= config.bin %> local:install']

  async run(): Promise<ServiceInstall> {
    await this.parse(LocalInstall)
    const {installService} = await import('../../platform/local/install.js')
    const service = installService()
    this.log(`Wrote ${service.file}: it brings back every local app with a release when your ${service.manager === 'systemd' ? 'systemd user manager' : 'launchd session'} starts.`)
    this.log('To turn it on:')
    for (const line of service.enable) this.log(`  ${line}`)
    if (service.manager === 'systemd') this.log('  (the last one starts it at boot, before you log in)')
    this.log('To turn it off and remove it:')
    for (const line of service.remove) this.log(`  ${line}`)
    return service
  }
}
