import type {PlatformKind, ProcessFormation} from '../platform/types.js'
import {HerogateError, InvalidInput} from './errors.js'
import {names} from './naming.js'

/**
 * Hints that name a command: each one must work when the user reads it, so they are made
 * from what is true at that moment (the repo's branch, the app's process types), here, rather
 * than written out where the failure is.
 */

/**
 * What deploys an app that has no code yet, from wherever it is run: `herogate deploy` pushes
 * the checked-out commit to the app's deploy branch, whatever the local branch is called and
 * whether or not the repo has the "herogate" remote.
 */
export function deployHint(app: string): string {
  return `herogate deploy -a ${app} (in the app's git repo)`
}

/** Scale, restart, stop or run of an app that has no release with code yet: a deploy first. */
export function noCodeYet(app: string): HerogateError {
  return new HerogateError(`${app} has no release with code yet.`, {suggestions: [deployHint(app), `herogate releases -a ${app}`]})
}

/** The branches whose pushes deploy: the local platform takes main or master, an AWS app its one branch (create --branch, default main). */
export function deployBranches(platform: PlatformKind, branch?: string): string[] {
  return platform === 'local' ? ['main', 'master'] : [branch ?? 'main']
}

/**
 * The `git push` that deploys the repo around `cwd` through its "herogate" remote: its
 * branch when that one deploys (git push herogate master), else onto the deploy branch
 * (git push herogate feature:main); a detached HEAD pushes HEAD.
 */
export async function pushCommand(cwd: string, branches: string[]): Promise<string> {
  const remote = names.gitRemote()
  // git (and child_process) only when a hint needs the branch: the read commands show hints too.
  const {currentBranch} = await import('./git.js')
  const branch = await currentBranch(cwd)
  if (branch && branches.includes(branch)) return `git push ${remote} ${branch}`
  return `git push ${remote} ${branch ?? 'HEAD'}:${branches[0]}`
}

/**
 * What `ps` says when nothing runs: deploy when no release has code yet, else scale up a
 * process type the app has (web when it has one).
 */
export function idleHint(app: string, formation: ProcessFormation[]): string {
  if (formation.length === 0) return `${app} has no release with code yet, so nothing runs. Deploy with: ${deployHint(app)}`
  const wanted = formation.filter((p) => p.quantity > 0)
  if (wanted.length > 0) {
    const counts = wanted.map((p) => `${p.type}=${p.quantity}`).join(' ')
    return `No processes are running on ${app} (wanted: ${counts}): they are starting, or crash at start. See why with: herogate logs -a ${app}`
  }

  const type = formation.some((p) => p.type === 'web') ? 'web' : formation[0].type
  return `No processes are running on ${app}. Scale up with: herogate scale ${type}=1 -a ${app}`
}

/** Where an app's process types come from: its Procfile, or (without one) npm start (local) or the image's default command (AWS). */
export type ProcessTypesSource = 'Procfile' | 'npm start' | 'image'

/**
 * Suggestions for a process type the app does not have: the ones it has and where they come
 * from (an app without a Procfile runs only web), or a deploy when it has none yet.
 */
export function processTypeHints(app: string, types: string[], source: ProcessTypesSource): string[] {
  if (types.length === 0) return [deployHint(app)]
  const from = source === 'Procfile'
    ? `its Procfile has: ${types.join(', ')}`
    : `${app} has no Procfile and runs only web, ${source === 'npm start' ? 'from npm start' : 'with its image\'s default command'} (add a Procfile for other process types)`
  return [from, `herogate ps -a ${app}`]
}

/**
 * `restart web.1`: Heroku restarts one dyno that way; here a process is replaced by stopping
 * it. The refusal for a process name given where a process type goes, or undefined.
 */
export function processNotType(word: string, app: string): InvalidInput | undefined {
  const one = /^([A-Za-z0-9_]{1,30})\.[0-9a-z]+$/.exec(word)
  if (!one) return undefined
  const [name, type] = one
  return new InvalidInput(`${name} is a process, not a process type.`, {
    suggestions: type === 'run'
      ? [`herogate ps:stop ${name} -a ${app} (stops the one-off process; nothing takes its place)`]
      : [`herogate ps:stop ${name} -a ${app} (stops it; a new ${type} process takes its place)`, `herogate restart ${type} -a ${app} (restarts every ${type} process)`],
  })
}
