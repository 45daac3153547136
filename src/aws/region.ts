import {existsSync} from 'node:fs'
import {readFile} from 'node:fs/promises'
import {homedir} from 'node:os'
import {join} from 'node:path'

import {InvalidInput, NoRegion} from '../lib/errors.js'

/**
 * Region names of every AWS partition, as the SDK's partition table spells them (us-east-1,
 * ap-southeast-5, us-gov-west-1, cn-north-1, us-isob-east-1, eusc-de-east-1…). A name that is
 * not one would otherwise reach the network as a host name, and fail there in ways that say
 * nothing about the region (a DNS error, or a proxy's page that the SDK cannot parse).
 */
const REGION_NAME = /^(?:(?:us|eu|ap|sa|ca|me|af|il|mx|cn)-[a-z]+|us-gov-[a-z]+|us-iso[bf]?-[a-z]+|eu-isoe-[a-z]+|eusc-de-[a-z]+)-\d+$/

/**
 * The region as the AWS CLI resolves it: --region, AWS_REGION, AWS_DEFAULT_REGION, then the
 * `region` of the profile (--profile, AWS_PROFILE, else default) in the shared config file.
 * A value that cannot be a region is refused, naming where it came from.
 */
export async function resolveRegion(options: {region?: string; profile?: string}): Promise<string> {
  const given: Array<[string | undefined, string, string]> = [
    [options.region, `--region ${options.region}`, '--region us-east-1'],
    [process.env.AWS_REGION, `AWS_REGION=${process.env.AWS_REGION}`, 'export AWS_REGION=us-east-1'],
    [process.env.AWS_DEFAULT_REGION, `AWS_DEFAULT_REGION=${process.env.AWS_DEFAULT_REGION}`, 'export AWS_DEFAULT_REGION=us-east-1'],
  ]
  let [region, source, instead] = given.find(([value]) => value) ?? []
  if (!region) {
    region = await profileRegion(options.profile)
    source = `region = ${region} (profile ${options.profile || process.env.AWS_PROFILE || 'default'} in ${configFile()})`
    instead = '--region us-east-1'
  }

  if (!region) throw new NoRegion()
  if (!REGION_NAME.test(region)) {
    throw new InvalidInput(`${source} is not an AWS region: region names look like us-east-1 or eu-west-2.`, {suggestions: [instead!]})
  }

  return region
}

function configFile(): string {
  return process.env.AWS_CONFIG_FILE || join(homedir(), '.aws', 'config')
}

function credentialsFile(): string {
  return process.env.AWS_SHARED_CREDENTIALS_FILE || join(homedir(), '.aws', 'credentials')
}

const CREDENTIAL_VARIABLES = ['AWS_ACCESS_KEY_ID', 'AWS_PROFILE', 'AWS_WEB_IDENTITY_TOKEN_FILE', 'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI', 'AWS_CONTAINER_CREDENTIALS_FULL_URI']

/**
 * Whether anything on this machine sets up AWS credentials where the SDK looks for them (a
 * profile asked for, the environment, the shared files), without asking AWS: someone who
 * uses only the local platform has none, and is not told about AWS at every turn.
 */
export function credentialsConfigured(profile?: string): boolean {
  return Boolean(profile) || CREDENTIAL_VARIABLES.some((name) => process.env[name]) || existsSync(credentialsFile()) || existsSync(configFile())
}

export async function profileRegion(profile?: string): Promise<string | undefined> {
  const name = profile || process.env.AWS_PROFILE || 'default'
  let text: string
  try {
    text = await readFile(configFile(), 'utf8')
  } catch {
    return undefined
  }

  const sections = parseIni(text)
  const section = name === 'default' ? (sections.get('default') ?? sections.get('profile default')) : sections.get(`profile ${name}`)
  return section?.get('region') || undefined
}

/** The subset of INI the AWS config file uses: [section] headers, key = value, # and ; comments. */
export function parseIni(text: string): Map<string, Map<string, string>> {
  const sections = new Map<string, Map<string, string>>()
  let current: Map<string, string> | undefined
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim()
    if (!line || line.startsWith('#') || line.startsWith(';')) continue
    const header = /^\[\s*(.+?)\s*\]$/.exec(line)
    if (header) {
      current = new Map()
      sections.set(header[1].replace(/\s+/g, ' '), current)
      continue
    }

    const eq = line.indexOf('=')
    // Indented lines continue a nested setting (e.g. s3 =\n  max_concurrent_requests = 20): not top-level keys.
    if (current && eq > 0 && !/^\s/.test(raw)) current.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim())
  }

  return sections
}
