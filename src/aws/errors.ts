import {HerogateError, NoCredentials} from '../lib/errors.js'

/** How every wrapper in src/aws turns an SDK error into herogate's typed errors. */

/** True when an SDK error has one of these names (AWS error codes). */
export function isAwsError(error: unknown, ...names: string[]): boolean {
  return typeof error === 'object' && error !== null && names.includes((error as {name?: string}).name ?? '')
}

interface AwsErrorLike {
  name?: string
  message?: string
  $metadata?: {httpStatusCode?: number}
}

const THROTTLING = new Set(['ThrottlingException', 'ThrottledException', 'TooManyRequestsException', 'RequestLimitExceeded', 'TooManyUpdates', 'Throttling'])
const DENIED = new Set(['AccessDeniedException', 'AccessDenied', 'UnauthorizedOperation', 'AccessDeniedException.Unauthorized'])

/**
 * Turns an SDK error into a HerogateError saying what herogate was doing. With
 * keepMessage false AWS's own message is left out, because validation errors of
 * SSM echo the parameter value back.
 */
export function awsFailure(error: unknown, doing: string, options: {keepMessage?: boolean} = {}): HerogateError {
  if (error instanceof HerogateError) return error
  const e = (error ?? {}) as AwsErrorLike
  const name = e.name ?? 'Error'
  const keep = options.keepMessage ?? true
  // One line: SDK messages (deserialization errors) can run over several.
  const detail = (e.message ?? '').trim().split('\n')[0].trim().replace(/\.$/, '')
  const cause = keep ? error : undefined
  if (name === 'CredentialsProviderError') return new NoCredentials(error)
  if (THROTTLING.has(name)) {
    return new HerogateError(`AWS kept throttling ${doing} (${name}), even after retrying.`, {cause, suggestions: ['wait a minute and try again']})
  }

  if (DENIED.has(name)) {
    return new HerogateError(`AWS denied ${doing} (${name}${keep && detail ? `: ${detail}` : ''}).`, {
      cause,
      suggestions: ['check the IAM permissions of the AWS credentials herogate uses (--profile, AWS_PROFILE)'],
    })
  }

  return new HerogateError(`AWS failed ${doing}: ${name}${keep && detail ? `: ${detail}` : ''}.`, {cause})
}
