import {checkValueSize, ConfigStore, splitKeys} from '../../aws/ssm.js'
import {InvalidInput, NoChanges} from '../../lib/errors.js'
import {validateConfigKey} from '../../lib/parse.js'
import type {ConfigChange, OperationOptions} from '../types.js'
import type {AwsContext} from './context.js'
import {appResources} from './formation.js'
import {releaseConfigChange, withAppLock} from './releases.js'

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
 * becomes a release (releases.ts): every process type's service rolls, with a task definition
 * revision whose `secrets` name the new key set when the keys changed, else with the task
 * definition it runs (ECS reads the values at task start); a failed rollout puts the old config back.
 * The config is read once, here: it gives the old values and, changed, the release's snapshot.
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
  // The caller's identity (the release's author) is looked up once a change is made (releases.ts).
  return withAppLock(ctx, app, 'config:set', async (lock) => {
    const before = await config.get(app)
    const changed = await config.set(app, vars, before)
    if (changed.length === 0) throw new NoChanges(`${keys.join(', ')} already ${keys.length > 1 ? 'have these values' : 'has this value'}; nothing changed.`)
    options.onProgress?.({kind: 'step', id: 'config', message: `Set ${changed.join(', ')}`, status: 'done'})
    const live = {...before, ...Object.fromEntries(changed.map((key) => [key, vars[key]]))}
    const release = await releaseConfigChange(ctx, app, {set: changed}, {...options, lock, resources, live, keysBefore: splitKeys(before)})
    return {keys: changed, release}
  }, {onProgress: options.onProgress})
}

/** config:unset: removes the parameters, then releases the smaller key set the same way. */
export async function unsetConfig(ctx: AwsContext, app: string, keys: string[], options: OperationOptions = {}): Promise<ConfigChange> {
  if (keys.length === 0) throw new InvalidInput('No config var names given.', {suggestions: ['herogate config:unset KEY']})
  for (const key of keys) validateConfigKey(key)
  const resources = await appResources(ctx, app)
  const config = await store(ctx)
  return withAppLock(ctx, app, 'config:unset', async (lock) => {
    const before = await config.get(app)
    // Only keys that are set are deleted: unsetting nothing makes no call at all.
    const present = keys.filter((key) => Object.hasOwn(before, key))
    const removed = present.length > 0 ? await config.unset(app, present) : []
    if (removed.length === 0) throw new NoChanges(`${keys.join(', ')} ${keys.length > 1 ? 'are' : 'is'} not set; nothing changed.`, {suggestions: [`herogate config -a ${app}`]})
    options.onProgress?.({kind: 'step', id: 'config', message: `Unset ${removed.join(', ')}`, status: 'done'})
    const live = Object.fromEntries(Object.entries(before).filter(([key]) => !removed.includes(key)))
    const release = await releaseConfigChange(ctx, app, {unset: removed}, {...options, lock, resources, live})
    return {keys: removed, release}
  }, {onProgress: options.onProgress})
}
