import type {Parameter, SSMClient} from '@aws-sdk/client-ssm'

import {HerogateError, InvalidInput} from '../lib/errors.js'
import {names} from '../lib/naming.js'
import {awsFailure, isAwsError} from './errors.js'

/** SSM's value limits: Standard tier up to 4 KB, Advanced tier up to 8 KB (bytes of UTF-8). */
export const STANDARD_VALUE_LIMIT = 4096
export const ADVANCED_VALUE_LIMIT = 8192

export type Tier = 'Standard' | 'Advanced'

/** How the SSM wrappers wait between tries; the platform passes its clock's, so tests wait in zero time. */
export type Sleep = (ms: number) => Promise<void>

const realSleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/** Tries of a write that SSM answers TooManyUpdates (another write of the parameter in flight): the SDK does not retry those. */
export const WRITE_TRIES = 5

export interface ParameterWrite {
  name: string
  /** The value, or the value for a tier (a parameter that records its own tier). */
  value: string | ((tier: Tier) => string)
  type: 'String' | 'SecureString'
  overwrite: boolean
  description?: string
  /** Tries when another write of the parameter is in flight (TooManyUpdates); 1 leaves that to the caller. */
  tries?: number
}

/**
 * Writes parameters the way SSM lets them be written, for every wrapper here:
 *
 * - **Tiers.** Every write names its tier: Advanced when the value needs more than 4 KB or the
 *   parameter is Advanced already, else Standard. SSM never moves a parameter back from
 *   Advanced (a write asking for Standard is refused with a ValidationException, and one naming
 *   no tier asks for the account's default, Standard), so a parameter that once held a big value
 *   is written as Advanced from then on. Whether it is, the writer knows from an earlier answer
 *   or a caller's hint (a value read over 4 KB); when it does not know, SSM's refusal tells it,
 *   and the write is made again as Advanced (one call more, once per parameter and process).
 *   Intelligent-Tiering is never used: what it does to an Advanced parameter given a small value
 *   is not documented.
 * - **TooManyUpdates.** SSM refuses a write while another write of the same parameter is in
 *   flight, and the SDK does not retry that: the writer waits a little and tries again.
 */
export class ParameterWriter {
  private readonly advanced = new Set<string>()

  constructor(private readonly client: SSMClient, private readonly sleep: Sleep = realSleep) {}

  /** A caller knows this parameter is Advanced (it read a value over 4 KB, or the parameter says so). */
  knownAdvanced(name: string): void {
    this.advanced.add(name)
  }

  /** Writes the parameter and returns its new version; SDK errors are thrown as they come. */
  async put(write: ParameterWrite): Promise<number> {
    const {PutParameterCommand} = await import('@aws-sdk/client-ssm')
    const valueFor = (tier: Tier) => (typeof write.value === 'string' ? write.value : write.value(tier))
    let tier: Tier = this.advanced.has(write.name) || Buffer.byteLength(valueFor('Standard'), 'utf8') > STANDARD_VALUE_LIMIT ? 'Advanced' : 'Standard'
    for (let attempt = 1; ; attempt++) {
      try {
        const response = await this.client.send(new PutParameterCommand({
          Name: write.name,
          Value: valueFor(tier),
          Type: write.type,
          Overwrite: write.overwrite,
          Tier: tier,
          ...(write.description ? {Description: write.description} : {}),
        }))
        if ((response.Tier ?? tier) === 'Advanced') this.advanced.add(write.name)
        return response.Version ?? 0
      } catch (error) {
        // For a value that fits Standard, the only validation that Advanced passes is the tier's: the parameter is Advanced.
        if (tier === 'Standard' && write.overwrite && isAwsError(error, 'ValidationException')) {
          tier = 'Advanced'
          continue
        }

        if (!(await this.waited(error, attempt, write.tries))) throw error
      }
    }
  }

  /** Deletes parameters, 10 a call; names that do not exist are skipped. */
  async delete(names: string[]): Promise<void> {
    const {DeleteParametersCommand} = await import('@aws-sdk/client-ssm')
    for (let i = 0; i < names.length; i += 10) {
      for (let attempt = 1; ; attempt++) {
        try {
          // Names that do not exist come back as InvalidParameters: gone is what was wanted.
          await this.client.send(new DeleteParametersCommand({Names: names.slice(i, i + 10)}))
          break
        } catch (error) {
          if (!(await this.waited(error, attempt))) throw error
        }
      }
    }

    for (const name of names) this.advanced.delete(name)
  }

  /** After TooManyUpdates, waits (longer each time, with jitter so that racing writers part) and says whether to try again. */
  private async waited(error: unknown, attempt: number, tries = WRITE_TRIES): Promise<boolean> {
    if (!isAwsError(error, 'TooManyUpdates') || attempt >= tries) return false
    await this.sleep(100 * 2 ** attempt + Math.floor(Math.random() * 100))
    return true
  }
}

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

/**
 * `config:unset` leaves this in a plain String parameter instead of deleting it, because a
 * deleted parameter loses its history and a rollback restores values from that history. Like
 * the empty marker it is only a marker as a String; as a SecureString it is an ordinary value.
 */
export const UNSET_MARKER = '(herogate:unset)'

/** A config var as SSM holds it now. */
export interface StoredValue {
  value: string
  /** The parameter version: releases record these, and a rollback reads a value back by it. */
  version: number
}

/** Config vars a change touched: key to [parameter version before, after]; 0: not set. */
export type ConfigDelta = Record<string, [number, number]>

/**
 * Reads parameters by name (a `name:version` selector reads that version), 10 a call.
 * Names that do not exist are absent from the map, which is keyed by the name as asked.
 */
export async function readParameters(client: SSMClient, wanted: string[], what: string): Promise<Map<string, Parameter>> {
  const {GetParametersCommand} = await import('@aws-sdk/client-ssm')
  const found = new Map<string, Parameter>()
  const unique = [...new Set(wanted)]
  for (let i = 0; i < unique.length; i += 10) {
    try {
      const response = await client.send(new GetParametersCommand({Names: unique.slice(i, i + 10), WithDecryption: true}))
      for (const parameter of response.Parameters ?? []) {
        // AWS answers a selector with the bare name plus Selector; an emulator may leave Selector out.
        if (parameter.Selector) {
          found.set(`${parameter.Name}${parameter.Selector}`, parameter)
          continue
        }

        const selected = `${parameter.Name}:${parameter.Version}`
        if (unique.includes(selected)) found.set(selected, parameter)
        const newest = found.get(parameter.Name!)
        if (unique.includes(parameter.Name!) && (newest?.Version ?? -1) < (parameter.Version ?? 0)) found.set(parameter.Name!, parameter)
      }
    } catch (error) {
      throw awsFailure(error, what, {keepMessage: false})
    }
  }

  return found
}

/** The app's config vars in SSM Parameter Store: one SecureString per key under names.configPath(app). */
export class ConfigStore {
  private readonly writer: ParameterWriter

  constructor(private readonly client: SSMClient, sleep?: Sleep) {
    this.writer = new ParameterWriter(client, sleep)
  }

  /** All config vars with their values (decrypted). */
  async get(app: string): Promise<Record<string, string>> {
    const vars: Record<string, string> = {}
    for (const parameter of await this.parameters(app)) {
      if (isUnset(parameter)) continue
      vars[keyOf(app, parameter.Name!)] = valueOf(parameter)
    }

    return vars
  }

  /** The parameter names that hold these keys, for reading them along with other parameters (readParameters). */
  static parameterNames(app: string, keys: string[]): string[] {
    return keys.map((key) => names.configParameter(app, key))
  }

  /** The keys' current values out of what readParameters found; keys that are not set are absent. */
  static valuesIn(app: string, keys: string[], found: Map<string, Parameter>): Map<string, StoredValue> {
    const values = new Map<string, StoredValue>()
    for (const key of keys) {
      const parameter = found.get(names.configParameter(app, key))
      if (parameter && !isUnset(parameter)) values.set(key, {value: valueOf(parameter), version: parameter.Version ?? 0})
    }

    return values
  }

  /** Current values of some keys; keys that are not set are absent from the map. */
  async values(app: string, keys: string[]): Promise<Map<string, StoredValue>> {
    const found = await readParameters(this.client, ConfigStore.parameterNames(app, keys), `reading the config of ${app}`)
    return ConfigStore.valuesIn(app, keys, found)
  }

  /**
   * Writes each var whose value differs from `before` (the current values, as values() gives
   * them; read when not given). All or nothing: when one write fails, the vars already written
   * are put back as they were before the error is thrown. Returns what changed, by version.
   */
  async set(app: string, vars: Record<string, string>, before?: Map<string, StoredValue>): Promise<ConfigDelta> {
    for (const [key, value] of Object.entries(vars)) checkValueSize(key, value)
    const current = before ?? (await this.values(app, Object.keys(vars)))
    const delta: ConfigDelta = {}
    for (const [key, value] of Object.entries(vars)) {
      if (current.get(key)?.value === value) continue
      try {
        delta[key] = [current.get(key)?.version ?? 0, await this.put(app, key, value, current.get(key)?.value)]
      } catch (error) {
        throw await this.undone(app, delta, current, awsFailure(error, `setting ${key}`, {keepMessage: false}))
      }
    }

    return delta
  }

  /** Marks the keys that are set as unset (see UNSET_MARKER); returns what changed, by version. */
  async unset(app: string, keys: string[], before?: Map<string, StoredValue>): Promise<ConfigDelta> {
    return this.change(app, {}, keys, before ?? (await this.values(app, keys)))
  }

  /**
   * Sets `vars` and marks `keys` unset as one change (config:edit): all or nothing, as set().
   * `before` holds the current values of every key involved.
   */
  async change(app: string, vars: Record<string, string>, keys: string[], before: Map<string, StoredValue>): Promise<ConfigDelta> {
    const delta = await this.set(app, vars, before)
    for (const key of keys) {
      if (!before.has(key) || Object.hasOwn(delta, key)) continue
      try {
        await this.put(app, key, undefined, before.get(key)!.value)
        delta[key] = [before.get(key)!.version, 0]
      } catch (error) {
        throw await this.undone(app, delta, before, awsFailure(error, `removing ${key}`, {keepMessage: false}))
      }
    }

    return delta
  }

  /**
   * Puts each key back to the value it had at a parameter version (0: not set), writing only
   * those that differ now; returns what changed. Fails before writing anything when a version
   * is gone (SSM keeps the last 100 versions of a parameter).
   */
  async restoreVersions(app: string, wanted: Record<string, number>): Promise<ConfigDelta> {
    const keys = Object.keys(wanted)
    const at = (key: string) => `${names.configParameter(app, key)}:${wanted[key]}`
    const found = await readParameters(this.client, [...ConfigStore.parameterNames(app, keys), ...keys.filter((key) => wanted[key] > 0).map(at)], `reading the config history of ${app}`)
    const gone = keys.filter((key) => wanted[key] > 0 && !found.has(at(key)))
    if (gone.length > 0) {
      throw new HerogateError(`The config of that release can no longer be restored: SSM no longer holds the old value of ${gone.join(', ')} (it keeps a parameter's last 100 versions).`, {
        suggestions: [`herogate config -a ${app}`, `herogate config:set KEY=VALUE -a ${app}`],
      })
    }

    const current = ConfigStore.valuesIn(app, keys, found)
    const delta: ConfigDelta = {}
    for (const key of keys) {
      const old = found.get(at(key))
      const value = wanted[key] > 0 && !isUnset(old!) ? valueOf(old!) : undefined
      const now = current.get(key)
      if (now?.value === value) continue
      try {
        const written = await this.put(app, key, value, now?.value)
        delta[key] = [now?.version ?? 0, value === undefined ? 0 : written]
      } catch (error) {
        throw await this.undone(app, delta, current, awsFailure(error, `restoring ${key}`, {keepMessage: false}))
      }
    }

    return delta
  }

  /** Undoes a change after `failure`, and says whether that worked, without any value. */
  private async undone(app: string, delta: ConfigDelta, before: Map<string, StoredValue>, failure: HerogateError): Promise<HerogateError> {
    const written = Object.keys(delta)
    const notRestored: string[] = []
    for (const key of written) {
      try {
        await this.put(app, key, before.get(key)?.value)
      } catch {
        notRestored.push(key)
      }
    }

    return new HerogateError(
      notRestored.length === 0
        ? `${failure.message} Nothing was changed${written.length > 0 ? ` (${written.join(', ')} put back as before)` : ''}.`
        : `${failure.message} Restoring the vars already written failed for ${notRestored.join(', ')}; they may hold the new value.`,
      {suggestions: [...failure.suggestions, `herogate config -a ${app}`]},
    )
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

  /**
   * Writes a value (undefined: the unset marker) and returns the parameter's new version.
   * `current` is the value it holds now, when known: over 4 KB, the parameter is Advanced.
   */
  private async put(app: string, key: string, value: string | undefined, current?: string): Promise<number> {
    const name = names.configParameter(app, key)
    if (current !== undefined && Buffer.byteLength(current, 'utf8') > STANDARD_VALUE_LIMIT) this.writer.knownAdvanced(name)
    return this.writer.put({
      name,
      value: value === undefined ? UNSET_MARKER : value === '' ? EMPTY_MARKER : value,
      type: value === undefined || value === '' ? 'String' : 'SecureString',
      overwrite: true,
    })
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

function isUnset(parameter: Parameter): boolean {
  return parameter.Type === 'String' && parameter.Value === UNSET_MARKER
}

function valueOf(parameter: Parameter): string {
  return parameter.Type === 'String' && parameter.Value === EMPTY_MARKER ? '' : (parameter.Value ?? '')
}
