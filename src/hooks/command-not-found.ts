import type {Hook} from '@oclif/core'

import {closestCommands, herokuOnly} from '../lib/heroku.js'

/**
 * An unknown command: what Heroku users meant (`herogate restat` → restart), or what to do
 * instead of a Heroku command herogate does not have (`addons:create`). One line plus
 * suggestions, as every herogate error, and exit 127 (command not found). Instead of
 * @oclif/plugin-not-found, whose oclif-4 version says nothing of the suggestion when stdin is
 * not a terminal (scripts, CI) and on a terminal runs the guessed command after a prompt.
 * The typed arguments are never repeated: they may hold config values.
 */
const hook: Hook<'command_not_found'> = async function (options) {
  const {config, id} = options
  const bin = config.bin
  const typed = id.replaceAll(':', config.topicSeparator)
  const visible = config.commands.filter((command) => !command.hidden)
  const ids = [...new Set(visible.flatMap((command) => [command.id, ...command.aliases]))]
  const heroku = herokuOnly(id)
  const lines: string[] = []
  if (heroku) {
    lines.push(`${typed} is a Heroku command that ${bin} does not have: ${heroku.instead}.`)
  } else {
    const close = closestCommands(id, ids)
    if (close.length > 0) {
      lines.push(`${typed} is not a ${bin} command. Did you mean ${close.join(' or ')}?`)
      for (const suggestion of close) lines.push(`  Try: ${bin} help ${suggestion}`)
    } else {
      lines.push(`${typed} is not a ${bin} command.`)
    }
  }

  lines.push(`  Try: ${bin} help (every command)`)
  process.stderr.write(` ▸    ${lines.join('\n')}\n`)
  this.exit(127)
}

export default hook
