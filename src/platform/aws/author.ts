import {createHash} from 'node:crypto'
import {mkdirSync, readFileSync, renameSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {callerIdentity} from '../../aws/identity.js'
import {nameFromArn} from '../../aws/release-store.js'
import {herogateHome} from '../../lib/home.js'
import type {AwsContext} from './context.js'

/** How many credentials' names the cache keeps (temporary credentials bring a new key each session). */
const CACHE_SIZE = 20

const authors = new WeakMap<AwsContext, Promise<string>>()

/**
 * Who a release is by: the last part of the caller's identity ARN (user name, or role session
 * name). Asked of STS once per access key and then remembered in HEROGATE_HOME, because an
 * access key always belongs to the same identity; so a config change usually asks STS nothing.
 */
export function authorName(ctx: AwsContext): Promise<string> {
  let name = authors.get(ctx)
  if (!name) {
    name = lookUp(ctx)
    name.catch(() => authors.delete(ctx))
    authors.set(ctx, name)
  }

  return name
}

/** The author when this context has looked it up already, without asking anything. */
export function knownAuthor(ctx: AwsContext): Promise<string> | undefined {
  return authors.get(ctx)
}

async function lookUp(ctx: AwsContext): Promise<string> {
  const sts = await ctx.clients.sts()
  const key = await credentialKey(sts.config.credentials)
  const cached = key ? readCache()[key] : undefined
  if (cached) return cached
  const name = nameFromArn((await callerIdentity(sts)).arn)
  if (key) writeCache(key, name)
  return name
}

/** A digest of the access key id (never the key itself on disk); undefined when credentials cannot be resolved here. */
async function credentialKey(provider: unknown): Promise<string | undefined> {
  try {
    const credentials = typeof provider === 'function' ? await (provider as () => Promise<{accessKeyId?: string}>)() : (provider as {accessKeyId?: string} | undefined)
    return credentials?.accessKeyId ? createHash('sha256').update(credentials.accessKeyId).digest('hex').slice(0, 32) : undefined
  } catch {
    // Unresolvable credentials: STS will say what is wrong.
    return undefined
  }
}

function cacheFile(): string {
  return join(herogateHome(), 'aws-identities.json')
}

function readCache(): Record<string, string> {
  try {
    const parsed = JSON.parse(readFileSync(cacheFile(), 'utf8')) as unknown
    return parsed && typeof parsed === 'object' ? (parsed as Record<string, string>) : {}
  } catch {
    return {}
  }
}

function writeCache(key: string, name: string): void {
  try {
    const entries = Object.entries(readCache()).filter(([k]) => k !== key).slice(-(CACHE_SIZE - 1))
    mkdirSync(herogateHome(), {recursive: true})
    const temporary = `${cacheFile()}.${process.pid}`
    writeFileSync(temporary, JSON.stringify(Object.fromEntries([...entries, [key, name]])), {mode: 0o600})
    renameSync(temporary, cacheFile())
  } catch {
    // A cache that cannot be written only costs the next run one STS call.
  }
}
