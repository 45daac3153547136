import {expect} from 'chai'
import {execFileSync, spawnSync} from 'node:child_process'
import {mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {InvalidInput} from '../../src/lib/errors.js'
import {names} from '../../src/lib/naming.js'
import {appPaths} from '../../src/platform/local/state.js'

const root = fileURLToPath(new URL('../../', import.meta.url))
const cli = join(root, 'bin', 'run.js')
const RULE = 'use lowercase letters, digits and dashes, starting with a letter and not ending with a dash.'

/** Every file and directory under `dir` with its size and modification time: what "untouched" means. */
function snapshot(dir: string): string[] {
  return readdirSync(dir, {recursive: true, withFileTypes: true})
    .map((entry) => {
      const path = join(entry.parentPath ?? entry.path, entry.name)
      const stat = statSync(path)
      return `${path} ${stat.size} ${stat.mtimeMs}`
    })
    .sort()
}

/**
 * An app name reaches paths (the local platform's app directory) and AWS names (SSM paths):
 * one that is not an app name (`-a ../../victim`) is refused through the built CLI, on every
 * command, before anything is read or written, with the rule create uses.
 */
describe('app names from -a, HEROGATE_APP and the git remote (built CLI)', function () {
  this.timeout(120_000)
  let base: string
  let home: string
  let victim: string
  let repo: string

  before(() => {
    base = mkdtempSync(join(tmpdir(), 'herogate-names-'))
    home = join(base, 'home')
    mkdirSync(join(home, 'apps'), {recursive: true})
    // HEROGATE_HOME/apps/../../victim: a directory beside the home that looks like an app.
    victim = join(base, 'victim')
    mkdirSync(join(victim, 'releases'), {recursive: true})
    writeFileSync(join(victim, 'app.json'), JSON.stringify({name: 'victim', port: 5999, formation: {}, current: 0, configVersion: 0}))
    writeFileSync(join(victim, 'releases', '000001.json'), '{}')
    repo = join(base, 'repo')
    execFileSync('git', ['init', '-q', '-b', 'main', repo])
  })

  after(() => rmSync(base, {recursive: true, force: true}))

  const herogate = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    spawnSync(process.execPath, [cli, ...args], {cwd: repo, encoding: 'utf8', env: {...process.env, HEROGATE_HOME: home, HEROGATE_APP: '', ...env}})

  const commands: string[][] = [
    ['destroy', '--confirm', '../../victim'],
    ['info'],
    ['config'],
    ['config:set', 'A=1'],
    ['config:unset', 'A'],
    ['releases'],
    ['rollback'],
    ['ps'],
    ['scale', 'web=1'],
    ['logs'],
    ['run', 'true'],
  ]

  for (const args of commands) {
    it(`herogate ${args[0]} -a ../../victim: one line naming the rule, exit 1, nothing outside the home touched`, () => {
      const before = snapshot(base)
      const result = herogate([args[0], '-a', '../../victim', ...args.slice(1)])
      expect(result.stdout).to.equal('')
      expect(result.stderr).to.equal(` ▸    Invalid app name "../../victim": ${RULE}\n  Try: herogate apps (lists the apps you have)\n`)
      expect(result.status).to.equal(1)
      expect(snapshot(base)).to.deep.equal(before)
    })
  }

  it('HEROGATE_APP=../../victim is refused the same way', () => {
    const before = snapshot(base)
    const result = herogate(['destroy', '--confirm', '../../victim'], {HEROGATE_APP: '../../victim'})
    expect(result.stderr).to.equal(` ▸    Invalid app name "../../victim": ${RULE}\n  Try: herogate apps (lists the apps you have)\n`)
    expect(result.status).to.equal(1)
    expect(snapshot(base)).to.deep.equal(before)
  })

  it('a herogate remote whose path names no valid app is refused the same way', () => {
    execFileSync('git', ['remote', 'add', 'herogate', join(home, 'apps', 'Not_An_App', 'repo.git')], {cwd: repo})
    try {
      const result = herogate(['info'])
      expect(result.stderr).to.equal(` ▸    Invalid app name "Not_An_App": ${RULE}\n  Try: herogate apps (lists the apps you have)\n`)
      expect(result.status).to.equal(1)
    } finally {
      execFileSync('git', ['remote', 'remove', 'herogate'], {cwd: repo})
    }
  })

  it('where names become paths, they are checked again: the local app directory and AWS names', () => {
    for (const make of [() => appPaths('../../victim'), () => names.configPath('../victim'), () => names.appStack('a/b'), () => names.logGroup('..')]) {
      expect(make).to.throw(InvalidInput, /^Invalid app name/)
    }

    expect(names.configPath('demo')).to.equal('/herogate/demo/config/')
  })
})
