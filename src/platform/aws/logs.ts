import {HerogateError} from '../../lib/errors.js'
import type {LogLine} from '../types.js'

// Placeholder until its issue lands.
export async function* logs(..._args: unknown[]): AsyncIterable<LogLine> {
  throw new HerogateError('logs is not available on AWS yet.')
}
