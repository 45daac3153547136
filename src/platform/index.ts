import type {Platform, PlatformKind} from './types.js'

export type * from './types.js'

/** What a driver needs from the command line; AWS reads region/profile, local ignores them. */
export interface PlatformOptions {
  region?: string
  profile?: string
}

type Factory = (kind: PlatformKind, options: PlatformOptions) => Platform | Promise<Platform>

let factoryOverride: Factory | undefined

/** Tests swap in a fake platform; undefined restores the real drivers. */
export function setPlatformFactory(factory: Factory | undefined): void {
  factoryOverride = factory
}

/** Drivers are imported lazily so that start-up never loads the AWS SDK. */
export async function openPlatform(kind: PlatformKind, options: PlatformOptions = {}): Promise<Platform> {
  if (factoryOverride) return factoryOverride(kind, options)
  if (kind === 'local') {
    const {LocalPlatform} = await import('./local/index.js')
    return new LocalPlatform()
  }

  // Without a region there is no AWS to talk to: said before the driver is even loaded (apps lists local apps then).
  const {resolveRegion} = await import('../aws/region.js')
  const region = await resolveRegion(options)
  const {AwsPlatform} = await import('./aws/index.js')
  return AwsPlatform.open({...options, region})
}
