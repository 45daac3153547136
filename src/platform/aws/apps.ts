import {readFile} from 'node:fs/promises'
import {fileURLToPath} from 'node:url'

import {ArtifactBucket} from '../../aws/artifacts.js'
import {deleteLogGroups, deleteParametersByPath, deleteService, deregisterTaskDefinitions, stillStopping, stopOneOffTasks} from '../../aws/cleanup.js'
import {CloudFormation, StackFailed, type StackSummary, templateResources, WaitAborted, type WaitOptions} from '../../aws/cloudformation.js'
import {clusterServices, type ServiceCounts} from '../../aws/cluster.js'
import {EcsService, type Task, taskId} from '../../aws/ecs.js'
import {ImageRepository} from '../../aws/ecr.js'
import {firstFree, LoadBalancer, LoadBalancerFull} from '../../aws/elb.js'
import {Iam, ServiceLinkedRoleDenied} from '../../aws/iam.js'
import {callerIdentity} from '../../aws/identity.js'
import {AppExists, HerogateError, Interrupted, InvalidInput, StackBusy} from '../../lib/errors.js'
import {deployHint} from '../../lib/hints.js'
import {addRemote, cloneRepo, getRemoteUrl, gitRoot, notARepo, removeRemote, setConfig, setRemote, unsetConfigSection} from '../../lib/git.js'
import {codeCommitUrl, names, parseCodeCommitUrl, PROCESS_TYPE, validateAppName} from '../../lib/naming.js'
import {stepper} from '../../lib/progress.js'
import {randomAppName} from '../../lib/random-name.js'
import {BUILD_TIMEOUT_MINUTES} from '../../release/budget.js'
import {DEFAULT_SIZE, sizeFor} from '../../lib/sizes.js'
import type {
  AppInfo, AppSummary, CreateOptions, CreateResult, DestroyResult, GitRemoteResult, OperationOptions, ProcessFormation, Progress, Release,
} from '../types.js'
import type {AwsContext} from './context.js'
import {pollUntil} from './draining.js'
import {RUN_TYPE, runName} from './formation.js'
import {uploadReleaseCode} from './release-code.js'
import {releaseInfo} from './releases.js'
import {destroyAppAddons} from './addons.js'
import {removeAppDomains} from './domains.js'
import {upgradeNote} from './platform-upgrade.js'
import {appNotFound, appResources, appResourcesFrom, rememberResources, stacksOf} from './resources.js'
import {recordCreated, templateParameters} from './settings.js'
import {checkRuleRoom, higherQuota, loadBalancerSecurityGroup} from './shared-balancer.js'
import {createFailed, FAILED_CREATE, removeFailedCreate, USABLE} from './stack-states.js'

/** Ports of per-app listeners on the shared load balancer (the platform's security group opens this range). */
export const APP_PORTS = {from: 10_000, to: 10_999}
const TEMPLATES = new URL('../../../templates/', import.meta.url)
const STACK_PLATFORM = 'herogate platform (shared by the apps of this region)'
/** The platform template's cluster, and the service whose service-linked role it needs. */
const CLUSTER_RESOURCE = 'Cluster'
const ECS_SERVICE = 'ecs.amazonaws.com'

export interface CreateExtras {
  /** Buildspec text; defaults to templates/buildspec.yml. */
  buildSpec?: string
  /** Absolute path of the CLI entry point the git credential helper runs; defaults to this install's bin/run.js. */
  cliPath?: string
  /** Uploads herogate's own release code for the app's builds; defaults to packing this installation. */
  uploadReleaseCode?: (ctx: AwsContext, bucket: string, app: string) => Promise<string>
}

export async function createApp(ctx: AwsContext, options: CreateOptions, extras: CreateExtras = {}): Promise<CreateResult> {
  const progress: Progress = options.onProgress ?? (() => {})
  if (options.name) validateAppName(options.name)
  await callerIdentity(await ctx.clients.sts())
  const stacks = await stacksOf(ctx)
  const name = options.name ?? (await freeRandomName(stacks))
  await clearFailedApp(ctx, stacks, name, progress, options.signal)
  await refuseSharedArtifacts(stacks, name)

  const {platform, created} = await ensurePlatform(ctx, stacks, progress, options.signal)
  const upgrade = created ? undefined : upgradeNote(ctx.region, platform)
  if (upgrade) progress({kind: 'warning', message: upgrade})
  const templateBody = await readTemplate('app.yml')
  const parameters = {
    AppName: name,
    Cluster: platform.outputs.Cluster,
    VpcId: platform.outputs.VpcId,
    Subnets: platform.outputs.Subnets,
    TaskSecurityGroup: platform.outputs.TaskSecurityGroup,
    LoadBalancerSecurityGroup: await loadBalancerSecurityGroup(ctx, platform),
    LoadBalancerArn: platform.outputs.LoadBalancerArn,
    LoadBalancerDnsName: platform.outputs.LoadBalancerDnsName,
    HttpListenerArn: platform.outputs.HttpListenerArn,
    HttpsListenerArn: platform.outputs.HttpsListenerArn ?? '',
    Domain: platform.outputs.Domain ?? '',
    ...(await routeParameters(ctx, platform, name)),
    ArtifactBucket: platform.outputs.ArtifactBucket,
    PipelineArtifactPrefix: pipelineArtifactPrefix(name),
    BuildSpec: extras.buildSpec ?? (await readTemplate('buildspec.yml')),
    BuildTimeoutMinutes: String(BUILD_TIMEOUT_MINUTES),
    HerogatePackage: await releaseCodeFor(ctx, name, platform.outputs.ArtifactBucket, progress, extras),
    ...(options.branch ? {Branch: options.branch} : {}),
    ...templateParameters(options.settings),
  }

  const stackName = names.appStack(name)
  progress({kind: 'step', id: 'app-stack', message: `Creating app ${name} (stack ${stackName})`, status: 'start'})
  const id = await stacks.create({name: stackName, templateBody, parameters, tags: {[names.appTag()]: name}})
  const waitOptions: WaitOptions = {onProgress: progress, signal: options.signal, resources: await templateResources(templateBody), stackDescription: `app ${name}`}
  let stack: StackSummary
  try {
    stack = await stacks.wait(id, waitOptions)
  } catch (error) {
    if (error instanceof WaitAborted) {
      await stacks.delete(id)
      throw new Interrupted(`Interrupted: stopped creating ${name}; its stack ${stackName} is being deleted, so nothing is left behind.`)
    }

    throw error
  }

  if (stack.status !== 'CREATE_COMPLETE') {
    progress({kind: 'step', id: 'app-stack', message: `Creating app ${name}`, status: 'failed'})
    const removed = await removeFailedCreate(stacks, id, waitOptions)
    throw createFailed(name, stack, removed, removed.deleted ? [`herogate create ${name} --region ${ctx.region} (after fixing the cause)`] : [`aws cloudformation delete-stack --stack-name ${stackName} --region ${ctx.region}`])
  }

  progress({kind: 'step', id: 'app-stack', message: `Created app ${name}`, status: 'done'})
  await recordCreated(ctx, name, options.settings).catch((error: unknown) => {
    // The stack applies the settings already; only `apps:settings` would show the defaults.
    progress({kind: 'warning', message: `Could not record the settings of ${name} (${(error as Error).message}); it runs with them, but apps:settings shows the defaults until you run herogate apps:settings:set again.`})
  })
  const remoteNote = await addGitRemote(ctx, name, options.cwd, extras.cliPath).catch((error: unknown) => {
    // The app exists by now; a git problem must not hide that, only say what to run.
    if (!(error instanceof HerogateError)) throw error
    return `Could not add the git remote (${error.message}) Add it yourself: git remote add ${names.gitRemote()} ${codeCommitUrl(ctx.region, name)}`
  })
  const info = await appInfo(ctx, name)
  return {...info, platformCreated: created, ...(remoteNote ? {remoteNote} : {})}
}

export async function listApps(ctx: AwsContext): Promise<AppSummary[]> {
  const stacks = await stacksOf(ctx)
  const all = await stacks.list('herogate-')
  const platform = all.find((stack) => stack.name === names.platformStack())
  const apps = all.filter((stack) => isAppStack(stack))
  const services = platform?.outputs.Cluster && apps.length > 0 ? await clusterServices(await ctx.clients.ecs(), platform.outputs.Cluster) : []
  return apps.map((stack) => summaryOf(ctx, stack, services)).sort((a, b) => a.name.localeCompare(b.name))
}

export async function appInfo(ctx: AwsContext, app: string): Promise<AppInfo> {
  const stacks = await stacksOf(ctx)
  const [appStack, platformStack] = await Promise.all([stacks.describe(names.appStack(app)), stacks.describe(names.platformStack())])
  if (!appStack || !isAppStack(appStack)) throw appNotFound(ctx, app)
  if (!USABLE.has(appStack.status)) return {...summaryOf(ctx, appStack, []), formation: [], stack: appStack.name}
  const resources = appResourcesFrom(ctx, app, appStack, platformStack)
  // What else the command reads (the current release, maintenance, autoscaling) finds the app by them.
  rememberResources(ctx, app, resources)
  const formation = await readFormation(ctx, resources.cluster, app)
  const services: ServiceCounts[] = formation.counts
  return {
    ...summaryOf(ctx, appStack, services),
    webUrl: resources.webUrl || undefined,
    formation: formation.formation,
    release: await currentRelease(ctx, app),
    stack: appStack.name,
  }
}

export async function destroyApp(ctx: AwsContext, app: string, options: OperationOptions & {cwd: string; snapshot?: boolean}): Promise<DestroyResult> {
  const progress: Progress = options.onProgress ?? (() => {})
  const stacks = await stacksOf(ctx)
  const [appStack, platformStack] = await Promise.all([stacks.describe(names.appStack(app)), stacks.describe(names.platformStack())])
  if (!appStack || !isAppStack(appStack)) throw appNotFound(ctx, app)
  if (/^(CREATE|UPDATE)_.*IN_PROGRESS$/.test(appStack.status)) {
    throw new StackBusy(`App ${app} is busy: its stack is ${appStack.status}.`, {suggestions: ['wait for it to finish and try again']})
  }

  const removed: string[] = []
  const step = stepper(progress)

  const cluster = platformStack?.outputs.Cluster
  const ecsClient = await ctx.clients.ecs()
  const ecs = new EcsService(ecsClient)
  const families = await ecs.taskFamilies(app)
  const services: string[] = []
  let stopped: Task[] = []
  if (cluster) {
    // One-off tasks keep running (and billing) without their app, and hold the platform's security group.
    stopped = await step('one-off', `Stopping the one-off processes of ${app}`, async () => stopOneOffTasks(ecsClient, cluster, families, `herogate destroy -a ${app}`))
    const types = await ecs.processTypes(cluster, app)
    await step('services', `Stopping the processes of ${app}`, async () => {
      for (const type of types) {
        const service = names.service(app, type)
        services.push(service)
        if (type === 'web') {
          // The stack owns the web service; scaling it to zero first makes its deletion quick.
          await ecs.updateService(cluster, service, {desiredCount: 0}).catch(() => {})
          continue
        }

        await deleteService(ecsClient, cluster, service)
        removed.push(`ECS service ${service}`)
      }
    })
  }

  // Add-ons are billed on their own: they go with the app (Postgres after a final snapshot unless --no-snapshot).
  removed.push(...(await destroyAppAddons(ctx, app, options)))

  const images = await step('images', `Deleting the images of ${app}`, async () => new ImageRepository(await ctx.clients.ecr()).deleteAllImages(names.ecrRepo(app)))
  if (images > 0) removed.push(`${images} image${images === 1 ? '' : 's'} in ECR repository ${names.ecrRepo(app)}`)

  const bucket = platformStack?.outputs.ArtifactBucket
  if (bucket) {
    const prefixes = [names.artifactPrefix(app)]
    // CodePipeline keys artifacts by the pipeline name cut to 20 characters; apps can share that prefix.
    const pipelinePrefix = `${pipelineArtifactPrefix(app)}/`
    const others = (await stacks.list('herogate-')).filter((stack) => isAppStack(stack) && stack.tags[names.appTag()] !== app)
    if (!others.some((stack) => `${pipelineArtifactPrefix(stack.tags[names.appTag()])}/` === pipelinePrefix)) prefixes.push(pipelinePrefix)
    const s3 = new ArtifactBucket(await ctx.clients.s3())
    const artifacts = await step('artifacts', `Deleting the build artifacts of ${app}`, async () => {
      let count = 0
      for (const prefix of prefixes) count += await s3.deletePrefix(bucket, prefix)
      return count
    })
    if (artifacts > 0) removed.push(`${artifacts} artifact${artifacts === 1 ? '' : 's'} in s3://${bucket}/`)
  }

  // Domains first: their rules hold the app's target group, and their records live under the app's path.
  removed.push(...(await removeAppDomains(ctx, app, progress, options.signal)))

  // The stack deletes its own resources parameter (first: it depends on everything else).
  const parameters = await step('parameters', `Deleting the config and releases of ${app}`, async () => deleteParametersByPath(await ctx.clients.ssm(), names.appPath(app), [names.appResourcesParameter(app)]))
  if (parameters > 0) removed.push(`${parameters} parameter${parameters === 1 ? '' : 's'} under ${names.appPath(app)} (config, releases)`)

  const templateBody = await readTemplate('app.yml')
  await step('stack', `Deleting stack ${appStack.name}`, async () => {
    const marker = await stacks.latestEventId(appStack.id)
    if (appStack.status !== 'DELETE_IN_PROGRESS') await stacks.delete(appStack.id)
    let final: StackSummary
    try {
      final = await stacks.wait(appStack.id, {onProgress: progress, signal: options.signal, resources: await templateResources(templateBody), stackDescription: `app ${app}`, afterEventId: marker})
    } catch (error) {
      if (error instanceof WaitAborted) {
        throw new Interrupted(`Interrupted: stack ${appStack.name} keeps deleting in AWS; run herogate destroy -a ${app} again to finish.`)
      }

      throw error
    }

    if (final.status !== 'DELETE_COMPLETE') {
      const failure = await stacks.failure(appStack.id, marker)
      throw new StackFailed(
        `Could not delete ${app}: ${failure ? `${failure.resource} (${failure.resourceType}): ${failure.reason}` : `stack ended ${final.status}`}.`,
        appStack.name,
        failure,
        [`herogate destroy -a ${app} --confirm ${app} (to retry)`],
      )
    }
  })
  removed.push(`stack ${appStack.name} (git repository, pipeline, build project, image repository, roles, routing, web service)`)

  // Revisions are kept by ECS after the app is gone; releases registered them outside the stack.
  const deregistered = await step('task-definitions', `Deregistering the task definitions of ${app}`, async () => deregisterTaskDefinitions(ecsClient, families))
  if (deregistered > 0) removed.push(`${deregistered} task definition${deregistered === 1 ? '' : 's'} (${families.join(', ')})`)
  if (cluster && (services.length > 0 || stopped.length > 0)) await untilStopped(ctx, app, cluster, services, stopped, options)

  const groups = await step('logs', `Deleting the logs of ${app}`, async () =>
    deleteLogGroups(await ctx.clients.logs(), [names.logGroup(app), `/aws/codebuild/${names.codeBuildProject(app)}`]),
  )
  for (const group of groups) removed.push(`log group ${group}`)

  if (await removeGitRemote(ctx, app, options.cwd)) removed.push(`git remote ${names.gitRemote()}`)
  return {name: app, removed, ...(stopped.length > 0 ? {stopped: stopped.map((task) => oneOffName(app, task))} : {})}
}

/**
 * Waits until ECS has drained the app's deleted services and stopped its one-off tasks: until
 * then their names cannot be created again (a new app of the same name would fail) and their
 * network interfaces hold the platform's security group. A deadline or Ctrl-C ends the wait
 * with a warning, not a failure: the app is gone, and ECS finishes on its own.
 */
async function untilStopped(ctx: AwsContext, app: string, cluster: string, services: string[], stopped: Task[], options: OperationOptions): Promise<void> {
  const progress: Progress = options.onProgress ?? (() => {})
  const message = `Waiting for ECS to stop the processes of ${app}`
  const client = await ctx.clients.ecs()
  const tasks = stopped.map((task) => task.taskArn!)
  progress({kind: 'step', id: 'draining', message, status: 'start'})
  const settled = await pollUntil(ctx.clock, async () => !(await stillStopping(client, cluster, services, tasks)), {signal: options.signal}).catch((error: unknown) => {
    if (options.signal?.aborted) return false
    throw error
  })
  progress({kind: 'step', id: 'draining', message, status: settled ? 'done' : 'skipped'})
  if (!settled) progress({kind: 'warning', message: `ECS is still stopping processes of ${app}; it finishes on its own within minutes. Wait for that before creating an app named ${app} again.`})
}

/** How destroy names a one-off task it stopped: run.1a2b3c4 as ps and logs show it, with what started it. */
function oneOffName(app: string, task: Task): string {
  const family = (task.taskDefinitionArn ?? '').slice((task.taskDefinitionArn ?? '').lastIndexOf('/') + 1).split(':')[0]
  const type = family.slice(names.taskFamily(app, '').length)
  const id = taskId(task.taskArn!)
  if (type === RUN_TYPE) return `${runName(id)} (herogate run)`
  return `${type}.${id.slice(0, 7)} (${type === 'release' ? 'release command' : 'one-off process'}${task.startedBy ? `, started by ${task.startedBy}` : ''})`
}

export async function destroyPlatform(ctx: AwsContext, options: OperationOptions = {}): Promise<DestroyResult> {
  const progress: Progress = options.onProgress ?? (() => {})
  const stacks = await stacksOf(ctx)
  const platform = await stacks.describe(names.platformStack())
  if (!platform) {
    throw new HerogateError(`There is no herogate platform in ${ctx.region}.`, {suggestions: [`herogate apps --region ${ctx.region}`]})
  }

  const apps = (await stacks.list('herogate-')).filter((stack) => isAppStack(stack)).map((stack) => stack.tags[names.appTag()]).sort()
  if (apps.length > 0) {
    throw new HerogateError(`The herogate platform in ${ctx.region} is still used by ${apps.length} app${apps.length === 1 ? '' : 's'}: ${apps.join(', ')}.`, {
      suggestions: apps.map((app) => `herogate destroy -a ${app} --confirm ${app} --region ${ctx.region}`),
    })
  }

  const removed: string[] = []
  const bucket = platform.outputs.ArtifactBucket
  if (bucket) {
    const count = await new ArtifactBucket(await ctx.clients.s3()).deletePrefix(bucket, '')
    if (count > 0) removed.push(`${count} object${count === 1 ? '' : 's'} in s3://${bucket}/`)
  }

  // The stack owns the image cache's rule, not the repositories the cache made as builds pulled (billed storage).
  const cacheMessage = `Deleting the image cache (ECR repositories ${names.publicImageCache()}/*)`
  progress({kind: 'step', id: 'image-cache', message: cacheMessage, status: 'start'})
  let cached: string[]
  try {
    cached = await new ImageRepository(await ctx.clients.ecr()).deleteRepositoriesUnder(names.publicImageCache())
  } catch (error) {
    progress({kind: 'step', id: 'image-cache', message: cacheMessage, status: 'failed'})
    throw error
  }

  progress({kind: 'step', id: 'image-cache', message: cacheMessage, status: 'done'})
  for (const repository of cached) removed.push(`ECR repository ${repository} (image cache)`)

  const templateBody = await readTemplate('platform.yml')
  progress({kind: 'step', id: 'platform-stack', message: `Deleting stack ${platform.name}`, status: 'start'})
  const marker = await stacks.latestEventId(platform.id)
  if (platform.status !== 'DELETE_IN_PROGRESS') await stacks.delete(platform.id)
  let final: StackSummary
  try {
    final = await stacks.wait(platform.id, {onProgress: progress, signal: options.signal, resources: await templateResources(templateBody), stackDescription: STACK_PLATFORM, afterEventId: marker})
  } catch (error) {
    if (error instanceof WaitAborted) throw new Interrupted(`Interrupted: stack ${platform.name} keeps deleting in AWS; run herogate platform:destroy again to follow it.`)
    throw error
  }

  if (final.status !== 'DELETE_COMPLETE') {
    progress({kind: 'step', id: 'platform-stack', message: `Deleting stack ${platform.name}`, status: 'failed'})
    const failure = await stacks.failure(platform.id, marker)
    throw new StackFailed(
      `Could not delete the herogate platform: ${failure ? `${failure.resource} (${failure.resourceType}): ${failure.reason}` : `stack ended ${final.status}`}.`,
      platform.name,
      failure,
      [`herogate platform:destroy --region ${ctx.region} (to retry)`],
    )
  }

  progress({kind: 'step', id: 'platform-stack', message: `Deleted stack ${platform.name}`, status: 'done'})
  removed.push(`stack ${platform.name} (network, ECS cluster, load balancer, artifact bucket)`)
  return {name: names.platformStack(), removed}
}

/**
 * Each app's pipeline and build roles reach only their own artifact prefix, which CodePipeline
 * makes of the pipeline's name cut to 20 characters: two apps whose names begin alike would
 * share it, and each could read the other's pushed code. Such a name is refused.
 */
async function refuseSharedArtifacts(stacks: CloudFormation, name: string): Promise<void> {
  const prefix = pipelineArtifactPrefix(name)
  const other = (await stacks.list('herogate-')).map((stack) => stack.tags[names.appTag()]).find((app) => app && app !== name && pipelineArtifactPrefix(app) === prefix)
  if (!other) return
  // The name's own characters in the prefix: the pipeline name starts with a fixed part (and an empty app name is no name).
  const length = prefix.length - (names.pipeline(name).length - name.length)
  throw new InvalidInput(`App name ${name} begins with the same ${length} characters as app ${other}, so their build artifacts would share one place in the artifact bucket.`, {
    suggestions: [`herogate create NAME (a name whose first ${length} characters differ from ${other}'s)`],
  })
}

/** CodePipeline's artifact key prefix for a pipeline: its name cut to 20 characters. */
export function pipelineArtifactPrefix(app: string): string {
  return names.pipeline(app).slice(0, 20)
}

/** The `credential.<url>.helper` value: this install's CLI, run by the node that runs it now. */
export function credentialHelper(cliPath: string, profile?: string): string {
  const quote = (value: string) => `'${value.replaceAll("'", `'\\''`)}'`
  return `!${quote(process.execPath)} ${quote(cliPath)} git:credentials${profile ? ` --profile ${quote(profile)}` : ''}`
}

function isAppStack(stack: StackSummary): boolean {
  const app = stack.tags[names.appTag()]
  return Boolean(app) && stack.name === names.appStack(app) && stack.status !== 'DELETE_COMPLETE'
}

function summaryOf(ctx: AwsContext, stack: StackSummary, services: ServiceCounts[]): AppSummary {
  const app = stack.tags[names.appTag()]
  return {
    name: app,
    platform: 'aws',
    region: ctx.region,
    status: appStatus(stack.status, services.filter((service) => isServiceOf(app, service.name))),
    ...(stack.outputs.WebUrl ? {webUrl: stack.outputs.WebUrl} : {}),
    gitUrl: codeCommitUrl(ctx.region, app),
    ...(stack.createdAt ? {createdAt: stack.createdAt.toISOString()} : {}),
  }
}

/** Heroku-like status from the stack and the app's services. */
export function appStatus(stackStatus: string, services: ServiceCounts[]): string {
  if (stackStatus.startsWith('DELETE_')) return stackStatus === 'DELETE_FAILED' ? 'failed' : 'deleting'
  if (stackStatus === 'CREATE_IN_PROGRESS' || stackStatus === 'REVIEW_IN_PROGRESS') return 'creating'
  if (FAILED_CREATE.has(stackStatus)) return 'failed'
  const wanted = services.filter((service) => service.desiredCount > 0)
  if (wanted.length === 0) return 'idle'
  if (wanted.some((service) => service.runningCount === 0 && service.pendingCount === 0)) return 'crashed'
  return 'running'
}

function isServiceOf(app: string, service: string): boolean {
  const prefix = names.service(app, '')
  return service.startsWith(prefix) && PROCESS_TYPE.test(service.slice(prefix.length))
}

async function readFormation(ctx: AwsContext, cluster: string, app: string): Promise<{formation: ProcessFormation[]; counts: ServiceCounts[]}> {
  const ecs = new EcsService(await ctx.clients.ecs())
  const services = await ecs.services(cluster, app, await ecs.processTypes(cluster, app))
  const formation: ProcessFormation[] = []
  for (const service of services) {
    const definition = service.taskDefinition ? await ecs.taskDefinition(service.taskDefinition) : undefined
    const container = definition?.containerDefinitions?.find((c) => c.name === service.type) ?? definition?.containerDefinitions?.[0]
    const size = sizeFor(definition?.cpu, definition?.memory)
    formation.push({
      type: service.type,
      quantity: service.desiredCount,
      size: size.includes('/') ? DEFAULT_SIZE : size,
      ...(container?.command?.length ? {command: container.command.join(' ')} : {}),
    })
  }

  return {formation, counts: services.map((s) => ({name: s.name, desiredCount: s.desiredCount, runningCount: s.runningCount, pendingCount: s.pendingCount}))}
}

/** The serving release, once the release store (issue 5) has one; a new app has none. */
async function currentRelease(ctx: AwsContext, app: string): Promise<Release | undefined> {
  try {
    return await releaseInfo(ctx, app)
  } catch (error) {
    if (error instanceof HerogateError) return undefined
    throw error
  }
}

async function freeRandomName(stacks: CloudFormation): Promise<string> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const name = randomAppName()
    if (!(await stacks.describe(names.appStack(name)))) return name
  }

  throw new HerogateError('Could not find a free random app name after 10 tries.', {suggestions: ['herogate create NAME']})
}

/**
 * A live app with this name is an error; a stack left over from a failed create is reported
 * (with the failing resource's reason) and deleted so that the create can go on.
 */
async function clearFailedApp(ctx: AwsContext, stacks: CloudFormation, name: string, progress: Progress, signal?: AbortSignal): Promise<void> {
  const stack = await stacks.describe(names.appStack(name))
  if (!stack) return
  if (stack.status === 'DELETE_IN_PROGRESS') {
    await waitOrInterrupt(stacks, stack.id, {onProgress: progress, signal, stackDescription: `app ${name} (previous)`}, `Interrupted: the previous stack of ${name} keeps deleting in AWS.`)
    return
  }

  if (!FAILED_CREATE.has(stack.status)) {
    if (stack.status.endsWith('_IN_PROGRESS')) {
      throw new StackBusy(`App ${name} is being changed right now (${stack.status}).`, {suggestions: ['wait for it to finish and try again']})
    }

    throw new AppExists(name, ctx.region)
  }

  await replaceFailed(stacks, stack, `app ${name}`, progress, signal)
}

async function replaceFailed(stacks: CloudFormation, stack: StackSummary, what: string, progress: Progress, signal?: AbortSignal): Promise<void> {
  const failure = await stacks.failure(stack.id)
  progress({
    kind: 'warning',
    message: `A previous create of ${what} failed (${stack.status})${failure ? `: ${failure.resource} (${failure.resourceType}): ${failure.reason}` : ''}. Replacing it.`,
  })
  const marker = await stacks.latestEventId(stack.id)
  await stacks.delete(stack.id)
  const final = await waitOrInterrupt(stacks, stack.id, {onProgress: progress, signal, stackDescription: `${what} (failed, deleting)`, afterEventId: marker}, `Interrupted: the failed stack ${stack.name} keeps deleting in AWS; run herogate create again.`)
  if (final.status !== 'DELETE_COMPLETE') {
    const reason = await stacks.failure(stack.id, marker)
    throw new StackFailed(
      `Could not delete the failed stack ${stack.name}${reason ? `: ${reason.resource}: ${reason.reason}` : ''}.`,
      stack.name,
      reason,
      [`aws cloudformation delete-stack --stack-name ${stack.name}`],
    )
  }
}

async function waitOrInterrupt(stacks: CloudFormation, id: string, options: WaitOptions, message: string): Promise<StackSummary> {
  try {
    return await stacks.wait(id, options)
  } catch (error) {
    if (error instanceof WaitAborted) throw new Interrupted(message)
    throw error
  }
}

/** The platform stack, created (with progress) when this region has none yet. */
async function ensurePlatform(ctx: AwsContext, stacks: CloudFormation, progress: Progress, signal?: AbortSignal): Promise<{platform: StackSummary; created: boolean}> {
  const name = names.platformStack()
  const templateBody = await readTemplate('platform.yml')
  const waitOptions: WaitOptions = {onProgress: progress, signal, resources: await templateResources(templateBody), stackDescription: STACK_PLATFORM}
  const interrupted = `Interrupted: the shared platform stack ${name} keeps creating in AWS; run herogate create again to continue.`
  let stack = await stacks.describe(name)
  if (stack && USABLE.has(stack.status)) return {platform: stack, created: false}
  if (stack && /^(CREATE|UPDATE)_.*IN_PROGRESS$/.test(stack.status)) {
    progress({kind: 'step', id: 'platform-stack', message: `Waiting for the herogate platform of ${ctx.region} (${stack.status})`, status: 'start'})
    stack = await waitOrInterrupt(stacks, stack.id, waitOptions, interrupted)
    if (USABLE.has(stack.status)) {
      progress({kind: 'step', id: 'platform-stack', message: `The herogate platform of ${ctx.region} is ready`, status: 'done'})
      return {platform: stack, created: false}
    }
  }

  if (stack && stack.status === 'DELETE_IN_PROGRESS') {
    await waitOrInterrupt(stacks, stack.id, {...waitOptions, stackDescription: `${STACK_PLATFORM} (deleting)`}, interrupted)
  } else if (stack && FAILED_CREATE.has(stack.status)) {
    await replaceFailed(stacks, stack, 'the herogate platform', progress, signal)
  } else if (stack) {
    throw new StackBusy(`The herogate platform stack of ${ctx.region} is ${stack.status} and cannot be used.`, {
      suggestions: [`aws cloudformation describe-stack-events --stack-name ${name} --region ${ctx.region}`, `herogate platform:destroy --region ${ctx.region}`],
    })
  }

  progress({kind: 'step', id: 'platform-stack', message: `Creating the herogate platform of ${ctx.region} (first app in this region; takes a few minutes)`, status: 'start'})
  const parameters: Record<string, string> = {PublicImageCachePrefix: names.publicImageCache()}
  if (process.env.HEROGATE_DOMAIN) parameters.Domain = process.env.HEROGATE_DOMAIN
  if (process.env.HEROGATE_CERTIFICATE_ARN) parameters.CertificateArn = process.env.HEROGATE_CERTIFICATE_ARN
  const role = await ecsServiceLinkedRole(ctx, progress)
  for (let attempt = 1; ; attempt++) {
    let id: string
    try {
      id = await stacks.create({name, templateBody, parameters, tags: {'herogate:platform': 'true'}})
    } catch (error) {
      // Another create in this region started the platform a moment ago: wait for that one.
      const racing = error instanceof StackBusy ? await stacks.describe(name) : undefined
      if (!racing) throw error
      const ready = USABLE.has(racing.status) ? racing : await waitOrInterrupt(stacks, racing.id, waitOptions, interrupted)
      if (!USABLE.has(ready.status)) throw new StackBusy(`The herogate platform stack of ${ctx.region} is ${ready.status}.`, {suggestions: [`herogate create --region ${ctx.region} (to retry)`]})
      progress({kind: 'step', id: 'platform-stack', message: `The herogate platform of ${ctx.region} is ready`, status: 'done'})
      return {platform: ready, created: false}
    }

    const created = await waitOrInterrupt(stacks, id, waitOptions, interrupted)
    if (created.status === 'CREATE_COMPLETE') {
      progress({kind: 'step', id: 'platform-stack', message: `Created the herogate platform of ${ctx.region}`, status: 'done'})
      return {platform: created, created: true}
    }

    const removed = await removeFailedCreate(stacks, id, waitOptions)
    const {failure} = removed
    // On a new account the cluster fails until ECS's service-linked role is usable; a second try succeeds.
    if (attempt === 1 && removed.deleted && failure?.resource === CLUSTER_RESOURCE && role !== 'exists') {
      progress({kind: 'warning', message: `The ECS cluster could not be created yet (${failure.reason}); ECS's service-linked role is new in this account and takes a moment to work. Trying once more.`})
      continue
    }

    progress({kind: 'step', id: 'platform-stack', message: 'Creating the herogate platform', status: 'failed'})
    throw createFailed(`the herogate platform in ${ctx.region}`, created, removed, failure?.resource === CLUSTER_RESOURCE
      ? [`aws iam create-service-linked-role --aws-service-name ${ECS_SERVICE} (if it does not exist yet), then herogate create --region ${ctx.region}`]
      : [`herogate create --region ${ctx.region} (after fixing the cause)`])
  }
}

/**
 * An ECS cluster with capacity providers fails to create while ECS's service-linked role does
 * not exist (a new account): it is made first. Without the permission to make it, the create
 * goes on (the role may well exist) and a failure says what to run.
 */
async function ecsServiceLinkedRole(ctx: AwsContext, progress: Progress): Promise<'created' | 'exists' | 'unknown'> {
  try {
    return await new Iam(await ctx.clients.iam()).ensureServiceLinkedRole(ECS_SERVICE)
  } catch (error) {
    if (!(error instanceof ServiceLinkedRoleDenied)) throw error
    progress({kind: 'warning', message: `Could not make sure ECS's service-linked role exists: ${error.message} If creating the ECS cluster fails, run: ${error.suggestions[0]}`})
    return 'unknown'
  }
}

/**
 * Uploads this installation's release code, pinned to its exact version, for the app's
 * builds. Without it (e.g. running from source with no build) the app is still created and
 * the user is told that deploys need it.
 */
async function releaseCodeFor(ctx: AwsContext, app: string, bucket: string, progress: Progress, extras: CreateExtras): Promise<string> {
  progress({kind: 'step', id: 'release-code', message: "Uploading herogate's release code for builds", status: 'start'})
  try {
    const uri = await (extras.uploadReleaseCode ?? uploadReleaseCode)(ctx, bucket, app)
    progress({kind: 'step', id: 'release-code', message: "Uploaded herogate's release code for builds", status: 'done'})
    return uri
  } catch (error) {
    progress({kind: 'step', id: 'release-code', message: "Uploading herogate's release code for builds", status: 'failed'})
    if (!(error instanceof HerogateError)) throw error
    progress({kind: 'warning', message: `${error.message} Deploys of ${app} need it: ${error.suggestions.join('; ') || 'reinstall herogate'}.`})
    return ''
  }
}

/**
 * Host-header rule priority when the platform has a domain, else the lowest free app port;
 * refused up front when the app's rules or listener would not fit in the load balancer's
 * quotas (rules are counted per load balancer, across its listeners).
 */
async function routeParameters(ctx: AwsContext, platform: StackSummary, app: string): Promise<Record<string, string>> {
  const elb = new LoadBalancer(await ctx.clients.elbv2())
  const [limits, listeners] = await Promise.all([elb.limits(), elb.listeners(platform.outputs.LoadBalancerArn)])
  if (platform.outputs.Domain) {
    const https = Boolean(platform.outputs.HttpsListenerArn)
    const rules = await elb.rulesOf(listeners)
    // With HTTPS an app takes two rules: HTTP redirects to HTTPS, HTTPS forwards to the app.
    checkRuleRoom(ctx.region, limits, rules.length, {
      name: app, needed: https ? 2 : 1, ...(https ? {why: 'HTTP redirect and HTTPS'} : {}), otherwise: 'so its stack would fail', suggestion: 'destroy apps you no longer use',
    })
    // The app's HTTP and HTTPS rules share one priority: it must be free on both (maintenance mode holds some on one only).
    const shared = [platform.outputs.HttpListenerArn, platform.outputs.HttpsListenerArn].filter(Boolean)
    const taken = rules.filter((rule) => shared.includes(rule.listenerArn)).map((rule) => rule.priority)
    const priority = firstFree(taken, 1, 50_000)
    if (priority === undefined) throw new LoadBalancerFull('The shared load balancer has no free rule priority left.')
    return {RulePriority: String(priority)}
  }

  if (listeners.length + 1 > limits.listeners) {
    throw new LoadBalancerFull(`The shared load balancer of ${ctx.region} has ${listeners.length} of its ${limits.listeners} listeners in use (one per app without a domain), so the stack of ${app} would fail.`, {
      suggestions: ['destroy apps you no longer use', higherQuota(ctx.region)],
    })
  }

  const port = firstFree(listeners.map((listener) => listener.port), APP_PORTS.from, APP_PORTS.to)
  if (port === undefined) {
    throw new LoadBalancerFull(`All ${APP_PORTS.to - APP_PORTS.from + 1} app ports of the shared load balancer in ${ctx.region} are taken.`, {
      suggestions: ['destroy apps you no longer use', 'set a domain on the platform (HEROGATE_DOMAIN) so apps share ports 80/443'],
    })
  }

  return {ListenerPort: String(port)}
}

/**
 * Adds the "herogate" remote and makes herogate its credential helper, in the git repo
 * around `cwd`. Resolves with a note of what to run instead when no remote was added.
 */
async function addGitRemote(ctx: AwsContext, app: string, cwd: string, cliPath?: string): Promise<string | undefined> {
  const url = codeCommitUrl(ctx.region, app)
  const root = await gitRoot(cwd)
  if (!root) return `Not in a git repository, so no remote was added. In your app's repo run: git remote add ${names.gitRemote()} ${url}`
  const current = await getRemoteUrl(root, names.gitRemote())
  if (current && current !== url) {
    return `A "${names.gitRemote()}" remote already points to ${current}; left it as is. To deploy this app: git remote set-url ${names.gitRemote()} ${url}`
  }

  if (!current) await addRemote(root, names.gitRemote(), url)
  await setCredentialHelper(ctx, root, url, cliPath)
  return undefined
}

/** The git config that makes herogate the credential helper for the CodeCommit URL (as `-c` pairs too, for a clone). */
function credentialConfig(ctx: AwsContext, url: string, cliPath?: string): Array<[string, string]> {
  const section = `credential.${url}`
  // The empty helper resets helpers from global config (a keychain could answer stale passwords).
  return [[`${section}.helper`, ''], [`${section}.helper`, credentialHelper(cliPath ?? defaultCliPath(), ctx.clients.config.profile)], [`${section}.UseHttpPath`, 'true']]
}

async function setCredentialHelper(ctx: AwsContext, root: string, url: string, cliPath?: string): Promise<void> {
  await unsetConfigSection(root, `credential.${url}`)
  for (const [key, value] of credentialConfig(ctx, url, cliPath)) await setConfig(root, key, value, {add: key.endsWith('.helper')})
}

/** git:remote: points the remote of the repo around `cwd` at the app, with herogate as its credential helper. */
export async function gitRemote(ctx: AwsContext, app: string, options: {cwd: string; remote?: string}, cliPath?: string): Promise<GitRemoteResult> {
  await appResources(ctx, app)
  const url = codeCommitUrl(ctx.region, app)
  const root = await gitRoot(options.cwd)
  if (!root) throw notARepo(options.cwd, app)
  const remote = options.remote ?? names.gitRemote()
  const previous = await setRemote(root, remote, url)
  await setCredentialHelper(ctx, root, url, cliPath)
  return {dir: root, remote, url, ...(previous ? {previous} : {})}
}

/** git:clone: the app's CodeCommit repo into a new directory, fetched with herogate as the credential helper. */
export async function gitClone(ctx: AwsContext, app: string, options: {cwd: string; directory?: string; remote?: string}, cliPath?: string): Promise<GitRemoteResult> {
  await appResources(ctx, app)
  const url = codeCommitUrl(ctx.region, app)
  const remote = options.remote ?? names.gitRemote()
  const dir = await cloneRepo(options.cwd, url, options.directory ?? app, {origin: remote, config: credentialConfig(ctx, url, cliPath)})
  await setCredentialHelper(ctx, dir, url, cliPath)
  return {dir, remote, url}
}

/** apps:rename on AWS: refused before anything is touched, saying why and what to do instead. */
export async function renameApp(ctx: AwsContext, app: string, newName: string): Promise<never> {
  validateAppName(newName)
  await appResources(ctx, app)
  throw new HerogateError(
    `Apps on AWS cannot be renamed: ${app} is built into the names of its CloudFormation stack, IAM roles, CodeCommit and ECR repositories, log group and SSM parameters. Nothing was changed.`,
    {
      suggestions: [
        `herogate create ${newName} --region ${ctx.region} (a new app; in your repo, its remote replaces ${app}'s)`,
        `herogate config --shell -a ${app} | herogate config:set --file - -a ${newName} (copies the config)`,
        `${deployHint(newName)}: deploys the code to the new app`,
        `herogate destroy -a ${app} --confirm ${app} (once the new app serves)`,
      ],
    },
  )
}

/** Removes the "herogate" remote (and its helper config) when it points at this app. */
async function removeGitRemote(ctx: AwsContext, app: string, cwd: string): Promise<boolean> {
  const root = await gitRoot(cwd)
  if (!root) return false
  const url = await getRemoteUrl(root, names.gitRemote())
  const target = url ? parseCodeCommitUrl(url) : undefined
  if (!url || target?.app !== app || target.region !== ctx.region) return false
  await removeRemote(root, names.gitRemote())
  await unsetConfigSection(root, `credential.${url}`)
  return true
}

function defaultCliPath(): string {
  return fileURLToPath(new URL('../../../bin/run.js', import.meta.url))
}

async function readTemplate(file: string): Promise<string> {
  try {
    return await readFile(new URL(file, TEMPLATES), 'utf8')
  } catch (error) {
    throw new HerogateError(`herogate's template ${file} is missing from this installation.`, {cause: error, suggestions: ['reinstall herogate']})
  }
}
