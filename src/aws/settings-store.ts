import type {Parameter, SSMClient} from '@aws-sdk/client-ssm'

import {names} from '../lib/naming.js'
import {parseSettingValue, SETTING_NAMES} from '../lib/settings.js'
import type {AppSettings, SettingName} from '../platform/types.js'
import {awsFailure} from './errors.js'

/**
 * An app's settings in SSM: one String parameter per setting that differs from its default,
 * names.settingParameter(app, NAME). One parameter each, so that two changes of different
 * settings never lose one another; no parameter means the default.
 */
export class SettingsStore {
  constructor(private readonly client: SSMClient) {}

  /** The parameter names to read (with readParameters, along with others). */
  static parameterNames(app: string): string[] {
    return SETTING_NAMES.map((name) => names.settingParameter(app, name))
  }

  /** The stored settings out of what readParameters found. A value that is not valid (edited by hand) counts as unset. */
  static storedIn(app: string, found: Map<string, Parameter>): Partial<AppSettings> {
    const stored: Partial<Record<SettingName, number | string>> = {}
    for (const name of SETTING_NAMES) {
      const value = found.get(names.settingParameter(app, name))?.Value
      if (value === undefined) continue
      try {
        stored[name] = parseSettingValue(name, value)
      } catch {}
    }

    return stored as Partial<AppSettings>
  }

  /** Writes the named settings as `stored` has them: a value is put, an absent one (the default) deleted. */
  async write(app: string, stored: Partial<AppSettings>, changed: SettingName[]): Promise<void> {
    const {DeleteParametersCommand, PutParameterCommand} = await import('@aws-sdk/client-ssm')
    try {
      for (const name of changed) {
        const value = stored[name]
        if (value !== undefined) {
          await this.client.send(new PutParameterCommand({Name: names.settingParameter(app, name), Value: String(value), Type: 'String', Overwrite: true}))
        }
      }

      const defaults = changed.filter((name) => stored[name] === undefined)
      if (defaults.length > 0) await this.client.send(new DeleteParametersCommand({Names: defaults.map((name) => names.settingParameter(app, name))}))
    } catch (error) {
      throw awsFailure(error, `saving the settings of ${app}`)
    }
  }
}
