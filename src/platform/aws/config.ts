import {checkValueSize, ConfigStore, splitKeys} from '../../aws/ssm.js'
import {HerogateError, InvalidInput, NoChanges} from '../../lib/errors.js'
import {validateConfigKey} from '../../lib/parse.js'
import type {ConfigChange, OperationOptions} from '../types.js'
import type {AwsContext} from './context.js'
import {appResources, rollServices} from './formation.js'
import type {AppResources} from './resources.js'

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
 * config:set. Values go to SSM first (all or nothing), then every process type gets a task
 * definition revision whose `secrets` list the new keys, and its service rolls. If the new
 * revisions cannot be registered, the config is put back as it was.
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
  const before = await config.get(app)
  const changed = await config.set(app, vars, before)
  if (changed.length === 0) throw new NoChanges(`${keys.join(', ')} already ${keys.length > 1 ? 'have' : 'has'} ${keys.length > 1 ? 'these values' : 'this value'}; nothing changed.`)
  options.onProgress?.({kind: 'step', id: 'config', message: `Set ${changed.join(', ')}`, status: 'done'})

  const after = {...before}
  for (const key of changed) after[key] = vars[key]
  await roll(ctx, app, resources, after, options, async () => config.restore(app, changed, before))
  return {keys: changed}
}

/** config:unset. The services roll first (their new revisions no longer read the keys), then the parameters go. */
export async function unsetConfig(ctx: AwsContext, app: string, keys: string[], options: OperationOptions = {}): Promise<ConfigChange> {
  if (keys.length === 0) throw new InvalidInput('No config var names given.', {suggestions: ['herogate config:unset KEY']})
  for (const key of keys) validateConfigKey(key)
  const resources = await appResources(ctx, app)
  const config = await store(ctx)
  const before = await config.get(app)
  const present = keys.filter((key) => Object.hasOwn(before, key))
  if (present.length === 0) throw new NoChanges(`${keys.join(', ')} ${keys.length > 1 ? 'are' : 'is'} not set; nothing changed.`, {suggestions: [`herogate config -a ${app}`]})
  const after = {...before}
  for (const key of present) delete after[key]
  await roll(ctx, app, resources, after, options)
  const removed = await config.unset(app, present)
  options.onProgress?.({kind: 'step', id: 'config', message: `Unset ${removed.join(', ')}`, status: 'done'})
  return {keys: present}
}

async function roll(
  ctx: AwsContext,
  app: string,
  resources: AppResources,
  vars: Record<string, string>,
  options: OperationOptions,
  undo?: () => Promise<string[]>,
): Promise<Record<string, string>> {
  const {secret, empty} = splitKeys(vars)
  let updating = false
  try {
    return await rollServices(ctx, app, resources, (spec) => ({...spec, configKeys: secret, emptyKeys: empty}), {
      ...options,
      onProgress(event) {
        if (event.kind === 'step' && event.status === 'start') updating = true
        options.onProgress?.(event)
      },
    })
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    if (updating || !undo) {
      throw new HerogateError(`The config is saved, but restarting the processes failed: ${reason}`, {
        cause: error,
        suggestions: [`herogate ps:restart -a ${app}`, `herogate config -a ${app}`],
      })
    }

    const notRestored = await undo()
    throw new HerogateError(
      notRestored.length === 0
        ? `Could not prepare the processes for the new config, so nothing was changed: ${reason}`
        : `Could not prepare the processes for the new config: ${reason} Putting the old values back failed for ${notRestored.join(', ')}.`,
      {cause: error, suggestions: [`herogate config -a ${app}`]},
    )
  }
}
