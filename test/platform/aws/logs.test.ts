import {CloudWatchLogsClient, DescribeLogGroupsCommand, FilterLogEventsCommand, StartLiveTailCommand, type StartLiveTailResponseStream} from '@aws-sdk/client-cloudwatch-logs'
import {mockClient} from 'aws-sdk-client-mock'
import {expect} from 'chai'

import {AwsClients} from '../../../src/aws/clients.js'
import {AppNotFound, HerogateError, InvalidInput} from '../../../src/lib/errors.js'
import {formatLogLine} from '../../../src/lib/format.js'
import type {AwsContext} from '../../../src/platform/aws/context.js'
import {logs, processOf} from '../../../src/platform/aws/logs.js'
import type {AppResources} from '../../../src/platform/aws/resources.js'
import type {LogLine, LogOptions} from '../../../src/platform/types.js'
import {useMoto} from '../../helpers/moto.js'
import {fakeClock, makeContext, makeResources, putLogs, REGION} from './formation.fixture.js'

const T0 = Date.parse('2026-11-21T10:00:00.000Z')
const WEB = 'web/web/aaaaaaa1111111111111111111111111'
const WORKER = 'worker/worker/bbbbbbb2222222222222222222222222'

async function collect(lines: AsyncIterable<LogLine>, max = Number.POSITIVE_INFINITY): Promise<string[]> {
  const out: string[] = []
  for await (const line of lines) {
    out.push(formatLogLine(line))
    if (out.length >= max) break
  }

  return out
}

const base: LogOptions = {num: 100, tail: false}

describe('aws driver: logs stream names', () => {
  it('maps streams to process names', () => {
    expect(processOf(WEB)).to.deep.equal({source: 'app', process: 'web.aaaaaaa'})
    expect(processOf('run/run/0123456789')).to.deep.equal({source: 'app', process: 'run.0123456'})
    expect(processOf('herogate/build/abc')).to.deep.equal({source: 'herogate', process: 'build'})
    expect(processOf('odd-stream')).to.deep.equal({source: 'app', process: 'odd-stream'})
  })
})

describe('aws driver: logs (moto)', () => {
  useMoto()
  let resources: AppResources
  let ctx: AwsContext
  let clock: ReturnType<typeof fakeClock>

  beforeEach(async () => {
    resources = await makeResources('demo')
    clock = fakeClock(T0 + 60_000)
    ctx = makeContext(resources, {clock})
    await putLogs(resources.logGroup, WEB, [1, 3, 5, 7].map((i) => ({timestamp: T0 + i * 1000, message: `web ${i}`})))
    await putLogs(resources.logGroup, WORKER, [2, 4, 6].map((i) => ({timestamp: T0 + i * 1000, message: `worker ${i}`})))
    await putLogs(resources.logGroup, 'herogate/deploy/v2', [{timestamp: T0 + 6500, message: 'Rolled out v2'}])
  })

  it('prints the last n lines of every process in time order, in Heroku format', async () => {
    expect(await collect(logs(ctx, 'demo', {...base, num: 5}))).to.deep.equal([
      '2026-11-21T10:00:04.000Z app[worker.bbbbbbb]: worker 4',
      '2026-11-21T10:00:05.000Z app[web.aaaaaaa]: web 5',
      '2026-11-21T10:00:06.000Z app[worker.bbbbbbb]: worker 6',
      '2026-11-21T10:00:06.500Z herogate[deploy]: Rolled out v2',
      '2026-11-21T10:00:07.000Z app[web.aaaaaaa]: web 7',
    ])
  })

  it('filters by process type, task, source and time', async () => {
    expect(await collect(logs(ctx, 'demo', {...base, processType: 'worker'}))).to.have.length(3)
    expect(await collect(logs(ctx, 'demo', {...base, task: 'web.aaaaaaa', num: 2}))).to.deep.equal([
      '2026-11-21T10:00:05.000Z app[web.aaaaaaa]: web 5',
      '2026-11-21T10:00:07.000Z app[web.aaaaaaa]: web 7',
    ])
    expect(await collect(logs(ctx, 'demo', {...base, task: 'bbbbbbb2222'}))).to.have.length(3)
    expect(await collect(logs(ctx, 'demo', {...base, source: 'herogate'}))).to.deep.equal(['2026-11-21T10:00:06.500Z herogate[deploy]: Rolled out v2'])
    expect(await collect(logs(ctx, 'demo', {...base, source: 'app'}))).to.have.length(7)
    expect(await collect(logs(ctx, 'demo', {...base, since: new Date(T0 + 5500)}))).to.have.length(3)
  })

  it('reads back far enough for n lines when the recent window holds fewer', async () => {
    await putLogs(resources.logGroup, WEB, [{timestamp: T0 - 3 * 3_600_000, message: 'three hours ago'}])
    const lines = await collect(logs(ctx, 'demo', {...base, num: 9}))
    expect(lines[0]).to.equal('2026-11-21T07:00:00.000Z app[web.aaaaaaa]: three hours ago')
    expect(lines).to.have.length(9)
  })

  it('tails by polling where Live Tail is missing: new lines once, history never again', async () => {
    // The history is within the poll's look-back window, so the first poll reads it all again.
    clock = fakeClock(T0 + 10_000)
    ctx = makeContext(resources, {clock})
    const controller = new AbortController()
    const sleep = clock.sleep
    let polls = 0
    clock.sleep = async (ms, signal) => {
      polls++
      // A line ingested late but stamped inside the history's time range, and a new one.
      if (polls === 1) await putLogs(resources.logGroup, WORKER, [{timestamp: T0 + 6800, message: 'late worker line'}])
      if (polls === 2) await putLogs(resources.logGroup, WEB, [{timestamp: clock.now().getTime(), message: 'after the tail started'}])
      if (polls === 4) controller.abort()
      return sleep(ms, signal)
    }

    const lines = await collect(logs(ctx, 'demo', {...base, num: 2, tail: true, signal: controller.signal}))
    expect(lines).to.deep.equal([
      '2026-11-21T10:00:06.500Z herogate[deploy]: Rolled out v2',
      '2026-11-21T10:00:07.000Z app[web.aaaaaaa]: web 7',
      '2026-11-21T10:00:06.800Z app[worker.bbbbbbb]: late worker line',
      '2026-11-21T10:00:12.000Z app[web.aaaaaaa]: after the tail started',
    ])
  })

  it('refuses an unknown app and bad filters before reading', async () => {
    expect(await collect(logs(ctx, 'nope', base)).catch((e: unknown) => e)).to.be.instanceOf(AppNotFound)
    expect(await collect(logs(ctx, 'demo', {...base, processType: 'we-b'})).catch((e: unknown) => e)).to.be.instanceOf(InvalidInput)
    expect(await collect(logs(ctx, 'demo', {...base, task: 'a b'})).catch((e: unknown) => e)).to.be.instanceOf(InvalidInput)
    // A ps-style name is looked up among the running processes: there are none here.
    const missing = await collect(logs(ctx, 'demo', {...base, task: 'web.1'})).catch((e: unknown) => e)
    expect((missing as Error).message).to.equal('No process web.1 is running.')
    // Hints that work from anywhere: they name the app.
    expect((missing as HerogateError).suggestions).to.deep.equal(['herogate ps -a demo', 'herogate logs -d web.1a2b3c4 -a demo (the first characters of a task id)'])
    const neither = await collect(logs(ctx, 'demo', {...base, task: 'a b'})).catch((e: unknown) => e)
    expect((neither as HerogateError).suggestions).to.deep.equal(['herogate ps -a demo'])
  })
})

describe('aws driver: logs with Live Tail (mocked)', () => {
  function setup(history: Array<{eventId: string; timestamp: number; logStreamName: string; message: string}>) {
    const client = new CloudWatchLogsClient({region: REGION})
    const mock = mockClient(client)
    const clients = new AwsClients({region: REGION})
    clients.set('logs', client)
    const ctx: AwsContext = {region: REGION, clients, clock: fakeClock(T0 + 60_000)}
    mock.on(DescribeLogGroupsCommand).resolves({logGroups: [{logGroupName: '/herogate/demo', arn: 'arn:aws:logs:us-east-1:1:log-group:/herogate/demo:*'}]})
    mock.on(FilterLogEventsCommand).resolves({events: history})
    return {mock, ctx}
  }

  async function* stream(events: StartLiveTailResponseStream[]): AsyncIterable<StartLiveTailResponseStream> {
    for (const event of events) yield event
  }

  it('starts Live Tail before reading history and drops the lines both delivered', async () => {
    const {mock, ctx} = setup([
      {eventId: '1', timestamp: T0 + 1000, logStreamName: WEB, message: 'old'},
      {eventId: '2', timestamp: T0 + 2000, logStreamName: WEB, message: 'at the boundary'},
    ])
    const session = (results: Array<{timestamp: number; message: string}>) => ({sessionUpdate: {sessionResults: results.map((r) => ({...r, logStreamName: WEB, logGroupIdentifier: 'g'}))}})
    mock.on(StartLiveTailCommand).resolves({
      responseStream: stream([
        {sessionStart: {sessionId: 's'}},
        session([{timestamp: T0 + 2000, message: 'at the boundary'}, {timestamp: T0 + 3000, message: 'new'}]),
        session([{timestamp: T0 + 3000, message: 'new'}, {timestamp: T0 + 4000, message: 'newer'}]),
      ]),
    })
    const lines = await collect(logs(ctx, 'demo', {...base, tail: true}))
    expect(lines).to.deep.equal([
      '2026-11-21T10:00:01.000Z app[web.aaaaaaa]: old',
      '2026-11-21T10:00:02.000Z app[web.aaaaaaa]: at the boundary',
      '2026-11-21T10:00:03.000Z app[web.aaaaaaa]: new',
      // The same line twice in a row after the boundary is two lines, not a duplicate.
      '2026-11-21T10:00:03.000Z app[web.aaaaaaa]: new',
      '2026-11-21T10:00:04.000Z app[web.aaaaaaa]: newer',
    ])
    const calls = mock.calls().map((call) => (call.args[0] as object).constructor.name)
    expect(calls.indexOf('StartLiveTailCommand')).to.be.lessThan(calls.indexOf('FilterLogEventsCommand'))
    expect(mock.commandCalls(StartLiveTailCommand)[0].args[0].input).to.deep.equal({logGroupIdentifiers: ['arn:aws:logs:us-east-1:1:log-group:/herogate/demo']})
  })

  it('tails in time order: lines Live Tail delivers out of order (streams ingested apart) are put back in order', async () => {
    const {mock, ctx} = setup([])
    // A clock whose time passes only for the waits that complete, as real time does.
    let now = T0 + 60_000
    ctx.clock = {
      now: () => new Date(now),
      async sleep(ms, signal) {
        await new Promise((resolve) => setImmediate(resolve))
        if (signal?.aborted) throw signal.reason
        now += ms
      },
    }
    const update = (results: Array<[number, string, string]>) => ({
      sessionUpdate: {sessionResults: results.map(([offset, stream, message]) => ({timestamp: T0 + 60_000 + offset, logStreamName: stream, message}))},
    })
    mock.on(StartLiveTailCommand).resolves({
      responseStream: stream([
        {sessionStart: {sessionId: 's'}},
        update([[300, WEB, 'web handled /'], [100, WORKER, 'worker picked job 1']]),
        update([[200, WORKER, 'worker done job 1']]),
      ]),
    })
    expect(await collect(logs(ctx, 'demo', {...base, tail: true}))).to.deep.equal([
      '2026-11-21T10:01:00.100Z app[worker.bbbbbbb]: worker picked job 1',
      '2026-11-21T10:01:00.200Z app[worker.bbbbbbb]: worker done job 1',
      '2026-11-21T10:01:00.300Z app[web.aaaaaaa]: web handled /',
    ])
  })

  it('starts a new Live Tail session when one ends', async () => {
    const {mock, ctx} = setup([])
    const update = (message: string) => ({sessionUpdate: {sessionResults: [{timestamp: T0 + 5000, message, logStreamName: WEB}]}})
    mock.on(StartLiveTailCommand)
      .resolvesOnce({responseStream: stream([{sessionStart: {sessionId: '1'}}, update('first session'), {SessionTimeoutException: {message: 'three hours'}} as never])})
      .resolvesOnce({responseStream: stream([{sessionStart: {sessionId: '2'}}, update('second session')])})
      .rejects(Object.assign(new Error('too many sessions'), {name: 'LimitExceededException'}))
    expect(await collect(logs(ctx, 'demo', {...base, tail: true}))).to.deep.equal([
      '2026-11-21T10:00:05.000Z app[web.aaaaaaa]: first session',
      '2026-11-21T10:00:05.000Z app[web.aaaaaaa]: second session',
    ])
  })

  it('ends at once when aborted while Live Tail waits for events', async () => {
    const {mock, ctx} = setup([])
    const controller = new AbortController()
    async function* quiet(): AsyncIterable<StartLiveTailResponseStream> {
      yield {sessionStart: {sessionId: 's'}}
      setImmediate(() => controller.abort())
      await new Promise(() => undefined)
    }

    mock.on(StartLiveTailCommand).resolves({responseStream: quiet()})
    expect(await collect(logs(ctx, 'demo', {...base, tail: true, signal: controller.signal}))).to.deep.equal([])
  })

  it('asks Live Tail for the process type prefix only', async () => {
    const {mock, ctx} = setup([])
    mock.on(StartLiveTailCommand).resolves({responseStream: stream([{sessionStart: {sessionId: 's'}}])})
    await collect(logs(ctx, 'demo', {...base, tail: true, processType: 'worker'}))
    expect(mock.commandCalls(StartLiveTailCommand)[0].args[0].input.logStreamNamePrefixes).to.deep.equal(['worker/'])
    expect(mock.commandCalls(FilterLogEventsCommand)[0].args[0].input.logStreamNamePrefix).to.equal('worker/')
  })

  it('falls back to polling when Live Tail fails, and stops cleanly when aborted', async () => {
    const {mock, ctx} = setup([{eventId: '1', timestamp: T0 + 50_000, logStreamName: WEB, message: 'recent'}])
    mock.on(StartLiveTailCommand).rejects(Object.assign(new Error('Internal Server Error'), {name: 'InternalFailure', $metadata: {httpStatusCode: 500}}))
    const controller = new AbortController()
    const clock = ctx.clock as ReturnType<typeof fakeClock>
    const sleep = clock.sleep
    clock.sleep = async (ms, signal) => {
      if (clock.sleeps.length === 3) controller.abort()
      return sleep(ms, signal)
    }

    const lines = await collect(logs(ctx, 'demo', {...base, tail: true, signal: controller.signal}))
    expect(lines).to.deep.equal(['2026-11-21T10:00:50.000Z app[web.aaaaaaa]: recent'])
    expect(mock.commandCalls(FilterLogEventsCommand).length).to.be.greaterThan(2)
  })
})
