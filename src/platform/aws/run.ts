import {type EcsService, taskId, type TaskDefinition} from '../../aws/ecs.js'
import {LogsService} from '../../aws/logs.js'
import {HerogateError, InvalidInput} from '../../lib/errors.js'
import {deployHint} from '../../lib/hints.js'
import {names} from '../../lib/naming.js'
import {sizeSpec} from '../../lib/sizes.js'
import type {RunOptions, RunResult} from '../types.js'
import type {AwsContext} from './context.js'
import {ecsService, RUN_TYPE, runName, runStartedBy} from './formation.js'
import {type AppResources, appResources, taskNetwork, WEB_PORT} from './resources.js'
import {containerName, type ProcessSpec, specFromTaskDefinition, taskDefinitionInput} from './taskdef.js'

/** How often a running one-off task and its log stream are read. */
export const RUN_POLL_MS = 1000
/** awslogs flushes a few seconds after the container exits: read the stream a little longer. */
const FINAL_READS = 3
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/
/** Buildpack images run a one-off command through the lifecycle launcher, which sets up their environment. */
const CNB_LAUNCHER = '/cnb/lifecycle/launcher'

/**
 * run: a one-off ECS task with the app's image, config and network. Its own task definition
 * family (names.taskFamily(app, 'run'), the web definition with type "run") keeps its log
 * stream apart (run/run/<task id>); the revision is reused while image, config and size match.
 * Output is read from that stream while the task runs; the result carries the container's exit code.
 */
export async function run(ctx: AwsContext, app: string, options: RunOptions): Promise<RunResult> {
  if (options.command.length === 0) throw new InvalidInput('No command given.', {suggestions: ['herogate run bash']})
  if (options.size !== undefined) sizeSpec(options.size)
  for (const key of Object.keys(options.env)) {
    if (!ENV_NAME.test(key)) throw new InvalidInput(`"${key}" is not an environment variable name.`)
  }

  const resources = await appResources(ctx, app)
  const ecs = await ecsService(ctx)
  const definition = await runDefinition(ctx, resources, options.size)
  const buildpack = definition.containerDefinitions?.[0]?.entryPoint?.[0] === CNB_LAUNCHER
  const line = options.command.join(' ')
  // As Heroku says it: `Running rake db:migrate on demo... up, run.1a2b3c4`.
  const running = (status: 'start' | 'done' | 'failed', detail?: string) =>
    options.onProgress?.({kind: 'step', id: 'run', message: `Running ${line} on ${app}`, status, ...(detail ? {detail} : {})})
  running('start')
  const task = await ecs.runTask({
    cluster: resources.cluster,
    taskDefinition: definition.taskDefinitionArn,
    launchType: 'FARGATE',
    count: 1,
    startedBy: runStartedBy(app),
    enableECSManagedTags: true,
    tags: [{key: names.appTag(), value: app}],
    networkConfiguration: taskNetwork(resources),
    overrides: {
      containerOverrides: [
        {
          name: containerName(RUN_TYPE),
          command: buildpack ? [line] : ['sh', '-c', line],
          // PORT as on Heroku's one-off dynos: a server started by `run` listens where it would in a web process.
          environment: Object.entries({PORT: String(WEB_PORT), ...options.env}).map(([name, value]) => ({name, value})),
        },
      ],
    },
  }).catch((error: unknown) => {
    running('failed')
    throw error
  })
  const id = taskId(task.taskArn!)
  const name = runName(id)
  if (options.detached) {
    running('done', `starting, ${name}`)
    return {id, name, detached: true}
  }

  const logs = new LogsService(await ctx.clients.logs())
  const stream = `${names.logStreamPrefix(RUN_TYPE)}/${containerName(RUN_TYPE)}/${id}`
  let token: string | undefined
  const drain = async () => {
    for (;;) {
      const page = await logs.readStream(resources.logGroup, stream, token)
      for (const event of page.events) options.stdout.write(event.message.endsWith('\n') ? event.message : `${event.message}\n`)
      const moved = page.nextToken !== token
      token = page.nextToken
      if (!moved || page.events.length === 0) return
    }
  }

  let up = false
  for (;;) {
    if (options.signal?.aborted) {
      await ecs.stopTask(resources.cluster, id, 'Interrupted with Ctrl-C in herogate run')
      await drain()
      options.onProgress?.({kind: 'step', id: 'run', message: `Stopped ${name}`, status: 'failed'})
      return {id, name, detached: false, interrupted: true, stopReason: 'interrupted by the user'}
    }

    const [current] = await ecs.describeTasks(resources.cluster, [id])
    if (current?.lastStatus === 'RUNNING' && !up) {
      up = true
      running('done', `up, ${name}`)
    }

    await drain()
    if (!current || current.lastStatus === 'STOPPED') {
      for (let i = 0; i < FINAL_READS; i++) {
        await drain()
        if (i < FINAL_READS - 1) await ctx.clock.sleep(RUN_POLL_MS).catch(() => undefined)
      }

      const container = current?.containers?.find((c) => c.name === containerName(RUN_TYPE)) ?? current?.containers?.[0]
      const exitCode = container?.exitCode
      const stopReason = current?.stoppedReason ?? container?.reason ?? (current ? undefined : 'the task disappeared')
      const failed = exitCode === undefined
      // Stopped between two looks: it ran when it has an exit code.
      if (!up) running(failed ? 'failed' : 'done', `${failed ? 'did not start' : 'up'}, ${name}`)
      options.onProgress?.({kind: 'step', id: 'run', message: `${name} ${failed ? 'did not run' : `exited with ${exitCode}`}`, status: failed || exitCode !== 0 ? 'failed' : 'done'})
      return {id, name, detached: false, ...(exitCode === undefined ? {} : {exitCode}), ...(failed && stopReason ? {stopReason} : {})}
    }

    await ctx.clock.sleep(RUN_POLL_MS, options.signal).catch(() => undefined)
  }
}

/** The current release's spec, from its web service (else its first process type); refused before the first release. */
export async function servingSpec(ecs: EcsService, resources: AppResources): Promise<ProcessSpec> {
  const {app, cluster} = resources
  let [base] = await ecs.services(cluster, app, ['web'])
  if (!base) {
    const types = await ecs.processTypes(cluster, app)
    if (types.length > 0) [base] = await ecs.services(cluster, app, [types[0]])
  }

  const baseDefinition = base ? await ecs.taskDefinition(base.taskDefinition) : undefined
  // The app stack's placeholder definition (before the first deploy) carries no release.
  const from = base && baseDefinition ? specFromTaskDefinition(base.type, baseDefinition) : undefined
  if (!from || from.release === undefined) {
    throw new HerogateError(`${app} has no release yet, so there is no image to run.`, {suggestions: [deployHint(app)]})
  }

  return from
}

/**
 * A one-off process of a release (run, scheduled jobs): its image, config and release, the
 * given size, and the command, if given, as `sh -c` runs it (buildpack images: through the launcher).
 */
export function oneOffSpec(from: ProcessSpec, processType: string, size: string | undefined, command?: string): ProcessSpec {
  const buildpack = from.entryPoint?.[0]?.startsWith('/cnb/')
  return {
    processType,
    image: from.image,
    ...(command === undefined ? {} : {command: buildpack ? [command] : ['sh', '-c', command]}),
    size: size ?? from.size,
    configKeys: from.configKeys,
    ...(from.emptyKeys ? {emptyKeys: from.emptyKeys} : {}),
    ...(buildpack ? {entryPoint: [CNB_LAUNCHER]} : {}),
    ...(from.release === undefined ? {} : {release: from.release}),
  }
}

/** The run family's newest revision when it matches the web process's image, config and the size; else a new revision. */
async function runDefinition(ctx: AwsContext, resources: AppResources, size: string | undefined): Promise<TaskDefinition> {
  const ecs = await ecsService(ctx)
  const wanted = oneOffSpec(await servingSpec(ecs, resources), RUN_TYPE, size)
  const existing = await ecs.taskDefinition(names.taskFamily(resources.app, RUN_TYPE))
  if (existing && sameSpec(specFromTaskDefinition(RUN_TYPE, existing), wanted) && existing.executionRoleArn === resources.executionRoleArn) return existing
  return ecs.registerTaskDefinition(taskDefinitionInput(resources.app, resources, wanted))
}

function sameSpec(a: ProcessSpec, b: ProcessSpec): boolean {
  const norm = (s: ProcessSpec) =>
    JSON.stringify([s.image, s.size, [...s.configKeys].sort(), [...(s.emptyKeys ?? [])].sort(), s.entryPoint ?? [], s.release ?? null])
  return norm(a) === norm(b)
}
