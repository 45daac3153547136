import type {ECSClient} from '@aws-sdk/client-ecs'

import {awsFailure, isAwsError} from './errors.js'

export interface ServiceCounts {
  name: string
  desiredCount: number
  runningCount: number
  pendingCount: number
}

/** Every active service of the cluster with its task counts (ListServices pages, DescribeServices by 10). */
export async function clusterServices(client: ECSClient, cluster: string): Promise<ServiceCounts[]> {
  const {DescribeServicesCommand, ListServicesCommand} = await import('@aws-sdk/client-ecs')
  const arns: string[] = []
  const services: ServiceCounts[] = []
  let nextToken: string | undefined
  try {
    do {
      const response = await client.send(new ListServicesCommand({cluster, nextToken, maxResults: 100}))
      arns.push(...(response.serviceArns ?? []))
      nextToken = response.nextToken
    } while (nextToken)
    for (let i = 0; i < arns.length; i += 10) {
      const response = await client.send(new DescribeServicesCommand({cluster, services: arns.slice(i, i + 10)}))
      for (const service of response.services ?? []) {
        if (service.status !== 'ACTIVE') continue
        services.push({
          name: service.serviceName ?? '',
          desiredCount: service.desiredCount ?? 0,
          runningCount: service.runningCount ?? 0,
          pendingCount: service.pendingCount ?? 0,
        })
      }
    }
  } catch (error) {
    if (isAwsError(error, 'ClusterNotFoundException')) return []
    throw awsFailure(error, `listing the services of cluster ${cluster}`)
  }

  return services
}
