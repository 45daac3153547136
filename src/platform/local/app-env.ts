import {existsSync} from 'node:fs'
import {delimiter, join} from 'node:path'

/**
 * Where a build's toolchain (node-runtime.ts) lands and how its processes find it. Apart from
 * node-runtime.ts, which downloads and spawns, because the process manager needs only this and
 * the read commands load the process manager's module (bin/run.cjs's fast path).
 */

/** Inside a build directory: the programs its processes run with. */
export const TOOLCHAIN_BIN = join('.herogate', 'bin')

/**
 * The environment of a build's processes (web, workers, release phase, `run`): its toolchain
 * first on PATH, then the machine's, then the app's own bin and node_modules/.bin, and
 * NODE_ENV=production unless the config says otherwise: as Heroku's Node.js dynos have them.
 */
export function appEnv<T extends NodeJS.ProcessEnv>(dir: string, env: T): T {
  const bin = join(dir, TOOLCHAIN_BIN)
  const path = [existsSync(bin) ? bin : '', env.PATH ?? '', join(dir, 'bin'), join(dir, 'node_modules', '.bin')].filter(Boolean).join(delimiter)
  return {...env, PATH: path, NODE_ENV: env.NODE_ENV || 'production'}
}
