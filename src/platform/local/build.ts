import {spawn} from 'node:child_process'
import {createHash} from 'node:crypto'
import {cpSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'

import {HerogateError, InvalidInput} from '../../lib/errors.js'
import {checkoutFile} from '../../lib/checkout.js'
import {parseProcfile} from '../../lib/parse.js'
import {appEnv} from './app-env.js'
import {type Manager, type PackageJson, provision} from './node-runtime.js'
import {spawnErrorMessage} from './processes.js'
import {allReleases} from './releases.js'
import {appJsonJobs} from './scheduler.js'
import type {AppPaths} from './state.js'

/**
 * Builds a pushed commit into a fresh directory: the commit's tree (git archive), then for a
 * Node app what Heroku's Node.js buildpack does: the Node.js and package manager package.json
 * asks for (node-runtime.ts), the hook scripts, the install, the build script, the pruning of
 * devDependencies. The Procfile names the process types; without one, `npm start` is `web`.
 */

export interface Build {
  id: string
  dir: string
  processTypes: Record<string, string>
}

export type LineSink = (line: string, stream: 'stdout' | 'stderr') => void

/** Runs a command with its output split into lines; resolves with the exit code (128+n for a signal). */
export function runStreaming(
  command: string,
  args: string[],
  options: {cwd: string; env: NodeJS.ProcessEnv; onLine: LineSink; signal?: AbortSignal},
): Promise<number> {
  return new Promise((resolve, reject) => {
    // No cause: node's own message may quote the environment.
    const failed = (error: unknown) => new HerogateError(`Could not start ${command}: ${spawnErrorMessage(error)}`)
    let child
    try {
      child = spawn(command, args, {cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe']})
    } catch (error) {
      reject(failed(error))
      return
    }

    const abort = () => child.kill('SIGTERM')
    options.signal?.addEventListener('abort', abort, {once: true})
    for (const stream of ['stdout', 'stderr'] as const) {
      let pending = ''
      child[stream].setEncoding('utf8')
      child[stream].on('data', (chunk: string) => {
        pending += chunk
        const lines = pending.split(/\r?\n/)
        pending = lines.pop() ?? ''
        for (const line of lines) options.onLine(line, stream)
      })
      child[stream].on('end', () => {
        if (pending) options.onLine(pending, stream)
        pending = ''
      })
    }

    child.once('error', (error) => {
      options.signal?.removeEventListener('abort', abort)
      reject(failed(error))
    })
    child.once('close', (code, signal) => {
      options.signal?.removeEventListener('abort', abort)
      resolve(code ?? 128 + (signal === 'SIGKILL' ? 9 : 15))
    })
  })
}

/** Extracts `commit`'s tree into `dir` (git archive piped to tar), inside the bare repo's environment. */
async function checkout(repo: string, commit: string, dir: string, env: NodeJS.ProcessEnv): Promise<void> {
  mkdirSync(dir, {recursive: true, mode: 0o700})
  const archive = spawn('git', ['archive', '--format=tar', commit], {cwd: repo, env, stdio: ['ignore', 'pipe', 'pipe']})
  const tar = spawn('tar', ['-x', '-f', '-', '-C', dir], {stdio: ['pipe', 'ignore', 'pipe']})
  archive.stdout.pipe(tar.stdin)
  // A tar that dies early makes the pipe fail; its exit code tells the story.
  tar.stdin.on('error', () => {})
  let errors = ''
  archive.stderr.on('data', (chunk) => (errors += chunk))
  tar.stderr.on('data', (chunk) => (errors += chunk))
  const exited = (child: typeof archive | typeof tar) =>
    new Promise<number | null>((resolve, reject) => {
      child.once('error', reject)
      child.once('close', (code) => resolve(code))
    })
  // Both must have exited: either may close first.
  const [archiveCode, tarCode] = await Promise.all([exited(archive), exited(tar)])
  if (archiveCode !== 0 || tarCode !== 0) {
    throw new HerogateError(`Could not check out ${commit.slice(0, 7)}: ${errors.trim().split('\n')[0] || `git archive exited ${archiveCode}, tar ${tarCode}`}`)
  }
}

/**
 * The files of a checkout that herogate reads itself or hands to a package manager before any
 * of the app's own code runs. A pushed repo may hold symbolic links: each must be a regular
 * file inside the checkout, or the build stops before reading it.
 */
const BUILD_FILES = ['Procfile', 'app.json', 'package.json', 'package-lock.json', 'npm-shrinkwrap.json', 'yarn.lock', 'pnpm-lock.yaml', '.npmrc', '.yarnrc', '.yarnrc.yml', 'pnpm-workspace.yaml']

/** The lockfiles that choose the package manager and pin what it installs. */
const LOCKFILES = ['package-lock.json', 'npm-shrinkwrap.json', 'yarn.lock', 'pnpm-lock.yaml']

function readPackageJson(dir: string): PackageJson | undefined {
  const file = checkoutFile(dir, 'package.json')
  if (!file) return undefined
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as PackageJson
  } catch (error) {
    throw new InvalidInput(`package.json is not valid JSON: ${(error as Error).message}`, {cause: error})
  }
}

/** Process types from the Procfile, or `web: npm start` for a Node app without one. */
export function processTypesOf(dir: string): Record<string, string> {
  const procfile = checkoutFile(dir, 'Procfile')
  if (procfile) {
    const types = parseProcfile(readFileSync(procfile, 'utf8'))
    if (Object.keys(types).length > 0) return types
  }

  if (readPackageJson(dir)?.scripts?.start) return {web: 'npm start'}
  throw new InvalidInput('No Procfile and no "start" script in package.json: nothing to run.', {
    suggestions: ['add a Procfile with a line like "web: node server.js"', 'add "scripts": {"start": "node server.js"} to package.json'],
  })
}

export interface BuildOptions {
  commit: string
  /** Environment for git (inside a hook: the quarantine variables) */
  gitEnv: NodeJS.ProcessEnv
  /** Environment for the build commands (config vars included). */
  buildEnv: NodeJS.ProcessEnv
  log: (message: string) => void
  onLine: LineSink
  signal?: AbortSignal
  now?: () => number
}

export async function buildCommit(paths: AppPaths, options: BuildOptions): Promise<Build> {
  const now = options.now ?? Date.now
  const id = `${options.commit.slice(0, 7)}-${now().toString(36)}`
  const dir = join(paths.builds, id)
  mkdirSync(paths.builds, {recursive: true, mode: 0o700})
  try {
    await checkout(paths.repo, options.commit, dir, options.gitEnv)
    for (const name of BUILD_FILES) checkoutFile(dir, name)
    const processTypes = processTypesOf(dir)
    // A bad scheduled job fails the push that brings it, not the minute it would have run.
    appJsonJobs(dir)
    const pkg = readPackageJson(dir)
    if (pkg) await buildNode(paths, dir, pkg, options)
    return {id, dir, processTypes}
  } catch (error) {
    rmSync(dir, {recursive: true, force: true})
    throw error
  }
}

/**
 * A Node.js app's build, in the order of Heroku's Node.js buildpack: the toolchain
 * (node-runtime.ts), heroku-prebuild, the install, heroku-postbuild in place of build, the
 * pruning of devDependencies, heroku-cleanup. A herogate-NAME script runs in place of heroku-NAME.
 */
async function buildNode(paths: AppPaths, dir: string, pkg: PackageJson, options: BuildOptions): Promise<void> {
  options.log('Node.js app detected')
  const lockfiles = LOCKFILES.filter((name) => checkoutFile(dir, name))
  const toolchain = await provision({dir, pkg, lockfiles, log: options.log, signal: options.signal})
  const pm = toolchain.manager
  const env = appEnv(dir, options.buildEnv)
  const run = async (args: string[], what: string) => {
    const code = await runStreaming(join(toolchain.bin, pm.name), args, {cwd: dir, env, onLine: options.onLine, signal: options.signal})
    if (code !== 0) throw new HerogateError(`${what} failed (exit code ${code}).`)
  }

  const scripts = pkg.scripts ?? {}
  /** Runs a script, saying which scripts it stands in for (they do not run). */
  const script = (name: string, ...instead: string[]) => {
    const command = `${pm.name} run ${name}`
    const replaced = instead.filter((other) => other !== name && scripts[other] !== undefined)
    options.log(`Running ${name} (${command})${replaced.length > 0 ? ` in place of ${replaced.join(' and ')}` : ''}`)
    return run(['run', name], command)
  }

  const prebuild = hook(scripts, 'prebuild')
  if (prebuild) await script(prebuild, 'heroku-prebuild')

  const declared = [pkg.dependencies, pkg.devDependencies, pkg.optionalDependencies]
  if (declared.some((deps) => deps && Object.keys(deps).length > 0)) {
    // Installing writes into node_modules: a link there would make it write outside the checkout.
    if (lstatSync(join(dir, 'node_modules'), {throwIfNoEntry: false})?.isSymbolicLink()) {
      throw new InvalidInput('node_modules in the pushed commit is a symbolic link: dependencies are installed inside the repository.', {
        suggestions: ['git rm --cached node_modules, add node_modules to .gitignore and push again'],
      })
    }

    const install = installArgs(pm, env)
    const key = dependencyKey(dir, pm, toolchain.node, declared, install)
    if (key && reuseDependencies(paths, dir, key)) {
      options.log('Reusing dependencies from the previous build (same lockfile)')
    } else {
      const command = `${pm.name} ${install.join(' ')}`
      options.log(`Installing dependencies (${command.replace(/ --.*$/, '')})`)
      await run(install, command)
      if (key) saveDependencies(paths, dir, key)
    }
  } else {
    options.log('No dependencies to install')
  }

  const postbuild = hook(scripts, 'postbuild')
  if (postbuild) await script(postbuild, 'heroku-postbuild', 'build')
  else if (scripts.build !== undefined) await script('build')

  const prune = pruneArgs(pm, env, pkg)
  if ('skip' in prune) {
    if (prune.skip) options.log(`Not pruning devDependencies: ${prune.skip}`)
  } else {
    const command = `${pm.name} ${prune.args.join(' ')}`
    options.log(`Pruning devDependencies (${command})`)
    await run(prune.args, command)
  }

  const cleanup = hook(scripts, 'cleanup')
  if (cleanup) await script(cleanup, 'heroku-cleanup')
}

/** Heroku's hook scripts (heroku-prebuild, heroku-postbuild, heroku-cleanup); herogate-NAME, when present, runs in place of heroku-NAME. */
export function hook(scripts: Record<string, string>, step: 'prebuild' | 'postbuild' | 'cleanup'): string | undefined {
  return [`herogate-${step}`, `heroku-${step}`].find((name) => scripts[name] !== undefined)
}

/** Set to anything, as Heroku reads it: npm reads either spelling. */
const npmProduction = (env: NodeJS.ProcessEnv) => env.NPM_CONFIG_PRODUCTION ?? env.npm_config_production

/** The install, devDependencies included (NODE_ENV is production), as Heroku's buildpack runs it. */
export function installArgs(pm: Manager, env: NodeJS.ProcessEnv): string[] {
  const locked = pm.lockfile !== undefined
  if (pm.name === 'npm') return [locked ? 'ci' : 'install', ...(npmProduction(env) === 'true' ? [] : ['--include=dev']), '--no-audit', '--no-fund', '--prefer-offline']
  if (pm.name === 'pnpm') return ['install', locked ? '--frozen-lockfile' : '--no-frozen-lockfile', '--prod=false']
  if (pm.berry) return ['install', ...(locked ? ['--immutable'] : [])]
  return ['install', ...(locked ? ['--frozen-lockfile'] : []), ...(env.YARN_PRODUCTION === 'true' ? [] : ['--production=false']), '--non-interactive']
}

/**
 * How to remove the devDependencies once the build has run (Heroku's opt-outs:
 * NPM_CONFIG_PRODUCTION, YARN_PRODUCTION, YARN2_SKIP_PRUNING, PNPM_SKIP_PRUNING, a NODE_ENV
 * other than production), or why not to. The reasons name variables, never their values.
 */
export function pruneArgs(pm: Manager, env: NodeJS.ProcessEnv, pkg: PackageJson): {args: string[]} | {skip: string} {
  if (Object.keys(pkg.devDependencies ?? {}).length === 0) return {skip: ''}
  if (env.NODE_ENV !== 'production') return {skip: 'NODE_ENV is not production'}
  const major = Number(pm.version.split('.')[0])
  if (pm.name === 'npm') {
    if (npmProduction(env) !== undefined) return {skip: 'NPM_CONFIG_PRODUCTION is set'}
    return {args: ['prune', major >= 7 ? '--omit=dev' : '--production', '--no-audit', '--no-fund']}
  }

  if (pm.name === 'pnpm') {
    if (env.PNPM_SKIP_PRUNING === 'true') return {skip: 'PNPM_SKIP_PRUNING is true'}
    return {args: ['prune', '--prod', '--ignore-scripts']}
  }

  if (pm.berry) {
    if (env.YARN2_SKIP_PRUNING === 'true') return {skip: 'YARN2_SKIP_PRUNING is true'}
    if (major < 4) return {skip: `Yarn ${major} prunes only with its workspace-tools plugin (yarn plugin import workspace-tools); set YARN2_SKIP_PRUNING=true to say so`}
    return {args: ['workspaces', 'focus', '--all', '--production']}
  }

  if (env.YARN_PRODUCTION !== undefined) return {skip: 'YARN_PRODUCTION is set'}
  return {args: ['install', ...(pm.lockfile ? ['--frozen-lockfile'] : []), '--ignore-engines', '--ignore-scripts', '--prefer-offline', '--production=true', '--non-interactive']}
}

/**
 * What decides the installed dependencies: the lockfile, the declared dependencies, Node.js,
 * the package manager and how it installs. Undefined (no reuse) without a lockfile, or with a
 * `file:`/`link:` directory dependency, whose contents no lockfile pins.
 */
function dependencyKey(dir: string, pm: Manager, node: string, declared: Array<Record<string, string> | undefined>, install: string[]): string | undefined {
  const lockfile = pm.lockfile ? checkoutFile(dir, pm.lockfile) : undefined
  if (!lockfile) return undefined
  const local = declared.some((deps) => Object.values(deps ?? {}).some((spec) => /^(file|link):/.test(spec) && !/\.(tgz|tar\.gz)$/.test(spec)))
  if (local) return undefined
  return createHash('sha256').update(JSON.stringify([node, pm.name, pm.version, install, declared])).update(readFileSync(lockfile)).digest('hex')
}

/**
 * The app's dependency cache: node_modules as the last fresh install left it, before its build
 * and pruning (as Heroku caches them), with the key it was installed under.
 */
function dependencyCache(paths: AppPaths): {modules: string; key: string} {
  const dir = join(paths.dir, 'cache')
  return {modules: join(dir, 'node_modules'), key: join(dir, 'node_modules.key')}
}

function reuseDependencies(paths: AppPaths, dir: string, key: string): boolean {
  const cache = dependencyCache(paths)
  const stat = lstatSync(cache.key, {throwIfNoEntry: false})
  if (!stat?.isFile() || readFileSync(cache.key, 'utf8') !== key || !existsSync(cache.modules)) return false
  // As npm ci would: a committed node_modules goes first, so the copy never lands where its links lead.
  rmSync(join(dir, 'node_modules'), {recursive: true, force: true})
  cpSync(cache.modules, join(dir, 'node_modules'), {recursive: true, verbatimSymlinks: true})
  return true
}

function saveDependencies(paths: AppPaths, dir: string, key: string): void {
  const installed = join(dir, 'node_modules')
  if (!lstatSync(installed, {throwIfNoEntry: false})?.isDirectory()) return
  const cache = dependencyCache(paths)
  // The key goes first and comes back last: a copy cut short is never taken for a whole one.
  rmSync(cache.key, {force: true})
  rmSync(cache.modules, {recursive: true, force: true})
  mkdirSync(dirname(cache.modules), {recursive: true, mode: 0o700})
  cpSync(installed, cache.modules, {recursive: true, verbatimSymlinks: true})
  writeFileSync(cache.key, key, {mode: 0o600})
}

/**
 * Removes build directories no release needs any more: keeps the builds of the newest
 * `keep` releases with code, the current release's and `keepAlso` (the one just built).
 */
export function pruneBuilds(paths: AppPaths, current: number, keepAlso: string[] = [], keep = 5): string[] {
  if (!existsSync(paths.builds)) return []
  const releases = allReleases(paths)
  const wanted = new Set(keepAlso)
  for (const r of releases.filter((r) => r.image && r.status !== 'failed').slice(0, keep)) wanted.add(r.image!)
  const serving = releases.find((r) => r.version === current)
  if (serving?.image) wanted.add(serving.image)
  const removed: string[] = []
  for (const name of readdirSync(paths.builds)) {
    if (wanted.has(name)) continue
    rmSync(join(paths.builds, name), {recursive: true, force: true})
    removed.push(name)
  }

  return removed
}
