import type {
  CreateServiceCommandInput, ECSClient, NetworkConfiguration, RegisterTaskDefinitionCommandInput, Service, Task, TaskDefinition,
} from '@aws-sdk/client-ecs'

import {HerogateError} from '../lib/errors.js'
import {awsFailure, isAwsError} from './errors.js'

/**
 * The ECS calls of the release path (deploy, config release, rollback, rollout watching):
 * task definition revisions, services per process type, stopped tasks and the release-phase task.
 */

function wrap(error: unknown, what: string): never {
  throw awsFailure(error, what)
}

/**
 * CreateService refused: a service of that name was deleted and ECS still drains it (until its
 * tasks stop, it is DRAINING and its name cannot be used again).
 */
export class ServiceDraining extends HerogateError {}

export interface RunTaskRequest {
  cluster: string
  taskDefinition: string
  subnets: string[]
  securityGroup: string
  startedBy: string
  /** The task's tags: the build's role reads and stops only tasks tagged with its app. */
  tags?: Array<{key: string; value: string}>
}

export class EcsRelease {
  constructor(private readonly ecs: ECSClient) {}

  async describeTaskDefinition(arn: string): Promise<TaskDefinition> {
    const {DescribeTaskDefinitionCommand} = await import('@aws-sdk/client-ecs')
    try {
      const result = await this.ecs.send(new DescribeTaskDefinitionCommand({taskDefinition: arn}))
      return result.taskDefinition!
    } catch (error) {
      wrap(error, `reading task definition ${arn}`)
    }
  }

  async registerTaskDefinition(input: RegisterTaskDefinitionCommandInput): Promise<string> {
    const {RegisterTaskDefinitionCommand} = await import('@aws-sdk/client-ecs')
    try {
      const result = await this.ecs.send(new RegisterTaskDefinitionCommand(input))
      return result.taskDefinition!.taskDefinitionArn!
    } catch (error) {
      wrap(error, `registering a task definition for ${input.family}`)
    }
  }

  /** Active services among `names` (missing or deleted ones are left out), by name. */
  async services(cluster: string, names: string[]): Promise<Map<string, Service>> {
    const found = await this.describeServices(cluster, names)
    for (const [name, service] of found) if (service.status === 'INACTIVE' || service.status === 'DRAINING') found.delete(name)
    return found
  }

  /** The newest service of each of `names` in any status (ACTIVE, DRAINING, INACTIVE), by name; missing ones are left out. */
  async describeServices(cluster: string, names: string[]): Promise<Map<string, Service>> {
    const {DescribeServicesCommand} = await import('@aws-sdk/client-ecs')
    const found = new Map<string, Service>()
    try {
      for (let i = 0; i < names.length; i += 10) {
        const result = await this.ecs.send(new DescribeServicesCommand({cluster, services: names.slice(i, i + 10)}))
        for (const service of result.services ?? []) {
          // A name deleted and created again is described once per record: the live one wins.
          if (service.serviceName && (!found.has(service.serviceName) || service.status !== 'INACTIVE')) found.set(service.serviceName, service)
        }
      }
    } catch (error) {
      wrap(error, `describing the services of ${cluster}`)
    }

    return found
  }

  /** Throws ServiceDraining while a deleted service of the same name is still draining. */
  async createService(input: CreateServiceCommandInput): Promise<Service> {
    const {CreateServiceCommand} = await import('@aws-sdk/client-ecs')
    try {
      return (await this.ecs.send(new CreateServiceCommand(input))).service!
    } catch (error) {
      // ECS says "Unable to Start a service that is still Draining."
      if (isAwsError(error, 'InvalidParameterException') && /draining/i.test((error as Error).message)) {
        throw new ServiceDraining(`Service ${input.serviceName} cannot be created while ECS still drains the one deleted before it.`, {cause: error})
      }

      wrap(error, `creating service ${input.serviceName}`)
    }
  }

  async updateService(cluster: string, service: string, change: {taskDefinition?: string; desiredCount?: number; forceNewDeployment?: boolean; networkConfiguration?: NetworkConfiguration}): Promise<Service> {
    const {UpdateServiceCommand} = await import('@aws-sdk/client-ecs')
    try {
      return (await this.ecs.send(new UpdateServiceCommand({cluster, service, ...change}))).service!
    } catch (error) {
      wrap(error, `updating service ${service}`)
    }
  }

  /** Scales to zero and deletes (a process type that left the Procfile). */
  async deleteService(cluster: string, service: string): Promise<void> {
    const {DeleteServiceCommand} = await import('@aws-sdk/client-ecs')
    try {
      await this.ecs.send(new DeleteServiceCommand({cluster, service, force: true}))
    } catch (error) {
      wrap(error, `deleting service ${service}`)
    }
  }

  /** Stopped tasks of a service (ECS keeps them about an hour), with stop codes and exit codes. */
  async stoppedTasks(cluster: string, serviceName: string): Promise<Task[]> {
    return this.tasks(cluster, await this.stoppedTaskArns(cluster, serviceName))
  }

  async stoppedTaskArns(cluster: string, serviceName: string): Promise<string[]> {
    const {ListTasksCommand} = await import('@aws-sdk/client-ecs')
    const arns: string[] = []
    let nextToken: string | undefined
    try {
      do {
        const page = await this.ecs.send(new ListTasksCommand({cluster, serviceName, desiredStatus: 'STOPPED', nextToken}))
        arns.push(...(page.taskArns ?? []))
        nextToken = page.nextToken
      } while (nextToken)
    } catch (error) {
      wrap(error, `listing the stopped tasks of ${serviceName}`)
    }

    return arns
  }

  async tasks(cluster: string, arns: string[]): Promise<Task[]> {
    const {DescribeTasksCommand} = await import('@aws-sdk/client-ecs')
    const tasks: Task[] = []
    try {
      for (let i = 0; i < arns.length; i += 100) {
        const result = await this.ecs.send(new DescribeTasksCommand({cluster, tasks: arns.slice(i, i + 100)}))
        tasks.push(...(result.tasks ?? []))
      }
    } catch (error) {
      wrap(error, `describing tasks of ${cluster}`)
    }

    return tasks
  }

  async stopTask(cluster: string, arn: string, reason: string): Promise<void> {
    const {StopTaskCommand} = await import('@aws-sdk/client-ecs')
    try {
      await this.ecs.send(new StopTaskCommand({cluster, task: arn, reason}))
    } catch (error) {
      wrap(error, `stopping task ${arn.slice(arn.lastIndexOf('/') + 1)}`)
    }
  }

  /** Starts one Fargate task in the app's network; resolves with its ARN. */
  async runTask(request: RunTaskRequest): Promise<string> {
    const {RunTaskCommand} = await import('@aws-sdk/client-ecs')
    try {
      const result = await this.ecs.send(new RunTaskCommand({
        cluster: request.cluster,
        taskDefinition: request.taskDefinition,
        launchType: 'FARGATE',
        count: 1,
        startedBy: request.startedBy,
        ...(request.tags ? {tags: request.tags} : {}),
        networkConfiguration: {
          awsvpcConfiguration: {subnets: request.subnets, securityGroups: [request.securityGroup], assignPublicIp: 'ENABLED'},
        },
      }))
      const arn = result.tasks?.[0]?.taskArn
      if (!arn) {
        const reason = result.failures?.map((f) => f.reason).join(', ') || 'no task was started'
        throw new HerogateError(`Could not start the release task: ${reason}.`)
      }

      return arn
    } catch (error) {
      wrap(error, 'starting the release task')
    }
  }
}
