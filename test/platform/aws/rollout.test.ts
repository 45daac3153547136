import {RegisterTaskDefinitionCommand, type Service, type Task, UpdateServiceCommand} from '@aws-sdk/client-ecs'
import {expect} from 'chai'

import {EcsRelease} from '../../../src/aws/ecs-release.js'
import {names} from '../../../src/lib/naming.js'
import {type RolloutSettings, type RolloutTarget, taskFailure, watchRollout} from '../../../src/platform/aws/rollout.js'
import {taskDefinitionInput} from '../../../src/platform/aws/taskdef.js'
import type {ProgressEvent} from '../../../src/platform/types.js'
import {type Behaviour, EcsModel, type Timings} from '../../helpers/ecs-model.js'
import {modelResources, stackWebService} from './ecs-model.fixture.js'
import {fakeClock} from './formation.fixture.js'

const resources = modelResources('demo')
const SERVICE = names.service('demo', 'web')
const OLD = `${resources.ecrRepositoryUri}@sha256:${'0'.repeat(64)}`
const NEW = `${resources.ecrRepositoryUri}@sha256:${'1'.repeat(64)}`

/**
 * The app's web service serving OLD with `count` processes (steady), then updated to NEW: the
 * moment apply.ts starts watching. Returns the watcher's inputs.
 */
async function rollingOut(options: {behaviour: Behaviour | ((nth: number) => Behaviour); count?: number; gracePeriodSeconds?: number; timings?: Partial<Timings>}) {
  const clock = fakeClock()
  const model = new EcsModel(clock, {timings: options.timings})
  const ecs = model.client()
  await stackWebService(ecs, resources, {gracePeriodSeconds: options.gracePeriodSeconds})
  const register = async (image: string) =>
    (await ecs.send(new RegisterTaskDefinitionCommand(taskDefinitionInput('demo', resources, {processType: 'web', image, size: 'standard-1x', configKeys: [], release: 1})))).taskDefinition!.taskDefinitionArn!
  const old = await register(OLD)
  await ecs.send(new UpdateServiceCommand({cluster: resources.cluster, service: SERVICE, taskDefinition: old, desiredCount: options.count ?? 1}))
  for (let i = 0; i < 60 && model.service(SERVICE)?.deployments?.[0].rolloutState !== 'COMPLETED'; i++) clock.advance(60_000)
  expect(model.service(SERVICE)?.deployments?.map((d) => d.rolloutState)).to.deep.equal(['COMPLETED'])
  // The behaviour of the nth process of the new release.
  const {behaviour} = options
  let nth = 0
  const fallback = model.behaviour
  model.behaviour = (context) => (context.image === NEW ? (typeof behaviour === 'function' ? behaviour(nth++) : behaviour) : fallback(context))
  const taskDefinition = await register(NEW)
  const {service} = await ecs.send(new UpdateServiceCommand({cluster: resources.cluster, service: SERVICE, taskDefinition}))
  model.calls.length = 0
  const target: RolloutTarget = {processType: 'web', service: SERVICE, taskDefinition, desiredCount: options.count ?? 1}
  const watch = (extra: {settings?: Partial<RolloutSettings>; onProgress?: (event: ProgressEvent) => void; signal?: AbortSignal} = {}) =>
    watchRollout(new EcsRelease(ecs), resources.cluster, [target], {clock, updated: new Map<string, Service>([[SERVICE, service!]]), ...extra})
  return {clock, model, target, watch}
}

describe('rollout watcher (ECS model)', () => {
  it('rolls a release whose processes crash at boot back within 90 s, though they crash inside the grace period', async () => {
    // The process starts (the task is RUNNING), then exits 2 s later: ECS resets failedTasks when it runs and its circuit breaker never counts it.
    const {watch} = await rollingOut({behaviour: {listensAfterMs: 1000, exitAfterMs: 2000}})
    const events: ProgressEvent[] = []
    const outcome = await watch({onProgress: (e) => events.push(e)})
    expect(outcome.ok).to.equal(false)
    expect(outcome.failures.map((f) => [f.reason, f.exitCode])).to.deep.equal([['crashed with exit code 1', 1], ['crashed with exit code 1', 1]])
    expect(outcome.reason).to.equal('2 new processes failed (web: crashed with exit code 1 (2 times))')
    expect(outcome.elapsedMs).to.be.below(90_000)
    expect(events).to.deep.include({kind: 'step', id: 'rollout:web', message: 'Rolling out web', status: 'failed'})
    expect(events).to.deep.include({kind: 'output', stream: 'rollout', line: `web: task ${outcome.failures[0].taskId} crashed with exit code 1`})
  })

  it('keeps seeing crashes after the first new process is healthy (ECS reset failedTasks to zero)', async () => {
    // The first new process serves; every one after it crashes 5 s in (say, on a lock the first one holds).
    const {watch, model} = await rollingOut({count: 2, behaviour: (nth) => (nth === 0 ? {listensAfterMs: 1000} : {listensAfterMs: 1000, exitAfterMs: 5000})})
    const outcome = await watch()
    expect(outcome.ok).to.equal(false)
    expect(outcome.failures.map((f) => f.reason)).to.deep.equal(['crashed with exit code 1', 'crashed with exit code 1'])
    const deployment = model.service(SERVICE)!.deployments![0]
    expect(deployment.failedTasks).to.equal(0)
    expect(deployment.rolloutState).to.equal('IN_PROGRESS')
  })

  it('does not count crashes of the old deployment\'s processes after a restart (a forced new deployment of the same task definition)', async () => {
    const clock = fakeClock()
    const model = new EcsModel(clock)
    const ecs = model.client()
    await stackWebService(ecs, resources)
    // A leak: the first two processes crash after 5 minutes; the restart's fresh processes are fine.
    let nth = 0
    model.behaviour = () => (nth++ < 2 ? {listensAfterMs: 1000, exitAfterMs: 5 * 60_000} : {listensAfterMs: 1000})
    const taskDefinition = (await ecs.send(new RegisterTaskDefinitionCommand(taskDefinitionInput('demo', resources, {processType: 'web', image: OLD, size: 'standard-1x', configKeys: [], release: 1})))).taskDefinition!.taskDefinitionArn!
    await ecs.send(new UpdateServiceCommand({cluster: resources.cluster, service: SERVICE, taskDefinition, desiredCount: 2}))
    clock.advance(305_000)
    const {service} = await ecs.send(new UpdateServiceCommand({cluster: resources.cluster, service: SERVICE, forceNewDeployment: true}))
    const target = {processType: 'web', service: SERVICE, taskDefinition, desiredCount: 2}
    const outcome = await watchRollout(new EcsRelease(ecs), resources.cluster, [target], {clock, updated: new Map([[SERVICE, service!]])})
    expect(outcome).to.include({ok: true})
    expect(model.describe({service: SERVICE}).filter((t) => t.stopCode === 'EssentialContainerExited')).to.have.length(2)
  })

  it('waits out the grace period of a slow app instead of failing it', async () => {
    // Listening 45 s after start, well past the old 10 s grace and the 2 x 5 s health checks.
    const {watch} = await rollingOut({behaviour: {listensAfterMs: 45_000}, gracePeriodSeconds: 60})
    const outcome = await watch()
    expect(outcome).to.include({ok: true})
    expect(outcome.failures).to.deep.equal([])
  })

  it('counts processes that never answer health checks only once ECS stops them after their grace period', async () => {
    const {watch} = await rollingOut({behaviour: {}, gracePeriodSeconds: 60})
    const events: ProgressEvent[] = []
    const outcome = await watch({onProgress: (e) => events.push(e)})
    expect(outcome.ok).to.equal(false)
    expect(outcome.failures.map((f) => f.reason)).to.deep.equal([
      `failed health checks: Task failed ELB health checks in (target-group ${resources.targetGroupArn})`,
      `failed health checks: Task failed ELB health checks in (target-group ${resources.targetGroupArn})`,
    ])
    // Provisioned and started in 30 s, each process has its 60 s of grace before ECS stops it.
    expect(outcome.elapsedMs).to.be.at.least(2 * (30_000 + 60_000))
    const firstFailure = events.findIndex((e) => e.kind === 'output' && e.line.includes('failed health checks'))
    expect(firstFailure).to.be.greaterThan(-1)
  })

  it('counts tasks that fail to start', async () => {
    const {watch} = await rollingOut({behaviour: {failToStart: 'CannotPullContainerError: pull image manifest has been retried 5 time(s)'}})
    const outcome = await watch()
    expect(outcome.ok).to.equal(false)
    expect(outcome.failures.map((f) => f.reason)).to.deep.equal([
      'failed to start: CannotPullContainerError: pull image manifest has been retried 5 time(s)',
      'failed to start: CannotPullContainerError: pull image manifest has been retried 5 time(s)',
    ])
  })

  it('succeeds when the deployment completes, passing the service events on', async () => {
    const {watch} = await rollingOut({behaviour: {listensAfterMs: 1000}})
    const events: ProgressEvent[] = []
    const outcome = await watch({onProgress: (e) => events.push(e)})
    expect(outcome).to.include({ok: true})
    expect(outcome.failures).to.deep.equal([])
    const lines = events.flatMap((e) => (e.kind === 'output' ? [e.line] : []))
    expect(lines[0]).to.match(/^web: has started 1 tasks: \(task [0-9a-f]{32}\)\.$/)
    expect(lines.at(-1)).to.equal('web: has reached a steady state.')
    expect(events.at(-1)).to.deep.equal({kind: 'step', id: 'rollout:web', message: 'Rolling out web', status: 'done'})
  })

  it('waits for a slow but healthy rollout instead of rolling it back', async () => {
    // Ten minutes to pull a huge image; the old processes stop once the new ones serve and do not count.
    const {watch} = await rollingOut({behaviour: {listensAfterMs: 1000}, timings: {pendingMs: 10 * 60_000}})
    const outcome = await watch()
    expect(outcome).to.include({ok: true})
    expect(outcome.failures).to.deep.equal([])
    expect(outcome.elapsedMs).to.be.within(10 * 60_000, 11 * 60_000)
  })

  it('fails when ECS itself marks the deployment failed (circuit breaker), after rolling it back', async () => {
    const {watch, model} = await rollingOut({behaviour: {failToStart: 'ResourceInitializationError: unable to pull secrets or registry auth'}})
    const outcome = await watch({settings: {failFast: 10}})
    expect(outcome.ok).to.equal(false)
    expect(outcome.reason).to.equal('ECS stopped the web rollout: ECS deployment circuit breaker: tasks failed to start.')
    expect(outcome.failures).to.have.length(3)
    expect(model.service(SERVICE)!.deployments!.map((d) => [d.status, d.rolloutState])).to.deep.equal([['PRIMARY', 'IN_PROGRESS'], ['ACTIVE', 'FAILED']])
  })

  it('stops waiting after its overall timeout', async () => {
    // An hour of grace: ECS leaves the never-healthy process alone, so the rollout never ends.
    const {watch, model} = await rollingOut({behaviour: {}, gracePeriodSeconds: 3600})
    const outcome = await watch({settings: {timeoutMs: 5 * 60_000, pollMs: 10_000}})
    expect(outcome.ok).to.equal(false)
    expect(outcome.reason).to.equal('the rollout did not finish within 5 minutes')
    expect(outcome.elapsedMs).to.equal(5 * 60_000)
    expect(model.count('DescribeServices')).to.equal(31)
  })
})

describe('rollout watcher calls (ECS model)', () => {
  it('reads stopped tasks on each poll until the rollout is done, describing each stopped task once', async () => {
    const {watch, model} = await rollingOut({behaviour: {listensAfterMs: 1000}})
    const outcome = await watch({settings: {pollMs: 10_000}})
    expect(outcome).to.include({ok: true})
    const polls = model.count('DescribeServices')
    // Each poll but the last (which finds the rollout done) lists the stopped tasks.
    expect(model.count('ListTasks')).to.equal(polls - 1)
    // The only stopped tasks are the old processes the rollout replaced, each described once.
    const described = model.calls.filter((c) => c.command === 'DescribeTasks').flatMap((c) => c.input.tasks as string[])
    expect(new Set(described).size).to.equal(described.length)
    expect(described).to.have.length(1)
  })

  it('stops watching when the signal aborts, saying so', async () => {
    const {watch, model} = await rollingOut({behaviour: {}, gracePeriodSeconds: 3600})
    const controller = new AbortController()
    const ecsSend = model.send.bind(model)
    model.send = async (command, input) => {
      if (command === 'DescribeServices' && model.count('DescribeServices') === 2) controller.abort(new Error('interrupted'))
      return ecsSend(command, input)
    }

    const outcome = await watch({signal: controller.signal})
    expect(outcome).to.include({ok: false, reason: 'interrupted'})
    expect(model.count('DescribeServices')).to.equal(3)
  })
})

describe('taskFailure', () => {
  const started = new Date('2026-11-21T10:00:00Z')
  const after = (seconds: number) => new Date(started.getTime() + seconds * 1000)
  const health = {stopCode: 'ServiceSchedulerInitiated', stoppedReason: 'Task failed ELB health checks in (target-group arn:tg)', startedAt: started} as const
  const cases: Array<[string, Task, number, string | undefined]> = [
    ['crash with exit code', {stopCode: 'EssentialContainerExited', containers: [{exitCode: 137}]}, 0, 'crashed with exit code 137'],
    ['crash without exit code', {stopCode: 'EssentialContainerExited', stoppedReason: 'Essential container in task exited', containers: [{}]}, 0, 'crashed: Essential container in task exited'],
    ['crash inside the grace period', {stopCode: 'EssentialContainerExited', startedAt: started, stoppingAt: after(3), containers: [{exitCode: 1}]}, 60_000, 'crashed with exit code 1'],
    ['image pull failure', {stopCode: 'TaskFailedToStart', containers: [{reason: 'CannotPullContainerError: not found'}]}, 0, 'failed to start: CannotPullContainerError: not found'],
    ['container health check', {stopCode: 'ServiceSchedulerInitiated', stoppedReason: 'Task failed container health checks'}, 0, 'failed health checks: Task failed container health checks'],
    ['ELB health checks after the grace period', {...health, stoppingAt: after(75)}, 60_000, 'failed health checks: Task failed ELB health checks in (target-group arn:tg)'],
    ['ELB health checks inside the grace period', {...health, stoppingAt: after(30)}, 60_000, undefined],
    ['deployment replaced it', {stopCode: 'ServiceSchedulerInitiated', stoppedReason: 'Scaling activity initiated by (deployment ecs-svc/1)'}, 0, undefined],
    ['user stopped it', {stopCode: 'UserInitiated', stoppedReason: 'herogate ps:stop'}, 0, undefined],
    ['spot interruption', {stopCode: 'SpotInterruption'}, 0, undefined],
  ]
  for (const [name, task, grace, expected] of cases) {
    it(name, () => expect(taskFailure(task, grace)).to.equal(expected))
  }
})
