import {type LogEvent, LogsService} from '../../aws/logs.js'
import {AppNotFound, InvalidInput} from '../../lib/errors.js'
import {names, PROCESS_TYPE} from '../../lib/naming.js'
import {inTimeOrder} from '../../lib/time-order.js'
import type {LogLine, LogOptions} from '../types.js'
import type {AwsContext} from './context.js'
import {ps} from './formation.js'

/** How often the polling tail asks for new events when Live Tail is not available. */
export const POLL_MS = 2000
/**
 * Events can be ingested up to this long after their timestamp (awslogs batches for 5 s):
 * each poll looks back this far and drops the event ids it has already printed.
 */
export const POLL_LOOKBACK_MS = 30_000
/** History windows tried in turn until they hold `num` lines: the last lines need not mean reading everything. */
const WINDOWS_MS = [5 * 60_000, 60 * 60_000, 24 * 60 * 60_000, 30 * 24 * 60 * 60_000]

/**
 * Where a log stream's lines come from. App processes log to `<type>/<type>/<task id>`
 * (awslogs-stream-prefix/container/task): they show as `<type>.<first 7 of the task id>`,
 * a name that stays the same across calls (ps numbers tasks web.1, web.2 and shows the id).
 * herogate's own streams live under `herogate/<step>/...` and show as that step.
 */
export function processOf(stream: string): {source: 'app' | 'herogate'; process: string} {
  const parts = stream.split('/')
  if (parts[0] === names.herogateLogStreamPrefix()) return {source: 'herogate', process: parts[1] || 'herogate'}
  if (parts.length === 3 && PROCESS_TYPE.test(parts[0])) return {source: 'app', process: `${parts[0]}.${parts[2].slice(0, 7)}`}
  return {source: 'app', process: stream}
}

interface Filter {
  /** FilterLogEvents / Live Tail stream prefix. */
  prefix?: string
  keep(event: LogEvent): boolean
}

/** ps numbers tasks web.1, web.2: a suffix of up to 3 digits is such a number, anything longer a task id prefix. */
const PS_NUMBER = /^\d{1,3}$/

/**
 * --process-type, --task (a task id, a name as logs show it: web.1a2b3c4, or as ps shows it:
 * web.1) and --source, as one filter. `resolve` turns a ps name into its task id.
 */
async function filterFor(app: string, options: LogOptions, resolve: (name: string) => Promise<string | undefined>): Promise<Filter> {
  if (options.processType !== undefined && !PROCESS_TYPE.test(options.processType)) {
    throw new InvalidInput(`"${options.processType}" is not a process type name.`)
  }

  let type = options.processType
  let taskPrefix: string | undefined
  if (options.task !== undefined) {
    const named = /^([A-Za-z0-9_]{1,30})\.([A-Za-z0-9-]+)$/.exec(options.task)
    if (named && PS_NUMBER.test(named[2])) {
      type ??= named[1]
      taskPrefix = await resolve(options.task)
      if (!taskPrefix) throw new InvalidInput(`No process ${options.task} is running.`, {suggestions: [`herogate ps -a ${app}`, `herogate logs -d web.1a2b3c4 -a ${app} (the first characters of a task id)`]})
    } else if (named) {
      type ??= named[1]
      taskPrefix = named[2]
    } else if (/^[A-Za-z0-9-]{4,64}$/.test(options.task)) {
      taskPrefix = options.task
    } else {
      throw new InvalidInput(`"${options.task}" is neither a process name (web.1a2b3c4) nor a task id.`, {suggestions: [`herogate ps -a ${app}`]})
    }
  }

  const herogate = names.herogateLogStreamPrefix()
  const source = options.source
  const prefix = source === 'herogate' ? `${herogate}/` : type === undefined ? undefined : `${type}/`
  return {
    prefix,
    keep(event) {
      const {source: from} = processOf(event.stream)
      if (source !== undefined && from !== source) return false
      if (type !== undefined && source !== 'herogate' && !event.stream.startsWith(`${type}/`)) return false
      if (taskPrefix !== undefined && !(event.stream.split('/')[2] ?? '').startsWith(taskPrefix)) return false
      return true
    },
  }
}

function toLine(event: LogEvent): LogLine {
  const {source, process} = processOf(event.stream)
  return {time: new Date(event.timestamp), source, process, message: event.message.replace(/\n$/, '')}
}

/** Identity of an event for telling the history and the tail apart (Live Tail has no event ids). */
function eventKey(event: LogEvent): string {
  return `${event.timestamp}\u0000${event.stream}\u0000${event.message}`
}

/**
 * How long a tail holds a fresh line so that lines stamped earlier can pass it: Live Tail
 * delivers what was ingested in the last second, and streams are ingested a little apart.
 */
export const TAIL_HOLD_MS = 2000

/**
 * logs: the last `num` lines across the app's streams in time order, then, with tail, every
 * new line, in time order too: Live Tail where it is available, else polling FilterLogEvents.
 * Live Tail starts before the history is read, and lines it delivers that the history already
 * printed are dropped, so nothing is lost or printed twice at the boundary.
 */
export function logs(ctx: AwsContext, app: string, options: LogOptions): AsyncIterable<LogLine> {
  if (!options.tail) return lines(ctx, app, options)
  const clock = {now: () => ctx.clock.now().getTime(), sleep: (ms: number, signal?: AbortSignal) => ctx.clock.sleep(ms, signal).catch(() => undefined)}
  return inTimeOrder(lines(ctx, app, options), (line) => line.time.getTime(), {holdMs: TAIL_HOLD_MS, clock})
}

async function* lines(ctx: AwsContext, app: string, options: LogOptions): AsyncIterable<LogLine> {
  if (!Number.isInteger(options.num) || options.num < 1) throw new InvalidInput('-n must be a whole number of lines, at least 1.')
  const filter = await filterFor(app, options, async (name) => (await ps(ctx, app)).find((p) => p.name === name)?.id)
  const service = new LogsService(await ctx.clients.logs())
  const groupName = names.logGroup(app)
  const group = await service.group(groupName)
  if (!group) throw new AppNotFound(app, ctx.region)
  const signal = options.signal

  const live = options.tail ? await startLiveTail(service, group.arn, filter, signal) : undefined
  const now = ctx.clock.now().getTime()
  const {events: history, recent} = await lastEvents(service, groupName, filter, options.num, now, options.since?.getTime(), signal)
  for (const event of history) yield toLine(event)
  if (!options.tail || signal?.aborted) return

  if (live) {
    // Multiset of the history's lines: an identical line logged twice in the same millisecond is still printed twice.
    const printed = new Map<string, number>()
    for (const event of history) printed.set(eventKey(event), (printed.get(eventKey(event)) ?? 0) + 1)
    for await (const event of live) {
      const key = eventKey(event)
      const seen = printed.get(key)
      if (seen) {
        if (seen === 1) printed.delete(key)
        else printed.set(key, seen - 1)
        continue
      }

      if (filter.keep(event)) yield toLine(event)
    }

    // A session ends after three hours: start the next one (lines of the moment between them may be missed).
    while (!signal?.aborted) {
      const next = await startLiveTail(service, group.arn, filter, signal)
      if (!next) break
      for await (const event of next) if (filter.keep(event)) yield toLine(event)
    }

    return
  }

  yield* poll(ctx, service, groupName, filter, recent, now, signal)
}

async function startLiveTail(service: LogsService, arn: string, filter: Filter, signal?: AbortSignal): Promise<AsyncIterable<LogEvent> | undefined> {
  try {
    const session = await service.liveTail({groupArn: arn, streamPrefixes: filter.prefix ? [filter.prefix] : undefined, signal})
    return session.events
  } catch {
    // Not available here (emulators, older partitions, no permission): poll instead.
    return undefined
  }
}

/**
 * The last `num` matching events, oldest first, widening the window back from `now` until it
 * holds enough. `recent`: ids of every event read that the first poll will see again.
 */
async function lastEvents(
  service: LogsService,
  group: string,
  filter: Filter,
  num: number,
  now: number,
  since: number | undefined,
  signal?: AbortSignal,
): Promise<{events: LogEvent[]; recent: Map<string, number>}> {
  const windows = since === undefined ? [...WINDOWS_MS.map((ms) => now - ms), 0] : [since]
  let kept: LogEvent[] = []
  const recent = new Map<string, number>()
  for (const start of windows) {
    // Pages are not guaranteed to be in time order across streams: keep the newest `num`, trimming now and then.
    kept = []
    for await (const event of service.filter({group, streamPrefix: filter.prefix, start, signal})) {
      if (event.id && event.timestamp >= now - POLL_LOOKBACK_MS) recent.set(event.id, event.timestamp)
      if (!filter.keep(event)) continue
      kept.push(event)
      if (kept.length >= 2 * num + 100) kept = newest(kept, num)
    }

    kept = newest(kept, num)
    if (kept.length >= num || signal?.aborted) break
  }

  return {events: kept, recent}
}

/** The newest `num` events in time order; equal timestamps keep the order they were read in. */
function newest(events: LogEvent[], num: number): LogEvent[] {
  return events
    .map((event, index) => ({event, index}))
    .sort((a, b) => a.event.timestamp - b.event.timestamp || a.index - b.index)
    .slice(-num)
    .map(({event}) => event)
}

async function* poll(
  ctx: AwsContext,
  service: LogsService,
  group: string,
  filter: Filter,
  seen: Map<string, number>,
  now: number,
  signal?: AbortSignal,
): AsyncIterable<LogLine> {
  // Every event the history read is in `seen`; any other, even one stamped a little earlier, is new.
  let from = now - POLL_LOOKBACK_MS
  let highWater = now
  for (;;) {
    try {
      await ctx.clock.sleep(POLL_MS, signal)
    } catch {
      return
    }

    if (signal?.aborted) return
    const fresh: LogEvent[] = []
    for await (const event of service.filter({group, streamPrefix: filter.prefix, start: from, signal})) {
      if (event.timestamp < from || (event.id && seen.has(event.id))) continue
      if (!event.id && event.timestamp < highWater) continue
      if (event.id) seen.set(event.id, event.timestamp)
      highWater = Math.max(highWater, event.timestamp)
      if (filter.keep(event)) fresh.push(event)
    }

    if (signal?.aborted) return
    fresh.sort((a, b) => a.timestamp - b.timestamp)
    for (const event of fresh) yield toLine(event)
    from = Math.max(from, highWater - POLL_LOOKBACK_MS)
    for (const [id, timestamp] of seen) if (timestamp < from) seen.delete(id)
  }
}
