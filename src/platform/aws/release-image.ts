/**
 * Deploys of a built image (from `herogate internal:release` inside CodeBuild): under the app's
 * lock, run the Procfile's release command as a one-off task, then roll every process type out
 * through apply.ts.
 */
import type {DeclaredJob, NewRelease, ReleaseRecord} from '../../aws/release-store.js'
import {LogsService} from '../../aws/logs.js'
import {splitKeys} from '../../aws/ssm.js'
import {HerogateError, InvalidInput} from '../../lib/errors.js'
import {names} from '../../lib/naming.js'
import {procfileWarning} from '../../lib/parse.js'
import {configMasker, failureDetails, LastLines} from '../../lib/process-output.js'
import {DEFAULT_SIZE} from '../../lib/sizes.js'
import type {Release} from '../types.js'
import {applyRelease, env, type Env, finish, note, type ReleaseOptions, servicesOf, settle, step} from './apply.js'
import {authorName} from './author.js'
import type {AwsContext} from './context.js'
import {type LockOptions, withAppLock} from './lock.js'
import {type ProcessSpec, specFromTaskDefinition, taskDefinitionInput, taskLogStream} from './taskdef.js'

// ---------------------------------------------------------------------------------------------
// Deploy (runs inside CodeBuild, from `herogate internal:release`)

export interface BuiltImage {
  /** repo@sha256:... */
  image: string
  commit?: string
  /** Buildpack images run process types through the CNB launcher. */
  buildpacks?: boolean
}

/** Procfile to process specs' commands; without a Procfile, web runs the image's default command. */
export function processCommands(types: Record<string, string>, buildpacks: boolean): Record<string, Pick<ProcessSpec, 'command' | 'entryPoint'>> {
  const result: Record<string, Pick<ProcessSpec, 'command' | 'entryPoint'>> = {}
  for (const [type, command] of Object.entries(types)) {
    if (!command) result[type] = {}
    else if (buildpacks) result[type] = {entryPoint: [`/cnb/process/${type}`]}
    else result[type] = {command: ['/bin/sh', '-c', command]}
  }

  return result
}

/**
 * Releases a built image: takes the app's lock (the caller says how long to wait for it), runs
 * the Procfile's release command as a one-off task, then rolls every process type out.
 */
export async function releaseImage(
  ctx: AwsContext, app: string, built: BuiltImage,
  options: ReleaseOptions & {
    processTypes: Record<string, string>
    /** The scheduled jobs the commit's app.json declares. */
    jobs?: DeclaredJob[]
    lockOptions?: Pick<LockOptions, 'holder' | 'waitMs' | 'ttlMs'>
    releasePhaseTimeoutMs?: number
    /** The CodeBuild build making the release (CODEBUILD_BUILD_ID): its log is the release's output. */
    buildId?: string
  },
): Promise<Release> {
  const {release: releaseCommand, ...types} = options.processTypes
  if (Object.keys(types).length === 0) throw new InvalidInput('The Procfile has no process types besides release.')
  // Said first: it explains a release that goes live while the app's URL answers 503, or one that fails over a WEB type.
  const noWeb = procfileWarning(types)
  if (noWeb) options.onProgress?.({kind: 'warning', message: noWeb})
  const short = built.commit ? built.commit.slice(0, 7) : built.image.slice(built.image.indexOf('@sha256:') + 8, built.image.indexOf('@sha256:') + 15)
  const author = options.author ?? (await authorName(ctx))
  const plan = (): NewRelease => ({
    kind: 'deploy',
    description: `Deploy ${short}`,
    status: 'pending',
    author,
    createdAt: ctx.clock.now().toISOString(),
    image: built.image,
    processTypes: options.processTypes,
    ...(options.jobs?.length ? {jobs: options.jobs} : {}),
    ...(built.commit ? {commit: built.commit} : {}),
    ...(options.buildId ? {build: options.buildId} : {}),
  })
  return withAppLock(ctx, app, 'deploy', async (lock) => {
    const e = await env(ctx, app, {...options, lock})
    const record: ReleaseRecord = {...lock.record!}
    const current = lock.state.current
    return settle(e, record, async () => {
      const live = await e.config.get(app)
      const commands = processCommands(options.processTypes, built.buildpacks ?? false)
      const keys = splitKeys(live)
      const running = await servicesOf(e, Object.keys(types))
      const sizeOf = async (type: string) => {
        const arn = running.get(type)?.taskDefinition
        return arn ? specFromTaskDefinition(type, await e.ecs.describeTaskDefinition(arn)).size : DEFAULT_SIZE
      }

      if (releaseCommand) {
        record.phase = 'release phase'
        await lock.update(record)
        const spec: ProcessSpec = {processType: 'release', image: built.image, ...commands.release, size: await sizeOf('web'), configKeys: keys.secret, emptyKeys: keys.empty, release: record.version}
        const outcome = await runReleasePhase(e, spec, configMasker(live), options.signal, options.releasePhaseTimeoutMs)
        if (!outcome.ok) {
          const lines = outcome.lines ?? []
          const failureOutput = lines.length > 0 ? {process: 'the release command', lines, more: `herogate releases:output v${record.version} -a ${app}`} : undefined
          await finish(e, record, 'failed', {failure: outcome.reason, ...(failureOutput ? {failureOutput} : {})})
          throw new HerogateError(`Release phase of v${record.version} failed: ${outcome.reason}. ${current ? `v${current.version} keeps serving.` : ''}`.trim(), {
            details: failureDetails(failureOutput),
            suggestions: [failureOutput?.more ?? `herogate logs --source herogate -a ${app}`, `herogate run -a ${app} -- <the release command> (to try it by hand)`],
          })
        }
      }

      const specs: ProcessSpec[] = []
      for (const type of Object.keys(types)) {
        specs.push({processType: type, image: built.image, ...commands[type], size: await sizeOf(type), configKeys: keys.secret, emptyKeys: keys.empty, release: record.version})
      }

      // Without a release phase in between, the services read above are still current.
      return applyRelease(e, record, specs, current, options, releaseCommand ? undefined : running)
    })
  }, {...options.lockOptions, onProgress: options.onProgress, plan})
}

export const RELEASE_PHASE_TIMEOUT_MS = 30 * 60_000

/**
 * Runs the release command to its end, copying its output (config values hidden by `mask`) to
 * the progress, and so to the build log; a failure comes with its last lines.
 */
async function runReleasePhase(
  e: Env, spec: ProcessSpec, mask: (line: string) => string, signal?: AbortSignal, timeoutMs = RELEASE_PHASE_TIMEOUT_MS,
): Promise<{ok: boolean; reason?: string; lines?: string[]}> {
  const {cluster, subnets, securityGroup, logGroup} = e.resources
  step(e, 'release-phase', 'Running the release command', 'start')
  const taskDefinition = await e.ecs.registerTaskDefinition(taskDefinitionInput(e.app, e.resources, spec))
  const arn = await e.ecs.runTask({cluster, taskDefinition, subnets, securityGroup, startedBy: `herogate-release-v${spec.release}`, tags: [{key: names.appTag(), value: e.app}]})
  const id = arn.slice(arn.lastIndexOf('/') + 1)
  const logs = new LogsService(await e.ctx.clients.logs())
  const stream = taskLogStream('release', id)
  note(e, `Release command running as task ${id} (log stream ${stream})`)
  let token: string | undefined
  const last = new LastLines()
  const copy = async () => {
    const page = await logs.readStream(logGroup, stream, token)
    token = page.nextToken
    for (const event of page.events) {
      const line = mask(event.message)
      last.add(line)
      e.onProgress?.({kind: 'output', stream: 'release', line})
    }
  }

  const start = e.ctx.clock.now().getTime()
  let stopped = false
  try {
    for (;;) {
      const [task] = await e.ecs.tasks(cluster, [arn])
      await copy()
      if (task?.lastStatus === 'STOPPED') {
        stopped = true
        // Lines can arrive a moment after the task stops.
        await copy()
        const container = task.containers?.[0]
        const code = container?.exitCode
        if (code === 0) {
          step(e, 'release-phase', 'Running the release command', 'done')
          return {ok: true}
        }

        step(e, 'release-phase', 'Running the release command', 'failed')
        return {ok: false, reason: code === undefined ? `the release task stopped: ${container?.reason ?? task.stoppedReason ?? 'no exit code'}` : `the release command exited with ${code}`, lines: last.lines()}
      }

      if (e.ctx.clock.now().getTime() - start > timeoutMs) {
        step(e, 'release-phase', 'Running the release command', 'failed')
        return {ok: false, reason: `the release command ran longer than ${Math.round(timeoutMs / 60_000)} minutes`, lines: last.lines()}
      }

      await e.lock.keepAlive()
      await e.ctx.clock.sleep(3000, signal)
    }
  } finally {
    // Given up (its time ran out, or the build's): a task left running would go on changing the
    // database for a release that is not happening, and be billed until destroy.
    if (!stopped) await e.ecs.stopTask(cluster, arn, 'herogate gave up the release phase').catch((error: Error) => note(e, `Could not stop the release task ${id}: ${error.message}`))
  }
}

