import {existsSync} from 'node:fs'

import {type AppPaths, latestVersion, makePrivateDir, readJson, versionFile, writeJsonAtomic} from './state.js'

/**
 * Config snapshots: each change writes a new numbered file (0600 in a 0700 dir) and never
 * touches an old one, so a release can name the snapshot it runs with and rollback can
 * bring it back.
 */

export function readConfig(paths: AppPaths, version: number): Record<string, string> {
  if (version === 0) return {}
  const file = versionFile(paths.config, version)
  if (!existsSync(file)) return {}
  return readJson<Record<string, string>>(file)
}

/** Stores `vars` as a new snapshot and returns its version. */
export function writeConfig(paths: AppPaths, vars: Record<string, string>): number {
  makePrivateDir(paths.config)
  const version = latestVersion(paths.config) + 1
  writeJsonAtomic(versionFile(paths.config, version), vars, 0o600)
  return version
}

/** "Set FOO, BAR config vars" as Heroku describes a config release (plural even for one key). */
export function describeConfigChange(verb: 'Set' | 'Remove', keys: string[], removed: string[] = []): string {
  return `${verb} ${keys.join(', ')}${removed.length > 0 ? ` and remove ${removed.join(', ')}` : ''} config vars`
}
