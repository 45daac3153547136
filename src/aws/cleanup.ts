import type {CloudWatchLogsClient} from '@aws-sdk/client-cloudwatch-logs'
import type {ECSClient} from '@aws-sdk/client-ecs'
import type {SSMClient} from '@aws-sdk/client-ssm'

import {EcsService, type Task} from './ecs.js'
import {EcsRelease} from './ecs-release.js'
import {awsFailure, isAwsError} from './errors.js'

/**
 * Deletions that destroying an app needs beyond its stack: everything under its SSM path
 * (config, releases), log groups, services made outside the stack, one-off tasks still
 * running and the app's task definitions.
 */

/** Deletes every parameter under `path` (recursively) but those in `keep`; resolves with how many went. */
export async function deleteParametersByPath(client: SSMClient, path: string, keep: string[] = []): Promise<number> {
  const {DeleteParametersCommand, GetParametersByPathCommand} = await import('@aws-sdk/client-ssm')
  const names: string[] = []
  let NextToken: string | undefined
  try {
    do {
      // Names only: values (config) are never decrypted or read here.
      const response = await client.send(new GetParametersByPathCommand({Path: path, Recursive: true, WithDecryption: false, MaxResults: 10, NextToken}))
      names.push(...(response.Parameters ?? []).map((parameter) => parameter.Name!).filter((name) => name && !keep.includes(name)))
      NextToken = response.NextToken
    } while (NextToken)
    for (let i = 0; i < names.length; i += 10) {
      await client.send(new DeleteParametersCommand({Names: names.slice(i, i + 10)}))
    }
  } catch (error) {
    throw awsFailure(error, `deleting parameters under ${path}`, {keepMessage: false})
  }

  return names.length
}

/** Deletes the named log groups that exist; resolves with the names deleted. */
export async function deleteLogGroups(client: CloudWatchLogsClient, groups: string[]): Promise<string[]> {
  const {DeleteLogGroupCommand} = await import('@aws-sdk/client-cloudwatch-logs')
  const deleted: string[] = []
  for (const logGroupName of groups) {
    try {
      await client.send(new DeleteLogGroupCommand({logGroupName}))
      deleted.push(logGroupName)
    } catch (error) {
      if (isAwsError(error, 'ResourceNotFoundException')) continue
      throw awsFailure(error, `deleting log group ${logGroupName}`)
    }
  }

  return deleted
}

/** Scales a service to zero and deletes it (force: its tasks stop with it). */
export async function deleteService(client: ECSClient, cluster: string, service: string): Promise<void> {
  const {DeleteServiceCommand, UpdateServiceCommand} = await import('@aws-sdk/client-ecs')
  try {
    await client.send(new UpdateServiceCommand({cluster, service, desiredCount: 0}))
    await client.send(new DeleteServiceCommand({cluster, service, force: true}))
  } catch (error) {
    const name = (error as {name?: string}).name
    if (name === 'ServiceNotFoundException' || name === 'ServiceNotActiveException') return
    throw awsFailure(error, `deleting service ${service}`)
  }
}

/**
 * Stops the app's tasks that no service runs: one-off processes (`herogate run`, detached or
 * left behind) and a release phase's task still running. They are found through the app's task
 * definition families (EcsService.taskFamilies), so another app's tasks are never touched.
 * Resolves with the tasks it stopped.
 */
export async function stopOneOffTasks(client: ECSClient, cluster: string, families: string[], reason: string): Promise<Task[]> {
  const ecs = new EcsService(client)
  const arns: string[] = []
  for (const family of families) arns.push(...(await ecs.listTasks(cluster, {family})))
  const oneOff = (await ecs.describeTasks(cluster, arns)).filter((task) => task.taskArn && !task.group?.startsWith('service:'))
  for (const task of oneOff) await ecs.stopTask(cluster, task.taskArn!, reason)
  return oneOff
}

/** Deregisters every ACTIVE revision of the families; resolves with how many there were. */
export async function deregisterTaskDefinitions(client: ECSClient, families: string[]): Promise<number> {
  const ecs = new EcsService(client)
  let count = 0
  for (const family of families) {
    for (const arn of await ecs.activeRevisions(family)) {
      await ecs.deregisterTaskDefinition(arn)
      count++
    }
  }

  return count
}

/** Whether ECS still drains any of the services or still stops any of the tasks (a destroyed app's names are free once it does not). */
export async function stillStopping(client: ECSClient, cluster: string, services: string[], tasks: string[]): Promise<boolean> {
  const described = await new EcsRelease(client).describeServices(cluster, services)
  if ([...described.values()].some((service) => service.status === 'DRAINING')) return true
  return (await new EcsService(client).describeTasks(cluster, tasks)).some((task) => task.lastStatus !== 'STOPPED')
}
