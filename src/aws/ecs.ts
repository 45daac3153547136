import type {
  ECSClient, KeyValuePair, NetworkConfiguration, RegisterTaskDefinitionCommandInput, RunTaskCommandInput, Service, Task, TaskDefinition,
} from '@aws-sdk/client-ecs'

import {HerogateError} from '../lib/errors.js'
import {names, PROCESS_TYPE} from '../lib/naming.js'
import {awsFailure, isAwsError} from './errors.js'

export type {Task, TaskDefinition} from '@aws-sdk/client-ecs'

/** One process type's ECS service, as herogate reads it. */
export interface ServiceInfo {
  /** ECS service name: names.service(app, type). */
  name: string
  type: string
  arn: string
  status: string
  desiredCount: number
  runningCount: number
  pendingCount: number
  taskDefinition: string
}

/** A task that could not even be placed (capacity, bad network, permissions): RunTask's `failures`. */
export class TaskNotStarted extends HerogateError {}

/**
 * ECS in herogate's words: an app's process types are its services in the cluster, named
 * names.service(app, type). Pagination and batching (10 services, 100 tasks per call) live here.
 */
export class EcsService {
  constructor(private readonly client: ECSClient) {}

  private async sdk() {
    return import('@aws-sdk/client-ecs')
  }

  /** Process types of the app, from the service names in the cluster, sorted. */
  async processTypes(cluster: string, app: string): Promise<string[]> {
    const {ListServicesCommand} = await this.sdk()
    const prefix = names.service(app, '')
    const types: string[] = []
    let nextToken: string | undefined
    try {
      do {
        const response = await this.client.send(new ListServicesCommand({cluster, nextToken, maxResults: 100}))
        for (const arn of response.serviceArns ?? []) {
          const name = arn.slice(arn.lastIndexOf('/') + 1)
          // "--" never occurs in app names and process types have no dashes, so app "foo" never claims app "foo-bar"'s services.
          if (name.startsWith(prefix) && PROCESS_TYPE.test(name.slice(prefix.length))) types.push(name.slice(prefix.length))
        }

        nextToken = response.nextToken
      } while (nextToken)
    } catch (error) {
      throw awsFailure(error, `listing the services of ${app}`)
    }

    return types.sort()
  }

  /** The services of the given process types; types without an active service are left out. */
  async services(cluster: string, app: string, types: string[]): Promise<ServiceInfo[]> {
    const {DescribeServicesCommand} = await this.sdk()
    const found: ServiceInfo[] = []
    for (let i = 0; i < types.length; i += 10) {
      const batch = types.slice(i, i + 10)
      try {
        const response = await this.client.send(new DescribeServicesCommand({cluster, services: batch.map((type) => names.service(app, type))}))
        for (const service of response.services ?? []) {
          if (service.status !== 'ACTIVE') continue
          found.push(serviceInfo(app, service))
        }
      } catch (error) {
        throw awsFailure(error, `reading the services of ${app}`)
      }
    }

    return found.sort((a, b) => a.type.localeCompare(b.type))
  }

  /** A task definition by ARN or family (the family's newest ACTIVE revision); undefined when there is none. */
  async taskDefinition(reference: string): Promise<TaskDefinition | undefined> {
    const {DescribeTaskDefinitionCommand} = await this.sdk()
    try {
      const response = await this.client.send(new DescribeTaskDefinitionCommand({taskDefinition: reference}))
      return response.taskDefinition
    } catch (error) {
      if (isAwsError(error, 'ClientException') && /not|unable|invalid/i.test((error as Error).message)) return undefined
      throw awsFailure(error, `reading task definition ${reference}`)
    }
  }

  /** The app's task definition families (names.taskFamily(app, type): its process types, run and release), sorted. */
  async taskFamilies(app: string): Promise<string[]> {
    const {ListTaskDefinitionFamiliesCommand} = await this.sdk()
    const prefix = names.taskFamily(app, '')
    const families: string[] = []
    let nextToken: string | undefined
    try {
      do {
        const response = await this.client.send(new ListTaskDefinitionFamiliesCommand({familyPrefix: prefix, status: 'ALL', nextToken, maxResults: 100}))
        // The prefix ends in "--", which no app name holds: app "demo" never claims app "demo-2"'s families.
        families.push(...(response.families ?? []).filter((family) => family.startsWith(prefix) && PROCESS_TYPE.test(family.slice(prefix.length))))
        nextToken = response.nextToken
      } while (nextToken)
    } catch (error) {
      throw awsFailure(error, `listing the task definition families of ${app}`)
    }

    return families.sort()
  }

  /** The ACTIVE revisions of a task definition family, oldest first. */
  async activeRevisions(family: string): Promise<string[]> {
    const {ListTaskDefinitionsCommand} = await this.sdk()
    const arns: string[] = []
    let nextToken: string | undefined
    try {
      do {
        // familyPrefix is a whole family name here (unlike ListTaskDefinitionFamilies).
        const response = await this.client.send(new ListTaskDefinitionsCommand({familyPrefix: family, status: 'ACTIVE', nextToken, maxResults: 100}))
        arns.push(...(response.taskDefinitionArns ?? []))
        nextToken = response.nextToken
      } while (nextToken)
    } catch (error) {
      throw awsFailure(error, `listing the task definitions of ${family}`)
    }

    return arns
  }

  async deregisterTaskDefinition(arn: string): Promise<void> {
    const {DeregisterTaskDefinitionCommand} = await this.sdk()
    try {
      await this.client.send(new DeregisterTaskDefinitionCommand({taskDefinition: arn}))
    } catch (error) {
      throw awsFailure(error, `deregistering task definition ${arn.slice(arn.lastIndexOf('/') + 1)}`)
    }
  }

  async registerTaskDefinition(input: RegisterTaskDefinitionCommandInput): Promise<TaskDefinition> {
    const {RegisterTaskDefinitionCommand} = await this.sdk()
    try {
      const response = await this.client.send(new RegisterTaskDefinitionCommand(input))
      return response.taskDefinition!
    } catch (error) {
      throw awsFailure(error, `registering a task definition for ${input.family}`)
    }
  }

  async updateService(
    cluster: string,
    service: string,
    change: {desiredCount?: number; taskDefinition?: string; forceNewDeployment?: boolean; healthCheckGracePeriodSeconds?: number; networkConfiguration?: NetworkConfiguration},
  ): Promise<void> {
    const {UpdateServiceCommand} = await this.sdk()
    try {
      await this.client.send(new UpdateServiceCommand({cluster, service, ...change}))
    } catch (error) {
      throw awsFailure(error, `updating service ${service}`)
    }
  }

  /** Task ARNs of a service, or of tasks started with `startedBy`. */
  async listTasks(cluster: string, filter: {serviceName?: string; startedBy?: string; family?: string; desiredStatus?: 'RUNNING' | 'STOPPED'}): Promise<string[]> {
    const {ListTasksCommand} = await this.sdk()
    const arns: string[] = []
    let nextToken: string | undefined
    try {
      do {
        const response = await this.client.send(new ListTasksCommand({cluster, ...filter, nextToken, maxResults: 100}))
        arns.push(...(response.taskArns ?? []))
        nextToken = response.nextToken
      } while (nextToken)
    } catch (error) {
      if (isAwsError(error, 'ServiceNotFoundException')) return []
      throw awsFailure(error, 'listing tasks')
    }

    return arns
  }

  async describeTasks(cluster: string, tasks: string[]): Promise<Task[]> {
    const {DescribeTasksCommand} = await this.sdk()
    const found: Task[] = []
    for (let i = 0; i < tasks.length; i += 100) {
      try {
        const response = await this.client.send(new DescribeTasksCommand({cluster, tasks: tasks.slice(i, i + 100)}))
        found.push(...(response.tasks ?? []))
      } catch (error) {
        throw awsFailure(error, 'reading tasks')
      }
    }

    return found
  }

  /** Starts one task; throws TaskNotStarted with ECS's reason when it could not be placed. */
  async runTask(input: RunTaskCommandInput): Promise<Task> {
    const {RunTaskCommand} = await this.sdk()
    let response
    try {
      response = await this.client.send(new RunTaskCommand(input))
    } catch (error) {
      throw awsFailure(error, 'starting a one-off task')
    }

    const task = response.tasks?.[0]
    if (!task) {
      const failure = response.failures?.[0]
      throw new TaskNotStarted(`ECS could not start the task: ${failure?.reason ?? 'no reason given'}${failure?.detail ? ` (${failure.detail})` : ''}.`, {
        suggestions: ['try again in a minute (capacity), or check the app stack: herogate info'],
      })
    }

    return task
  }

  async stopTask(cluster: string, task: string, reason: string): Promise<void> {
    const {StopTaskCommand} = await this.sdk()
    try {
      await this.client.send(new StopTaskCommand({cluster, task, reason}))
    } catch (error) {
      throw awsFailure(error, `stopping task ${taskId(task)}`)
    }
  }
}

export function serviceInfo(app: string, service: Service): ServiceInfo {
  const name = service.serviceName ?? ''
  return {
    name,
    type: name.slice(names.service(app, '').length),
    arn: service.serviceArn ?? '',
    status: service.status ?? 'UNKNOWN',
    desiredCount: service.desiredCount ?? 0,
    runningCount: service.runningCount ?? 0,
    pendingCount: service.pendingCount ?? 0,
    taskDefinition: service.taskDefinition ?? '',
  }
}

/** The id at the end of a task ARN (or the id itself). */
export function taskId(arnOrId: string): string {
  return arnOrId.slice(arnOrId.lastIndexOf('/') + 1)
}

export function environmentValue(environment: KeyValuePair[] | undefined, name: string): string | undefined {
  return environment?.find((entry) => entry.name === name)?.value
}
