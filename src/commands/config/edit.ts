import {HerogateCommand} from '../../lib/base.js'
import {editorCommand, editText} from '../../lib/editor.js'
import {unchangedConfig} from '../../lib/errors.js'
import {appFlags} from '../../lib/flags.js'
import {configDifference, parseDotenv, toDotenv} from '../../lib/parse.js'
import {listWords} from '../../lib/shell.js'
import type {ConfigChange} from '../../platform/types.js'

export default class ConfigEdit extends HerogateCommand {
  static description = `edit the config vars in your editor: what you change becomes one release

Opens $VISUAL or $EDITOR (else vi) on the vars as KEY=VALUE lines (.env syntax: values with spaces or newlines are double-quoted, with \\n escapes). Change, add or delete lines, save and quit: the vars you changed or added are set and those you deleted are removed, in one release. An editor that exits non-zero, or a file left as it was, changes nothing. Prints the keys it changed, never the values.`
  static enableJsonFlag = true
  static examples = ['<%= config.bin %> config:edit -a demo', 'EDITOR="code --wait" <%= config.bin %> config:edit']
  static flags = {...appFlags}

  async run(): Promise<ConfigChange> {
    const {flags} = await this.parse(ConfigEdit)
    const {target, platform} = await this.resolveTarget(flags)
    const before = await platform.getConfig(target.name)
    const header = `# Config vars of ${target.name}. Change, add or delete KEY=VALUE lines, then save and quit.\n# Lines starting with # are ignored.\n`
    this.note(`Opening the config vars of ${target.name} in ${editorCommand()}...`)
    const {set, unset} = configDifference(before, parseDotenv(await editText(`${header}${toDotenv(before)}\n`, `${target.name}.env`)))
    if (Object.keys(set).length + unset.length === 0) {
      const note = `No changes to the config vars of ${target.name}: no new release.`
      this.note(note)
      return {keys: [], note}
    }

    const what = [...(Object.keys(set).length > 0 ? [`setting ${listWords(Object.keys(set))}`] : []), ...(unset.length > 0 ? [`removing ${listWords(unset)}`] : [])]
    const message = `${what.join(' and ').replace(/^./, (first) => first.toUpperCase())} and restarting ${target.name}`
    const change = await this.step(message, () =>
      platform.editConfig(target.name, {set, unset}, {onProgress: this.progress, signal: this.signal}).catch(unchangedConfig))
    if (change.note) this.note(change.note)
    if (change.release) this.note(`Released v${change.release.version}`)
    for (const key of change.keys) this.log(key)
    return change
  }
}
