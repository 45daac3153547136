import {homedir} from 'node:os'
import {join} from 'node:path'

/** herogate's own directory: local apps, caches. HEROGATE_HOME overrides it (tests, demos). */
export function herogateHome(): string {
  return process.env.HEROGATE_HOME || join(homedir(), '.herogate')
}

/** Where a local app's state, repo and logs live. */
export function localAppDir(app: string): string {
  return join(herogateHome(), 'apps', app)
}

export function localAppsDir(): string {
  return join(herogateHome(), 'apps')
}

/** The bare git repo that is a local app's "herogate" remote. */
export function localRepoPath(app: string): string {
  return join(localAppDir(app), 'repo.git')
}
