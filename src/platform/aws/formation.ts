import {HerogateError} from '../../lib/errors.js'

// Placeholder until its issue lands; replaced by the real implementation.
export async function formation(..._args: unknown[]): Promise<never> {
  throw new HerogateError('formation is not available on AWS yet.')
}

export async function scale(..._args: unknown[]): Promise<never> {
  throw new HerogateError('scale is not available on AWS yet.')
}

export async function ps(..._args: unknown[]): Promise<never> {
  throw new HerogateError('ps is not available on AWS yet.')
}

export async function restart(..._args: unknown[]): Promise<never> {
  throw new HerogateError('restart is not available on AWS yet.')
}

export async function stop(..._args: unknown[]): Promise<never> {
  throw new HerogateError('stop is not available on AWS yet.')
}

