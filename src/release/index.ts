import {existsSync} from 'node:fs'
import {readFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {AwsClients} from '../aws/clients.js'
import {commitAuthor} from '../aws/codepipeline.js'
import {resolveRegion} from '../aws/region.js'
import {names} from '../lib/naming.js'
import {parseProcfile} from '../lib/parse.js'
import {type AwsContext, systemClock} from '../platform/aws/context.js'
import {LOCK_TTL_MS} from '../platform/aws/lock.js'
import {releaseImage} from '../platform/aws/release-image.js'
import {appResources} from '../platform/aws/resources.js'
import type {Progress, Release} from '../platform/types.js'
import {buildImage, type Runner, spawnRunner} from './build.js'

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
  onProgress: Progress
  ctx?: AwsContext
  runner?: Runner
  lockWaitMs?: number
}

/** Procfile types and commands; without a Procfile the image's default command is web. */
export async function processTypesOf(source: string): Promise<Record<string, string>> {
  const procfile = join(source, 'Procfile')
  return existsSync(procfile) ? parseProcfile(await readFile(procfile, 'utf8')) : {web: ''}
}

export async function runRelease(options: ReleaseRunOptions): Promise<Release> {
  const {app, onProgress} = options
  const region = options.ctx?.region ?? (await resolveRegion({region: options.region}))
  const ctx: AwsContext = options.ctx ?? {region, clients: new AwsClients({region}), clock: systemClock}
  const resources = await appResources(ctx, app)
  const processTypes = await processTypesOf(options.source)
  const output = (line: string) => onProgress({kind: 'output', stream: 'build', line})
  let {image, buildpacks} = options
  if (!image) {
    onProgress({kind: 'step', id: 'build', message: 'Building the image', status: 'start'})
    const built = await buildImage(
      {repository: resources.ecrRepositoryUri, region, source: options.source, tag: options.commit ?? 'latest', workDir: join(tmpdir(), 'herogate-build')},
      options.runner ?? spawnRunner,
      output,
    )
    image = built.image
    buildpacks = built.buildpacks
    onProgress({kind: 'step', id: 'build', message: `Built ${image}`, status: 'done'})
  }

  const author = options.author
    ?? (options.commit ? await commitAuthor(await ctx.clients.codeCommit(), names.codeCommitRepo(app), options.commit) : undefined)
    ?? 'unknown'
  // The build's own log (herogate/build/…) already holds everything: no second journal.
  return releaseImage(ctx, app, {image: image!, commit: options.commit, buildpacks}, {
    processTypes, author, resources, onProgress, journal: false,
    lockOptions: {holder: options.buildId ? `CodeBuild ${options.buildId}` : `CodeBuild for ${author}`, waitMs: options.lockWaitMs ?? LOCK_TTL_MS},
  })
}
