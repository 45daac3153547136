/**
 * Releases on AWS: every deploy, config change and rollback makes an immutable release vN,
 * stored in SSM (src/aws/release-store.ts). Where each part lives:
 *
 *   lock.ts            the app's lock, which is the claim on the next release number
 *   apply.ts           a release's lifecycle: task definitions, services, rollout, how it ended
 *   config-release.ts  config changes as releases
 *   release-image.ts   deploys of a built image, with the release phase
 *   rollback.ts        rollback to an earlier release's code and config
 *   deploy.ts          `herogate deploy`: starts the pipeline and follows it
 *
 * This file lists releases and shows one.
 */
import {type ReleaseRecord, ReleaseStore} from '../../aws/release-store.js'
import {InvalidInput} from '../../lib/errors.js'
import type {DeployOptions, Release} from '../types.js'
import type {AwsContext} from './context.js'

export function toRelease(record: ReleaseRecord, currentVersion?: number): Release {
  return {
    version: record.version,
    description: record.description,
    status: record.status,
    author: record.author,
    createdAt: record.createdAt,
    current: record.version === currentVersion,
    ...(record.commit ? {commit: record.commit} : {}),
    ...(record.image ? {image: record.image} : {}),
    ...(record.processTypes ? {processTypes: record.processTypes} : {}),
    ...(record.taskDefinitions ? {taskDefinitions: record.taskDefinitions} : {}),
    ...(record.status === 'failed' && record.failure ? {failure: record.failure} : {}),
  }
}

// ---------------------------------------------------------------------------------------------
// Platform methods

export async function releases(ctx: AwsContext, app: string, options: {num: number}): Promise<Release[]> {
  const all = await new ReleaseStore(await ctx.clients.ssm()).all(app, ctx.clock.now())
  const current = all.find((r) => r.status === 'succeeded')
  return all.slice(0, Math.max(options.num, 0)).map((r) => toRelease(r, current?.version))
}

export async function releaseInfo(ctx: AwsContext, app: string, version?: number): Promise<Release> {
  const all = await new ReleaseStore(await ctx.clients.ssm()).all(app, ctx.clock.now())
  const current = all.find((r) => r.status === 'succeeded')
  const record = version === undefined ? all[0] : all.find((r) => r.version === version)
  if (!record) {
    throw new InvalidInput(version === undefined ? `${app} has no releases yet.` : `Release v${version} of ${app} not found.`, {
      suggestions: version === undefined ? ['git push herogate main', `herogate deploy -a ${app}`] : [`herogate releases -a ${app}`],
    })
  }

  return toRelease(record, current?.version)
}


export async function deploy(ctx: AwsContext, app: string, options: DeployOptions): Promise<Release> {
  const {deploy: run} = await import('./deploy.js')
  return run(ctx, app, options)
}
