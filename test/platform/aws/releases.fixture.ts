import {CreateServiceCommand, ECSClient, RegisterTaskDefinitionCommand, type Task} from '@aws-sdk/client-ecs'

import {names} from '../../../src/lib/naming.js'
import type {AwsContext} from '../../../src/platform/aws/context.js'
import type {AppResources} from '../../../src/platform/aws/resources.js'
import {taskDefinitionInput} from '../../../src/platform/aws/taskdef.js'
import {fakeClock, makeContext, makeResources, REGION} from './formation.fixture.js'

export const REPO = '123456789012.dkr.ecr.us-east-1.amazonaws.com/herogate/demo'
export const image = (name: string) => `${REPO}@sha256:${Buffer.from(name).toString('hex').padEnd(64, '0').slice(0, 64)}`
export const GOOD = image('good')
export const GOOD2 = image('good2')
/** Tasks of images whose digest starts like this crash at once (the simulation below). */
export const CRASHING = image('crash')
export const FAILING_RELEASE = image('badmigrate')

/**
 * moto keeps the state (task definitions, services, tasks) but does not run anything: its
 * services never get a new deployment. This ECS client adds what AWS would report on top:
 * UpdateService makes a deployment that completes, unless its image crashes, in which case
 * its tasks show up stopped with exit code 1; release tasks of FAILING_RELEASE exit 1.
 */
export function simulatedEcs(): ECSClient & {crashedTasks: number} {
  const client = new ECSClient({region: REGION}) as ECSClient & {crashedTasks: number}
  const images = new Map<string, string>()
  const crashed: Task[] = []
  client.crashedTasks = 0
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as Record<string, unknown>
      if (context.commandName === 'ListTasksCommand' && input.desiredStatus === 'STOPPED') {
        const service = input.serviceName as string
        return {output: {taskArns: crashed.filter((t) => t.group === `service:${service}`).map((t) => t.taskArn!), $metadata: {}}, response: {}} as never
      }

      if (context.commandName === 'DescribeTasksCommand') {
        const fake = crashed.filter((t) => (input.tasks as string[]).includes(t.taskArn!))
        if (fake.length > 0) return {output: {tasks: fake, failures: [], $metadata: {}}, response: {}} as never
      }

      const result = await next(args)
      const output = result.output as Record<string, any>
      if (context.commandName === 'RegisterTaskDefinitionCommand') {
        images.set(output.taskDefinition.taskDefinitionArn, output.taskDefinition.containerDefinitions[0].image)
      }

      if (context.commandName === 'DescribeServicesCommand') {
        for (const service of output.services ?? []) {
          const crashing = images.get(service.taskDefinition) === CRASHING
          if (crashing && service.desiredCount > 0) {
            const n = ++client.crashedTasks
            crashed.push({
              taskArn: `arn:aws:ecs:us-east-1:123456789012:task/herogate/crash${n}`, group: `service:${service.serviceName}`, taskDefinitionArn: service.taskDefinition,
              lastStatus: 'STOPPED', stopCode: 'EssentialContainerExited', stoppedReason: 'Essential container in task exited', containers: [{name: 'web', exitCode: 1}],
            })
          }

          // As ECS does, the deployment counts its tasks that crashed.
          const failedTasks = crashed.filter((t) => t.group === `service:${service.serviceName}` && t.taskDefinitionArn === service.taskDefinition).length
          service.deployments = [{
            id: `ecs-svc/${service.taskDefinition}`, status: 'PRIMARY', taskDefinition: service.taskDefinition, desiredCount: service.desiredCount,
            runningCount: crashing ? 0 : service.desiredCount, rolloutState: crashing ? 'IN_PROGRESS' : 'COMPLETED', failedTasks,
          }]
        }
      }

      if (context.commandName === 'DescribeTasksCommand') {
        for (const task of output.tasks ?? []) {
          task.lastStatus = 'STOPPED'
          for (const container of task.containers ?? []) container.exitCode = images.get(task.taskDefinitionArn) === FAILING_RELEASE ? 1 : 0
        }
      }

      return result
    },
    {step: 'initialize', name: 'simulateEcs'},
  )
  return client
}

/** An app as its stack leaves it before the first deploy: network, cluster, log group, a web service at zero. */
export async function setUpApp(app = 'demo'): Promise<{resources: AppResources; ctx: AwsContext; ecs: ECSClient & {crashedTasks: number}}> {
  const resources = await makeResources(app)
  const ctx = makeContext(resources, {clock: fakeClock()})
  const ecs = simulatedEcs()
  ctx.clients.set('ecs', ecs)
  const placeholder = await ecs.send(new RegisterTaskDefinitionCommand(taskDefinitionInput(app, resources, {processType: 'web', image: 'public.ecr.aws/docker/library/busybox', size: 'standard-1x', configKeys: []})))
  await ecs.send(new CreateServiceCommand({
    cluster: resources.cluster, serviceName: names.service(app, 'web'), taskDefinition: placeholder.taskDefinition!.taskDefinitionArn, desiredCount: 0, launchType: 'FARGATE',
    networkConfiguration: {awsvpcConfiguration: {subnets: resources.subnets, securityGroups: [resources.securityGroup]}},
  }))
  return {resources, ctx, ecs}
}
