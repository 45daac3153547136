import {createHash} from 'node:crypto'
import {existsSync} from 'node:fs'
import {readdir, readFile, stat} from 'node:fs/promises'
import {join, relative, sep} from 'node:path'
import {fileURLToPath} from 'node:url'
import {gzipSync} from 'node:zlib'

import {ArtifactBucket} from '../../aws/artifacts.js'
import {HerogateError} from '../../lib/errors.js'
import {names} from '../../lib/naming.js'
import type {AwsContext} from './context.js'

/**
 * herogate's own release code for CodeBuild: this installation, packed as an npm tarball at
 * exactly the running version, with its dependency tree pinned by an npm-shrinkwrap.json
 * (the package's own, or the checkout's package-lock.json), uploaded to the app's artifact
 * prefix. The buildspec installs it with `npm install -g`, so a build never runs code from an
 * unpinned or personal source.
 */

export interface ReleaseCodePackage {
  version: string
  /** Gzipped tar, npm's layout (everything under package/). */
  data: Buffer
  sha256: string
  /** False when no lockfile was found: dependencies then resolve by their semver ranges. */
  pinned: boolean
  files: string[]
}

/** The installed package's directory: three levels above this file in src/ and in dist/. */
export function packageRoot(): string {
  return fileURLToPath(new URL('../../../', import.meta.url))
}

/** What goes in the package, as npm's "files" says (plus package.json and the shrinkwrap). */
const INCLUDED = ['bin', 'dist', 'templates', 'oclif.manifest.json']
const FIXED_MTIME = Date.parse('2026-01-01T00:00:00Z') / 1000

export async function packageReleaseCode(root = packageRoot()): Promise<ReleaseCodePackage> {
  const manifest = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as {name: string; version: string}
  if (!existsSync(join(root, 'dist'))) {
    throw new HerogateError(`herogate's compiled code (dist/) is missing in ${root}, so it cannot be sent to CodeBuild.`, {suggestions: ['npm run build']})
  }

  const entries: Array<{path: string; data: Buffer; mode: number}> = [{path: 'package.json', data: await readFile(join(root, 'package.json')), mode: 0o644}]
  for (const item of INCLUDED) {
    const full = join(root, item)
    if (!existsSync(full)) continue
    for (const file of await walk(full)) {
      const info = await stat(file)
      entries.push({path: relative(root, file).split(sep).join('/'), data: await readFile(file), mode: info.mode & 0o111 ? 0o755 : 0o644})
    }
  }

  const lock = ['npm-shrinkwrap.json', 'package-lock.json'].map((name) => join(root, name)).find((path) => existsSync(path))
  if (lock) entries.push({path: 'npm-shrinkwrap.json', data: await readFile(lock), mode: 0o644})
  entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
  const data = gzipSync(tar(entries.map((e) => ({...e, path: `package/${e.path}`}))), {level: 9})
  return {
    version: manifest.version,
    data,
    sha256: createHash('sha256').update(data).digest('hex'),
    pinned: Boolean(lock),
    files: entries.map((e) => e.path),
  }
}

async function walk(path: string): Promise<string[]> {
  const info = await stat(path)
  if (!info.isDirectory()) return [path]
  const files: string[] = []
  for (const entry of await readdir(path, {withFileTypes: true})) {
    if (entry.name === 'node_modules' || entry.name.endsWith('.map')) continue
    files.push(...(await walk(join(path, entry.name))))
  }

  return files
}

/** The S3 key of a package: by version and content, so every upgrade or local change gets its own. */
export function releaseCodeKey(app: string, pkg: Pick<ReleaseCodePackage, 'version' | 'sha256'>): string {
  return `${names.artifactPrefix(app)}release-code/herogate-${pkg.version}-${pkg.sha256.slice(0, 12)}.tgz`
}

/**
 * Packs this installation and uploads it for the app; resolves with the s3:// URI that the
 * app stack passes to CodeBuild as HEROGATE_PACKAGE.
 */
export async function uploadReleaseCode(ctx: AwsContext, target: string | {artifactBucket: string}, app: string, root?: string): Promise<string> {
  const bucket = typeof target === 'string' ? target : target.artifactBucket
  const pkg = await packageReleaseCode(root)
  return new ArtifactBucket(await ctx.clients.s3()).put(bucket, releaseCodeKey(app, pkg), pkg.data, 'application/gzip')
}

/** A POSIX ustar archive of regular files (what npm reads); fixed owner and time, so equal input gives equal bytes. */
export function tar(files: Array<{path: string; data: Buffer; mode: number}>): Buffer {
  const blocks: Buffer[] = []
  for (const file of files) {
    const header = Buffer.alloc(512)
    const [prefix, name] = splitPath(file.path)
    header.write(name, 0, 100, 'utf8')
    octal(header, 100, 8, file.mode)
    octal(header, 108, 8, 0)
    octal(header, 116, 8, 0)
    octal(header, 124, 12, file.data.length)
    octal(header, 136, 12, FIXED_MTIME)
    header.fill(' ', 148, 156)
    header.write('0', 156, 1, 'ascii')
    header.write('ustar\u000000', 257, 8, 'ascii')
    header.write(prefix, 345, 155, 'utf8')
    let sum = 0
    for (const byte of header) sum += byte
    header.write(sum.toString(8).padStart(6, '0') + '\u0000 ', 148, 8, 'ascii')
    blocks.push(header, file.data, Buffer.alloc((512 - (file.data.length % 512)) % 512))
  }

  blocks.push(Buffer.alloc(1024))
  return Buffer.concat(blocks)
}

function octal(header: Buffer, offset: number, length: number, value: number): void {
  header.write(value.toString(8).padStart(length - 1, '0') + '\u0000', offset, length, 'ascii')
}

/** ustar names hold 100 bytes, plus a 155-byte prefix cut at a slash. */
function splitPath(path: string): [string, string] {
  if (Buffer.byteLength(path) <= 100) return ['', path]
  for (let i = path.indexOf('/'); i > 0; i = path.indexOf('/', i + 1)) {
    const prefix = path.slice(0, i)
    const name = path.slice(i + 1)
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100) return [prefix, name]
  }

  throw new HerogateError(`Cannot pack ${path}: its path is too long for a tar archive.`)
}
