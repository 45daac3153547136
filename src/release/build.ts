import {spawn} from 'node:child_process'
import {createHash} from 'node:crypto'
import {existsSync} from 'node:fs'
import {mkdir, readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {HerogateError} from '../lib/errors.js'

/**
 * The image build inside CodeBuild: a Dockerfile with BuildKit and a registry layer cache in
 * the app's ECR repo, or, without a Dockerfile, Cloud Native Buildpacks with a pinned pack CLI
 * and builder. The command lines are built here (and unit-tested); a runner executes them.
 */

export const PACK_VERSION = '0.36.4'
/** sha256 of pack-v0.36.4-linux.tgz as published with the release. */
export const PACK_SHA256 = '78bd1f089459eda04c932593331dd2e5c7dbd884a79f518927244159b9b41309'
export const PACK_URL = `https://github.com/buildpacks/pack/releases/download/v${PACK_VERSION}/pack-v${PACK_VERSION}-linux.tgz`
/** Builder pinned by version: the same commit builds the same way tomorrow. */
export const CNB_BUILDER = 'paketobuildpacks/builder-jammy-base:0.4.539'
/** Tag of the BuildKit layer cache in the app's repo (and of the buildpacks cache image). */
export const CACHE_TAG = 'buildcache'
export const CNB_CACHE_TAG = 'buildcache-cnb'

export interface BuildInput {
  /** ECR repository URI: ACCOUNT.dkr.ecr.REGION.amazonaws.com/herogate/APP */
  repository: string
  region: string
  /** Source directory (CODEBUILD_SRC_DIR). */
  source: string
  /** Tag of the pushed image: the commit, so the repo shows what each image is. */
  tag: string
  /** Scratch directory for the metadata file and the pack CLI. */
  workDir: string
}

export interface BuildPlan {
  kind: 'dockerfile' | 'buildpacks'
  /** argv lists, run in order; any non-zero exit fails the build. */
  steps: string[][]
  /** buildx writes the pushed digest here. */
  metadataFile?: string
  packPath?: string
}

export function registryHost(repository: string): string {
  return repository.slice(0, repository.indexOf('/'))
}

/** Logs docker in to ECR; the password goes through a pipe, never an argument. */
export function loginStep(input: Pick<BuildInput, 'repository' | 'region'>): string[] {
  return ['sh', '-c', 'aws ecr get-login-password --region "$1" | docker login --username AWS --password-stdin "$2"', 'ecr-login', input.region, registryHost(input.repository)]
}

export function buildPlan(input: BuildInput, hasDockerfile: boolean): BuildPlan {
  const image = `${input.repository}:${input.tag}`
  if (hasDockerfile) {
    const metadataFile = join(input.workDir, 'build-metadata.json')
    const cache = `type=registry,ref=${input.repository}:${CACHE_TAG}`
    return {
      kind: 'dockerfile',
      metadataFile,
      steps: [
        loginStep(input),
        // The docker-container driver can export a registry cache; the default driver cannot.
        ['docker', 'buildx', 'create', '--name', 'herogate', '--driver', 'docker-container', '--use', '--bootstrap'],
        [
          'docker', 'buildx', 'build',
          '--platform', 'linux/amd64',
          '--cache-from', cache,
          '--cache-to', `${cache},mode=max,image-manifest=true,oci-mediatypes=true`,
          // A plain image manifest (no attestation index), so the digest is the image's.
          '--provenance=false',
          '--tag', image,
          '--push',
          '--metadata-file', metadataFile,
          input.source,
        ],
      ],
    }
  }

  const packPath = join(input.workDir, 'pack')
  return {
    kind: 'buildpacks',
    packPath,
    steps: [
      loginStep(input),
      [
        packPath, 'build', image,
        '--path', input.source,
        '--builder', CNB_BUILDER,
        '--publish',
        '--cache-image', `${input.repository}:${CNB_CACHE_TAG}`,
        '--default-process', 'web',
        '--pull-policy', 'if-not-present',
        '--trust-builder',
      ],
    ],
  }
}

const DIGEST = /^sha256:[0-9a-f]{64}$/

/** The pushed digest from buildx's --metadata-file. */
export function digestFromMetadata(json: string): string {
  const digest = (JSON.parse(json) as Record<string, unknown>)['containerimage.digest']
  if (typeof digest !== 'string' || !DIGEST.test(digest)) throw new HerogateError('The image build did not report the digest it pushed.')
  return digest
}

/** The pushed digest from pack's output (the exporter prints "*** Digest: sha256:…"). */
export function digestFromPackOutput(output: string): string {
  const match = /\*\*\* Digest: (sha256:[0-9a-f]{64})/.exec(output)
  if (!match) throw new HerogateError('The buildpacks build did not report the digest it pushed.')
  return match[1]
}

export function imageByDigest(repository: string, digest: string): string {
  return `${repository}@${digest}`
}

/** Runs argv, passing each output line on; resolves with the whole output, rejects on a non-zero exit. */
export type Runner = (argv: string[], onLine: (line: string) => void) => Promise<string>

export const spawnRunner: Runner = (argv, onLine) =>
  new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), {stdio: ['ignore', 'pipe', 'pipe']})
    let output = ''
    let partial = ''
    const take = (chunk: Buffer) => {
      const text = partial + chunk.toString('utf8')
      output += chunk.toString('utf8')
      const lines = text.split(/\r?\n/)
      partial = lines.pop() ?? ''
      for (const line of lines) onLine(line)
    }

    child.stdout.on('data', take)
    child.stderr.on('data', take)
    child.on('error', (error) => reject(new HerogateError(`Could not run ${argv[0]}: ${error.message}`, {cause: error})))
    child.on('close', (code) => {
      if (partial) onLine(partial)
      if (code === 0) resolve(output)
      else reject(new HerogateError(`${argv[0] === 'sh' ? argv[3] ?? 'sh' : argv.slice(0, 2).join(' ')} failed with exit code ${code}.`))
    })
  })

/** Downloads the pinned pack CLI and refuses it unless its checksum matches. */
export async function installPack(
  packPath: string,
  run: Runner,
  onLine: (line: string) => void,
  download: (url: string) => Promise<Buffer> = fetchBytes,
  expectedSha256 = PACK_SHA256,
): Promise<void> {
  if (existsSync(packPath)) return
  onLine(`Downloading pack ${PACK_VERSION}`)
  const archive = await download(PACK_URL)
  const sha = createHash('sha256').update(archive).digest('hex')
  if (sha !== expectedSha256) throw new HerogateError(`The pack CLI download has checksum ${sha}, not the pinned ${expectedSha256}; refusing to run it.`)
  const dir = packPath.slice(0, packPath.lastIndexOf('/'))
  await mkdir(dir, {recursive: true})
  const file = join(dir, 'pack.tgz')
  await writeFile(file, archive)
  await run(['tar', '-xzf', file, '-C', dir, 'pack'], onLine)
}

async function fetchBytes(url: string): Promise<Buffer> {
  const response = await fetch(url)
  if (!response.ok) throw new HerogateError(`Downloading ${url} failed: HTTP ${response.status}.`)
  return Buffer.from(await response.arrayBuffer())
}

/** Builds and pushes the image; resolves with repo@sha256:… . */
export async function buildImage(
  input: BuildInput,
  run: Runner,
  onLine: (line: string) => void,
  pack: {download?: (url: string) => Promise<Buffer>; sha256?: string} = {},
): Promise<{image: string; buildpacks: boolean}> {
  const hasDockerfile = existsSync(join(input.source, 'Dockerfile'))
  const plan = buildPlan(input, hasDockerfile)
  onLine(hasDockerfile ? 'Building the image from the Dockerfile' : `No Dockerfile: building with Cloud Native Buildpacks (${CNB_BUILDER})`)
  await mkdir(input.workDir, {recursive: true})
  if (plan.packPath) await installPack(plan.packPath, run, onLine, pack.download, pack.sha256)
  let output = ''
  for (const step of plan.steps) output = await run(step, onLine)
  const digest = plan.metadataFile ? digestFromMetadata(await readFile(plan.metadataFile, 'utf8')) : digestFromPackOutput(output)
  return {image: imageByDigest(input.repository, digest), buildpacks: !hasDockerfile}
}
