import type {STSClient} from '@aws-sdk/client-sts'

import {HerogateError, NoCredentials} from '../lib/errors.js'
import {awsFailure} from './errors.js'

export interface CallerIdentity {
  account: string
  arn: string
}

const REJECTED = new Set(['InvalidClientTokenId', 'SignatureDoesNotMatch', 'ExpiredToken', 'ExpiredTokenException', 'UnrecognizedClientException'])

/** Who the current credentials belong to; the first call of every command that changes AWS. */
export async function callerIdentity(client: STSClient): Promise<CallerIdentity> {
  const {GetCallerIdentityCommand} = await import('@aws-sdk/client-sts')
  try {
    const response = await client.send(new GetCallerIdentityCommand({}))
    return {account: response.Account ?? '', arn: response.Arn ?? ''}
  } catch (error) {
    const name = (error as {name?: string}).name ?? ''
    if (name === 'CredentialsProviderError' || /could not load credentials/i.test((error as Error).message ?? '')) throw new NoCredentials(error)
    if (REJECTED.has(name)) {
      throw new HerogateError(`AWS rejected the credentials (${name}).`, {
        cause: error,
        suggestions: ['new credentials in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN or ~/.aws/credentials (an SSO profile: aws sso login)', '--profile NAME to use other credentials'],
      })
    }

    throw awsFailure(error, 'checking the AWS credentials')
  }
}
