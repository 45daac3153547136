import {HerogateError} from '../../lib/errors.js'

// Placeholder until its issue lands; replaced by the real implementation.
export async function createApp(..._args: unknown[]): Promise<never> {
  throw new HerogateError('createApp is not available on AWS yet.')
}

export async function listApps(..._args: unknown[]): Promise<never> {
  throw new HerogateError('listApps is not available on AWS yet.')
}

export async function appInfo(..._args: unknown[]): Promise<never> {
  throw new HerogateError('appInfo is not available on AWS yet.')
}

export async function destroyApp(..._args: unknown[]): Promise<never> {
  throw new HerogateError('destroyApp is not available on AWS yet.')
}

export async function destroyPlatform(..._args: unknown[]): Promise<never> {
  throw new HerogateError('destroyPlatform is not available on AWS yet.')
}

