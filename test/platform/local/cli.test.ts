import {expect} from 'chai'
import {existsSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {portFree} from '../../../src/platform/local/ports.js'
import {appPaths} from '../../../src/platform/local/state.js'
import {CLI, eventually, exec, fixtureRepo, get, pushedApp, removeApp, tempHome} from './helpers.js'

const ROOT = fileURLToPath(new URL('../../..', import.meta.url))

/**
 * The main local path through the real, built CLI (`npm test` builds first): the pushed
 * code's hook then runs herogate from dist, the way a user's push does.
 */
describe('local platform through the CLI (built)', function () {
  this.timeout(60_000)
  const app = 'cli-app'
  let home: ReturnType<typeof tempHome>
  let repo: string
  let url: string

  const herogate = (...args: string[]) => exec(repo, process.execPath, [CLI, ...args], {...process.env, HEROGATE_HOME: home.dir})

  before(function () {
    if (!existsSync(join(ROOT, 'dist', 'commands')) || !existsSync(join(ROOT, 'dist', 'platform', 'local', 'hook-main.js'))) {
      throw new Error('dist/ is missing: run npm run build first (npm test does it)')
    }

    home = tempHome()
    repo = fixtureRepo()
  })

  after(() => removeApp(app, home, repo))

  it('create --local adds the remote', async () => {
    const {code, output} = await herogate('create', app, '--local', '--json')
    expect(code, output).to.equal(0)
    const created = JSON.parse(output.slice(output.indexOf('{')))
    expect(created).to.include({name: app, platform: 'local', status: 'idle'})
    url = created.webUrl
    expect((await exec(repo, 'git', ['remote', 'get-url', 'herogate'])).output.trim()).to.equal(appPaths(app).repo)
  })

  it('git push herogate main deploys; info --json shows the release', async () => {
    const push = await exec(repo, 'git', ['push', 'herogate', 'main'])
    expect(push.code, push.output).to.equal(0)
    expect((await get(url)).body).to.equal('hello from web.1\n')
    const {code, output} = await herogate('info', '--json')
    expect(code, output).to.equal(0)
    const info = JSON.parse(output)
    expect(info).to.include({name: app, status: 'running', webUrl: url})
    expect(info.release).to.include({version: 1, current: true})
  })

  it('config:set restarts onto a new release; releases --json lists it', async () => {
    const set = await herogate('config:set', 'GREETING=hi there')
    expect(set.code, set.output).to.equal(0)
    expect(set.output).to.not.include('hi there')
    expect((await get(`${url}/config/GREETING`)).body).to.equal('hi there')
    const {output} = await herogate('releases', '--json')
    const releases = JSON.parse(output)
    expect(releases.map((r: {version: number; description: string}) => `v${r.version} ${r.description}`)).to.deep.equal([
      'v2 Set GREETING config vars',
      `v1 ${releases[1].description}`,
    ])
    expect(releases[1].description).to.match(/^Deploy [0-9a-f]{7}$/)
  })

  it('config:set of the value a var has, config:unset of a var not set: a note, no release, exit 0', async () => {
    const same = await herogate('config:set', 'GREETING=hi there')
    expect(same).to.deep.equal({code: 0, output: 'Setting GREETING and restarting cli-app...\nSetting GREETING and restarting cli-app... done\nGREETING already has that value: no new release.\n'})
    const unset = await herogate('config:unset', 'NOPE')
    expect(unset).to.deep.equal({code: 0, output: 'Unsetting NOPE and restarting cli-app...\nUnsetting NOPE and restarting cli-app... done\nNOPE is not set: no new release.\n'})
    expect(JSON.parse((await herogate('releases', '--json')).output)).to.have.length(2)
  })

  it('rollback restores the config; run passes exit codes through', async () => {
    const rollback = await herogate('rollback')
    expect(rollback.code, rollback.output).to.equal(0)
    expect((await get(`${url}/config/GREETING`)).status).to.equal(404)
    const run = await herogate('run', 'exit 5')
    expect(run.code).to.equal(5)
  })

  it('destroy --confirm stops everything and frees the port', async () => {
    const port = Number(new URL(url).port)
    const {code, output} = await herogate('destroy', '--confirm', app)
    expect(code, output).to.equal(0)
    expect(existsSync(appPaths(app).dir)).to.equal(false)
    expect(await eventually(() => portFree(port))).to.equal(true)
  })
})

describe('a damaged local app (built CLI)', function () {
  this.timeout(60_000)
  let home: ReturnType<typeof tempHome>
  let cwd: string
  const herogate = (...args: string[]) => exec(cwd, process.execPath, [CLI, ...args], {...process.env, HEROGATE_HOME: home.dir, HEROGATE_APP: ''})

  before(() => {
    home = tempHome()
    cwd = mkdtempSync(join(tmpdir(), 'herogate-plain-'))
  })

  after(() => {
    home.cleanup()
    rmSync(cwd, {recursive: true, force: true})
  })

  it('is listed as damaged (naming its file) beside the sound ones, and destroy --confirm removes it', async () => {
    for (const name of ['sound-app', 'broken-app']) expect((await herogate('create', name, '--local')).code).to.equal(0)
    const file = appPaths('broken-app').record
    writeFileSync(file, '{"name": "broken-app", "port": 51')

    const listed = await herogate('apps', '--local')
    expect(listed.code, listed.output).to.equal(0)
    expect(listed.output).to.match(/^broken-app\s+local\s+damaged\s*$/m).and.match(/^sound-app\s+local\s+idle\s+http:\/\/127\.0\.0\.1:\d+$/m)
    expect(listed.output).to.include(`broken-app is damaged: ${file} is not valid JSON. Remove it: herogate destroy -a broken-app --confirm broken-app\n`)
    const json = await herogate('apps', '--local', '--json')
    expect(JSON.parse(json.output)).to.deep.include({name: 'broken-app', platform: 'local', status: 'damaged', gitUrl: appPaths('broken-app').repo, problem: `${file} is not valid JSON`})

    const info = await herogate('info', '-a', 'broken-app')
    expect(info.code).to.equal(1)
    expect(info.output).to.equal(` ▸    App broken-app is damaged: ${file} is not valid JSON.\n  Try: herogate destroy -a broken-app --confirm broken-app (removes it)\n`)

    const destroyed = await herogate('destroy', '-a', 'broken-app', '--confirm', 'broken-app')
    expect(destroyed.code, destroyed.output).to.equal(0)
    expect(existsSync(appPaths('broken-app').dir)).to.equal(false)
    const after = await herogate('apps', '--local', '--json')
    expect(JSON.parse(after.output).map((a: {name: string}) => a.name)).to.deep.equal(['sound-app'])
  })
})

describe('16 config:set at once (built CLI)', function () {
  this.timeout(180_000)
  const app = pushedApp('parallel-app')
  const herogate = app.herogate

  it('keeps every key, and numbers the releases without a gap or a duplicate', async () => {
    const keys = Array.from({length: 16}, (_, i) => `KEY_${i}`)
    const runs = await Promise.all(keys.map((key) => herogate('config:set', `${key}=value of ${key}`)))
    const said = runs.map((run, i) => {
      expect(run.code, `${keys[i]}: ${run.output}`).to.equal(0)
      return Number(/Released v(\d+)/.exec(run.output)?.[1])
    })
    expect([...said].sort((a, b) => a - b)).to.deep.equal(Array.from({length: 16}, (_, i) => i + 2))

    const releases = JSON.parse((await herogate('releases', '-n', '100', '--json')).output) as Array<{version: number; status: string; description: string}>
    expect(releases.map((r) => r.version)).to.deep.equal(Array.from({length: 17}, (_, i) => 17 - i))
    expect(releases.filter((r) => r.status !== 'succeeded')).to.deep.equal([])
    const config = JSON.parse((await herogate('config', '--json')).output) as Record<string, string>
    expect(Object.keys(config).sort()).to.deep.equal([...keys].sort())
    for (const key of keys) expect(config[key]).to.equal(`value of ${key}`)
    for (const key of keys) expect((await get(`${app.url}/config/${key}`)).body).to.equal(`value of ${key}`)
  })
})
