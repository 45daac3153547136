import {CloudWatchLogsClient, PutLogEventsCommand} from '@aws-sdk/client-cloudwatch-logs'
import {ECSClient} from '@aws-sdk/client-ecs'
import {GetCallerIdentityCommand, STSClient} from '@aws-sdk/client-sts'
import {mockClient} from 'aws-sdk-client-mock'

import {AwsClients} from '../../../src/aws/clients.js'
import type {NewRelease} from '../../../src/aws/release-store.js'
import {AppNotFound} from '../../../src/lib/errors.js'
import {names} from '../../../src/lib/naming.js'
import type {AwsContext, Clock} from '../../../src/platform/aws/context.js'
import {withAppLock} from '../../../src/platform/aws/lock.js'
import type {AppResources} from '../../../src/platform/aws/resources.js'
import {SsmStandIn, type StandInOptions} from '../../helpers/ssm-standin.js'

const REGION = 'us-east-1'

/**
 * A clock for runs that go on side by side, as separate CLI processes do: each sleep ends at
 * its own wake-up time, the earliest first, one per turn of the event loop, and `now` is then
 * that time. Two runs that each wait 2 s take 2 s together, not 4; nothing waits in wall time.
 * `elapse` is time that passes without being a sleep of the code under test (an AWS call).
 */
export function concurrentClock(start = Date.parse('2026-11-21T10:00:00.000Z')): Clock & {sleeps: number[]; elapse(ms: number): Promise<void>} {
  let now = start
  const sleeps: number[] = []
  const sleepers: Array<{wake: number; resolve: () => void}> = []
  let ticking = false
  const tick = () => {
    ticking = false
    sleepers.sort((a, b) => a.wake - b.wake)
    const next = sleepers.shift()
    if (!next) return
    now = Math.max(now, next.wake)
    next.resolve()
    if (sleepers.length > 0) schedule()
  }

  const schedule = () => {
    if (ticking) return
    ticking = true
    setImmediate(tick)
  }

  const wait = (ms: number) => new Promise<void>((resolve) => {
    sleepers.push({wake: now + ms, resolve})
    schedule()
  })

  return {
    sleeps,
    now: () => new Date(now),
    sleep(ms, signal) {
      if (signal?.aborted) return Promise.reject(signal.reason)
      sleeps.push(ms)
      return wait(ms)
    },
    elapse: wait,
  }
}

/** What an app's stack would give; only names matter to the release store and the lock. */
export function fakeResources(app: string): AppResources {
  return {
    app, region: REGION, stackName: names.appStack(app), cluster: 'herogate', subnets: ['subnet-1'], securityGroup: 'sg-1',
    executionRoleArn: 'arn:aws:iam::123456789012:role/exec', taskRoleArn: 'arn:aws:iam::123456789012:role/task', logGroup: names.logGroup(app),
    ecrRepositoryUri: `123456789012.dkr.ecr.${REGION}.amazonaws.com/herogate/${app}`, targetGroupArn: 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/hg/1',
    webUrl: `http://${app}.example.com`, gitUrl: `https://git-codecommit.${REGION}.amazonaws.com/v1/repos/herogate-${app}`, artifactBucket: 'artifacts',
    pipeline: names.pipeline(app), codeBuildProject: names.codeBuildProject(app),
  }
}

/**
 * The AWS driver's context with SSM played by the stand-in, for an app that has not been
 * deployed yet (its releases are config changes, which touch no ECS): STS names the caller
 * "alice", the release log accepts what it is given, and any other app does not exist.
 */
export function standInContext(app = 'demo', options: StandInOptions & {clock?: Clock} = {}): {ctx: AwsContext; ssm: SsmStandIn; clients: AwsClients} {
  const clock = options.clock ?? concurrentClock()
  // A write takes 50 ms of the clock's time, as one to AWS does: runs waiting for each other see it.
  const elapse = (clock as {elapse?: (ms: number) => Promise<void>}).elapse
  const ssm = new SsmStandIn({...options, writeLatency: options.writeLatency ?? (elapse ? () => elapse(50) : undefined)})
  const clients = new AwsClients({region: REGION})
  clients.set('ssm', ssm.client)
  const sts = new STSClient({region: REGION})
  mockClient(sts).on(GetCallerIdentityCommand).resolves({Arn: 'arn:aws:iam::123456789012:user/alice', Account: '123456789012'})
  clients.set('sts', sts)
  const logs = new CloudWatchLogsClient({region: REGION})
  mockClient(logs).on(PutLogEventsCommand).resolves({})
  clients.set('logs', logs)
  // Set here rather than made (and its SDK package loaded) mid-test: loading takes wall time, in
  // which a concurrentClock's sleepers would race ahead. An app with no code never calls it.
  const ecs = new ECSClient({region: REGION})
  mockClient(ecs).onAnyCommand().rejects(new Error('ECS is not part of this test: the app has no code'))
  clients.set('ecs', ecs)
  const ctx: AwsContext = {
    region: REGION,
    clients,
    clock,
    appResources: async (_ctx, name) => {
      if (name !== app) throw new AppNotFound(name, REGION, [`herogate apps --region ${REGION}`])
      return fakeResources(app)
    },
  }
  return {ctx, ssm, clients}
}

/**
 * Makes `count` releases the way every run does (claim, then the head that ends it), in the
 * stand-in's memory: config changes by alice that succeed, with `fields` (code, for instance).
 */
export async function makeReleases(ctx: AwsContext, app: string, count: number, fields: Partial<NewRelease> = {}): Promise<void> {
  for (let i = 0; i < count; i++) {
    await withAppLock(ctx, app, 'config:set', async (lock) => {
      await lock.end({latest: {...lock.record!, status: 'succeeded', finishedAt: ctx.clock.now().toISOString()}})
    }, {
      holder: 'alice',
      plan: (state) => ({kind: 'config', description: `Set V${(state.latest?.version ?? 0) + 1} config vars`, status: 'pending', author: 'alice', createdAt: ctx.clock.now().toISOString(), ...fields}),
    })
  }
}
