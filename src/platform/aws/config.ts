import {HerogateError} from '../../lib/errors.js'

// Placeholder until its issue lands; replaced by the real implementation.
export async function getConfig(..._args: unknown[]): Promise<never> {
  throw new HerogateError('getConfig is not available on AWS yet.')
}

export async function setConfig(..._args: unknown[]): Promise<never> {
  throw new HerogateError('setConfig is not available on AWS yet.')
}

export async function unsetConfig(..._args: unknown[]): Promise<never> {
  throw new HerogateError('unsetConfig is not available on AWS yet.')
}

