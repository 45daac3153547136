import {NoRegion} from '../lib/errors.js'

/** --region, then AWS_REGION / AWS_DEFAULT_REGION. (Issue 2 extends this to the profile's config.) */
export async function resolveRegion(options: {region?: string; profile?: string}): Promise<string> {
  const region = options.region || process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION
  if (!region) throw new NoRegion()
  return region
}
