import {CreateServiceCommand, type ECSClient, RegisterTaskDefinitionCommand} from '@aws-sdk/client-ecs'

import {names} from '../../../src/lib/naming.js'
import type {AwsContext, Clock} from '../../../src/platform/aws/context.js'
import type {AppResources} from '../../../src/platform/aws/resources.js'
import {taskDefinitionInput} from '../../../src/platform/aws/taskdef.js'
import {EcsModel, type Timings} from '../../helpers/ecs-model.js'
import {fakeClock, makeContext, REGION} from './formation.fixture.js'

/** What the app stack's placeholder web task definition runs before the first deploy. */
export const PLACEHOLDER_IMAGE = 'public.ecr.aws/docker/library/busybox'

/** The grace period the app stack gives the web service (issue 9, finding 3: at least 60 s). */
export const GRACE_SECONDS = 60

/** An app's resources as its stacks would publish them; with the ECS model nothing needs to exist. */
export function modelResources(app = 'demo'): AppResources {
  return {
    app,
    region: REGION,
    stackName: names.appStack(app),
    cluster: 'herogate',
    subnets: ['subnet-a', 'subnet-b'],
    securityGroup: 'sg-tasks',
    executionRoleArn: 'arn:aws:iam::123456789012:role/exec',
    taskRoleArn: 'arn:aws:iam::123456789012:role/task',
    logGroup: names.logGroup(app),
    ecrRepositoryUri: `123456789012.dkr.ecr.us-east-1.amazonaws.com/herogate/${app}`,
    targetGroupArn: `arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/${names.targetGroup(app)}/0123456789abcdef`,
    webUrl: `http://${app}.example.com`,
    gitUrl: `https://git-codecommit.us-east-1.amazonaws.com/v1/repos/herogate-${app}`,
    artifactBucket: 'artifacts',
    pipeline: names.pipeline(app),
    codeBuildProject: names.codeBuildProject(app),
  }
}

/**
 * The web service as the app stack makes it (templates/app.yml): a placeholder task definition,
 * no processes, behind the app's target group with a grace period, rolling with a circuit breaker.
 */
export async function stackWebService(ecs: ECSClient, resources: AppResources, options: {gracePeriodSeconds?: number} = {}): Promise<string> {
  const placeholder = await ecs.send(new RegisterTaskDefinitionCommand(taskDefinitionInput(resources.app, resources, {processType: 'web', image: PLACEHOLDER_IMAGE, size: 'standard-1x', configKeys: []})))
  await ecs.send(new CreateServiceCommand({
    cluster: resources.cluster,
    serviceName: names.service(resources.app, 'web'),
    taskDefinition: placeholder.taskDefinition!.taskDefinitionArn,
    desiredCount: 0,
    launchType: 'FARGATE',
    healthCheckGracePeriodSeconds: options.gracePeriodSeconds ?? GRACE_SECONDS,
    enableECSManagedTags: true,
    propagateTags: 'SERVICE',
    networkConfiguration: {awsvpcConfiguration: {subnets: resources.subnets, securityGroups: [resources.securityGroup], assignPublicIp: 'ENABLED'}},
    loadBalancers: [{containerName: 'web', containerPort: 5000, targetGroupArn: resources.targetGroupArn}],
    deploymentConfiguration: {minimumHealthyPercent: 100, maximumPercent: 200, deploymentCircuitBreaker: {enable: true, rollback: true}},
    tags: [{key: names.appTag(), value: resources.app}],
  }))
  return placeholder.taskDefinition!.taskDefinitionArn!
}

export interface ModelApp {
  model: EcsModel
  /** The model's client, as `ctx.clients.ecs()` gives it. */
  ecs: ECSClient
  clock: Clock & {advance(ms: number): void}
  resources: AppResources
  ctx: AwsContext
}

/**
 * An app as its stack leaves it before the first deploy, with ECS played by the model. Other
 * services (SSM, CloudWatch Logs) come from the environment: moto in the tests that start it.
 */
export async function modelApp(
  app = 'demo',
  options: {model?: EcsModel; clock?: Clock & {advance(ms: number): void}; resources?: AppResources; gracePeriodSeconds?: number; timings?: Partial<Timings>} = {},
): Promise<ModelApp> {
  const clock = options.clock ?? fakeClock()
  const model = options.model ?? new EcsModel(clock, {timings: options.timings})
  const resources = options.resources ?? modelResources(app)
  const ctx = makeContext(resources, {clock})
  const ecs = model.client()
  ctx.clients.set('ecs', ecs)
  await stackWebService(ecs, resources, {gracePeriodSeconds: options.gracePeriodSeconds})
  return {model, ecs, clock, resources, ctx}
}
