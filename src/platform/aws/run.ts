import {HerogateError} from '../../lib/errors.js'

// Placeholder until its issue lands; replaced by the real implementation.
export async function run(..._args: unknown[]): Promise<never> {
  throw new HerogateError('run is not available on AWS yet.')
}

