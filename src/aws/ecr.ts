import type {ECRClient, ImageIdentifier} from '@aws-sdk/client-ecr'

import {awsFailure, isAwsError} from './errors.js'

/** ECR in herogate's words: an app's images and the platform's image cache, removed when they are destroyed. */
export class ImageRepository {
  constructor(private readonly client: ECRClient) {}

  /** Deletes every image of the repository; resolves with how many went. A missing repository has none. */
  async deleteAllImages(repositoryName: string): Promise<number> {
    const {BatchDeleteImageCommand, ListImagesCommand} = await import('@aws-sdk/client-ecr')
    const ids: ImageIdentifier[] = []
    let nextToken: string | undefined
    try {
      do {
        const response = await this.client.send(new ListImagesCommand({repositoryName, nextToken, maxResults: 1000}))
        ids.push(...(response.imageIds ?? []))
        nextToken = response.nextToken
      } while (nextToken)
    } catch (error) {
      if (isAwsError(error, 'RepositoryNotFoundException')) return 0
      throw awsFailure(error, `listing the images of ${repositoryName}`)
    }

    // One digest can carry several tags: delete by digest once.
    const digests = [...new Set(ids.map((id) => id.imageDigest).filter(Boolean))] as string[]
    for (let i = 0; i < digests.length; i += 100) {
      try {
        await this.client.send(new BatchDeleteImageCommand({repositoryName, imageIds: digests.slice(i, i + 100).map((imageDigest) => ({imageDigest}))}))
      } catch (error) {
        throw awsFailure(error, `deleting the images of ${repositoryName}`)
      }
    }

    return digests.length
  }

  /**
   * Deletes, with their images, the repositories whose names begin with `prefix/`: those a
   * pull-through cache rule made as images were pulled through it, which no stack owns.
   * Resolves with their names.
   */
  async deleteRepositoriesUnder(prefix: string): Promise<string[]> {
    const {DeleteRepositoryCommand, DescribeRepositoriesCommand} = await import('@aws-sdk/client-ecr')
    const found: string[] = []
    let nextToken: string | undefined
    try {
      do {
        const response = await this.client.send(new DescribeRepositoriesCommand({nextToken, maxResults: 1000}))
        found.push(...(response.repositories ?? []).map((repository) => repository.repositoryName ?? '').filter((name) => name.startsWith(`${prefix}/`)))
        nextToken = response.nextToken
      } while (nextToken)
    } catch (error) {
      throw awsFailure(error, `listing the repositories under ${prefix}/`)
    }

    const deleted: string[] = []
    for (const repositoryName of found.sort()) {
      try {
        await this.client.send(new DeleteRepositoryCommand({repositoryName, force: true}))
        deleted.push(repositoryName)
      } catch (error) {
        if (isAwsError(error, 'RepositoryNotFoundException')) continue
        throw awsFailure(error, `deleting repository ${repositoryName}`)
      }
    }

    return deleted
  }
}
