import {expect} from 'chai'
import {readFileSync} from 'node:fs'

import {closestCommands, HEROKU_COMMANDS, herokuOnly, herokuTable} from '../../src/lib/heroku.js'

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')

describe('Heroku commands (lib/heroku)', () => {
  it('the README\'s "Coming from Heroku" table is the one lib/heroku.ts renders', () => {
    expect(README).to.include(`${herokuTable()}\n`)
  })

  it('every row says either herogate\'s command or what to do instead', () => {
    for (const row of HEROKU_COMMANDS) expect(Boolean(row.herogate) !== Boolean(row.instead), row.heroku).to.equal(true)
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
