import {spawn} from 'node:child_process'

import {type BuildInfo, buildFailure, BuildService} from '../../aws/codebuild.js'
import {type PipelineRun, PipelineService} from '../../aws/codepipeline.js'
import {LogsService} from '../../aws/logs.js'
import type {ReleaseRecord, ReleaseStore} from '../../aws/release-store.js'
import {HerogateError, Interrupted, InvalidInput, UpToDate} from '../../lib/errors.js'
import {getRemoteUrl, headCommit} from '../../lib/git.js'
import {names, parseCodeCommitUrl} from '../../lib/naming.js'
import {failureDetails} from '../../lib/process-output.js'
import {BUILD_TIMEOUT_MINUTES} from '../../release/budget.js'
import type {DeployOptions, Progress, Release} from '../types.js'
import type {AwsContext} from './context.js'
import {releaseStore, toRelease} from './releases.js'
import {appResources} from './resources.js'

/**
 * `herogate deploy`: pushes HEAD to the app's CodeCommit branch and follows what the push
 * starts (pipeline, CodeBuild build with the release code inside, release phase, rollout)
 * until the release is live or has failed.
 */

export interface PushResult {
  upToDate: boolean
}

export type Pusher = (cwd: string, remote: string, branch: string, onLine: (line: string) => void) => Promise<PushResult>

export interface DeployDeps {
  push?: Pusher
  head?: (cwd: string) => Promise<string | undefined>
}

export const DEPLOY_POLL_MS = 3000
/** How long a push may take to show up as a pipeline run (EventBridge usually takes seconds). */
export const PIPELINE_START_TIMEOUT_MS = 3 * 60_000
/** CodeBuild's queue before a build starts: minutes at the most, outside the build's own timeout. */
const BUILD_QUEUE_MS = 10 * 60_000
/**
 * How long `deploy` follows a run before it stops watching: the run's start, CodeBuild's queue
 * and the whole build, whose timeout holds every budget of a release (src/release/budget.ts).
 * Shorter, and a slow but healthy release would be reported as still running.
 */
export const DEPLOY_TIMEOUT_MS = PIPELINE_START_TIMEOUT_MS + BUILD_QUEUE_MS + BUILD_TIMEOUT_MINUTES * 60_000
const FAILED_RUN = new Set(['Failed', 'Stopped', 'Stopping', 'Cancelled', 'Superseded'])

/** `git push REMOTE HEAD:refs/heads/BRANCH`, its progress lines passed on as they come. */
export const gitPush: Pusher = (cwd, remote, branch, onLine) =>
  new Promise((resolve, reject) => {
    const child = spawn('git', ['push', '--progress', remote, `HEAD:refs/heads/${branch}`], {cwd, stdio: ['ignore', 'pipe', 'pipe']})
    let upToDate = false
    let last = ''
    let failure = ''
    const lines = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split(/[\r\n]+/)) {
        if (!line.trim()) continue
        if (/Everything up-to-date/.test(line)) upToDate = true
        // git's first error line says what happened; later ones are hints.
        if (!failure && /^(fatal|error):|\[(remote )?rejected\]/.test(line.trim())) failure = line.trim()
        last = line
        onLine(line)
      }
    }

    child.stdout.on('data', lines)
    child.stderr.on('data', lines)
    child.on('error', (error) => reject(new HerogateError('git is not installed or not on PATH.', {cause: error, suggestions: ['install git, then try again']})))
    child.on('close', (code) => {
      if (code === 0) resolve({upToDate})
      else reject(new HerogateError(`git push failed: ${failure || last.trim() || `exit code ${code}`}`, {suggestions: ['git status', `git push ${remote} HEAD:refs/heads/${branch} (to see git's own output)`]}))
    })
  })

export async function deploy(ctx: AwsContext, app: string, options: DeployOptions, deps: DeployDeps = {}): Promise<Release> {
  const progress: Progress = options.onProgress ?? (() => {})
  const stepper = (id: string, message: string) => ({
    start: () => progress({kind: 'step', id, message, status: 'start'}),
    done: () => progress({kind: 'step', id, message, status: 'done'}),
    failed: () => progress({kind: 'step', id, message, status: 'failed'}),
  })
  const head = await (deps.head ?? headCommit)(options.cwd)
  if (!head) throw new InvalidInput('Nothing to deploy: this directory is not a git repository with a commit.', {suggestions: ['git init && git add . && git commit -m "First commit"']})
  const resources = await appResources(ctx, app)
  const pipelines = new PipelineService(await ctx.clients.codePipeline())
  const store = await releaseStore(ctx)
  const branch = options.branch ?? (await pipelines.sourceBranch(resources.pipeline)) ?? 'main'
  const before = await store.latestVersion(app, ctx.clock.now())
  // The "herogate" remote when it is this app's (a repo may point it at another app): else the app's URL.
  const remoteUrl = await getRemoteUrl(options.cwd, names.gitRemote())
  const remote = remoteUrl && parseCodeCommitUrl(remoteUrl)?.app === app ? names.gitRemote() : resources.gitUrl
  const short = head.slice(0, 7)

  const push = stepper('push', `Pushing ${short} to ${branch}`)
  push.start()
  const pushedAt = ctx.clock.now().getTime()
  let pushed: PushResult
  try {
    pushed = await (deps.push ?? gitPush)(options.cwd, remote, branch, (line) => progress({kind: 'output', stream: 'git', line}))
  } catch (error) {
    push.failed()
    throw error
  }

  push.done()
  if (pushed.upToDate) {
    const current = await store.current(app, ctx.clock.now())
    if (current?.commit === head) throw new UpToDate(toRelease(current, current.version))
  }

  const waiting = stepper('pipeline', 'Starting the pipeline')
  waiting.start()
  const run = await findRun(ctx, app, pipelines, resources.pipeline, head, pushedAt, pushed.upToDate, options.signal)
  waiting.done()
  try {
    return await follow(ctx, {app, head, before, runId: run.id, pipeline: resources.pipeline, pipelines, store, progress, signal: options.signal})
  } catch (error) {
    if (!options.signal?.aborted) throw error
    throw new Interrupted(`Interrupted: stopped following the deploy of ${short}; it goes on in AWS (herogate releases -a ${app} shows how it ends).`)
  }
}

/** The run the push started; when the push changed nothing, a run started for the branch's head. */
async function findRun(ctx: AwsContext, app: string, pipelines: PipelineService, pipeline: string, head: string, pushedAt: number, upToDate: boolean, signal?: AbortSignal): Promise<PipelineRun> {
  // Clocks differ: a run that started a minute before the push (by our clock) still counts.
  const recent = (run: PipelineRun) => run.commit === head && (run.startTime?.getTime() ?? Infinity) >= pushedAt - 60_000
  if (upToDate) {
    const active = (await pipelines.runs(pipeline)).find((run) => run.commit === head && run.status === 'InProgress')
    if (active) return active
    return {id: await pipelines.start(pipeline), status: 'InProgress', commit: head}
  }

  for (;;) {
    const run = (await pipelines.runs(pipeline)).find((r) => recent(r))
    if (run) return run
    if (ctx.clock.now().getTime() - pushedAt > PIPELINE_START_TIMEOUT_MS) {
      throw new HerogateError(`The push of ${head.slice(0, 7)} did not start the pipeline within ${PIPELINE_START_TIMEOUT_MS / 60_000} minutes.`, {
        suggestions: [`herogate info -a ${app} (is the app stack healthy?)`, `herogate deploy -a ${app} (to start it again)`],
      })
    }

    await ctx.clock.sleep(DEPLOY_POLL_MS, signal)
  }
}

interface Following {
  app: string
  head: string
  before: number
  runId: string
  pipeline: string
  pipelines: PipelineService
  store: ReleaseStore
  progress: Progress
  signal?: AbortSignal
}

async function follow(ctx: AwsContext, f: Following): Promise<Release> {
  const builds = new BuildService(await ctx.clients.codeBuild())
  const logs = new LogsService(await ctx.clients.logs())
  const started = ctx.clock.now().getTime()
  const buildStep = {id: 'build', message: 'Building'}
  let buildId: string | undefined
  let build: BuildInfo | undefined
  let logToken: string | undefined
  let record: ReleaseRecord | undefined
  // The first release number not yet known to be someone else's.
  let from = f.before + 1
  /**
   * The push's release, read from the head and a few slots in one call, whatever the history's
   * length: once found, the window starts at it (its final record is in the next slot or the
   * head); until then, at the first release not known to be another's (a config change, another
   * commit's deploy), which it steps over.
   */
  const findRecord = async (): Promise<ReleaseRecord | undefined> => {
    const records = await f.store.window(f.app, record?.version ?? from, 3, ctx.clock.now())
    if (record) return records.find((r) => r.version === record!.version) ?? record
    for (const candidate of records.reverse()) {
      if (candidate.version !== from) break
      if (candidate.kind === 'deploy' && candidate.commit === f.head) return candidate
      from += 1
    }

    return undefined
  }

  let shownPhase: string | undefined
  let settledPolls = 0
  const rows = new Map<string, string>()
  const row = (id: string, message: string, status: 'start' | 'done' | 'failed') => {
    if (rows.get(id) === status) return
    rows.set(id, status)
    f.progress({kind: 'step', id, message, status})
  }

  const copyBuildLog = async () => {
    if (!build?.logGroup || !build.logStream) return
    const page = await logs.readStream(build.logGroup, build.logStream, logToken)
    logToken = page.nextToken
    for (const event of page.events) f.progress({kind: 'output', stream: 'build', line: event.message.replace(/\n$/, '')})
  }

  for (;;) {
    const run = await f.pipelines.run(f.pipeline, f.runId)
    const actions = await f.pipelines.actions(f.pipeline, f.runId)
    const buildAction = actions.find((a) => a.externalId && a.stage !== 'Source')
    if (buildAction?.externalId && !buildId) {
      buildId = buildAction.externalId
      row(buildStep.id, buildStep.message, 'start')
    }

    if (buildId) {
      build = await builds.build(buildId)
      await copyBuildLog()
    }

    record = await findRecord()
    if (record) {
      row(buildStep.id, buildStep.message, 'done')
      const phase = record.status === 'pending' ? record.phase ?? 'release' : undefined
      if (phase !== shownPhase) {
        if (shownPhase) row(`release:${shownPhase}`, phaseMessage(shownPhase, record.version), record.status === 'failed' ? 'failed' : 'done')
        if (phase) row(`release:${phase}`, phaseMessage(phase, record.version), 'start')
        shownPhase = phase
      }
    }

    const failedAction = actions.find((a) => a.status === 'Failed')
    if (run.status === 'Succeeded' || FAILED_RUN.has(run.status) || failedAction || record?.status === 'failed') {
      // The build log may still hold the last lines.
      if (buildId) await copyBuildLog()
      record = await findRecord()
      if (run.status === 'Succeeded' && record?.status === 'succeeded') {
        if (shownPhase) row(`release:${shownPhase}`, phaseMessage(shownPhase, record.version), 'done')
        row('live', `v${record.version} is live`, 'done')
        return toRelease(record, record.version)
      }

      // The release record is written just before the build ends; give it a few polls to appear.
      const recordLate = run.status !== 'Failed' && !failedAction && (!record || record.status === 'pending') && ++settledPolls < 5
      if (!recordLate) {
        if (shownPhase) row(`release:${shownPhase}`, phaseMessage(shownPhase, record?.version), 'failed')
        else if (!record && buildId) row(buildStep.id, buildStep.message, 'failed')
        const reason = record?.failure ?? (build ? buildFailure(build) : undefined) ?? failedAction?.error ?? run.summary ?? `the pipeline run ended ${run.status}`
        // The release records the failing process's last lines and where the rest is.
        const output = record?.status === 'failed' ? record.failureOutput : undefined
        throw new HerogateError(`Deploy of ${f.head.slice(0, 7)} to ${f.app} failed: ${reason}.`, {
          details: failureDetails(output),
          suggestions: record
            ? [output?.more ?? `herogate logs --source herogate -a ${f.app}`, `herogate releases:info v${record.version} -a ${f.app}`]
            : [`herogate logs --source herogate -a ${f.app}`, `herogate releases -a ${f.app}`],
        })
      }
    }

    if (ctx.clock.now().getTime() - started > DEPLOY_TIMEOUT_MS) {
      throw new HerogateError(`Deploy of ${f.head.slice(0, 7)} is still running after ${DEPLOY_TIMEOUT_MS / 60_000} minutes; it goes on without herogate watching.`, {
        suggestions: [`herogate releases -a ${f.app}`, `herogate logs --source herogate -t -a ${f.app}`],
      })
    }

    await ctx.clock.sleep(DEPLOY_POLL_MS, f.signal)
  }
}

function phaseMessage(phase: string, version?: number): string {
  const v = version === undefined ? '' : ` v${version}`
  if (phase === 'release phase') return `Running the release command of${v}`
  if (phase === 'rollout') return `Rolling out${v}`
  return `Releasing${v}`
}
