import {expect} from 'chai'

import AddonsCreate from '../../src/commands/addons/create.js'
import AddonsDestroy from '../../src/commands/addons/destroy.js'
import Addons from '../../src/commands/addons/index.js'
import AddonsInfo from '../../src/commands/addons/info.js'
import AddonsPlans from '../../src/commands/addons/plans.js'
import AddonsWait from '../../src/commands/addons/wait.js'
import PgBackupsCapture from '../../src/commands/pg/backups/capture.js'
import PgBackups from '../../src/commands/pg/backups/index.js'
import PgBackupsRestore from '../../src/commands/pg/backups/restore.js'
import PgInfo from '../../src/commands/pg/info.js'
import PgPsql from '../../src/commands/pg/psql.js'
import RedisCli from '../../src/commands/redis/cli.js'
import RedisInfo from '../../src/commands/redis/info.js'
import type {Addon} from '../../src/platform/addons.js'
import {FakePlatform} from '../helpers/fake-platform.js'
import {runCommand} from '../helpers/run-command.js'

const now = new Date('2026-11-21T10:05:00.000Z')

function postgres(overrides: Partial<Addon> = {}): Addon {
  return {
    name: 'postgres-1', service: 'postgres', plan: 'essential-0', state: 'available', configVar: 'DATABASE_URL', createdAt: '2026-11-21T10:00:00.000Z',
    details: [['Version', 'PostgreSQL 15.18'], ['Host', '127.0.0.1:5433']], ...overrides,
  }
}

function redis(overrides: Partial<Addon> = {}): Addon {
  return {name: 'redis-1', service: 'redis', plan: 'mini', state: 'available', configVar: 'REDIS_URL', createdAt: '2026-11-21T10:00:00.000Z', details: [['Version', 'Redis 7.0.15']], ...overrides}
}

describe('addons commands against a fake platform', () => {
  let platform: FakePlatform
  beforeEach(() => {
    platform = new FakePlatform()
  })

  it('addons lists name, service, plan, price, state and config var', async () => {
    platform.addonList = [postgres(), redis({state: 'creating'})]
    const {stdout, stderr, exitCode} = await runCommand(Addons, ['-a', 'demo'], platform, {now})
    expect(exitCode).to.equal(0)
    expect(stderr).to.equal('')
    expect(stdout).to.equal([
      'Add-on      Service   Plan         Price      State      Config var    Created',
      '──────────  ────────  ───────────  ─────────  ─────────  ────────────  ───────',
      'postgres-1  postgres  essential-0  $15/month  available  DATABASE_URL  5m ago',
      'redis-1     redis     mini         $12/month  creating   REDIS_URL     5m ago',
      '',
    ].join('\n'))
  })

  it('addons --json prints the add-ons; with none, says how to make one on stderr', async () => {
    platform.addonList = [postgres()]
    const json = await runCommand(Addons, ['-a', 'demo', '--json'], platform)
    expect(JSON.parse(json.stdout)).to.deep.equal([postgres()])
    platform.addonList = []
    const none = await runCommand(Addons, ['-a', 'demo'], platform)
    expect(none.stdout).to.equal('')
    expect(none.stderr).to.equal('demo has no add-ons. Try: herogate addons:create postgres -a demo\n')
  })

  it('addons:create with --wait creates it available and names its config var', async () => {
    const {stdout, stderr, exitCode} = await runCommand(AddonsCreate, ['postgres', '-a', 'demo', '--wait'], platform)
    expect(exitCode).to.equal(0)
    expect(platform.calls).to.deep.equal([{method: 'createAddon', args: ['demo', {service: 'postgres', plan: 'essential-0', as: undefined, wait: true}]}])
    expect(stdout).to.equal('Created postgres-1 as DATABASE_URL\n')
    expect(stderr).to.equal('Creating postgres essential-0 on demo ($15/month)...\nCreating postgres essential-0 on demo ($15/month)... done\n')
  })

  it('addons:create without --wait says it is being made and points at addons:wait', async () => {
    const {stdout, exitCode} = await runCommand(AddonsCreate, ['heroku-redis:mini', '-a', 'demo', '--as', 'cache'], platform)
    expect(exitCode).to.equal(0)
    expect(platform.calls[0]).to.deep.equal({method: 'createAddon', args: ['demo', {service: 'redis', plan: 'mini', as: 'cache', wait: undefined}]})
    expect(stdout).to.equal('cache is being created; it sets CACHE_URL when it is available. Follow it with: herogate addons:wait cache -a demo\n')
  })

  it('addons:create refuses an unknown service, listing the plans, and changes nothing', async () => {
    const {stdout, stderr, exitCode} = await runCommand(AddonsCreate, ['mysql', '-a', 'demo'], platform)
    expect(exitCode).to.equal(1)
    expect(stdout).to.equal('')
    expect(stderr).to.equal([
      ' ▸    Unknown add-on service "mysql": herogate offers postgres and redis.',
      '  Try: --plan essential-0 (postgres: db.t4g.micro, 20 GB, $15/month)',
      '  Try: --plan mini (redis: cache.t4g.micro, $12/month)',
      '',
    ].join('\n'))
    expect(platform.calls.filter((c) => c.method === 'createAddon')).to.deep.equal([])
  })

  it('addons:create refuses an unknown plan, listing the service\'s plans', async () => {
    const {stderr, exitCode} = await runCommand(AddonsCreate, ['postgres', '--plan', 'huge', '-a', 'demo'], platform)
    expect(exitCode).to.equal(1)
    expect(stderr).to.equal(' ▸    Unknown postgres plan "huge".\n  Try: --plan essential-0 (postgres: db.t4g.micro, 20 GB, $15/month)\n')
    expect(platform.calls).to.deep.equal([])
  })

  it('addons:create refuses a name that is taken', async () => {
    platform.addonList = [postgres({name: 'reports', configVar: 'REPORTS_URL'})]
    const {stderr, exitCode} = await runCommand(AddonsCreate, ['postgres', '--as', 'reports', '-a', 'demo'], platform)
    expect(exitCode).to.equal(1)
    expect(stderr).to.contain('demo already has an add-on named reports.')
    expect(platform.addonList).to.have.length(1)
  })

  it('addons:info shows the add-on as key: value lines, never a password', async () => {
    platform.addonList = [postgres()]
    const {stdout, exitCode} = await runCommand(AddonsInfo, ['postgres-1', '-a', 'demo'], platform, {now})
    expect(exitCode).to.equal(0)
    expect(stdout).to.equal([
      '=== postgres-1 (DATABASE_URL)',
      'Service: postgres',
      'Plan:    essential-0',
      'State:   available',
      'Created: 5m ago',
      'Version: PostgreSQL 15.18',
      'Host:    127.0.0.1:5433',
      '',
    ].join('\n'))
    const json = await runCommand(AddonsInfo, ['postgres-1', '-a', 'demo', '--json'], platform)
    expect(JSON.parse(json.stdout)).to.deep.equal(postgres())
  })

  it('addons:info of an unknown add-on says so and where to look', async () => {
    const {stderr, exitCode} = await runCommand(AddonsInfo, ['nope', '-a', 'demo'], platform)
    expect(exitCode).to.equal(1)
    expect(stderr).to.equal(' ▸    No add-on named nope on demo.\n  Try: herogate addons -a demo\n')
  })

  it('addons:wait waits for the add-ons being created and says each one\'s state', async () => {
    platform.addonList = [postgres({state: 'creating'})]
    const {stdout, stderr, exitCode} = await runCommand(AddonsWait, ['-a', 'demo'], platform)
    expect(exitCode).to.equal(0)
    expect(platform.calls).to.deep.equal([{method: 'waitAddons', args: ['demo', undefined]}])
    expect(stdout).to.equal('postgres-1 is available as DATABASE_URL\n')
    expect(stderr).to.equal('Waiting for the add-ons of demo...\nWaiting for the add-ons of demo... done\n')
  })

  it('addons:destroy refuses without confirmation, and destroys with --confirm APP (snapshot by default)', async () => {
    platform.addonList = [postgres()]
    const refused = await runCommand(AddonsDestroy, ['postgres-1', '-a', 'demo'], platform)
    expect(refused.exitCode).to.equal(1)
    expect(refused.stderr).to.equal(' ▸    This destroys postgres-1 and its data (DATABASE_URL) of demo and cannot be undone; confirm with --confirm demo.\n  Try: --confirm demo\n')
    expect(platform.addonList).to.have.length(1)
    const {stdout, exitCode} = await runCommand(AddonsDestroy, ['postgres-1', '-a', 'demo', '--confirm', 'demo'], platform)
    expect(exitCode).to.equal(0)
    expect(stdout).to.equal('Destroyed postgres-1 (DATABASE_URL unset)\n')
    expect(platform.calls.find((c) => c.method === 'destroyAddon')).to.deep.equal({method: 'destroyAddon', args: ['demo', 'postgres-1', {snapshot: true}]})
  })

  it('addons:destroy --no-snapshot passes snapshot: false', async () => {
    platform.addonList = [postgres()]
    await runCommand(AddonsDestroy, ['postgres-1', '-a', 'demo', '--confirm', 'demo', '--no-snapshot'], platform)
    expect(platform.calls.find((c) => c.method === 'destroyAddon')).to.deep.equal({method: 'destroyAddon', args: ['demo', 'postgres-1', {snapshot: false}]})
  })

  it('addons:plans lists the plans with their monthly price; --json the plan objects', async () => {
    const {stdout, exitCode} = await runCommand(AddonsPlans, ['-a', 'demo'], platform)
    expect(exitCode).to.equal(0)
    expect(stdout).to.equal([
      'Service   Plan                   Price      Description',
      '────────  ─────────────────────  ─────────  ───────────────────',
      'postgres  essential-0 (default)  $15/month  db.t4g.micro, 20 GB',
      'redis     mini (default)         $12/month  cache.t4g.micro',
      '',
    ].join('\n'))
    const json = await runCommand(AddonsPlans, ['redis', '-a', 'demo', '--json'], platform)
    expect(JSON.parse(json.stdout)).to.deep.equal([{service: 'redis', name: 'mini', description: 'cache.t4g.micro', monthlyUsd: 12, default: true}])
  })

  it('pg:info shows each Postgres; redis:info each Redis', async () => {
    platform.addonList = [postgres(), redis()]
    const pg = await runCommand(PgInfo, ['-a', 'demo'], platform, {now})
    expect(pg.stdout).to.equal('=== postgres-1 (DATABASE_URL)\nService: postgres\nPlan:    essential-0\nState:   available\nCreated: 5m ago\nVersion: PostgreSQL 15.18\nHost:    127.0.0.1:5433\n')
    const json = await runCommand(RedisInfo, ['-a', 'demo', '--json'], platform)
    expect(JSON.parse(json.stdout)).to.deep.equal([redis()])
  })

  for (const [command, argv] of [[PgInfo, []], [PgPsql, []], [PgBackups, []], [PgBackupsCapture, []]] as const) {
    it(`${command.name} on an app without Postgres says so and how to add one`, async () => {
      platform.addonList = [redis()]
      const {stderr, exitCode} = await runCommand(command, [...argv, '-a', 'demo'], platform)
      expect(exitCode).to.equal(1)
      expect(stderr).to.equal(' ▸    demo has no Postgres add-on.\n  Try: herogate addons:create postgres -a demo\n  Try: herogate addons -a demo\n')
      expect(platform.calls.map((c) => c.method)).to.deep.equal(['addons'])
    })
  }

  it('redis:cli on an app without Redis says so', async () => {
    platform.addonList = [postgres()]
    const {stderr, exitCode} = await runCommand(RedisCli, ['-a', 'demo'], platform)
    expect(exitCode).to.equal(1)
    expect(stderr).to.equal(' ▸    demo has no Redis add-on.\n  Try: herogate addons:create redis -a demo\n  Try: herogate addons -a demo\n')
  })

  it('pg:psql -c runs psql with the SQL on the first Postgres and exits with its code', async () => {
    platform.addonList = [redis(), postgres(), postgres({name: 'postgres-2', configVar: 'POSTGRES_2_URL'})]
    platform.runResult = {id: 'psql', name: 'psql', detached: false, exitCode: 3}
    const {exitCode} = await runCommand(PgPsql, ['-c', 'select 1', '-a', 'demo'], platform)
    expect(exitCode).to.equal(3)
    expect(platform.calls.at(-1)).to.deep.equal({method: 'addonShell', args: ['demo', 'postgres', 'postgres-1', ['-c', 'select 1']]})
  })

  it('redis:cli NAME -c splits the command into words', async () => {
    platform.addonList = [redis(), redis({name: 'cache', configVar: 'CACHE_URL'})]
    const {exitCode} = await runCommand(RedisCli, ['CACHE_URL', '-c', 'LLEN  jobs', '-a', 'demo'], platform)
    expect(exitCode).to.equal(0)
    expect(platform.calls.at(-1)).to.deep.equal({method: 'addonShell', args: ['demo', 'redis', 'cache', ['LLEN', 'jobs']]})
  })

  it('pg:backups:capture then pg:backups lists it; restore asks for --confirm', async () => {
    platform.addonList = [postgres()]
    const capture = await runCommand(PgBackupsCapture, ['-a', 'demo'], platform)
    expect(capture.stdout).to.equal('Backup b001 of postgres-1: backups/b001.dump\n')
    const list = await runCommand(PgBackups, ['-a', 'demo'], platform, {now})
    expect(list.stdout).to.equal([
      'ID    Add-on      Created  State      Size  Location',
      '────  ──────────  ───────  ─────────  ────  ─────────────────',
      'b001  postgres-1  5m ago   completed        backups/b001.dump',
      '',
    ].join('\n'))
    const refused = await runCommand(PgBackupsRestore, ['b001', '-a', 'demo'], platform)
    expect(refused.exitCode).to.equal(1)
    expect(refused.stderr).to.contain('This replaces the data of postgres-1 with backup b001 in demo and cannot be undone; confirm with --confirm demo.')
    expect(platform.calls.some((c) => c.method === 'restoreBackup')).to.equal(false)
    const restored = await runCommand(PgBackupsRestore, ['b001', '-a', 'demo', '--confirm', 'demo'], platform)
    expect(restored.stdout).to.equal('Restored b001 into postgres-1\n')
  })
})
