import {spawn} from 'node:child_process'
import {createHash} from 'node:crypto'
import {existsSync} from 'node:fs'
import {mkdir, readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import type {RegistryCredentials} from '../aws/secrets.js'
import {HerogateError} from '../lib/errors.js'
import {names} from '../lib/naming.js'
import {BUILDKIT, cachedImage, CNB_BUILDER, CNB_RUN_IMAGE, imageCache} from './images.js'

/**
 * The image build inside CodeBuild: a Dockerfile with BuildKit and a registry layer cache in
 * the app's ECR repo, or, without a Dockerfile, Cloud Native Buildpacks with a pinned pack CLI
 * and builder. Every image of ours comes through the account's ECR (images.ts), never from
 * Docker Hub. The command lines are built here (and unit-tested); a runner executes them.
 */

export const PACK_VERSION = '0.36.4'
/** sha256 of pack-v0.36.4-linux.tgz as published with the release. */
export const PACK_SHA256 = '78bd1f089459eda04c932593331dd2e5c7dbd884a79f518927244159b9b41309'
export const PACK_URL = `https://github.com/buildpacks/pack/releases/download/v${PACK_VERSION}/pack-v${PACK_VERSION}-linux.tgz`
/** Build argument that tells a Dockerfile where the account's cache of ECR Public is (README: Docker Hub). */
export const IMAGE_CACHE_ARG = 'HEROGATE_IMAGE_CACHE'
/** Where Docker Hub's registry is, for the build's login with the user's credentials. */
const DOCKER_HUB = 'https://index.docker.io/v1/'
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
  const registry = registryHost(input.repository)
  if (hasDockerfile) {
    const metadataFile = join(input.workDir, 'build-metadata.json')
    const cache = `type=registry,ref=${input.repository}:${CACHE_TAG}`
    return {
      kind: 'dockerfile',
      metadataFile,
      steps: [
        loginStep(input),
        // The docker-container driver can export a registry cache; the default driver cannot.
        ['docker', 'buildx', 'create', '--name', 'herogate', '--driver', 'docker-container', '--driver-opt', `image=${cachedImage(registry, BUILDKIT)}`, '--use', '--bootstrap'],
        [
          'docker', 'buildx', 'build',
          '--platform', 'linux/amd64',
          '--build-arg', `${IMAGE_CACHE_ARG}=${imageCache(registry)}`,
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
        '--builder', cachedImage(registry, CNB_BUILDER),
        '--run-image', cachedImage(registry, CNB_RUN_IMAGE),
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

/**
 * Runs argv, passing each output line on; resolves with the whole output, rejects on a non-zero
 * exit. `stdin` is written to the command's input (passwords go there, never into argv).
 */
export type Runner = (argv: string[], onLine: (line: string) => void, options?: {stdin?: string}) => Promise<string>

export const spawnRunner: Runner = (argv, onLine, options = {}) =>
  new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), {stdio: ['pipe', 'pipe', 'pipe']})
    // Without input the command reads end-of-file at once, as with no stdin at all.
    child.stdin.on('error', () => {})
    child.stdin.end(options.stdin ?? '')
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

/** Logs docker in to Docker Hub with the user's credentials; the password goes to stdin. */
export function dockerHubLoginStep(credentials: RegistryCredentials): {argv: string[]; stdin: string} {
  return {argv: ['docker', 'login', '--username', credentials.username, '--password-stdin', DOCKER_HUB], stdin: credentials.password}
}

/** Docker Hub refused a pull for the anonymous (or the account's) pull limit. */
export class DockerHubRateLimited extends HerogateError {
  constructor(authenticated: boolean) {
    super(
      authenticated
        ? 'Docker Hub refused an image pull (toomanyrequests): the Docker Hub account in herogate\'s secret has used up its pull limit.'
        : "Docker Hub refused an anonymous image pull (toomanyrequests): the Dockerfile's FROM (or # syntax=) pulls from Docker Hub, whose anonymous limit CodeBuild's shared addresses use up.",
      {suggestions: [
        `log the builds in to Docker Hub: aws secretsmanager create-secret --name ${names.dockerHubSecret()} --secret-string '{"username":"USER","accessToken":"TOKEN"}'`,
        `or take official images from the account's cache of ECR Public: ARG ${IMAGE_CACHE_ARG}=public.ecr.aws, then FROM \${${IMAGE_CACHE_ARG}}/docker/library/node:20`,
      ]},
    )
  }
}

const TOO_MANY_REQUESTS = /toomanyrequests|You have reached your (unauthenticated )?pull rate limit/i

/** Builds and pushes the image; resolves with repo@sha256:… . */
export async function buildImage(
  input: BuildInput,
  run: Runner,
  onLine: (line: string) => void,
  options: {download?: (url: string) => Promise<Buffer>; sha256?: string; dockerHub?: RegistryCredentials} = {},
): Promise<{image: string; buildpacks: boolean}> {
  const hasDockerfile = existsSync(join(input.source, 'Dockerfile'))
  const plan = buildPlan(input, hasDockerfile)
  onLine(hasDockerfile ? 'Building the image from the Dockerfile' : `No Dockerfile: building with Cloud Native Buildpacks (${CNB_BUILDER.repository}:${CNB_BUILDER.tag})`)
  await mkdir(input.workDir, {recursive: true})
  if (plan.packPath) await installPack(plan.packPath, run, onLine, options.download, options.sha256)
  let limited = false
  const watch = (line: string) => {
    if (TOO_MANY_REQUESTS.test(line)) limited = true
    onLine(line)
  }

  const step = async (argv: string[], stdin?: string) => {
    try {
      return await run(argv, watch, stdin === undefined ? undefined : {stdin})
    } catch (error) {
      if (limited) throw new DockerHubRateLimited(Boolean(options.dockerHub))
      throw error
    }
  }

  const [login, ...rest] = plan.steps
  await step(login)
  if (options.dockerHub) {
    const hub = dockerHubLoginStep(options.dockerHub)
    onLine(`Logging in to Docker Hub as ${options.dockerHub.username} (secret ${names.dockerHubSecret()})`)
    await step(hub.argv, hub.stdin)
  }

  let output = ''
  for (const argv of rest) output = await step(argv)
  const digest = plan.metadataFile ? digestFromMetadata(await readFile(plan.metadataFile, 'utf8')) : digestFromPackOutput(output)
  return {image: imageByDigest(input.repository, digest), buildpacks: !hasDockerfile}
}
