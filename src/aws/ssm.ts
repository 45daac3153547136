import type {Parameter, SSMClient} from '@aws-sdk/client-ssm'

import {HerogateError, InvalidInput} from '../lib/errors.js'
import {names} from '../lib/naming.js'
import {awsFailure} from './errors.js'

/** SSM's value limits: Standard tier up to 4 KB, Advanced tier up to 8 KB (bytes of UTF-8). */
export const STANDARD_VALUE_LIMIT = 4096
export const ADVANCED_VALUE_LIMIT = 8192

/**
 * SSM refuses empty values, so an empty config var is stored as a plain String parameter
 * holding this marker (an empty value carries no secret). It never reaches the app: empty
 * vars are injected as plain `environment` entries with the value "", never as `secrets`.
 * A SecureString holding the same text is an ordinary value, so no user value is reserved.
 */
export const EMPTY_MARKER = '(herogate:empty)'

/** Config var names, split by how ECS must inject them. */
export interface ConfigKeys {
  /** Non-empty values: ECS `secrets` read from SSM at task start. */
  secret: string[]
  /** Empty values: plain `environment` entries with the value "". */
  empty: string[]
}

interface StoredValue {
  value: string
  type: string
}

/** The app's config vars in SSM Parameter Store: one SecureString per key under names.configPath(app). */
export class ConfigStore {
  constructor(private readonly client: SSMClient) {}

  /** All config vars with their values (decrypted). */
  async get(app: string): Promise<Record<string, string>> {
    const vars: Record<string, string> = {}
    for (const parameter of await this.parameters(app)) {
      vars[keyOf(app, parameter.Name!)] = valueOf(parameter)
    }

    return vars
  }

  /** Names only, split into secret and empty ones, for building task definitions. */
  async keys(app: string): Promise<ConfigKeys> {
    return splitKeys(await this.get(app))
  }

  /** Current values of some keys; keys that are not set are absent from the map. */
  async values(app: string, keys: string[]): Promise<Map<string, StoredValue>> {
    const {GetParametersCommand} = await import('@aws-sdk/client-ssm')
    const found = new Map<string, StoredValue>()
    for (let i = 0; i < keys.length; i += 10) {
      const batch = keys.slice(i, i + 10)
      try {
        const response = await this.client.send(new GetParametersCommand({Names: batch.map((key) => names.configParameter(app, key)), WithDecryption: true}))
        for (const parameter of response.Parameters ?? []) {
          found.set(keyOf(app, parameter.Name!), {value: valueOf(parameter), type: parameter.Type ?? 'SecureString'})
        }
      } catch (error) {
        throw awsFailure(error, `reading the config of ${app}`, {keepMessage: false})
      }
    }

    return found
  }

  /**
   * Writes each var. All or nothing: when one write fails, the vars already written are put
   * back as they were (or deleted when they were new) before the error is thrown.
   * `current` (the whole config, when the caller has it) saves reading the old values.
   * Returns the keys whose value changed (unchanged values are not rewritten).
   */
  async set(app: string, vars: Record<string, string>, current?: Record<string, string>): Promise<string[]> {
    for (const [key, value] of Object.entries(vars)) checkValueSize(key, value)
    const keys = Object.keys(vars)
    const before: Record<string, string> = {}
    if (current) {
      for (const key of keys) if (Object.hasOwn(current, key)) before[key] = current[key]
    } else {
      for (const [key, stored] of await this.values(app, keys)) before[key] = stored.value
    }

    const changed = keys.filter((key) => before[key] !== vars[key])
    const written: string[] = []
    for (const key of changed) {
      try {
        await this.put(app, key, vars[key])
        written.push(key)
      } catch (error) {
        const failure = awsFailure(error, `setting ${key}`, {keepMessage: false})
        const notRestored = await this.restore(app, written, before)
        throw new HerogateError(
          notRestored.length === 0
            ? `${failure.message} Nothing was changed${written.length > 0 ? ` (${written.join(', ')} put back as before)` : ''}.`
            : `${failure.message} Restoring the vars already written failed for ${notRestored.join(', ')}; they may hold the new value.`,
          {suggestions: [...failure.suggestions, `herogate config -a ${app}`]},
        )
      }
    }

    return changed
  }

  /** Deletes the keys that are set; returns those (keys that were not set are ignored). */
  async unset(app: string, keys: string[]): Promise<string[]> {
    const {DeleteParametersCommand} = await import('@aws-sdk/client-ssm')
    const removed: string[] = []
    for (let i = 0; i < keys.length; i += 10) {
      const batch = keys.slice(i, i + 10)
      try {
        const response = await this.client.send(new DeleteParametersCommand({Names: batch.map((key) => names.configParameter(app, key))}))
        removed.push(...(response.DeletedParameters ?? []).map((name) => keyOf(app, name)))
      } catch (error) {
        throw awsFailure(error, `removing config vars of ${app}`)
      }
    }

    return keys.filter((key) => removed.includes(key))
  }

  private async parameters(app: string): Promise<Parameter[]> {
    const {GetParametersByPathCommand} = await import('@aws-sdk/client-ssm')
    const parameters: Parameter[] = []
    let NextToken: string | undefined
    try {
      do {
        const response = await this.client.send(
          new GetParametersByPathCommand({Path: names.configPath(app), Recursive: false, WithDecryption: true, MaxResults: 10, NextToken}),
        )
        parameters.push(...(response.Parameters ?? []))
        NextToken = response.NextToken
      } while (NextToken)
    } catch (error) {
      throw awsFailure(error, `reading the config of ${app}`, {keepMessage: false})
    }

    return parameters
  }

  private async put(app: string, key: string, value: string): Promise<void> {
    const {PutParameterCommand} = await import('@aws-sdk/client-ssm')
    const stored = value === '' ? EMPTY_MARKER : value
    await this.client.send(
      new PutParameterCommand({
        Name: names.configParameter(app, key),
        Value: stored,
        Type: value === '' ? 'String' : 'SecureString',
        Overwrite: true,
        ...(Buffer.byteLength(stored, 'utf8') > STANDARD_VALUE_LIMIT ? {Tier: 'Advanced' as const} : {}),
      }),
    )
  }

  /**
   * Puts `keys` back to their values in `before` (deleting those absent from it), for undoing
   * a change. Returns the keys that could not be restored.
   */
  async restore(app: string, keys: string[], before: Record<string, string>): Promise<string[]> {
    const {DeleteParameterCommand} = await import('@aws-sdk/client-ssm')
    const failed: string[] = []
    for (const key of keys) {
      try {
        if (Object.hasOwn(before, key)) await this.put(app, key, before[key])
        else await this.client.send(new DeleteParameterCommand({Name: names.configParameter(app, key)}))
      } catch {
        failed.push(key)
      }
    }

    return failed
  }
}

export function splitKeys(vars: Record<string, string>): ConfigKeys {
  const keys = Object.keys(vars).sort()
  return {secret: keys.filter((key) => vars[key] !== ''), empty: keys.filter((key) => vars[key] === '')}
}

/** Refuses values SSM cannot hold, naming the limit, before anything is written. */
export function checkValueSize(key: string, value: string): void {
  const bytes = Buffer.byteLength(value, 'utf8')
  if (bytes > ADVANCED_VALUE_LIMIT) {
    throw new InvalidInput(`The value of ${key} is ${bytes} bytes; SSM Parameter Store holds at most ${ADVANCED_VALUE_LIMIT} bytes (8 KB, Advanced tier) per config var.`, {
      suggestions: ['store large values (certificates, files) in S3 and put their location in a config var'],
    })
  }
}

function keyOf(app: string, name: string): string {
  return name.slice(names.configPath(app).length)
}

function valueOf(parameter: Parameter): string {
  return parameter.Type === 'String' && parameter.Value === EMPTY_MARKER ? '' : (parameter.Value ?? '')
}
