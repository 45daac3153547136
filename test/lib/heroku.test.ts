import {expect} from 'chai'
import {readFileSync} from 'node:fs'

import {closestCommands, HEROKU_COMMANDS, herokuOnly, herokuTable} from '../../src/lib/heroku.js'

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
const MANIFEST = JSON.parse(readFileSync(new URL('../../oclif.manifest.json', import.meta.url), 'utf8')) as {
  commands: Record<string, {aliases: string[]; flags: Record<string, {name: string; char?: string}>}>
}

/** The manifest's command for an id or alias, and whether it takes each of `flags` (`-t`, `--json`). */
function missing(id: string, flags: string[]): string[] {
  const command = Object.entries(MANIFEST.commands).find(([name, c]) => name === id || c.aliases.includes(id))?.[1]
  if (!command) return [`no command ${id}`]
  const takes = (flag: string) => Object.values(command.flags).some((f) => (flag.startsWith('--') ? f.name === flag.slice(2) : f.char === flag.slice(1)))
  return flags.filter((flag) => !takes(flag)).map((flag) => `${id} has no ${flag}`)
}

/** Every herogate command line a row names: [id, flags], from its herogate column, its Heroku names when they are "the same names", and its instead text. */
function commandsOf(row: (typeof HEROKU_COMMANDS)[number]): Array<[string, string[]]> {
  const named: Array<[string, string[]]> = []
  // The flags before `--`: what follows it is the command herogate runs (run, scheduler:add).
  const flagsOf = (words: string[]) => words.slice(0, words.includes('--') ? words.indexOf('--') : words.length).filter((word) => /^-/.test(word))
  if (row.herogate === 'the same names' || row.herogate?.startsWith('the same names ')) {
    for (const name of row.heroku.replace(/^heroku /, '').split(', ')) named.push([name.split(' ')[0], flagsOf(name.split(' ').slice(1))])
  }

  for (const [, code] of row.herogate?.matchAll(/`([^`]+)`/g) ?? []) {
    const words = code.split(' ')
    if (words[0] === 'herogate') named.push([words[1], flagsOf(words.slice(2))])
    // A flag alone (`-n N`, `--local`) belongs to the command the row named first.
    else if (words[0].startsWith('-')) named[0][1].push(words[0])
  }

  for (const [, id, rest] of row.instead?.matchAll(/(?<!push )herogate ([a-z][\w:-]*)([^,;:()]*)/g) ?? []) named.push([id, flagsOf(rest.trim().split(' '))])
  return named
}

describe('Heroku commands (lib/heroku)', () => {
  it('the README\'s "Coming from Heroku" table is the one lib/heroku.ts renders', () => {
    expect(README).to.include(`${herokuTable()}\n`)
  })

  it('every row says either herogate\'s command or what to do instead', () => {
    for (const row of HEROKU_COMMANDS) expect(Boolean(row.herogate) !== Boolean(row.instead), row.heroku).to.equal(true)
  })

  it('every herogate command the table names exists, with the flags it shows (aliases included)', () => {
    const named = HEROKU_COMMANDS.flatMap(commandsOf)
    expect(named.length, "command lines found in the table").to.be.above(30)
    expect(named.flatMap(([id, flags]) => missing(id, flags))).to.deep.equal([])
  })

  it('knows the Heroku commands herogate does not have by topic or id', () => {
    expect(herokuOnly('kafka:topics:create')?.heroku).to.equal('heroku kafka:*')
    expect(herokuOnly('kafka')?.heroku).to.equal('heroku kafka:*')
    expect(herokuOnly('addons:create')).to.equal(undefined)
    expect(herokuOnly('ps:exec')?.heroku).to.equal('heroku ps:exec, ps:copy')
    expect(herokuOnly('ps:scale')).to.equal(undefined)
    expect(herokuOnly('config:set')).to.equal(undefined)
    // herogate has custom domains and their certificates.
    expect(herokuOnly('domains:add')).to.equal(undefined)
    expect(herokuOnly('certs')).to.equal(undefined)
  })

  it('suggests the closest commands for a typo, and none for a word that is nothing like one', () => {
    const ids = ['config', 'config:get', 'config:set', 'config:unset', 'logs', 'restart', 'ps:restart', 'releases']
    expect(closestCommands('restat', ids)).to.deep.equal(['restart'])
    expect(closestCommands('confg:set', ids)).to.deep.equal(['config:set'])
    expect(closestCommands('lgos', ids)).to.deep.equal(['logs'])
    expect(closestCommands('config:st', ids)).to.deep.equal(['config:set'])
    expect(closestCommands('frobnicate', ids)).to.deep.equal([])
  })
})
