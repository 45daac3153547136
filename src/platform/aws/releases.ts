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
import {HISTORY_KEPT, type ReleaseRecord, ReleaseStore} from '../../aws/release-store.js'
import {InvalidInput} from '../../lib/errors.js'
import {deployHint} from '../../lib/hints.js'
import {LogsService} from '../../aws/logs.js'
import {names} from '../../lib/naming.js'
import type {DeployOptions, Release, ReleaseOutput} from '../types.js'
import type {AwsContext} from './context.js'
import {appResources} from './resources.js'

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
    ...(record.status === 'failed' && record.failureOutput ? {failureOutput: record.failureOutput} : {}),
  }
}

// ---------------------------------------------------------------------------------------------
// Platform methods

export async function releases(ctx: AwsContext, app: string, options: {num: number}): Promise<Release[]> {
  const recent = await knownReleases(ctx, app, await (await releaseStore(ctx)).recent(app, options.num, ctx.clock.now()))
  const current = recent.find((r) => r.status === 'succeeded')
  return recent.slice(0, Math.max(options.num, 0)).map((r) => toRelease(r, current?.version))
}

export async function releaseInfo(ctx: AwsContext, app: string, version?: number): Promise<Release> {
  const {record, records} = await findRelease(ctx, app, version)
  return toRelease(record, records.find((r) => r.status === 'succeeded')?.version)
}

/** A release's record (default: the newest), with the records read to find it. */
async function findRelease(ctx: AwsContext, app: string, version?: number): Promise<{record: ReleaseRecord; records: ReleaseRecord[]}> {
  const store = await releaseStore(ctx)
  let records = await knownReleases(ctx, app, await store.recent(app, 1, ctx.clock.now()))
  if (records.length === 0) throw new InvalidInput(`${app} has no releases yet.`, {suggestions: [deployHint(app)]})
  // Older than the slots: the archive has it, if it is kept.
  if (version !== undefined && !records.some((r) => r.version === version)) records = await store.withArchive(app, records)
  const record = version === undefined ? records[0] : records.find((r) => r.version === version)
  if (!record) throw releaseNotFound(app, version!, records)
  return {record, records}
}

/**
 * releases:output: a deploy's output is the log of the CodeBuild build that made it (the
 * image build, the release command, the rollout), read from CloudWatch Logs; other releases
 * (config changes, rollbacks) build and run nothing.
 */
export async function releaseOutput(ctx: AwsContext, app: string, version?: number): Promise<ReleaseOutput> {
  const {record} = await findRelease(ctx, app, version)
  if (!record.build) {
    const note = record.kind === 'deploy'
      ? `v${record.version} does not name its build (it was made by an older herogate): its output is in herogate logs --source herogate -a ${app}.`
      : `v${record.version} has no output: ${record.kind === 'config' ? 'a config change' : 'a rollback'} builds nothing and runs no release command.`
    return {version: record.version, lines: [], note}
  }

  const resources = await appResources(ctx, app)
  const logs = new LogsService(await ctx.clients.logs())
  const events = await logs.wholeStream(resources.logGroup, names.buildLogStream(record.build))
  const lines = events.flatMap((event) => event.message.replace(/\r?\n$/, '').split(/\r?\n/))
  if (lines.length === 0) return {version: record.version, lines, note: `The log of v${record.version}'s build (${names.buildLogStream(record.build)}) is empty or gone: the app's log group keeps logs for a limited time.`}
  return {version: record.version, lines}
}

/**
 * The records as read, once it is sure the app exists: no release at all may mean no such app,
 * and only then is it worth reading where the app's resources are (AppNotFound otherwise).
 */
export async function knownReleases(ctx: AwsContext, app: string, records: ReleaseRecord[]): Promise<ReleaseRecord[]> {
  if (records.length === 0) await appResources(ctx, app)
  return records
}

/** A release that is not among those read: never made, or older than the history keeps. */
export function releaseNotFound(app: string, version: number, records: ReleaseRecord[]): InvalidInput {
  const newest = Math.max(0, ...records.map((r) => r.version))
  if (version > 0 && version <= newest - HISTORY_KEPT) {
    return new InvalidInput(`Release v${version} of ${app} is no longer kept: herogate keeps the newest ${HISTORY_KEPT} releases of an app.`, {suggestions: [`herogate releases -a ${app} -n ${HISTORY_KEPT}`]})
  }

  return new InvalidInput(`Release v${version} of ${app} not found.`, {suggestions: [`herogate releases -a ${app}`]})
}

/** The app's release history, its waits on the context's clock. */
export async function releaseStore(ctx: AwsContext): Promise<ReleaseStore> {
  return new ReleaseStore(await ctx.clients.ssm(), (ms) => ctx.clock.sleep(ms))
}

export async function deploy(ctx: AwsContext, app: string, options: DeployOptions): Promise<Release> {
  const {deploy: run} = await import('./deploy.js')
  return run(ctx, app, options)
}
