import {spawn} from 'node:child_process'
import {createHash} from 'node:crypto'
import {cpSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {HerogateError, InvalidInput} from '../../lib/errors.js'
import {checkoutFile} from '../../lib/checkout.js'
import {parseProcfile} from '../../lib/parse.js'
import {spawnErrorMessage} from './processes.js'
import {allReleases} from './releases.js'
import type {AppPaths} from './state.js'

/**
 * Builds a pushed commit into a fresh directory: the commit's tree (git archive), then for a
 * Node app `npm ci` (or `npm install` without a lockfile) and `npm run build` when there is
 * one. The Procfile names the process types; without one, `npm start` is `web`.
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

interface PackageJson {
  scripts?: Record<string, string>
  dependencies?: Record<string, string>
  devDependencies?: Record<string, string>
  optionalDependencies?: Record<string, string>
}

/**
 * The files of a checkout that herogate reads itself or hands to npm before any of the app's
 * own code runs. A pushed repo may hold symbolic links: each must be a regular file inside the
 * checkout, or the build stops before reading it.
 */
const BUILD_FILES = ['Procfile', 'package.json', 'package-lock.json', 'npm-shrinkwrap.json', '.npmrc']

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
    const pkg = readPackageJson(dir)
    if (pkg) {
      options.log('Node.js app detected')
      const hasDependencies = [pkg.dependencies, pkg.devDependencies, pkg.optionalDependencies].some((deps) => deps && Object.keys(deps).length > 0)
      if (hasDependencies) {
        // Installing writes into node_modules: a link there would make it write outside the checkout.
        if (lstatSync(join(dir, 'node_modules'), {throwIfNoEntry: false})?.isSymbolicLink()) {
          throw new InvalidInput('node_modules in the pushed commit is a symbolic link: dependencies are installed inside the repository.', {
            suggestions: ['git rm --cached node_modules, add node_modules to .gitignore and push again'],
          })
        }

        const key = dependencyKey(dir, pkg)
        const cached = key ? cachedModules(paths, key, id) : undefined
        if (cached) {
          options.log('Reusing dependencies from the previous build (same lockfile)')
          // As npm ci would: a committed node_modules goes first, so the copy never lands where its links lead.
          rmSync(join(dir, 'node_modules'), {recursive: true, force: true})
          cpSync(cached, join(dir, 'node_modules'), {recursive: true, verbatimSymlinks: true})
        } else {
          const locked = LOCKFILES.some((name) => checkoutFile(dir, name))
          const install = locked ? 'ci' : 'install'
          options.log(`Installing dependencies (npm ${install})`)
          await npm(dir, [install, '--no-audit', '--no-fund', '--prefer-offline'], options)
        }

        if (key && existsSync(join(dir, 'node_modules'))) {
          // Replaced, never written through: a committed node_modules may hold a link by this name.
          rmSync(join(dir, DEPS_MARK), {force: true})
          writeFileSync(join(dir, DEPS_MARK), key, {flag: 'wx'})
        }
      } else {
        options.log('No dependencies to install')
      }

      if (pkg.scripts?.build) {
        options.log('Running build (npm run build)')
        await npm(dir, ['run', 'build'], options)
      }
    }

    return {id, dir, processTypes}
  } catch (error) {
    rmSync(dir, {recursive: true, force: true})
    throw error
  }
}

/** Marks a build's node_modules with the key of what was installed, so a later build can reuse it. */
const DEPS_MARK = join('node_modules', '.herogate-deps')

/**
 * What decides the installed dependencies: the lockfile, the declared dependencies and the
 * Node version. Undefined (no reuse) without a lockfile, or with a `file:`/`link:` directory
 * dependency, whose contents no lockfile pins.
 */
const LOCKFILES = ['npm-shrinkwrap.json', 'package-lock.json']

function dependencyKey(dir: string, pkg: PackageJson): string | undefined {
  const lockfile = LOCKFILES.map((name) => checkoutFile(dir, name)).find((file) => file !== undefined)
  if (!lockfile) return undefined
  const declared = [pkg.dependencies, pkg.devDependencies, pkg.optionalDependencies]
  const local = declared.some((deps) => Object.values(deps ?? {}).some((spec) => /^(file|link):/.test(spec) && !/\.(tgz|tar\.gz)$/.test(spec)))
  if (local) return undefined
  return createHash('sha256').update(process.version).update(JSON.stringify(declared)).update(readFileSync(lockfile)).digest('hex')
}

/** node_modules of the newest other build installed with the same key. */
function cachedModules(paths: AppPaths, key: string, except: string): string | undefined {
  const candidates = readdirSync(paths.builds)
    .filter((name) => name !== except)
    .map((name) => ({name, mark: join(paths.builds, name, DEPS_MARK), stat: lstatSync(join(paths.builds, name, DEPS_MARK), {throwIfNoEntry: false})}))
    // Not followed when a link: a build without a lockfile keeps whatever its commit held under that name.
    .filter(({stat}) => stat?.isFile())
    .sort((a, b) => b.stat!.mtimeMs - a.stat!.mtimeMs)
  const match = candidates.find(({mark}) => readFileSync(mark, 'utf8') === key)
  return match ? join(paths.builds, match.name, 'node_modules') : undefined
}

async function npm(dir: string, args: string[], options: BuildOptions): Promise<void> {
  const code = await runStreaming('npm', args, {cwd: dir, env: options.buildEnv, onLine: options.onLine, signal: options.signal})
  if (code !== 0) throw new HerogateError(`npm ${args[0] === 'run' ? `run ${args[1]}` : args[0]} failed (exit code ${code}).`)
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
