import type {CloudFormationClient, Stack, StackEvent} from '@aws-sdk/client-cloudformation'

import {HerogateError, StackBusy} from '../lib/errors.js'
import type {Progress} from '../platform/types.js'
import {awsFailure} from './errors.js'

/** A stack as herogate needs it: status, outputs and tags as plain maps. */
export interface StackSummary {
  name: string
  id: string
  status: string
  statusReason?: string
  outputs: Record<string, string>
  parameters: Record<string, string>
  tags: Record<string, string>
  createdAt?: Date
}

/** The first resource that failed in a stack operation, and CloudFormation's reason. */
export interface StackFailure {
  resource: string
  resourceType?: string
  status: string
  reason: string
}

/** A stack operation ended in failure; `failure` names the resource that failed first. */
export class StackFailed extends HerogateError {
  constructor(message: string, readonly stack: string, readonly failure?: StackFailure, suggestions: string[] = []) {
    super(message, {suggestions})
  }
}

/** Waiting stopped because the signal was aborted; the stack operation itself goes on. */
export class WaitAborted extends Error {
  constructor(readonly stack: string) {
    super(`stopped waiting for ${stack}`)
  }
}

/** What a template says about its resources: type and the short description in Metadata. */
export type ResourceDescriptions = Record<string, {type: string; description?: string}>

export interface WaitOptions {
  onProgress?: Progress
  signal?: AbortSignal
  /** Descriptions of the template's resources; resources without one are shown only when they fail. */
  resources?: ResourceDescriptions
  /** How the stack itself is shown (e.g. "herogate platform"). */
  stackDescription?: string
  /** Events up to and including this one belong to earlier operations and are not shown. */
  afterEventId?: string
}

const POLL_MS = 3000
const FAILED = /_FAILED$/
const CANCELLED = /cancel/i

/** Reads the Metadata.Description of each resource of a CloudFormation YAML template. */
export async function templateResources(templateBody: string): Promise<ResourceDescriptions> {
  // Loaded here, not at start-up: only stack operations need a YAML parser.
  const {parseDocument} = await import('yaml')
  // Intrinsic tags (!Ref, !Sub...) are irrelevant here: they parse as plain values.
  const template = parseDocument(templateBody, {logLevel: 'silent'}).toJS() as {Resources?: Record<string, {Type: string; Metadata?: {Description?: string}}>}
  const resources: ResourceDescriptions = {}
  for (const [id, resource] of Object.entries(template.Resources ?? {})) {
    resources[id] = {type: resource.Type, description: resource.Metadata?.Description}
  }

  return resources
}

export interface CloudFormationOptions {
  pollMs?: number
  /** Told the stack (name or id) this wrapper has changed, and again when a wait on one ends: what was read of it may be stale. */
  onChange?: (stack: string) => void
}

/** CloudFormation in herogate's words: describe, create, delete, and wait with progress. */
export class CloudFormation {
  private readonly pollMs: number
  private readonly changed: (stack: string) => void

  constructor(
    private readonly client: CloudFormationClient,
    private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>,
    options: CloudFormationOptions = {},
  ) {
    this.pollMs = options.pollMs ?? POLL_MS
    this.changed = options.onChange ?? (() => {})
  }

  private async sdk() {
    return import('@aws-sdk/client-cloudformation')
  }

  /** The stack, or undefined when no live stack has that name (deleted stacks count as absent by name). */
  async describe(nameOrId: string): Promise<StackSummary | undefined> {
    const {DescribeStacksCommand} = await this.sdk()
    try {
      const response = await this.client.send(new DescribeStacksCommand({StackName: nameOrId}))
      const stack = response.Stacks?.[0]
      return stack ? summary(stack) : undefined
    } catch (error) {
      if (isMissingStack(error)) return undefined
      throw awsFailure(error, `reading stack ${nameOrId}`)
    }
  }

  /** Every live stack whose name starts with `prefix`, following pages. */
  async list(prefix = ''): Promise<StackSummary[]> {
    const {DescribeStacksCommand} = await this.sdk()
    const stacks: StackSummary[] = []
    let NextToken: string | undefined
    try {
      do {
        const response = await this.client.send(new DescribeStacksCommand({NextToken}))
        for (const stack of response.Stacks ?? []) {
          if (stack.StackName?.startsWith(prefix) && stack.StackStatus !== 'DELETE_COMPLETE') stacks.push(summary(stack))
        }

        NextToken = response.NextToken
      } while (NextToken)
    } catch (error) {
      throw awsFailure(error, 'listing stacks')
    }

    return stacks
  }

  /** Starts creating a stack; resolves with its id. */
  async create(input: {name: string; templateBody: string; parameters: Record<string, string>; tags: Record<string, string>}): Promise<string> {
    const {CreateStackCommand} = await this.sdk()
    try {
      const response = await this.client.send(
        new CreateStackCommand({
          StackName: input.name,
          TemplateBody: input.templateBody,
          Parameters: Object.entries(input.parameters).map(([ParameterKey, ParameterValue]) => ({ParameterKey, ParameterValue})),
          Tags: Object.entries(input.tags).map(([Key, Value]) => ({Key, Value})),
          Capabilities: ['CAPABILITY_IAM'],
          // Rollback keeps nothing half-made; herogate deletes the rolled-back stack itself.
          OnFailure: 'ROLLBACK',
        }),
      )
      this.changed(input.name)
      return response.StackId ?? input.name
    } catch (error) {
      const e = error as {name?: string; message?: string}
      if (e.name === 'AlreadyExistsException') {
        throw new StackBusy(`Stack ${input.name} already exists.`, {cause: error, suggestions: ['wait for it to finish and try again']})
      }

      throw awsFailure(error, `creating stack ${input.name}`)
    }
  }

  /**
   * Starts an update of the stack that changes only the given parameters: the template and
   * every other parameter stay as they are. False when there was nothing to change.
   */
  async updateParameters(id: string, changed: Record<string, string>): Promise<boolean> {
    const {DescribeStacksCommand, UpdateStackCommand} = await this.sdk()
    try {
      const stack = (await this.client.send(new DescribeStacksCommand({StackName: id}))).Stacks?.[0]
      const current = new Map((stack?.Parameters ?? []).map((p) => [p.ParameterKey!, p.ParameterValue ?? '']))
      const keys = new Set([...current.keys(), ...Object.keys(changed)])
      // The others are passed as they are; UsePreviousValue only for a masked (NoEcho) value,
      // since emulators lose the default values of parameters under UsePreviousValue.
      const parameter = (key: string) => Object.hasOwn(changed, key)
        ? {ParameterKey: key, ParameterValue: changed[key]}
        : current.get(key) === '****' ? {ParameterKey: key, UsePreviousValue: true} : {ParameterKey: key, ParameterValue: current.get(key)}
      await this.client.send(new UpdateStackCommand({
        StackName: id,
        UsePreviousTemplate: true,
        Parameters: [...keys].map(parameter),
        Capabilities: ['CAPABILITY_IAM'],
      }))
      this.changed(id)
      return true
    } catch (error) {
      if (/No updates are to be performed/.test((error as Error).message ?? '')) return false
      if (/IN_PROGRESS state/.test((error as Error).message ?? '')) throw new StackBusy(`Stack ${id} is being changed.`, {cause: error, suggestions: ['wait a minute and try again']})
      throw awsFailure(error, `updating stack ${id}`)
    }
  }

  /**
   * Starts updating a stack; `previous` keeps a parameter's value (NoEcho ones cannot be read back).
   * Resolves false when CloudFormation says there is nothing to update.
   */
  async update(input: {id: string; templateBody: string; parameters: Record<string, string>; previous?: string[]}): Promise<boolean> {
    const {UpdateStackCommand} = await this.sdk()
    try {
      await this.client.send(
        new UpdateStackCommand({
          StackName: input.id,
          TemplateBody: input.templateBody,
          Parameters: [
            ...Object.entries(input.parameters).map(([ParameterKey, ParameterValue]) => ({ParameterKey, ParameterValue})),
            ...(input.previous ?? []).map((ParameterKey) => ({ParameterKey, UsePreviousValue: true})),
          ],
          Capabilities: ['CAPABILITY_IAM'],
        }),
      )
      this.changed(input.id)
      return true
    } catch (error) {
      const e = error as {name?: string; message?: string}
      if (e.name === 'ValidationError' && /No updates are to be performed/.test(e.message ?? '')) return false
      if (e.name === 'ValidationError' && /IN_PROGRESS state/.test(e.message ?? '')) {
        throw new StackBusy(`Stack ${input.id} is being changed right now.`, {cause: error, suggestions: ['wait for it to finish and try again']})
      }

      // Without AWS's message: a validation error could quote a parameter value.
      throw awsFailure(error, `updating stack ${input.id}`, {keepMessage: false})
    }
  }

  /** Starts deleting a stack (by id, so that waiting can follow it to DELETE_COMPLETE). */
  async delete(id: string): Promise<void> {
    const {DeleteStackCommand} = await this.sdk()
    try {
      await this.client.send(new DeleteStackCommand({StackName: id}))
      this.changed(id)
    } catch (error) {
      if (isMissingStack(error)) return
      throw awsFailure(error, `deleting stack ${id}`)
    }
  }

  /** The newest event's id: a marker so that waiting on the next operation shows only its own events. */
  async latestEventId(id: string): Promise<string | undefined> {
    const {DescribeStackEventsCommand} = await this.sdk()
    try {
      const response = await this.client.send(new DescribeStackEventsCommand({StackName: id}))
      return response.StackEvents?.[0]?.EventId
    } catch (error) {
      if (isMissingStack(error)) return undefined
      throw awsFailure(error, `reading events of stack ${id}`)
    }
  }

  /**
   * Polls until the stack leaves every *_IN_PROGRESS status, emitting one resource row per
   * new event. Resolves with the final stack (DELETE_COMPLETE for a deleted one); rejects
   * with WaitAborted when the signal aborts (the operation goes on in AWS).
   */
  async wait(id: string, options: WaitOptions = {}): Promise<StackSummary> {
    const seen = new Set<string>()
    let marker = options.afterEventId
    for (;;) {
      if (options.signal?.aborted) throw new WaitAborted(id)
      const events = await this.eventsSince(id, marker)
      for (const event of events) {
        if (seen.has(event.EventId!)) continue
        seen.add(event.EventId!)
        this.emit(event, options)
      }

      if (events.length > 0) marker = events.at(-1)!.EventId
      const stack = await this.describe(id)
      if (!stack) throw new HerogateError(`Stack ${id} disappeared while herogate was waiting for it.`)
      if (!stack.status.endsWith('_IN_PROGRESS')) {
        this.changed(id)
        return stack
      }

      try {
        await this.sleep(this.pollMs, options.signal)
      } catch (error) {
        if (options.signal?.aborted) throw new WaitAborted(id)
        throw error
      }
    }
  }

  /** The first resource that failed in the stack's last operation(s) after `afterEventId`. */
  async failure(id: string, afterEventId?: string): Promise<StackFailure | undefined> {
    const events = await this.eventsSince(id, afterEventId)
    const failed = events.filter((event) => FAILED.test(event.ResourceStatus ?? ''))
    const first = failed.find((event) => !CANCELLED.test(event.ResourceStatusReason ?? '') && event.LogicalResourceId !== event.StackName) ?? failed[0]
    if (!first) return undefined
    return {
      resource: first.LogicalResourceId ?? '',
      resourceType: first.ResourceType,
      status: first.ResourceStatus ?? '',
      reason: first.ResourceStatusReason ?? 'no reason given',
    }
  }

  /** Events newer than `marker` in time order (DescribeStackEvents returns newest first). */
  private async eventsSince(id: string, marker?: string): Promise<StackEvent[]> {
    const {DescribeStackEventsCommand} = await this.sdk()
    const events: StackEvent[] = []
    let NextToken: string | undefined
    try {
      do {
        const response = await this.client.send(new DescribeStackEventsCommand({StackName: id, NextToken}))
        for (const event of response.StackEvents ?? []) {
          if (marker && event.EventId === marker) return events.reverse()
          events.push(event)
        }

        NextToken = response.NextToken
      } while (NextToken)
    } catch (error) {
      if (isMissingStack(error)) return events.reverse()
      throw awsFailure(error, `reading events of stack ${id}`)
    }

    return events.reverse()
  }

  private emit(event: StackEvent, options: WaitOptions): void {
    if (!options.onProgress) return
    const logicalId = event.LogicalResourceId ?? ''
    const isStack = logicalId === event.StackName
    const known = options.resources?.[logicalId]
    const failed = FAILED.test(event.ResourceStatus ?? '')
    const description = isStack ? options.stackDescription : known?.description
    if (!isStack && !description && !failed) return
    options.onProgress({
      kind: 'resource',
      id: `${event.StackName}/${logicalId}`,
      stack: event.StackName,
      resourceType: event.ResourceType ?? known?.type ?? '',
      status: event.ResourceStatus ?? '',
      description: description ?? logicalId,
      ...(event.ResourceStatusReason && (failed || isStack) ? {reason: event.ResourceStatusReason} : {}),
    })
  }
}

/** A stack's name, from its name or its id (arn:aws:cloudformation:REGION:ACCOUNT:stack/NAME/UUID). */
export function stackNameOf(nameOrId: string): string {
  return /^arn:[^:]+:cloudformation:[^:]*:[^:]*:stack\/([^/]+)\//.exec(nameOrId)?.[1] ?? nameOrId
}

export function isMissingStack(error: unknown): boolean {
  const e = error as {name?: string; message?: string}
  return e?.name === 'ValidationError' && /does not exist/.test(e.message ?? '')
}

function summary(stack: Stack): StackSummary {
  const map = <T>(items: T[] | undefined, key: (item: T) => string | undefined, value: (item: T) => string | undefined) =>
    Object.fromEntries((items ?? []).map((item) => [key(item) ?? '', value(item) ?? '']))
  return {
    name: stack.StackName ?? '',
    id: stack.StackId ?? stack.StackName ?? '',
    status: stack.StackStatus ?? 'UNKNOWN',
    statusReason: stack.StackStatusReason,
    outputs: map(stack.Outputs, (o) => o.OutputKey, (o) => o.OutputValue),
    parameters: map(stack.Parameters, (p) => p.ParameterKey, (p) => p.ParameterValue),
    tags: map(stack.Tags, (t) => t.Key, (t) => t.Value),
    createdAt: stack.CreationTime,
  }
}
