import {
  type Parameter, ParameterAlreadyExists, ParameterLimitExceeded, ParameterNotFound, ParameterVersionNotFound, SSMClient, SSMServiceException,
  TooManyUpdates,
} from '@aws-sdk/client-ssm'

/**
 * An SSM Parameter Store that behaves as AWS documents it, where moto accepts anything:
 *
 * - **Tiers.** A write names its tier, or gets the account's default (Standard). A Standard value
 *   holds at most 4 KB, an Advanced one 8 KB (counted here in bytes of UTF-8, the stricter
 *   reading). A Standard parameter can be moved to Advanced at any time, never back: a write
 *   asking for Standard on an Advanced parameter is refused with AWS's ValidationException.
 *   `Intelligent-Tiering` picks Standard unless the value needs Advanced. What it does to a
 *   parameter that is Advanced already is not documented: this stand-in refuses the move back
 *   (option `intelligentTieringKeepsAdvanced` accepts it), so code that passes here depends on
 *   neither reading.
 * - **Versions.** Every write makes a new version; a parameter keeps its newest 100 (older ones
 *   are dropped, as AWS does for versions without labels). `name:N` selectors read a version.
 * - **Concurrent writes.** A write (PutParameter, DeleteParameter) holds its parameter until it
 *   completes, one turn of the event loop later (`writeLatency`); another write of the same
 *   parameter meanwhile gets `TooManyUpdates`, which the SDK does not retry. `failNext` scripts
 *   the same answer for tests that need it at an exact call.
 * - **Limits.** At most 10 names per GetParameters, 10 results per page, 10,000 Standard
 *   parameters per account and region (`standardLimit`), no empty values.
 *
 * It is a real SSMClient whose first middleware answers every call, so it plugs in wherever
 * production code takes its SSM client (`ctx.clients.set('ssm', standIn.client)`) and other
 * middleware (call counters) still sees each call. Nothing leaves the process.
 */

export const STANDARD_LIMIT_BYTES = 4096
export const ADVANCED_LIMIT_BYTES = 8192
export const VERSIONS_KEPT = 100

/** AWS's own words for the refusals below (ValidationException has no class of its own in the SDK). */
export const DOWNGRADE_MESSAGE = 'This parameter uses the advanced-parameter tier. You can\'t downgrade a parameter from the advanced-parameter tier to the standard-parameter tier. If necessary, you can delete the advanced parameter and recreate it as a standard parameter.'
export const STANDARD_SIZE_MESSAGE = 'Standard tier parameters support a maximum parameter value of 4096 characters. To create a larger parameter value, upgrade the parameter to use the advanced-parameter tier. For more information, see https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html'
export const TOO_MANY_UPDATES_MESSAGE = 'There are concurrent updates for a resource that supports one update at a time.'

type Tier = 'Standard' | 'Advanced'

interface Version {
  version: number
  value: string
  type: string
  modified: Date
}

interface Stored {
  name: string
  tier: Tier
  description?: string
  versions: Version[]
}

export interface StandInOptions {
  /** The account's default tier, for writes that name none. */
  defaultTier?: Tier
  /** How many Standard parameters the account may hold. */
  standardLimit?: number
  /** Accept Intelligent-Tiering writes of small values to Advanced parameters (keeping them Advanced). */
  intelligentTieringKeepsAdvanced?: boolean
  /** How long a write holds its parameter; default one turn of the event loop. */
  writeLatency?: () => Promise<void>
}

export interface Call {
  command: string
  input: Record<string, any>
  /** Which of the stand-in's clients made it (newClient), for tests where two runs share one account. */
  client: string
}

export function validation(message: string): SSMServiceException {
  return new SSMServiceException({name: 'ValidationException', $fault: 'client', message, $metadata: {httpStatusCode: 400}})
}

const meta = {$metadata: {httpStatusCode: 400}}

export class SsmStandIn {
  readonly client: SSMClient
  readonly calls: Call[] = []
  /** Every call the stand-in refused, by command, parameter and error name. */
  readonly refused: Array<{command: string; name?: string; error: string}> = []
  private readonly parameters = new Map<string, Stored>()
  private readonly writing = new Set<string>()
  private readonly scripted: Array<{command: string; name?: string; error: () => Error}> = []

  constructor(private readonly options: StandInOptions = {}) {
    this.client = this.newClient('main')
  }

  /** Another client of the same account and region (another process, such as the release code in CodeBuild). */
  newClient(label: string): SSMClient {
    const client = new SSMClient({region: 'us-east-1', credentials: {accessKeyId: 'standin', secretAccessKey: 'standin'}, maxAttempts: 1})
    client.middlewareStack.add(
      (_next, context) => async (args) => {
        const command = (context.commandName ?? '').replace(/Command$/, '')
        const input = args.input as Record<string, any>
        this.calls.push({command, input, client: label})
        try {
          const output = await this.answer(command, input)
          return {output: {$metadata: {httpStatusCode: 200}, ...output}, response: {}} as never
        } catch (error) {
          this.refused.push({command, name: input.Name, error: (error as Error).name})
          throw error
        }
      },
      {step: 'initialize', name: 'ssmStandIn', priority: 'low'},
    )
    return client
  }

  /** The next `command` (of parameter `name`, when given) fails with `error` (default TooManyUpdates). */
  failNext(command: string, options: {name?: string; times?: number; error?: () => Error} = {}): void {
    for (let i = 0; i < (options.times ?? 1); i++) {
      this.scripted.push({command, name: options.name, error: options.error ?? (() => new TooManyUpdates({message: TOO_MANY_UPDATES_MESSAGE, ...meta}))})
    }
  }

  /** Calls of one command, for tests that count them. */
  callsOf(command: string): Call[] {
    return this.calls.filter((call) => call.command === command)
  }

  tierOf(name: string): Tier | undefined {
    return this.parameters.get(name)?.tier
  }

  valueOf(name: string): string | undefined {
    return this.parameters.get(name)?.versions.at(-1)?.value
  }

  versionsOf(name: string): number[] {
    return this.parameters.get(name)?.versions.map((v) => v.version) ?? []
  }

  /** Names of the parameters under a path (recursively), sorted. */
  namesUnder(path: string): string[] {
    return [...this.parameters.keys()].filter((name) => name.startsWith(path)).sort()
  }

  private async answer(command: string, input: Record<string, any>): Promise<Record<string, unknown>> {
    const scripted = this.scripted.findIndex((s) => s.command === command && (s.name === undefined || s.name === input.Name || input.Names?.includes(s.name)))
    if (scripted >= 0) throw this.scripted.splice(scripted, 1)[0].error()
    switch (command) {
      case 'PutParameter':
        return this.write(input.Name, () => this.put(input))
      case 'DeleteParameter':
        return this.write(input.Name, () => {
          if (!this.parameters.delete(input.Name)) throw new ParameterNotFound({message: `Parameter ${input.Name} not found.`, ...meta})
          return {}
        })
      case 'DeleteParameters':
        return this.deleteMany(input.Names ?? [])
      case 'GetParameter':
        return {Parameter: this.read(input.Name, input.WithDecryption, true)}
      case 'GetParameters':
        return this.getMany(input.Names ?? [], input.WithDecryption)
      case 'GetParametersByPath':
        return this.byPath(input)
      case 'DescribeParameters':
        return this.describe(input)
      default:
        throw new Error(`The SSM stand-in does not implement ${command}.`)
    }
  }

  /** Holds the parameter for the write's duration: another write of it meanwhile is refused. */
  private async write(name: string, apply: () => Record<string, unknown>): Promise<Record<string, unknown>> {
    if (this.writing.has(name)) throw new TooManyUpdates({message: TOO_MANY_UPDATES_MESSAGE, ...meta})
    this.writing.add(name)
    try {
      await (this.options.writeLatency ?? (() => new Promise<void>((resolve) => setImmediate(resolve))))()
      return apply()
    } finally {
      this.writing.delete(name)
    }
  }

  private put(input: Record<string, any>): Record<string, unknown> {
    const name = input.Name as string
    const value = input.Value as string | undefined
    if (!value) throw validation('1 validation error detected: Value at \'value\' failed to satisfy constraint: Member must have length greater than or equal to 1')
    const existing = this.parameters.get(name)
    if (existing && !input.Overwrite) {
      throw new ParameterAlreadyExists({message: 'The parameter already exists. To overwrite this value, set the overwrite option in the request to true.', ...meta})
    }

    const bytes = Buffer.byteLength(value, 'utf8')
    const tier = this.tierFor(input.Tier, bytes, existing)
    if (bytes > ADVANCED_LIMIT_BYTES) throw validation(`1 validation error detected: Value at 'value' failed to satisfy constraint: Member must have length less than or equal to ${ADVANCED_LIMIT_BYTES}`)
    if (tier === 'Standard' && bytes > STANDARD_LIMIT_BYTES) throw validation(STANDARD_SIZE_MESSAGE)
    if (!existing && tier === 'Standard' && this.count('Standard') >= (this.options.standardLimit ?? 10_000)) {
      throw new ParameterLimitExceeded({message: `You have reached the maximum number of standard parameters for this AWS account and Region (${this.options.standardLimit ?? 10_000}). To add more parameters, either delete existing parameters or upgrade to the advanced-parameter tier (charges apply).`, ...meta})
    }

    const stored: Stored = existing ?? {name, tier, versions: []}
    stored.tier = tier
    if (input.Description !== undefined) stored.description = input.Description
    const version = (stored.versions.at(-1)?.version ?? 0) + 1
    stored.versions.push({version, value, type: input.Type ?? stored.versions.at(-1)?.type ?? 'String', modified: new Date()})
    if (stored.versions.length > VERSIONS_KEPT) stored.versions.splice(0, stored.versions.length - VERSIONS_KEPT)
    this.parameters.set(name, stored)
    return {Version: version, Tier: tier}
  }

  private tierFor(asked: string | undefined, bytes: number, existing: Stored | undefined): Tier {
    const wanted = asked ?? this.options.defaultTier ?? 'Standard'
    if (wanted === 'Advanced') return 'Advanced'
    if (wanted === 'Intelligent-Tiering') {
      if (bytes > STANDARD_LIMIT_BYTES) return 'Advanced'
      if (existing?.tier === 'Advanced' && this.options.intelligentTieringKeepsAdvanced) return 'Advanced'
    }

    if (existing?.tier === 'Advanced') throw validation(DOWNGRADE_MESSAGE)
    return 'Standard'
  }

  private count(tier: Tier): number {
    return [...this.parameters.values()].filter((p) => p.tier === tier).length
  }

  private deleteMany(names: string[]): Record<string, unknown> {
    if (names.length > 10) throw validation('1 validation error detected: Value at \'names\' failed to satisfy constraint: Member must have length less than or equal to 10')
    const deleted: string[] = []
    const invalid: string[] = []
    for (const name of names) {
      if (this.writing.has(name)) throw new TooManyUpdates({message: TOO_MANY_UPDATES_MESSAGE, ...meta})
      if (this.parameters.delete(name)) deleted.push(name)
      else invalid.push(name)
    }

    return {DeletedParameters: deleted, InvalidParameters: invalid}
  }

  /** A parameter as AWS answers it; a `name:N` selector answers with the bare name and Selector. */
  private read(wanted: string, decrypt: boolean | undefined, required: boolean): Parameter | undefined {
    const [name, selector] = splitSelector(wanted)
    const stored = this.parameters.get(name)
    if (!stored) {
      if (required) throw new ParameterNotFound({message: `Parameter ${name} not found.`, ...meta})
      return undefined
    }

    const version = selector === undefined ? stored.versions.at(-1)! : stored.versions.find((v) => v.version === selector)
    if (!version) {
      if (required) throw new ParameterVersionNotFound({message: `Systems Manager could not find version ${selector} of ${name}. Verify the version and try again.`, ...meta})
      return undefined
    }

    return {
      Name: name,
      Type: version.type as Parameter['Type'],
      // Without decryption AWS gives a SecureString's ciphertext, never its value.
      Value: version.type === 'SecureString' && !decrypt ? `AQICAHciphertext${version.version}` : version.value,
      Version: version.version,
      LastModifiedDate: version.modified,
      ARN: `arn:aws:ssm:us-east-1:123456789012:parameter${name}`,
      DataType: 'text',
      ...(selector === undefined ? {} : {Selector: `:${selector}`}),
    }
  }

  private getMany(names: string[], decrypt: boolean | undefined): Record<string, unknown> {
    if (names.length > 10) throw validation('1 validation error detected: Value at \'names\' failed to satisfy constraint: Member must have length less than or equal to 10')
    const found: Parameter[] = []
    const invalid: string[] = []
    for (const wanted of names) {
      const parameter = this.read(wanted, decrypt, false)
      if (parameter) found.push(parameter)
      else invalid.push(wanted)
    }

    return {Parameters: found, InvalidParameters: invalid}
  }

  private byPath(input: Record<string, any>): Record<string, unknown> {
    const max = input.MaxResults ?? 10
    if (max > 10) throw validation('1 validation error detected: Value at \'maxResults\' failed to satisfy constraint: Member must have value less than or equal to 10')
    const path = (input.Path as string).endsWith('/') ? input.Path : `${input.Path}/`
    const names = this.namesUnder(path).filter((name) => input.Recursive || !name.slice(path.length).includes('/'))
    const start = input.NextToken ? Number(input.NextToken) : 0
    const page = names.slice(start, start + max)
    const next = start + max < names.length ? String(start + max) : undefined
    return {Parameters: page.map((name) => this.read(name, input.WithDecryption, true)), ...(next ? {NextToken: next} : {})}
  }

  private describe(input: Record<string, any>): Record<string, unknown> {
    const wanted = (input.ParameterFilters ?? []).find((f: {Key: string}) => f.Key === 'Name')?.Values as string[] | undefined
    const all = [...this.parameters.values()].filter((p) => !wanted || wanted.includes(p.name))
    return {Parameters: all.map((p) => ({Name: p.name, Tier: p.tier, Type: p.versions.at(-1)!.type, Version: p.versions.at(-1)!.version, Description: p.description}))}
  }
}

function splitSelector(wanted: string): [string, number | undefined] {
  const match = /^(.*):(\d+)$/.exec(wanted)
  return match ? [match[1], Number(match[2])] : [wanted, undefined]
}
