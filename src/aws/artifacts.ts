import type {S3Client} from '@aws-sdk/client-s3'

import {awsFailure, isAwsError} from './errors.js'

/** The platform's artifact bucket: pipeline artifacts and herogate's pinned package. */
export class ArtifactBucket {
  constructor(private readonly client: S3Client) {}

  /** Puts one object (herogate's own package for CodeBuild); resolves with its s3:// URI. */
  async put(bucket: string, key: string, body: Uint8Array, contentType = 'application/octet-stream'): Promise<string> {
    const {PutObjectCommand} = await import('@aws-sdk/client-s3')
    try {
      await this.client.send(new PutObjectCommand({Bucket: bucket, Key: key, Body: body, ContentType: contentType}))
    } catch (error) {
      throw awsFailure(error, `uploading s3://${bucket}/${key}`)
    }

    return `s3://${bucket}/${key}`
  }

  /** Deletes every object under `prefix` ('' empties the bucket); resolves with how many went. */
  async deletePrefix(bucket: string, prefix: string): Promise<number> {
    const {DeleteObjectsCommand, ListObjectsV2Command} = await import('@aws-sdk/client-s3')
    let deleted = 0
    let ContinuationToken: string | undefined
    try {
      do {
        const response = await this.client.send(new ListObjectsV2Command({Bucket: bucket, Prefix: prefix, ContinuationToken, MaxKeys: 1000}))
        const keys = (response.Contents ?? []).map((object) => object.Key!).filter(Boolean)
        if (keys.length > 0) {
          await this.client.send(new DeleteObjectsCommand({Bucket: bucket, Delete: {Objects: keys.map((Key) => ({Key})), Quiet: true}}))
          deleted += keys.length
        }

        ContinuationToken = response.IsTruncated ? response.NextContinuationToken : undefined
      } while (ContinuationToken)
    } catch (error) {
      if (isAwsError(error, 'NoSuchBucket')) return deleted
      throw awsFailure(error, `deleting artifacts under s3://${bucket}/${prefix}`)
    }

    return deleted
  }
}
