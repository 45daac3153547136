import type {Platform, PlatformKind} from './types.js'

export type * from './types.js'

/** What a driver needs from the command line; AWS reads region/profile, local ignores them. */
export interface PlatformOptions {
  region?: string
  profile?: string
  /** The app the command is for: when AWS cannot be asked about it (no region), the error says that no local app has that name. */
  app?: string
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
  const region = await regionFor(options)
  const {AwsPlatform} = await import('./aws/index.js')
  return AwsPlatform.open({...options, region})
}

/**
 * The AWS region to open the driver in. Without one, an app that was named is said to be no
 * local app (with the closest local names), and AWS is mentioned only to whoever set it up.
 */
async function regionFor(options: PlatformOptions): Promise<string> {
  const {credentialsConfigured, resolveRegion} = await import('../aws/region.js')
  const {AwsNotConfigured, NoLocalApp, NoRegion} = await import('../lib/errors.js')
  try {
    return await resolveRegion(options)
  } catch (error) {
    if (!(error instanceof NoRegion)) throw error
    const configured = credentialsConfigured(options.profile)
    if (options.app) {
      const [{closestNames}, {listAppNames}] = await Promise.all([import('../lib/closest.js'), import('./local/state.js')])
      throw new NoLocalApp(options.app, closestNames(options.app, listAppNames()), configured ? 'no region' : 'not set up')
    }

    throw configured ? error : new AwsNotConfigured()
  }
}
