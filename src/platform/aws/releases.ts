import {HerogateError} from '../../lib/errors.js'

// Placeholder until its issue lands; replaced by the real implementation.
export async function releases(..._args: unknown[]): Promise<never> {
  throw new HerogateError('releases is not available on AWS yet.')
}

export async function releaseInfo(..._args: unknown[]): Promise<never> {
  throw new HerogateError('releaseInfo is not available on AWS yet.')
}

export async function rollback(..._args: unknown[]): Promise<never> {
  throw new HerogateError('rollback is not available on AWS yet.')
}

export async function deploy(..._args: unknown[]): Promise<never> {
  throw new HerogateError('deploy is not available on AWS yet.')
}

