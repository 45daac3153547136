import {HerogateCommand} from '../../../lib/base.js'
import {appFlags} from '../../../lib/flags.js'
import {parseSettingNames, settingsText} from '../../../lib/settings.js'
import {listWords} from '../../../lib/shell.js'
import type {SettingsChange} from '../../../platform/types.js'

export default class AppsSettingsUnset extends HerogateCommand {
  static description = 'put app settings back to their defaults (not a release: nothing restarts)'
  static enableJsonFlag = true
  static strict = false
  static examples = ['<%= config.bin %> apps:settings:unset boot-timeout -a demo', '<%= config.bin %> apps:settings:unset boot-timeout health-check-path']
  static flags = {...appFlags}

  async run(): Promise<SettingsChange> {
    const {argv, flags} = await this.parse(AppsSettingsUnset)
    const names = parseSettingNames(argv as string[])
    const {target, platform} = await this.resolveTarget(flags)
    const change = await this.step(`Restoring the default ${listWords(names)} of ${target.name}`, () =>
      platform.unsetSettings(target.name, names, {onProgress: this.progress, signal: this.signal}))
    for (const note of change.notes) this.note(note)
    this.log(settingsText(target.name, change.settings))
    return change
  }
}
