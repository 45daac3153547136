import type {EcsService, Task} from '../../aws/ecs.js'
import {taskId} from '../../aws/ecs.js'
import {ScheduleNotFound, type ScheduleInput, SchedulerService} from '../../aws/scheduler.js'
import {HerogateError, InvalidInput} from '../../lib/errors.js'
import {names} from '../../lib/naming.js'
import {shellQuote} from '../../lib/shell.js'
import {nextRun} from '../../lib/schedule.js'
import type {DeclaredJob} from '../../aws/release-store.js'
import {jobId, jobRefusals, type JobRun, type JobSource, type JobSpec, type ScheduledJob, validateJob} from '../scheduler.js'
import type {OperationOptions, Progress} from '../types.js'
import type {AwsContext} from './context.js'
import {ecsService, runName, SCHEDULER_TYPE} from './formation.js'
import {withAppLock} from './lock.js'
import {appTaskSecurityGroup} from './app-upgrade.js'
import {type AppResources, appResources, stacksOf} from './resources.js'
import {oneOffSpec, servingSpec} from './run.js'
import {type ProcessSpec, specFromTaskDefinition, taskDefinitionInput} from './taskdef.js'

/**
 * Scheduled jobs on AWS: one EventBridge Scheduler schedule per job in the app's schedule group
 * (names.scheduleGroup), named by the job's id, whose target is ECS RunTask of a task definition
 * of the app's scheduler family: the current release's image and config, the job's command and
 * size, Fargate in the app's network. Every release registers new definitions and points the
 * schedules at them (syncJobs, from apply.ts), adding app.json's jobs and removing those it
 * no longer declares. Runs are tasks of that family, grouped by job (scheduler:ID): ps lists
 * them, logs shows them as scheduler.<task id>, and the newest stopped one is the last run.
 */

/** What a schedule's description holds besides its expression (EventBridge allows 512 characters). */
interface JobMeta {
  command: string
  size?: string
  source: JobSource
  createdAt: string
}

const DESCRIPTION_MAX = 512
/** A run that could not be started (capacity, permissions) is tried again a few times within the hour, not all day. */
const RETRY_POLICY = {MaximumEventAgeInSeconds: 3600, MaximumRetryAttempts: 3}

const jobGroup = (id: string) => `${SCHEDULER_TYPE}:${id}`

async function schedulerOf(ctx: AwsContext): Promise<SchedulerService> {
  return new SchedulerService(await ctx.clients.scheduler())
}

function description(meta: JobMeta): string {
  const text = JSON.stringify(meta)
  if (text.length > DESCRIPTION_MAX) {
    throw new InvalidInput(`The command is too long for a scheduled job on AWS (${meta.command.length} characters; about ${DESCRIPTION_MAX - 100} fit).`, {
      suggestions: ['put the command in a script in the repo and schedule the script'],
    })
  }

  return text
}

function metaOf(text: string): JobMeta | undefined {
  try {
    const meta = JSON.parse(text) as JobMeta
    return typeof meta.command === 'string' ? meta : undefined
  } catch {
    return undefined
  }
}

/** The base of every job's task definition: the image, config and size of a release's process type. */
async function releaseSpec(ecs: EcsService, definitionArn: string): Promise<ProcessSpec> {
  const definition = await ecs.taskDefinition(definitionArn)
  if (!definition) throw new HerogateError(`The task definition ${definitionArn} of the current release is gone.`)
  return specFromTaskDefinition(definition.containerDefinitions?.[0]?.name ?? 'web', definition)
}

/** Registers the task definition a job runs: the release's image and config, the job's command and size. */
async function jobDefinition(ecs: EcsService, resources: AppResources, base: ProcessSpec, job: {command: string; size?: string}): Promise<string> {
  const registered = await ecs.registerTaskDefinition(taskDefinitionInput(resources.app, resources, oneOffSpec(base, SCHEDULER_TYPE, job.size, job.command)))
  return registered.taskDefinitionArn!
}

function roleMissing(resources: AppResources): string {
  return `${resources.app} was created before herogate had scheduled jobs: its stack has no role for EventBridge Scheduler`
}

/**
 * An app made before scheduled jobs (and before apps had security groups of their own) has no
 * role for EventBridge Scheduler: its stack is updated to the current template first, as its
 * first add-on would do (app-upgrade.ts), and says so.
 */
export async function withSchedulerRole(ctx: AwsContext, app: string, resources: AppResources, spec: JobSpec, progress: Progress): Promise<AppResources> {
  if (resources.schedulerRoleArn) return resources
  const stacks = await stacksOf(ctx)
  const platform = await stacks.describe(names.platformStack())
  if (!platform) return resources
  const retry = `herogate scheduler:add ${shellQuote(spec.schedule)}${spec.size ? ` --size ${spec.size}` : ''} -- ${spec.command} -a ${app}`
  const {upgraded} = await appTaskSecurityGroup(ctx, stacks, app, resources.securityGroup, platform, {onProgress: progress, retry, notMade: 'no job was scheduled'})
  return upgraded ? appResources(ctx, app) : resources
}

function requireRole(resources: AppResources): string {
  if (resources.schedulerRoleArn) return resources.schedulerRoleArn
  throw new HerogateError(`${roleMissing(resources)}.`, {
    suggestions: [`herogate create NEW-NAME --region ${resources.region} (a new app has it), then move the app's config and code there`],
  })
}

/** The cluster's ARN, from the account and partition of the app's roles (a target names its cluster by ARN). */
function clusterArn(resources: AppResources): string {
  if (resources.cluster.startsWith('arn:')) return resources.cluster
  const [, partition, , , account] = resources.executionRoleArn.split(':')
  return `arn:${partition}:ecs:${resources.region}:${account}:cluster/${resources.cluster}`
}

function scheduleInput(resources: AppResources, role: string, id: string, expression: string, meta: JobMeta, taskDefinitionArn: string): ScheduleInput {
  return {
    ScheduleExpression: expression,
    ScheduleExpressionTimezone: 'UTC',
    FlexibleTimeWindow: {Mode: 'OFF'},
    State: 'ENABLED',
    Description: description(meta),
    Target: {
      Arn: clusterArn(resources),
      RoleArn: role,
      RetryPolicy: RETRY_POLICY,
      EcsParameters: {
        TaskDefinitionArn: taskDefinitionArn,
        TaskCount: 1,
        LaunchType: 'FARGATE',
        Group: jobGroup(id),
        EnableECSManagedTags: true,
        PropagateTags: 'TASK_DEFINITION',
        NetworkConfiguration: {awsvpcConfiguration: {Subnets: resources.subnets, SecurityGroups: [resources.securityGroup], AssignPublicIp: 'ENABLED'}},
      },
    },
  }
}

interface Existing {
  id: string
  expression: string
  meta: JobMeta
}

async function existingJobs(scheduler: SchedulerService, app: string): Promise<Existing[]> {
  const group = names.scheduleGroup(app)
  const found: Existing[] = []
  for (const name of await scheduler.list(group)) {
    const schedule = await scheduler.get(group, name).catch((error: unknown) => {
      // Removed between the listing and the read.
      if (error instanceof ScheduleNotFound) return undefined
      throw error
    })
    const meta = schedule && metaOf(schedule.description)
    // Schedules herogate did not make (no description of its own) are left alone.
    if (schedule && meta) found.push({id: name, expression: schedule.expression, meta})
  }

  return found
}

/** The newest run of each job, from the tasks ECS still shows (running ones, and stopped ones for about an hour). */
async function lastRuns(ecs: EcsService, resources: AppResources): Promise<Map<string, JobRun>> {
  const family = names.taskFamily(resources.app, SCHEDULER_TYPE)
  const arns = [
    ...(await ecs.listTasks(resources.cluster, {family})),
    ...(await ecs.listTasks(resources.cluster, {family, desiredStatus: 'STOPPED'})),
  ]
  const tasks = arns.length === 0 ? [] : await ecs.describeTasks(resources.cluster, [...new Set(arns)])
  const newest = new Map<string, Task>()
  const started = (task: Task) => (task.startedAt ?? task.createdAt)?.getTime() ?? 0
  for (const task of tasks) {
    const id = task.group?.startsWith(`${SCHEDULER_TYPE}:`) ? task.group.slice(SCHEDULER_TYPE.length + 1) : undefined
    if (!id) continue
    const seen = newest.get(id)
    if (!seen || started(task) > started(seen)) newest.set(id, task)
  }

  return new Map([...newest].map(([id, task]) => [id, runOf(task)]))
}

function runOf(task: Task): JobRun {
  const container = task.containers?.find((c) => c.name === SCHEDULER_TYPE) ?? task.containers?.[0]
  const startedAt = (task.startedAt ?? task.createdAt ?? new Date(0)).toISOString()
  const name = runName(taskId(task.taskArn!), SCHEDULER_TYPE)
  if (task.lastStatus !== 'STOPPED') return {name, startedAt, status: 'running'}
  const exitCode = container?.exitCode
  const stopReason = task.stoppedReason ?? container?.reason
  return {
    name, startedAt, status: exitCode === 0 ? 'succeeded' : 'failed',
    ...(exitCode === undefined ? {} : {exitCode}),
    ...(exitCode !== 0 && stopReason ? {stopReason} : {}),
  }
}

function toJob(job: Existing, now: Date, run: JobRun | undefined): ScheduledJob {
  const next = nextRun(job.expression, now, new Date(job.meta.createdAt))
  return {
    id: job.id, schedule: job.expression, command: job.meta.command, ...(job.meta.size ? {size: job.meta.size} : {}),
    source: job.meta.source, createdAt: job.meta.createdAt,
    ...(next ? {nextRun: next.toISOString()} : {}),
    ...(run ? {lastRun: run} : {}),
  }
}

export async function scheduledJobs(ctx: AwsContext, app: string): Promise<ScheduledJob[]> {
  const resources = await appResources(ctx, app)
  const [jobs, runs] = await Promise.all([existingJobs(await schedulerOf(ctx), app), lastRuns(await ecsService(ctx), resources)])
  const now = ctx.clock.now()
  return jobs.sort((a, b) => a.meta.createdAt.localeCompare(b.meta.createdAt) || a.id.localeCompare(b.id)).map((job) => toJob(job, now, runs.get(job.id)))
}

/**
 * Adds a job under the app's lock (a claim that makes no release, as a size change takes it):
 * a release going live at the same time moves every job, this one included, or none.
 */
export async function addScheduledJob(ctx: AwsContext, app: string, spec: JobSpec, options: OperationOptions = {}): Promise<ScheduledJob> {
  const job = validateJob(spec)
  const id = jobId(job.schedule, job.command, job.size)
  const meta: JobMeta = {command: job.command, ...(job.size ? {size: job.size} : {}), source: 'cli', createdAt: ctx.clock.now().toISOString()}
  description(meta)
  const resources = await withSchedulerRole(ctx, app, await appResources(ctx, app), spec, options.onProgress ?? (() => {}))
  const role = requireRole(resources)
  const scheduler = await schedulerOf(ctx)
  return withAppLock(ctx, app, 'scheduler:add', async () => {
    const existing = (await existingJobs(scheduler, app)).find((other) => other.id === id)
    if (existing) throw jobRefusals.twice(app, id, existing.meta.source)
    const ecs = await ecsService(ctx)
    const definition = await jobDefinition(ecs, resources, await servingSpec(ecs, resources), job)
    await scheduler.create(names.scheduleGroup(app), id, scheduleInput(resources, role, id, job.schedule, meta, definition), [{Key: names.appTag(), Value: app}])
    return toJob({id, expression: job.schedule, meta}, ctx.clock.now(), undefined)
  })
}

export async function removeScheduledJob(ctx: AwsContext, app: string, id: string): Promise<ScheduledJob> {
  await appResources(ctx, app)
  const scheduler = await schedulerOf(ctx)
  return withAppLock(ctx, app, 'scheduler:remove', async () => {
    const job = (await existingJobs(scheduler, app)).find((other) => other.id === id)
    if (!job) throw jobRefusals.unknown(app, id)
    if (job.meta.source === 'app.json') throw jobRefusals.declared(app, id)
    await scheduler.delete(names.scheduleGroup(app), id)
    return toJob(job, ctx.clock.now(), undefined)
  })
}

/**
 * Points every job at a release that has just succeeded: a new task definition per job from
 * the release's image and config, app.json's jobs (`declared`) added or removed to match it.
 * Called under the app lock (apply.ts finish), so two releases never sync at once.
 */
export async function syncJobs(ctx: AwsContext, resources: AppResources, taskDefinitions: Record<string, string>, declared: DeclaredJob[]): Promise<string[]> {
  const {app} = resources
  // No role, no schedules: the app's stack predates scheduled jobs, and none can have been added.
  if (!resources.schedulerRoleArn) return declared.length > 0 ? [`app.json's scheduled jobs were not scheduled: ${roleMissing(resources)}`] : []
  const role = resources.schedulerRoleArn
  const scheduler = await schedulerOf(ctx)
  const existing = await existingJobs(scheduler, app)
  if (existing.length === 0 && declared.length === 0) return []
  const ecs = await ecsService(ctx)
  const baseArn = taskDefinitions.web ?? Object.values(taskDefinitions)[0]
  const base = await releaseSpec(ecs, baseArn)
  const group = names.scheduleGroup(app)
  const definitions = new Map<string, Promise<string>>()
  const definitionFor = (job: {command: string; size?: string}) => {
    const key = JSON.stringify([job.command, job.size ?? null])
    if (!definitions.has(key)) definitions.set(key, jobDefinition(ecs, resources, base, job))
    return definitions.get(key)!
  }

  const notes: string[] = []
  for (const job of existing) {
    if (job.meta.source === 'app.json' && !declared.some((d) => d.id === job.id)) {
      await scheduler.delete(group, job.id).catch((error: unknown) => {
        if (!(error instanceof ScheduleNotFound)) throw error
      })
      notes.push(`Scheduled job ${job.id} (${job.meta.command}) is no longer in app.json: removed`)
      continue
    }

    await scheduler.update(group, job.id, scheduleInput(resources, role, job.id, job.expression, job.meta, await definitionFor(job.meta)))
  }

  const now = ctx.clock.now().toISOString()
  for (const job of declared.filter((d) => !existing.some((e) => e.id === d.id))) {
    const meta: JobMeta = {command: job.command, ...(job.size ? {size: job.size} : {}), source: 'app.json', createdAt: now}
    await scheduler.create(group, job.id, scheduleInput(resources, role, job.id, job.schedule, meta, await definitionFor(job)), [{Key: names.appTag(), Value: app}])
    notes.push(`Scheduled job ${job.id} from app.json: ${job.schedule} ${job.command}`)
  }

  return notes
}
