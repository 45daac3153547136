import type {CloudWatchLogsClient, StartLiveTailResponseStream} from '@aws-sdk/client-cloudwatch-logs'

import {HerogateError} from '../lib/errors.js'
import {awsFailure, isAwsError} from './errors.js'

/** One log event as herogate reads it. Live Tail gives no event id; FilterLogEvents does. */
export interface LogEvent {
  id?: string
  timestamp: number
  ingestionTime?: number
  stream: string
  message: string
}

export interface LogGroupInfo {
  name: string
  /** ARN without the trailing `:*`, as StartLiveTail wants it. */
  arn: string
}

/** StartLiveTail is not available here (emulators, partitions without it, missing permission). */
export class LiveTailUnavailable extends HerogateError {}

/** A running Live Tail session: events as they are ingested, until the signal aborts or the session ends. */
export interface LiveTailSession {
  events: AsyncIterable<LogEvent>
  /** True once CloudWatch said it is sampling because of volume (lines are then dropped). */
  sampled(): boolean
}

/** CloudWatch Logs in herogate's words: history by filter, a stream read forward, and Live Tail. */
export class LogsService {
  constructor(private readonly client: CloudWatchLogsClient) {}

  private async sdk() {
    return import('@aws-sdk/client-cloudwatch-logs')
  }

  /** The log group, or undefined when it does not exist. */
  async group(name: string): Promise<LogGroupInfo | undefined> {
    const {DescribeLogGroupsCommand} = await this.sdk()
    try {
      const response = await this.client.send(new DescribeLogGroupsCommand({logGroupNamePrefix: name, limit: 5}))
      const group = response.logGroups?.find((g) => g.logGroupName === name)
      if (!group) return undefined
      const arn = group.logGroupArn ?? group.arn?.replace(/:\*$/, '') ?? ''
      return {name, arn}
    } catch (error) {
      throw awsFailure(error, `reading log group ${name}`)
    }
  }

  /** Events of the group in time order from `start` (inclusive), following pages. */
  async *filter(query: {group: string; streamPrefix?: string; start?: number; end?: number; signal?: AbortSignal}): AsyncIterable<LogEvent> {
    const {FilterLogEventsCommand} = await this.sdk()
    let nextToken: string | undefined
    do {
      let response
      try {
        response = await this.client.send(
          new FilterLogEventsCommand({
            logGroupName: query.group,
            logStreamNamePrefix: query.streamPrefix,
            startTime: query.start,
            endTime: query.end,
            nextToken,
          }),
          {abortSignal: query.signal},
        )
      } catch (error) {
        if (query.signal?.aborted) return
        throw awsFailure(error, `reading logs of ${query.group}`)
      }

      for (const event of response.events ?? []) {
        yield {id: event.eventId, timestamp: event.timestamp ?? 0, ingestionTime: event.ingestionTime, stream: event.logStreamName ?? '', message: event.message ?? ''}
      }

      nextToken = response.nextToken
    } while (nextToken && !query.signal?.aborted)
  }

  /** Appends events (in time order) to a stream, creating it first when it is new. */
  /** Appends events to a stream, creating it the first time (so a stream that exists costs one call). */
  async put(group: string, stream: string, events: Array<{timestamp: number; message: string}>): Promise<void> {
    if (events.length === 0) return
    const {CreateLogStreamCommand, PutLogEventsCommand} = await this.sdk()
    // PutLogEvents takes at most 10,000 events a call.
    const send = async () => {
      for (let i = 0; i < events.length; i += 10_000) {
        await this.client.send(new PutLogEventsCommand({logGroupName: group, logStreamName: stream, logEvents: events.slice(i, i + 10_000)}))
      }
    }

    try {
      await send().catch(async (error: unknown) => {
        if (!isAwsError(error, 'ResourceNotFoundException')) throw error
        await this.client.send(new CreateLogStreamCommand({logGroupName: group, logStreamName: stream})).catch((created: unknown) => {
          if (!isAwsError(created, 'ResourceAlreadyExistsException')) throw created
        })
        await send()
      })
    } catch (error) {
      throw awsFailure(error, `writing log stream ${stream}`)
    }
  }

  /** Reads one stream forward from `token` (or from its start); a stream not created yet reads as empty. */
  async readStream(group: string, stream: string, token?: string): Promise<{events: LogEvent[]; nextToken?: string}> {
    const {GetLogEventsCommand} = await this.sdk()
    try {
      const response = await this.client.send(new GetLogEventsCommand({logGroupName: group, logStreamName: stream, startFromHead: true, nextToken: token}))
      const events = (response.events ?? []).map((event) => ({timestamp: event.timestamp ?? 0, ingestionTime: event.ingestionTime, stream, message: event.message ?? ''}))
      return {events, nextToken: response.nextForwardToken ?? token}
    } catch (error) {
      if (isAwsError(error, 'ResourceNotFoundException')) return {events: [], nextToken: token}
      throw awsFailure(error, `reading log stream ${stream}`)
    }
  }

  /** The last `count` events of one stream (at most 10,000), oldest first; a stream not created yet has none. */
  async lastEvents(group: string, stream: string, count: number): Promise<LogEvent[]> {
    const {GetLogEventsCommand} = await this.sdk()
    try {
      const response = await this.client.send(new GetLogEventsCommand({logGroupName: group, logStreamName: stream, startFromHead: false, limit: count}))
      return (response.events ?? []).map((event) => ({timestamp: event.timestamp ?? 0, ingestionTime: event.ingestionTime, stream, message: event.message ?? ''}))
    } catch (error) {
      if (isAwsError(error, 'ResourceNotFoundException')) return []
      throw awsFailure(error, `reading log stream ${stream}`)
    }
  }

  /** Every event of one stream, oldest first, page after page until the stream's end. */
  async wholeStream(group: string, stream: string): Promise<LogEvent[]> {
    const events: LogEvent[] = []
    let token: string | undefined
    for (;;) {
      const page = await this.readStream(group, stream, token)
      events.push(...page.events)
      // GetLogEvents answers the token it was given once the stream has no more.
      if (page.events.length === 0 || !page.nextToken || page.nextToken === token) return events
      token = page.nextToken
    }
  }

  /**
   * Starts a Live Tail session and waits until CloudWatch confirms it (sessionStart), so
   * that everything ingested afterwards is delivered. Throws LiveTailUnavailable where the
   * API cannot be used; the caller then polls instead.
   */
  async liveTail(query: {groupArn: string; streamPrefixes?: string[]; signal?: AbortSignal}): Promise<LiveTailSession> {
    const {StartLiveTailCommand} = await this.sdk()
    let stream: AsyncIterable<StartLiveTailResponseStream> | undefined
    let iterator: AsyncIterator<StartLiveTailResponseStream>
    try {
      const response = await this.client.send(
        new StartLiveTailCommand({
          logGroupIdentifiers: [query.groupArn],
          ...(query.streamPrefixes?.length ? {logStreamNamePrefixes: query.streamPrefixes} : {}),
        }),
        {abortSignal: query.signal},
      )
      stream = response.responseStream
      if (!stream) throw new Error('no response stream')
      iterator = stream[Symbol.asyncIterator]()
      const first = await iterator.next()
      if (first.done || !first.value.sessionStart) throw new Error('the session did not start')
    } catch (error) {
      if (query.signal?.aborted) return {events: (async function* () {})(), sampled: () => false}
      throw new LiveTailUnavailable(`Live Tail is not available: ${(error as {name?: string}).name ?? 'Error'}.`, {cause: error})
    }

    let sampled = false
    const signal = query.signal
    // Ctrl-C ends the wait for the next event at once, whatever the stream does.
    const aborted = new Promise<IteratorResult<StartLiveTailResponseStream>>((resolve) => {
      if (signal?.aborted) resolve({done: true, value: undefined})
      signal?.addEventListener('abort', () => resolve({done: true, value: undefined}), {once: true})
    })
    async function* events(): AsyncIterable<LogEvent> {
      try {
        while (!signal?.aborted) {
          const next = await Promise.race([iterator.next(), aborted])
          if (next.done) return
          const value = next.value
          if (value.SessionTimeoutException) return
          if (value.SessionStreamingException) throw new HerogateError(`Live Tail stopped: ${value.SessionStreamingException.message ?? 'streaming error'}.`)
          if (value.sessionUpdate?.sessionMetadata?.sampled) sampled = true
          for (const event of value.sessionUpdate?.sessionResults ?? []) {
            yield {timestamp: event.timestamp ?? 0, ingestionTime: event.ingestionTime, stream: event.logStreamName ?? '', message: event.message ?? ''}
          }
        }
      } catch (error) {
        if (signal?.aborted) return
        throw error instanceof HerogateError ? error : awsFailure(error, 'tailing logs')
      } finally {
        // Not awaited: a stream stuck waiting for data would hold Ctrl-C up.
        iterator.return?.()?.catch(() => undefined)
      }
    }

    return {events: events(), sampled: () => sampled}
  }
}
