import {existsSync} from 'node:fs'
import {basename, dirname} from 'node:path'

import type {AppTarget} from '../platform/types.js'
import {NoAppSpecified} from './errors.js'
import {readRemoteUrl} from './git-config.js'
import {localAppDir} from './home.js'
import {checkAppName, names, parseCodeCommitUrl} from './naming.js'

/** What a git remote URL says about the app: a CodeCommit URL is AWS, a local bare repo is local. */
export function targetFromRemoteUrl(url: string): AppTarget | undefined {
  const aws = parseCodeCommitUrl(url)
  if (aws) return {name: aws.app, platform: 'aws', region: aws.region}
  const path = url.replace(/^file:\/\//, '')
  if (basename(path) === 'repo.git' && basename(dirname(dirname(path))) === 'apps') {
    return {name: basename(dirname(path)), platform: 'local'}
  }

  return undefined
}

/** A bare name lives on the local platform when herogate's home has it, otherwise on AWS. */
export function targetFromName(name: string, region?: string): AppTarget {
  return existsSync(localAppDir(name)) ? {name, platform: 'local'} : {name, platform: 'aws', region}
}

/**
 * Resolves the app as Heroku does: -a/--app, then HEROGATE_APP, then the "herogate" git
 * remote of the repo around `cwd`.
 */
export async function resolveApp(options: {app?: string; cwd: string; region?: string}): Promise<AppTarget> {
  const named = options.app || process.env.HEROGATE_APP
  if (named) {
    // Checked before anything turns it into a path: `-a ../../x` must never reach the file system.
    checkAppName(named)
    const target = targetFromName(named, options.region)
    if (target.platform === 'aws' && !options.region) {
      const fromRemote = await remoteTarget(options.cwd)
      if (fromRemote?.name === named) return fromRemote
    }

    return target
  }

  const fromRemote = await remoteTarget(options.cwd)
  if (!fromRemote) throw new NoAppSpecified()
  checkAppName(fromRemote.name)
  if (options.region && fromRemote.platform === 'aws') fromRemote.region = options.region
  return fromRemote
}

async function remoteTarget(cwd: string): Promise<AppTarget | undefined> {
  // From the repo's config file when it says plainly; otherwise git says (lib/git-config.ts).
  const read = readRemoteUrl(cwd, names.gitRemote())
  const url = read === 'unknown' ? await (await import('./git.js')).getRemoteUrl(cwd, names.gitRemote()) : read.url
  return url ? targetFromRemoteUrl(url) : undefined
}
