import {HerogateCommand} from '../../../lib/base.js'
import {appFlags} from '../../../lib/flags.js'
import {parseSettingArgs, settingsText} from '../../../lib/settings.js'
import {listWords} from '../../../lib/shell.js'
import type {SettingsChange} from '../../../platform/types.js'

export default class AppsSettingsSet extends HerogateCommand {
  static description = `change app settings (not a release: nothing restarts)

Applied at once where the platform can (AWS: the web service's grace period and the load balancer's health check; local: the supervisor) and by the next deploy at the latest; the output says which. A new health-check-path must be answered by the running release, else nothing changes. See apps:settings for what each setting means.`
  static enableJsonFlag = true
  static strict = false
  static examples = [
    '<%= config.bin %> apps:settings:set boot-timeout=120 -a demo',
    '<%= config.bin %> apps:settings:set health-check-path=/health boot-timeout=90',
  ]
  static flags = {...appFlags}

  async run(): Promise<SettingsChange> {
    const {argv, flags} = await this.parse(AppsSettingsSet)
    const wanted = parseSettingArgs(argv as string[])
    const {target, platform} = await this.resolveTarget(flags)
    const change = await this.step(`Setting ${listWords(Object.keys(wanted))} on ${target.name}`, () =>
      platform.setSettings(target.name, wanted, {onProgress: this.progress, signal: this.signal}))
    for (const note of change.notes) this.note(note)
    this.log(settingsText(target.name, change.settings))
    return change
  }
}
