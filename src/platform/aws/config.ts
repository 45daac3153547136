import {configDeltaFits} from '../../aws/release-store.js'
import {checkValueSize, ConfigStore, type StoredValue} from '../../aws/ssm.js'
import {ConfigUnchanged, InvalidInput} from '../../lib/errors.js'
import {names} from '../../lib/naming.js'
import {validateConfigKey, validateConfigVar} from '../../lib/parse.js'
import type {ConfigChange, ConfigEdit as ConfigEditInput, OperationOptions} from '../types.js'
import {authorName} from './author.js'
import type {AwsContext} from './context.js'
import {type ConfigChangeSet, configReleasePlan, releaseConfigChange} from './config-release.js'
import {withAppLock} from './lock.js'
import {type AppResources, appResources, resourcesRead} from './resources.js'

async function store(ctx: AwsContext): Promise<ConfigStore> {
  return new ConfigStore(await ctx.clients.ssm(), (ms) => ctx.clock.sleep(ms))
}

export async function getConfig(ctx: AwsContext, app: string): Promise<Record<string, string>> {
  const vars = await (await store(ctx)).get(app)
  // An empty result may mean "no such app": only then is it worth reading the stacks.
  if (Object.keys(vars).length === 0) await appResources(ctx, app)
  return vars
}

/**
 * config:set. The app's lock is taken with the head and the keys' current values read in one
 * call (and NoChanges said before anything is claimed); under it the values go to SSM (all or
 * nothing), then the change becomes a release (config-release.ts): every process type's service
 * rolls, with a task definition revision whose `secrets` name the new key set when the keys
 * changed, else with the task definition it runs (ECS reads the values at task start); a failed
 * rollout puts the old values back. The whole config is never read.
 */
export async function setConfig(ctx: AwsContext, app: string, vars: Record<string, string>, options: OperationOptions = {}): Promise<ConfigChange> {
  const keys = Object.keys(vars)
  if (keys.length === 0) throw new InvalidInput('No config vars given.', {suggestions: ['herogate config:set KEY=VALUE']})
  for (const key of keys) {
    validateConfigVar(key, vars[key])
    checkValueSize(key, vars[key])
  }

  return changeConfig(ctx, app, 'config:set', keys, options, {
    changed: (before) => {
      const changed = keys.filter((key) => before.get(key)?.value !== vars[key])
      if (changed.length === 0) throw new ConfigUnchanged(keys, 'same value')
      return {keys: changed, description: `Set ${changed.join(', ')} config vars`, step: `Set ${changed.join(', ')}`}
    },
    write: async (config, changed, before) => ({
      delta: await config.set(app, Object.fromEntries(changed.map((key) => [key, vars[key]])), before),
      secret: changed.filter((key) => vars[key] !== ''),
      empty: changed.filter((key) => vars[key] === ''),
      unset: [],
      sameKeys: changed.every((key) => before.has(key) && (before.get(key)!.value === '') === (vars[key] === '')),
    }),
  })
}

/** config:unset: marks the keys unset, then releases the smaller key set the same way. */
export async function unsetConfig(ctx: AwsContext, app: string, keys: string[], options: OperationOptions = {}): Promise<ConfigChange> {
  if (keys.length === 0) throw new InvalidInput('No config var names given.', {suggestions: ['herogate config:unset KEY']})
  for (const key of keys) validateConfigKey(key)
  return changeConfig(ctx, app, 'config:unset', keys, options, {
    changed: (before) => {
      // Only keys that are set are removed: unsetting nothing claims nothing.
      const present = [...new Set(keys.filter((key) => before.has(key)))]
      if (present.length === 0) throw new ConfigUnchanged(keys, 'not set')
      return {keys: present, description: `Remove ${present.join(', ')} config vars`, step: `Unset ${present.join(', ')}`}
    },
    write: async (config, present, before) => ({delta: await config.unset(app, present, before), secret: [], empty: [], unset: present, sameKeys: false}),
  })
}

/** config:edit: sets some vars and removes others, as one release. */
export async function editConfig(ctx: AwsContext, app: string, wanted: ConfigEditInput, options: OperationOptions = {}): Promise<ConfigChange> {
  const setKeys = Object.keys(wanted.set)
  const keys = [...new Set([...setKeys, ...wanted.unset])]
  if (keys.length === 0) throw new InvalidInput('No config changes given.', {suggestions: ['herogate config:edit']})
  for (const key of setKeys) {
    validateConfigVar(key, wanted.set[key])
    checkValueSize(key, wanted.set[key])
  }

  for (const key of wanted.unset) validateConfigKey(key)
  const setting = (key: string) => Object.hasOwn(wanted.set, key)
  return changeConfig(ctx, app, 'config:edit', keys, options, {
    changed: (before) => {
      const set = setKeys.filter((key) => before.get(key)?.value !== wanted.set[key])
      const unset = keys.filter((key) => !setting(key) && before.has(key))
      if (set.length + unset.length === 0) throw new ConfigUnchanged(keys, 'same value')
      const removed = unset.length > 0 ? `${set.length > 0 ? ' and remove' : 'Remove'} ${unset.join(', ')}` : ''
      const description = `${set.length > 0 ? `Set ${set.join(', ')}` : ''}${removed} config vars`
      return {keys: [...set, ...unset], description, step: description.replace(/ config vars$/, '')}
    },
    write: async (config, changed, before) => {
      const set = changed.filter(setting)
      const unset = changed.filter((key) => !setting(key))
      return {
        delta: await config.change(app, Object.fromEntries(set.map((key) => [key, wanted.set[key]])), unset, before),
        secret: set.filter((key) => wanted.set[key] !== ''),
        empty: set.filter((key) => wanted.set[key] === ''),
        unset,
        sameKeys: unset.length === 0 && set.every((key) => before.has(key) && (before.get(key)!.value === '') === (wanted.set[key] === '')),
      }
    },
  })
}

interface ConfigEdit {
  /** Which of the keys the change touches, from their current values; throws NoChanges when none. */
  changed(before: Map<string, StoredValue>): {keys: string[]; description: string; step: string}
  /** Writes the change (all or nothing) and says how the key set changed. */
  write(config: ConfigStore, keys: string[], before: Map<string, StoredValue>): Promise<ConfigChangeSet>
}

/**
 * What config:set and config:unset share: the lock is taken with the head, the app's resources
 * and the keys' values read in one call, then the change is written and released.
 */
async function changeConfig(ctx: AwsContext, app: string, operation: string, keys: string[], options: OperationOptions, edit: ConfigEdit): Promise<ConfigChange> {
  checkChangeSize(keys)
  const author = await authorName(ctx)
  const config = await store(ctx)
  let resources: AppResources | undefined
  let before = new Map<string, StoredValue>()
  let changed = {keys: [] as string[], description: '', step: ''}
  return withAppLock(ctx, app, operation, async (lock) => {
    const change = await edit.write(config, changed.keys, before)
    options.onProgress?.({kind: 'step', id: 'config', message: changed.step, status: 'done'})
    const release = await releaseConfigChange(ctx, app, change, {...options, lock, resources})
    return {keys: changed.keys, release}
  }, {
    onProgress: options.onProgress,
    read: [names.appResourcesParameter(app), ...ConfigStore.parameterNames(app, keys)],
    async plan(state) {
      resources ??= await resourcesRead(ctx, app, state.found)
      before = ConfigStore.valuesIn(app, keys, state.found)
      changed = edit.changed(before)
      return configReleasePlan(ctx, state, changed.description, author)
    },
  })
}

/** A release records each changed var with its versions; refuse a change too big to record before anything is written. */
function checkChangeSize(keys: string[]): void {
  if (!configDeltaFits(keys)) {
    throw new InvalidInput(`Too many config vars in one change (${keys.length}): a release records every var it changes, in at most 4 KB.`, {
      suggestions: ['set them in two or more smaller batches'],
    })
  }
}
