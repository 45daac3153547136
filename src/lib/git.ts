import {execFile} from 'node:child_process'
import {promisify} from 'node:util'

import {existsSync} from 'node:fs'
import {resolve} from 'node:path'

import {HerogateError, InvalidInput} from './errors.js'

const exec = promisify(execFile)

/** Runs git in `cwd`; resolves with trimmed stdout, rejects with git's stderr as the message. */
export async function git(cwd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<string> {
  try {
    const {stdout} = await exec('git', args, {cwd, env: env ? {...process.env, ...env} : process.env, maxBuffer: 64 * 1024 * 1024})
    return stdout.trim()
  } catch (error) {
    const err = error as NodeJS.ErrnoException & {stderr?: string}
    if (err.code === 'ENOENT') {
      throw new HerogateError('git is not installed or not on PATH.', {suggestions: ['install git, then try again'], cause: error})
    }

    throw new HerogateError(`git ${args[0]} failed: ${(err.stderr ?? err.message).trim().split('\n')[0]}`, {cause: error})
  }
}

/** The top directory of the git work tree containing `cwd`, or undefined when it is not in one. */
export async function gitRoot(cwd: string): Promise<string | undefined> {
  try {
    return await git(cwd, ['rev-parse', '--show-toplevel'])
  } catch {
    return undefined
  }
}

export async function getRemoteUrl(cwd: string, remote: string): Promise<string | undefined> {
  try {
    const url = await git(cwd, ['remote', 'get-url', remote])
    return url || undefined
  } catch {
    return undefined
  }
}

export async function addRemote(cwd: string, remote: string, url: string): Promise<void> {
  await git(cwd, ['remote', 'add', remote, url])
}

/** Points `remote` at `url`, adding it when missing; resolves with the URL it had before, when that differed. */
export async function setRemote(cwd: string, remote: string, url: string): Promise<string | undefined> {
  const previous = await getRemoteUrl(cwd, remote)
  if (previous === undefined) await addRemote(cwd, remote, url)
  else if (previous !== url) await git(cwd, ['remote', 'set-url', remote, url])
  return previous === url ? undefined : previous
}

/**
 * Clones `url` into `dir` (relative to `cwd`), naming its remote `origin`; `config` is set for
 * the clone itself too (a credential helper it needs to fetch). Refuses a directory that exists.
 */
export async function cloneRepo(cwd: string, url: string, dir: string, options: {origin: string; config?: Array<[string, string]>}): Promise<string> {
  const target = resolve(cwd, dir)
  if (existsSync(target)) throw new InvalidInput(`${target} already exists.`, {suggestions: ['herogate git:clone -a APP OTHER-DIRECTORY']})
  const config = (options.config ?? []).flatMap(([key, value]) => ['-c', `${key}=${value}`])
  await git(cwd, [...config, 'clone', '--quiet', '--origin', options.origin, url, target])
  return target
}

/** Not in a git repository: git:remote has nowhere to add the remote. */
export function notARepo(cwd: string, app: string): InvalidInput {
  return new InvalidInput(`${cwd} is not in a git repository, so there is nowhere to add the remote.`, {
    suggestions: [`herogate git:clone -a ${app} (a new clone with the remote set)`, `git init, then herogate git:remote -a ${app}`],
  })
}

export async function removeRemote(cwd: string, remote: string): Promise<void> {
  await git(cwd, ['remote', 'remove', remote])
}

/** Sets a key in the repo's local config (e.g. a credential helper for one remote URL). */
export async function setConfig(cwd: string, key: string, value: string, options: {add?: boolean} = {}): Promise<void> {
  await git(cwd, ['config', ...(options.add ? ['--add'] : []), key, value])
}

export async function unsetConfigSection(cwd: string, section: string): Promise<void> {
  try {
    await git(cwd, ['config', '--remove-section', section])
  } catch {
    // The section was not there: nothing to remove.
  }
}

export async function headCommit(cwd: string): Promise<string | undefined> {
  try {
    return await git(cwd, ['rev-parse', 'HEAD'])
  } catch {
    return undefined
  }
}

/** The branch checked out in the repo around `cwd` (one with no commit yet too); undefined on a detached HEAD or outside a repo. */
export async function currentBranch(cwd: string): Promise<string | undefined> {
  try {
    return (await git(cwd, ['symbolic-ref', '--quiet', '--short', 'HEAD'])) || undefined
  } catch {
    return undefined
  }
}
