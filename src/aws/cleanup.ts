import type {CloudWatchLogsClient} from '@aws-sdk/client-cloudwatch-logs'
import type {ECSClient} from '@aws-sdk/client-ecs'
import type {SSMClient} from '@aws-sdk/client-ssm'

import {awsFailure, isAwsError} from './errors.js'

/**
 * Deletions that destroying an app needs beyond its stack: everything under its SSM path
 * (config, releases), log groups, and services made outside the stack.
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
