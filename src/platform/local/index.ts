import {HerogateError} from '../../lib/errors.js'

// Placeholder until the local platform issue lands.
export class LocalPlatform {
  readonly kind = 'local' as const

  constructor() {
    throw new HerogateError('The local platform is not available yet.')
  }
}
