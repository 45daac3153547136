import {readFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {AwsClients} from '../aws/clients.js'
import {commitAuthor} from '../aws/codepipeline.js'
import {resolveRegion} from '../aws/region.js'
import {type RegistryCredentials, Secrets} from '../aws/secrets.js'
import {HerogateError, Interrupted} from '../lib/errors.js'
import {checkoutFile} from '../lib/checkout.js'
import {names} from '../lib/naming.js'
import {parseProcfile} from '../lib/parse.js'
import {type AwsContext, systemClock} from '../platform/aws/context.js'
import {releaseImage} from '../platform/aws/release-image.js'
import {declaredJobs} from '../platform/scheduler.js'
import {appResources} from '../platform/aws/resources.js'
import type {Progress, Release} from '../platform/types.js'
import {buildImage, type Runner, spawnRunner} from './build.js'
import {BUDGET_MS, BUILD_TIMEOUT_MINUTES, BuildOutOfTime, deadlineClock, lockWaitMs, MIN_RELEASE_MS, releaseDeadline} from './budget.js'

/**
 * What `herogate internal:release` does inside the app's CodeBuild project: build and push
 * the image (unless one is given), then release it under the app's lock (release phase,
 * rollout, release record). Its output is the build log, which lands in the app's log group
 * under the herogate stream prefix, so `herogate logs --source herogate` shows it.
 */
export interface ReleaseRunOptions {
  app: string
  region?: string
  /** The pushed source (CODEBUILD_SRC_DIR). */
  source: string
  commit?: string
  /** An image already built (repo@sha256:…): skips the build. */
  image?: string
  buildpacks?: boolean
  author?: string
  /** CodeBuild's build id, named as the lock holder. */
  buildId?: string
  /** When the build started (epoch ms; CODEBUILD_START_TIME); default: now. */
  buildStartedAt?: number
  /** The build project's timeout (HEROGATE_BUILD_TIMEOUT_MINUTES); default: BUILD_TIMEOUT_MINUTES. */
  buildTimeoutMinutes?: number
  onProgress: Progress
  ctx?: AwsContext
  runner?: Runner
  /** Default: what the build's budget leaves for it. */
  lockWaitMs?: number
  /** Docker Hub credentials for the build's login; default: the Secrets Manager secret, when there is one. */
  dockerHub?: () => Promise<RegistryCredentials | undefined>
}

/** What CodeBuild (and the pipeline's build action) tell a build about itself. */
export interface BuildEnvironment {
  commit?: string
  buildId?: string
  startedAt?: number
  timeoutMinutes?: number
}

const COMMIT = /^[0-9a-f]{40}$/

/**
 * The commit comes from the pipeline's source action (HEROGATE_COMMIT, set by the build action
 * from #{SourceVariables.CommitId}); CODEBUILD_RESOLVED_SOURCE_VERSION, which CodePipeline
 * builds do not always get, is the fallback.
 */
export function buildEnvironment(env: Record<string, string | undefined>): BuildEnvironment {
  const commit = [env.HEROGATE_COMMIT, env.CODEBUILD_RESOLVED_SOURCE_VERSION].map((value) => value?.trim().toLowerCase()).find((value) => value && COMMIT.test(value))
  const number = (value?: string) => (value && /^\d+$/.test(value) ? Number(value) : undefined)
  return {
    ...(commit ? {commit} : {}),
    ...(env.CODEBUILD_BUILD_ID ? {buildId: env.CODEBUILD_BUILD_ID} : {}),
    ...(number(env.CODEBUILD_START_TIME) ? {startedAt: number(env.CODEBUILD_START_TIME)} : {}),
    ...(number(env.HEROGATE_BUILD_TIMEOUT_MINUTES) ? {timeoutMinutes: number(env.HEROGATE_BUILD_TIMEOUT_MINUTES)} : {}),
  }
}

/** Procfile types and commands; without a Procfile the image's default command is web. */
export async function processTypesOf(source: string): Promise<Record<string, string>> {
  // A link out of the checkout would have the build read (and print) a file of the build host.
  const procfile = checkoutFile(source, 'Procfile')
  return procfile ? parseProcfile(await readFile(procfile, 'utf8')) : {web: ''}
}

export async function runRelease(options: ReleaseRunOptions): Promise<Release> {
  const {app, onProgress} = options
  const region = options.ctx?.region ?? (await resolveRegion({region: options.region}))
  const base: AwsContext = options.ctx ?? {region, clients: new AwsClients({region}), clock: systemClock}
  const timeout = options.buildTimeoutMinutes ?? BUILD_TIMEOUT_MINUTES
  const startedAt = options.buildStartedAt ?? base.clock.now().getTime()
  const deadline = releaseDeadline(startedAt, timeout)
  const limit = deadlineClock(base.clock, deadline, () => new BuildOutOfTime(timeout))
  // Every wait below sleeps on this clock, so the deadline stops it wherever the release is.
  const ctx: AwsContext = {...base, clock: limit.clock}
  const resources = await appResources(ctx, app)
  const processTypes = await processTypesOf(options.source)
  // A bad scheduled job fails the build that brings it, before the image is built.
  const appJson = checkoutFile(options.source, 'app.json')
  const jobs = declaredJobs(appJson ? await readFile(appJson, 'utf8') : undefined)
  const output = (line: string) => onProgress({kind: 'output', stream: 'build', line})
  let {image, buildpacks} = options
  if (!image) {
    onProgress({kind: 'step', id: 'build', message: 'Building the image', status: 'start'})
    const built = await buildImage(
      {repository: resources.ecrRepositoryUri, region, source: options.source, tag: options.commit ?? 'latest', workDir: join(tmpdir(), 'herogate-build')},
      options.runner ?? spawnRunner,
      output,
      {dockerHub: await dockerHubCredentials(ctx, options, onProgress)},
    )
    image = built.image
    buildpacks = built.buildpacks
    onProgress({kind: 'step', id: 'build', message: `Built ${image}`, status: 'done'})
  }

  if (deadline - ctx.clock.now().getTime() < MIN_RELEASE_MS) {
    throw new BuildOutOfTime(timeout, `the image build left too little time to release ${image}; nothing was changed`)
  }

  const author = options.author
    ?? (options.commit ? await commitAuthor(await ctx.clients.codeCommit(), names.codeCommitRepo(app), options.commit) : undefined)
    ?? 'unknown'
  try {
    // The build's own log (herogate/build/…) already holds everything: no second journal.
    return await releaseImage(ctx, app, {image: image!, commit: options.commit, buildpacks}, {
      processTypes, jobs, author, resources, onProgress, journal: false, buildId: options.buildId,
      signal: limit.signal,
      rollout: {timeoutMs: BUDGET_MS.rollout},
      releasePhaseTimeoutMs: BUDGET_MS.releasePhase,
      lockOptions: {holder: options.buildId ? `CodeBuild ${options.buildId}` : `CodeBuild for ${author}`, waitMs: options.lockWaitMs ?? lockWaitMs(deadline, ctx.clock.now().getTime())},
    })
  } catch (error) {
    if (!limit.signal.aborted || error instanceof BuildOutOfTime) throw error
    // The rollout put the previous release back and recorded this one as failed; say why it stopped.
    const detail = error instanceof Interrupted ? error.message.replace(/^Interrupted: /, '') : (error as Error).message
    throw new BuildOutOfTime(timeout, detail.replace(/\.$/, ''))
  }
}

/** The build's Docker Hub login, when the account keeps one; a secret that cannot be used is a warning. */
async function dockerHubCredentials(ctx: AwsContext, options: ReleaseRunOptions, onProgress: Progress): Promise<RegistryCredentials | undefined> {
  try {
    return await (options.dockerHub ?? (async () => new Secrets(await ctx.clients.secretsManager()).registryCredentials(names.dockerHubSecret())))()
  } catch (error) {
    if (!(error instanceof HerogateError)) throw error
    onProgress({kind: 'warning', message: `${error.message} Pulls from Docker Hub stay anonymous.`})
    return undefined
  }
}
