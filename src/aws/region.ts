import {readFile} from 'node:fs/promises'
import {homedir} from 'node:os'
import {join} from 'node:path'

import {NoRegion} from '../lib/errors.js'

/**
 * The region as the AWS CLI resolves it: --region, AWS_REGION, AWS_DEFAULT_REGION, then the
 * `region` of the profile (--profile, AWS_PROFILE, else default) in the shared config file.
 */
export async function resolveRegion(options: {region?: string; profile?: string}): Promise<string> {
  const region = options.region || process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || (await profileRegion(options.profile))
  if (!region) throw new NoRegion()
  return region
}

export async function profileRegion(profile?: string): Promise<string | undefined> {
  const name = profile || process.env.AWS_PROFILE || 'default'
  const file = process.env.AWS_CONFIG_FILE || join(homedir(), '.aws', 'config')
  let text: string
  try {
    text = await readFile(file, 'utf8')
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
