import {EcsService, type ServiceInfo, type Task, type TaskDefinition, taskId} from '../../aws/ecs.js'
import {HerogateError, InvalidInput} from '../../lib/errors.js'
import {deployHint, noCodeYet, processTypeHints} from '../../lib/hints.js'
import {names, PROCESS_TYPE} from '../../lib/naming.js'
import {applyScale} from '../../lib/parse.js'
import {sizeFor, sizeSpec} from '../../lib/sizes.js'
import type {OperationOptions, ProcessFormation, ProcessInfo, ScaleChange, ScaleResult} from '../types.js'
import type {AwsContext} from './context.js'
import {withAppLock} from './lock.js'
import {type AppResources, appResources, taskNetwork} from './resources.js'
import {type ProcessSpec, specFromTaskDefinition, taskDefinitionInput} from './taskdef.js'

/** The app's infrastructure: ctx.appResources when set (tests, benches), else read from its stacks. */
export async function ecsService(ctx: AwsContext): Promise<EcsService> {
  return new EcsService(await ctx.clients.ecs())
}

/** ECS startedBy of one-off tasks (ps lists them; the value allows letters, digits, - / _). */
export function runStartedBy(app: string): string {
  return `herogate-run/${app}`
}

/** The process type of one-off tasks: their own task definition family, so their logs read run/run/<id>. */
export const RUN_TYPE = 'run'

/** Name of a one-off process: run.<first 7 characters of its task id>, the same in ps, run and logs. */
export function runName(id: string, type = RUN_TYPE): string {
  return `${type}.${taskId(id).slice(0, 7)}`
}

/** The process type (and task definition family) of scheduled jobs' runs: scheduler.<task id>, as one-off tasks are named. */
export const SCHEDULER_TYPE = 'scheduler'

interface Process {
  service: ServiceInfo
  definition: TaskDefinition
  spec: ProcessSpec
}

/** Services and their current task definitions; `types` defaults to every process type of the app. */
async function processes(ecs: EcsService, resources: AppResources, types?: string[]): Promise<Process[]> {
  const services = await ecs.services(resources.cluster, resources.app, types ?? (await ecs.processTypes(resources.cluster, resources.app)))
  return Promise.all(
    services.map(async (service) => {
      const definition = await ecs.taskDefinition(service.taskDefinition)
      if (!definition) throw new HerogateError(`Task definition ${service.taskDefinition} of ${service.name} is missing.`, {suggestions: [`${deployHint(resources.app)} (deploys again)`]})
      return {service, definition, spec: specFromTaskDefinition(service.type, definition)}
    }),
  )
}

function formationOf(process: Process, quantity = process.service.desiredCount, spec = process.spec): ProcessFormation {
  return {type: process.service.type, quantity, size: spec.size, ...(spec.command ? {command: spec.command.join(' ')} : {})}
}

/**
 * Until the first deploy, the app stack's web service runs a placeholder task definition (no
 * release): that is no process type of the app, which has none yet.
 */
function released(process: Process): boolean {
  return process.spec.release !== undefined
}

export async function formation(ctx: AwsContext, app: string): Promise<ProcessFormation[]> {
  const resources = await appResources(ctx, app)
  return (await processes(await ecsService(ctx), resources)).filter(released).map((process) => formationOf(process))
}

/**
 * Refuses unknown process types, saying which the app has and where they come from (its
 * current release's Procfile, or none): one read of the release history, only on this error path.
 */
export async function unknownTypes(ctx: AwsContext, resources: AppResources, wanted: string[], found: string[]): Promise<void> {
  const missing = wanted.filter((type) => !found.includes(type))
  if (missing.length === 0) return
  const {releaseStore} = await import('./releases.js')
  const current = await (await releaseStore(ctx)).current(resources.app, ctx.clock.now())
  // Before the first deploy the app has no process type at all (its web service runs a placeholder).
  if (!current?.taskDefinitions) throw noCodeYet(resources.app)
  const {release: _release, ...types} = current.processTypes ?? {}
  // Without a Procfile, the release code records web with no command: the image's own.
  const source = Object.keys(types).length === 1 && types.web === '' ? 'image' : 'Procfile'
  throw new InvalidInput(`Unknown process type${missing.length > 1 ? 's' : ''} ${missing.join(', ')} in ${resources.app}.`, {
    suggestions: processTypeHints(resources.app, Object.keys(types), source),
  })
}

/**
 * ps:scale. Every change is checked (types, sizes, counts) before anything is changed; a
 * size change registers a new task definition revision and updates the service with it.
 * Returns the formation of the process types that were named.
 */
export async function scale(ctx: AwsContext, app: string, changes: ScaleChange[], options: OperationOptions = {}): Promise<ScaleResult> {
  if (changes.length === 0) throw new InvalidInput('No process types given.', {suggestions: ['herogate scale web=2 worker=1']})
  for (const change of changes) {
    if (!PROCESS_TYPE.test(change.type)) throw new InvalidInput(`"${change.type}" is not a process type name.`)
    if (change.size !== undefined) sizeSpec(change.size)
  }

  const resources = await appResources(ctx, app)
  const ecs = await ecsService(ctx)
  const types = changes.map((change) => change.type)
  const current = (await processes(ecs, resources, types)).filter(released)
  await unknownTypes(ctx, resources, types, current.map((p) => p.service.type))
  const plan = changes.map((change) => {
    const process = current.find((p) => p.service.type === change.type)!
    const quantity = applyScale(process.service.desiredCount, change)
    const spec = change.size && change.size !== process.spec.size ? {...process.spec, size: change.size} : undefined
    return {process, quantity, spec}
  })

  const apply = async () => {
    // Register every new revision first: a refused size changes no service.
    const registered = new Map<string, string>()
    for (const {process, spec} of plan) {
      if (!spec) continue
      const definition = await ecs.registerTaskDefinition(taskDefinitionInput(app, resources, spec))
      registered.set(process.service.type, definition.taskDefinitionArn!)
    }

    for (const {process, quantity} of plan) {
      const id = `scale:${process.service.type}`
      options.onProgress?.({kind: 'step', id, message: `Scaling ${process.service.type} to ${quantity}`, status: 'start'})
      const taskDefinition = registered.get(process.service.type)
      await ecs.updateService(resources.cluster, process.service.name, {desiredCount: quantity, ...(taskDefinition ? {taskDefinition} : {})})
      options.onProgress?.({kind: 'step', id, message: `Scaling ${process.service.type} to ${quantity}`, status: 'done'})
    }
  }

  // A new size is a new task definition revision: made under the app's lock, so that a deploy,
  // config change or rollback in progress does not register over it. Counts need no lock.
  if (plan.some((p) => p.spec)) await withAppLock(ctx, app, 'ps:scale', apply, {onProgress: options.onProgress})
  else await apply()
  return {formation: plan.map(({process, quantity, spec}) => formationOf(process, quantity, spec ?? process.spec)), notes: []}
}

export async function ps(ctx: AwsContext, app: string): Promise<ProcessInfo[]> {
  const resources = await appResources(ctx, app)
  const ecs = await ecsService(ctx)
  return psWith(ecs, resources, await ecs.processTypes(resources.cluster, app))
}

async function psWith(ecs: EcsService, resources: AppResources, types: string[]): Promise<ProcessInfo[]> {
  const {cluster, app} = resources
  const [serviceTasks, runTasks, jobTasks] = await Promise.all([
    Promise.all(types.map((type) => ecs.listTasks(cluster, {serviceName: names.service(app, type)}))),
    ecs.listTasks(cluster, {startedBy: runStartedBy(app)}),
    ecs.listTasks(cluster, {family: names.taskFamily(app, SCHEDULER_TYPE)}),
  ])
  const typeOfTask = new Map<string, string>()
  for (const [i, arns] of serviceTasks.entries()) for (const arn of arns) typeOfTask.set(arn, types[i])
  for (const arn of runTasks) typeOfTask.set(arn, RUN_TYPE)
  for (const arn of jobTasks) typeOfTask.set(arn, SCHEDULER_TYPE)
  const tasks = await ecs.describeTasks(cluster, [...typeOfTask.keys()])

  const definitions = new Map<string, Promise<TaskDefinition | undefined>>()
  for (const task of tasks) {
    const arn = task.taskDefinitionArn
    if (arn && !definitions.has(arn)) definitions.set(arn, ecs.taskDefinition(arn))
  }

  const infos: ProcessInfo[] = []
  for (const type of [...types, RUN_TYPE, SCHEDULER_TYPE]) {
    const ofType = tasks.filter((task) => typeOfTask.get(task.taskArn!) === type).sort(byStart)
    for (const [i, task] of ofType.entries()) {
      const definition = task.taskDefinitionArn ? await definitions.get(task.taskDefinitionArn) : undefined
      const oneOff = type === RUN_TYPE || type === SCHEDULER_TYPE
      infos.push(processInfo(task, type, oneOff ? runName(task.taskArn!, type) : `${type}.${i + 1}`, definition))
    }
  }

  return infos
}

/** Stable numbering: oldest first (startedAt, then createdAt), ties by task id. */
function byStart(a: Task, b: Task): number {
  const time = (task: Task) => (task.startedAt ?? task.createdAt)?.getTime() ?? Number.MAX_SAFE_INTEGER
  return time(a) - time(b) || (a.taskArn ?? '').localeCompare(b.taskArn ?? '')
}

function processInfo(task: Task, type: string, name: string, definition: TaskDefinition | undefined): ProcessInfo {
  const spec = definition ? specFromTaskDefinition(type, definition) : undefined
  const override = task.overrides?.containerOverrides?.find((c) => c.command)?.command
  const command = override ?? spec?.command
  const health = task.healthStatus === 'HEALTHY' ? 'healthy' : task.healthStatus === 'UNHEALTHY' ? 'unhealthy' : 'unknown'
  return {
    name,
    type,
    id: taskId(task.taskArn ?? ''),
    status: (task.lastStatus ?? 'unknown').toLowerCase(),
    health,
    ...(spec?.release === undefined ? {} : {release: spec.release}),
    size: task.cpu && task.memory ? sizeFor(task.cpu, task.memory) : (spec?.size ?? 'unknown'),
    ...(task.startedAt ? {startedAt: task.startedAt.toISOString()} : {}),
    ...(command ? {command: command.join(' ')} : {}),
  }
}

/** ps:restart: a new deployment of the service(s); ECS replaces every task with a fresh one. */
export async function restart(ctx: AwsContext, app: string, processType?: string, options: OperationOptions = {}): Promise<ProcessInfo[]> {
  if (processType !== undefined && !PROCESS_TYPE.test(processType)) throw new InvalidInput(`"${processType}" is not a process type name.`)
  const resources = await appResources(ctx, app)
  const ecs = await ecsService(ctx)
  const types = await ecs.processTypes(resources.cluster, app)
  if (processType !== undefined) await unknownTypes(ctx, resources, [processType], types)
  if (types.length === 0) throw new HerogateError(`${app} has no processes yet.`, {suggestions: [deployHint(app)]})
  const restarting = processType === undefined ? types : [processType]
  for (const type of restarting) {
    options.onProgress?.({kind: 'step', id: `restart:${type}`, message: `Restarting ${type}`, status: 'start'})
    // Restarted processes start in the app's own security group (an app upgraded since its last release: app-upgrade.ts).
    await ecs.updateService(resources.cluster, names.service(app, type), {forceNewDeployment: true, networkConfiguration: taskNetwork(resources)})
    options.onProgress?.({kind: 'step', id: `restart:${type}`, message: `Restarting ${type}`, status: 'done'})
  }

  return psWith(ecs, resources, types)
}

const PROCESS_NAME = /^[A-Za-z0-9_]{1,30}\.[A-Za-z0-9]{1,7}$/
const TASK_ID = /^(arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d+:task\/[A-Za-z0-9_-]+\/)?[A-Za-z0-9-]{8,64}$/

/** ps:stop: StopTask with a reason; accepts a task id (or ARN) or a process name such as web.1. A service replaces it. */
export async function stop(ctx: AwsContext, app: string, id: string): Promise<void> {
  if (!PROCESS_NAME.test(id) && !TASK_ID.test(id)) {
    throw new InvalidInput(`"${id}" is neither a process name (web.1) nor an ECS task id.`, {suggestions: [`herogate ps -a ${app}`]})
  }

  const resources = await appResources(ctx, app)
  const ecs = await ecsService(ctx)
  let target: string | undefined
  if (PROCESS_NAME.test(id)) {
    const found = (await psWith(ecs, resources, await ecs.processTypes(resources.cluster, app))).find((p) => p.name === id)
    target = found?.id
  } else {
    const [task] = await ecs.describeTasks(resources.cluster, [id])
    if (task && belongsTo(app, task)) target = taskId(task.taskArn!)
  }

  if (!target) throw new InvalidInput(`No process ${id} in ${app}.`, {suggestions: [`herogate ps -a ${app}`]})
  await ecs.stopTask(resources.cluster, target, 'Stopped with herogate ps:stop')
}

/** Whether a task is one of the app's: started by its service or as its one-off task. */
function belongsTo(app: string, task: Task): boolean {
  if (task.startedBy === runStartedBy(app)) return true
  const service = task.group?.startsWith('service:') ? task.group.slice('service:'.length) : undefined
  if (service?.startsWith(names.service(app, '')) && PROCESS_TYPE.test(service.slice(names.service(app, '').length))) return true
  const family = task.taskDefinitionArn?.split('/').pop()?.split(':')[0]
  const prefix = names.taskFamily(app, '')
  return Boolean(family?.startsWith(prefix) && PROCESS_TYPE.test(family.slice(prefix.length)))
}
