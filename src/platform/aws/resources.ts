import type {Parameter} from '@aws-sdk/client-ssm'

import {CloudFormation, stackNameOf, type StackSummary} from '../../aws/cloudformation.js'
import {readParameters} from '../../aws/ssm.js'
import {AppNotFound, HerogateError, StackBusy} from '../../lib/errors.js'
import {codeCommitUrl, names} from '../../lib/naming.js'
import type {AwsContext} from './context.js'
import {USABLE} from './stack-states.js'

/**
 * Everything the AWS driver needs to know about an app's infrastructure, read from the
 * outputs of the platform stack and the app stack (issue 2 implements loadAppResources;
 * templates/*.yml export these as outputs).
 */
export interface AppResources {
  app: string
  region: string
  stackName: string
  /** ECS cluster name (platform stack). */
  cluster: string
  /** Public subnets of the platform VPC, for awsvpc tasks. */
  subnets: string[]
  /** Security group of the app's tasks (only the ALB can reach them; the app's add-ons admit it). */
  securityGroup: string
  executionRoleArn: string
  taskRoleArn: string
  logGroup: string
  ecrRepositoryUri: string
  /** Target group of the web process type. */
  targetGroupArn: string
  webUrl: string
  gitUrl: string
  artifactBucket: string
  pipeline: string
  codeBuildProject: string
  /** The role EventBridge Scheduler starts scheduled jobs with (absent in stacks made before scheduled jobs). */
  schedulerRoleArn?: string
}

/**
 * The network of every task of the app (services, one-off and release-phase tasks, scheduled
 * jobs): the platform's public subnets and the app's own security group, the only one its
 * add-ons admit.
 */
export function taskNetwork(resources: Pick<AppResources, 'securityGroup' | 'subnets'>) {
  return {awsvpcConfiguration: {subnets: resources.subnets, securityGroups: [resources.securityGroup], assignPublicIp: 'ENABLED' as const}}
}

/** The port a web container listens on; herogate sets PORT to it. */
export const WEB_PORT = 5000

export type LoadAppResources = (ctx: AwsContext, app: string) => Promise<AppResources>

/**
 * The CloudFormation wrapper of a context (its clock's sleep paces the pollers). A change it
 * makes to a stack the app resources come from, or a wait on one that ends, makes the
 * context forget the resources it has read of it: the command reads them again after.
 */
export async function stacksOf(ctx: AwsContext): Promise<CloudFormation> {
  return new CloudFormation(await ctx.clients.cloudFormation(), (ms, signal) => ctx.clock.sleep(ms, signal), {onChange: (stack) => forgetResources(ctx, stack)})
}

/**
 * The context of one command (the driver makes one per call): every part of the command that
 * needs an app's resources gets them from one read, until a stack they come from changes.
 */
export function commandContext(ctx: AwsContext): AwsContext {
  return {...ctx, resourcesRead: new Map()}
}

/** Resources the command has just read by other means (both stacks, or the parameter with others): later parts of it use them. */
export function rememberResources(ctx: AwsContext, app: string, resources: AppResources): void {
  // Injected resources (tests, benches) win over what the stacks say.
  if (!ctx.appResources) ctx.resourcesRead?.set(app, Promise.resolve(resources))
}

/** The platform's stack changing changes every app's resources; an app's own stack, that app's. */
function forgetResources(ctx: AwsContext, stack: string): void {
  const read = ctx.resourcesRead
  if (!read) return
  const name = stackNameOf(stack)
  for (const app of read.keys()) if (name === names.platformStack() || name === names.appStack(app)) read.delete(app)
}

export function appNotFound(ctx: AwsContext, app: string): AppNotFound {
  return new AppNotFound(app, ctx.region, [`herogate apps --region ${ctx.region}`])
}

/**
 * The resources the app stack publishes in its SSM parameter (ResourcesParameter in
 * templates/app.yml, made once everything else exists and deleted first), or undefined when
 * there is none (an app made before it, or one being created or deleted).
 */
export function publishedResources(ctx: AwsContext, app: string, parameter: Parameter | undefined): AppResources | undefined {
  try {
    const published = JSON.parse(parameter?.Value ?? '') as Record<string, string>
    if (!published.cluster || !published.executionRoleArn || !published.logGroup) return undefined
    return resourcesOf(ctx, app, names.appStack(app), published)
  } catch {
    return undefined
  }
}

/**
 * The app's resources from the parameter its stack publishes (one GetParameter), else from
 * both stacks (one DescribeStacks each; the platform's is not described again when the caller
 * has it), which also say why an app is not usable. CodeCommit, CodeBuild and CodePipeline
 * names come from naming.ts: they are fixed by the app's name.
 */
export async function loadAppResources(ctx: AwsContext, app: string, platform?: StackSummary): Promise<AppResources> {
  const published = await readPublished(ctx, app)
  if (published) return published
  const stacks = await stacksOf(ctx)
  const [appStack, platformStack] = await Promise.all([stacks.describe(names.appStack(app)), platform ?? stacks.describe(names.platformStack())])
  if (!appStack || !appStack.tags[names.appTag()] || appStack.status.startsWith('DELETE_')) throw appNotFound(ctx, app)
  return appResourcesFrom(ctx, app, appStack, platformStack)
}

/**
 * The app's resources when the caller has read their parameter already (in `found`, by name,
 * with other parameters), else as appResources gives them. Injected resources (tests) win.
 */
export async function resourcesRead(ctx: AwsContext, app: string, found: Map<string, Parameter>): Promise<AppResources> {
  const published = ctx.appResources ? undefined : publishedResources(ctx, app, found.get(names.appResourcesParameter(app)))
  if (!published) return appResources(ctx, app)
  rememberResources(ctx, app, published)
  return published
}

/**
 * The app's resources: injected (tests, benches) or as loadAppResources finds them (with the
 * platform stack when the caller has described it), once per command (commandContext).
 */
export async function appResources(ctx: AwsContext, app: string, platform?: StackSummary): Promise<AppResources> {
  const known = ctx.resourcesRead?.get(app)
  if (known) return known
  const read = ctx.appResources ? ctx.appResources(ctx, app) : loadAppResources(ctx, app, platform)
  const cache = ctx.resourcesRead
  if (cache) {
    cache.set(app, read)
    // A failed read is not kept: what the command does next (a retry, a wait) reads again.
    read.catch(() => cache.get(app) === read && cache.delete(app))
  }

  return read
}

async function readPublished(ctx: AwsContext, app: string): Promise<AppResources | undefined> {
  try {
    const found = await readParameters(await ctx.clients.ssm(), [names.appResourcesParameter(app)], `reading the resources of ${app}`)
    return publishedResources(ctx, app, found.get(names.appResourcesParameter(app)))
  } catch {
    // Not readable (permissions, an emulator without SSM): the stacks tell the same.
    return undefined
  }
}

export function appResourcesFrom(ctx: AwsContext, app: string, appStack: StackSummary, platformStack: StackSummary | undefined): AppResources {
  if (!USABLE.has(appStack.status)) {
    throw new StackBusy(`App ${app} is not ready: its stack ${appStack.name} is ${appStack.status}.`, {
      suggestions: appStack.status.endsWith('_IN_PROGRESS') ? ['wait a minute and try again'] : [`herogate create ${app} --region ${ctx.region} (replaces a failed app)`, `herogate destroy -a ${app} --confirm ${app}`],
    })
  }

  if (!platformStack || !USABLE.has(platformStack.status)) {
    throw new HerogateError(`The herogate platform stack of ${ctx.region} is ${platformStack ? platformStack.status : 'missing'}, so app ${app} cannot run.`, {
      suggestions: [`herogate create --region ${ctx.region} (recreates the platform)`],
    })
  }

  const appOut = appStack.outputs
  const platformOut = platformStack.outputs
  return resourcesOf(ctx, app, appStack.name, {
    cluster: appOut.Cluster || platformOut.Cluster,
    subnets: platformOut.Subnets,
    // An app stack made before apps had a group of their own (app-upgrade.ts) runs in the shared one.
    securityGroup: appOut.TaskSecurityGroup || platformOut.TaskSecurityGroup,
    executionRoleArn: appOut.ExecutionRoleArn,
    taskRoleArn: appOut.TaskRoleArn,
    logGroup: appOut.LogGroup || names.logGroup(app),
    ecrRepositoryUri: appOut.ImageRepositoryUri,
    targetGroupArn: appOut.TargetGroupArn,
    webUrl: appOut.WebUrl,
    artifactBucket: platformOut.ArtifactBucket,
    schedulerRoleArn: appOut.SchedulerRoleArn,
  })
}

/** AppResources from what the stacks or the published parameter give (subnets comma-separated); names fixed by the app's name come from naming.ts. */
function resourcesOf(ctx: AwsContext, app: string, stackName: string, found: Partial<Record<string, string>>): AppResources {
  return {
    app,
    region: ctx.region,
    stackName,
    cluster: found.cluster ?? '',
    subnets: (found.subnets ?? '').split(',').filter(Boolean),
    securityGroup: found.securityGroup ?? '',
    executionRoleArn: found.executionRoleArn ?? '',
    taskRoleArn: found.taskRoleArn ?? '',
    logGroup: found.logGroup || names.logGroup(app),
    ecrRepositoryUri: found.ecrRepositoryUri ?? '',
    targetGroupArn: found.targetGroupArn ?? '',
    webUrl: found.webUrl ?? '',
    gitUrl: codeCommitUrl(ctx.region, app),
    artifactBucket: found.artifactBucket ?? '',
    pipeline: names.pipeline(app),
    codeBuildProject: names.codeBuildProject(app),
    ...(found.schedulerRoleArn ? {schedulerRoleArn: found.schedulerRoleArn} : {}),
  }
}
