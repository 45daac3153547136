import {checkValueSize, ConfigStore} from '../../aws/ssm.js'
import {InvalidInput, NoChanges} from '../../lib/errors.js'
import {validateConfigKey} from '../../lib/parse.js'
import type {ConfigChange, OperationOptions} from '../types.js'
import type {AwsContext} from './context.js'
import {appResources} from './formation.js'
import {authorName, releaseConfigChange, withAppLock} from './releases.js'

async function store(ctx: AwsContext): Promise<ConfigStore> {
  return new ConfigStore(await ctx.clients.ssm())
}

export async function getConfig(ctx: AwsContext, app: string): Promise<Record<string, string>> {
  const vars = await (await store(ctx)).get(app)
  // An empty result may mean "no such app": only then is it worth reading the stacks.
  if (Object.keys(vars).length === 0) await appResources(ctx, app)
  return vars
}

/**
 * config:set. Under the app's lock, the values go to SSM (all or nothing), then the change
 * becomes a release (releases.ts): every process type gets a task definition revision whose
 * `secrets` name the new key set, and its service rolls; a failed rollout puts the old config back.
 */
export async function setConfig(ctx: AwsContext, app: string, vars: Record<string, string>, options: OperationOptions = {}): Promise<ConfigChange> {
  const keys = Object.keys(vars)
  if (keys.length === 0) throw new InvalidInput('No config vars given.', {suggestions: ['herogate config:set KEY=VALUE']})
  for (const key of keys) {
    validateConfigKey(key)
    checkValueSize(key, vars[key])
  }

  const resources = await appResources(ctx, app)
  const config = await store(ctx)
  // One identity lookup names both the lock holder and the release author.
  const author = await authorName(ctx)
  return withAppLock(ctx, app, 'config:set', async (lock) => {
    const changed = await config.set(app, vars)
    if (changed.length === 0) throw new NoChanges(`${keys.join(', ')} already ${keys.length > 1 ? 'have these values' : 'has this value'}; nothing changed.`)
    options.onProgress?.({kind: 'step', id: 'config', message: `Set ${changed.join(', ')}`, status: 'done'})
    const release = await releaseConfigChange(ctx, app, {set: changed}, {...options, lock, resources, author})
    return {keys: changed, release}
  }, {onProgress: options.onProgress, holder: author})
}

/** config:unset: removes the parameters, then releases the smaller key set the same way. */
export async function unsetConfig(ctx: AwsContext, app: string, keys: string[], options: OperationOptions = {}): Promise<ConfigChange> {
  if (keys.length === 0) throw new InvalidInput('No config var names given.', {suggestions: ['herogate config:unset KEY']})
  for (const key of keys) validateConfigKey(key)
  const resources = await appResources(ctx, app)
  const config = await store(ctx)
  const author = await authorName(ctx)
  return withAppLock(ctx, app, 'config:unset', async (lock) => {
    const removed = await config.unset(app, keys)
    if (removed.length === 0) throw new NoChanges(`${keys.join(', ')} ${keys.length > 1 ? 'are' : 'is'} not set; nothing changed.`, {suggestions: [`herogate config -a ${app}`]})
    options.onProgress?.({kind: 'step', id: 'config', message: `Unset ${removed.join(', ')}`, status: 'done'})
    const release = await releaseConfigChange(ctx, app, {unset: removed}, {...options, lock, resources, author})
    return {keys: removed, release}
  }, {onProgress: options.onProgress, holder: author})
}
