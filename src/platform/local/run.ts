import {spawn, type StdioOptions} from 'node:child_process'
import {createRequire} from 'node:module'
import {fileURLToPath, pathToFileURL} from 'node:url'

import {HerogateError} from '../../lib/errors.js'
import {appEnv} from './app-env.js'
import {readConfig} from './config.js'
import {freePort} from './ports.js'
import {spawnErrorMessage} from './processes.js'
import {processEnv} from './release-owner.js'
import type {ReleaseRecord} from './releases.js'
import type {AppPaths} from './state.js'
import type {RunOptions, RunResult} from '../types.js'

/**
 * One-off processes (`herogate run`): the command runs in the current release's build
 * directory with the app's config as environment, attached to the terminal or piped to
 * the caller's streams; `--detached` hands it to a small detached runner whose output goes
 * to the log store.
 */

const SHELL_SAFE = /^[\w@%+=:,./-]+$/

/** argv to one shell line: a single argument is taken as a shell command (`run "echo $FOO"`), several are quoted. */
export function shellLine(command: string[]): string {
  if (command.length === 1) return command[0]
  return command.map((arg) => (SHELL_SAFE.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`)).join(' ')
}

/** How to start one of this directory's entry scripts: built, or from source through tsx. */
export function entryCommand(name: string): string[] {
  const fromSource = import.meta.url.endsWith('.ts')
  const entry = fileURLToPath(new URL(`./${name}.${fromSource ? 'ts' : 'js'}`, import.meta.url))
  if (!fromSource) return [process.execPath, entry]
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href
  return [process.execPath, '--import', tsx, entry]
}

/**
 * The environment of a one-off process of `release` (run, scheduled jobs): the supervisor's
 * inherited variables, the release's config, and a PORT of its own, as on Heroku's one-off
 * dynos, so that a server started this way finds one it can listen on.
 */
export async function oneOffEnv(paths: AppPaths, release: ReleaseRecord): Promise<NodeJS.ProcessEnv> {
  return {...processEnv(), ...readConfig(paths, release.configVersion ?? 0), PORT: String(await freePort())}
}

export interface OneOff {
  /** The app's name, as `Running CMD on APP... up, run.1234` says it. */
  app?: string
  dir: string
  env: NodeJS.ProcessEnv
  appDir: string
  /** Grace between SIGTERM and SIGKILL when the caller aborts. */
  killAfterMs?: number
}

export function runOneOff(options: RunOptions, where: OneOff): Promise<RunResult> {
  if (options.command.length === 0) throw new HerogateError('No command given.', {suggestions: ['herogate run bash', 'herogate run -- npm test']})
  const name = `run.${1000 + Math.floor(Math.random() * 9000)}`
  const line = shellLine(options.command)
  const env = appEnv(where.dir, {...where.env, DYNO: name})
  // As Heroku says it: `Running rake db:migrate on demo... up, run.1234`.
  const message = `Running ${options.command.join(' ')}${where.app ? ` on ${where.app}` : ''}`
  const step = (status: 'start' | 'done' | 'failed') => options.onProgress?.({kind: 'step', id: 'run', message, status, ...(status === 'done' ? {detail: `up, ${name}`} : {})})
  step('start')
  const started = (options.detached ? runDetached(name, line, env, where) : runAttached(options, name, line, env, where, () => step('done')))
  return started.then(
    (result) => {
      if (options.detached) step('done')
      return result
    },
    (error: unknown) => {
      step('failed')
      throw error
    },
  )
}

function runAttached(options: RunOptions, name: string, line: string, env: NodeJS.ProcessEnv, where: OneOff, onSpawn: () => void): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const stdio: StdioOptions = options.tty ? 'inherit' : [options.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe']
    // Piped, the command gets its own process group so that stopping it stops what it started
    // too; on a TTY it stays in the terminal's foreground group, which gets Ctrl-C itself.
    const group = !options.tty
    let child: ReturnType<typeof spawn>
    try {
      child = spawn('sh', ['-c', line], {cwd: where.dir, env, stdio, detached: group})
    } catch (error) {
      // Node refuses some environments at once, quoting the value: config values stay out of it.
      reject(couldNotStart(error))
      return
    }

    const kill = (signal: NodeJS.Signals) => {
      try {
        if (group && child.pid) process.kill(-child.pid, signal)
        else child.kill(signal)
      } catch {
        // Already gone.
      }
    }

    let interrupted = false
    let killTimer: NodeJS.Timeout | undefined
    const abort = () => {
      interrupted = true
      kill('SIGTERM')
      killTimer = setTimeout(() => kill('SIGKILL'), where.killAfterMs ?? 5000)
      killTimer.unref()
    }

    if (options.signal?.aborted) abort()
    else options.signal?.addEventListener('abort', abort, {once: true})
    if (!options.tty) {
      if (options.stdin && child.stdin) options.stdin.pipe(child.stdin)
      child.stdout?.pipe(options.stdout, {end: false})
      child.stderr?.pipe(options.stderr, {end: false})
    }

    child.once('spawn', onSpawn)
    child.once('error', (error) => reject(couldNotStart(error)))
    child.once('close', (code, signal) => {
      options.signal?.removeEventListener('abort', abort)
      if (killTimer) clearTimeout(killTimer)
      if (options.stdin && child.stdin) options.stdin.unpipe(child.stdin)
      const result: RunResult = {id: String(child.pid ?? ''), name, detached: false, exitCode: code ?? 128 + (signal === 'SIGKILL' ? 9 : 15)}
      if (signal) result.stopReason = `stopped by ${signal}`
      if (interrupted) result.interrupted = true
      resolve(result)
    })
  })
}

function runDetached(name: string, line: string, env: NodeJS.ProcessEnv, where: OneOff): Promise<RunResult> {
  const [node, ...args] = entryCommand('run-main')
  return new Promise((resolve, reject) => {
    let child: ReturnType<typeof spawn>
    try {
      child = spawn(node, [...args, where.appDir, name, line], {cwd: where.dir, env, stdio: 'ignore', detached: true})
    } catch (error) {
      reject(couldNotStart(error))
      return
    }

    child.once('error', (error) => reject(couldNotStart(error)))
    child.once('spawn', () => {
      child.unref()
      resolve({id: String(child.pid ?? ''), name, detached: true})
    })
  })
}

/** Without the spawn error as cause: node's message can quote the environment, and so config values. */
function couldNotStart(error: unknown): HerogateError {
  return new HerogateError(`Could not start the command: ${spawnErrorMessage(error)}`)
}
