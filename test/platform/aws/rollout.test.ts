import type {Deployment, Service, ServiceEvent, Task} from '@aws-sdk/client-ecs'
import {expect} from 'chai'

import type {Clock} from '../../../src/platform/aws/context.js'
import {type RolloutEcs, taskFailure, watchRollout} from '../../../src/platform/aws/rollout.js'
import type {ProgressEvent} from '../../../src/platform/types.js'

/** A clock whose sleep moves time forward at once. */
export function fakeClock(start = Date.parse('2026-11-21T10:00:00Z')): Clock & {elapsed(): number} {
  let now = start
  return {
    now: () => new Date(now),
    sleep: async (ms) => {
      now += ms
    },
    elapsed: () => now - start,
  }
}

const NEW = 'arn:aws:ecs:us-east-1:123456789012:task-definition/herogate-demo--web:8'
const OLD = 'arn:aws:ecs:us-east-1:123456789012:task-definition/herogate-demo--web:7'

interface SimTask {
  arn: string
  taskDefinition: string
  /** Seconds after the rollout started. */
  stoppedAt: number
  stopCode: Task['stopCode']
  reason?: string
  exitCode?: number
}

/**
 * ECS as the watcher sees it, driven by the clock: the new deployment completes at
 * `completeAt` (never when undefined), tasks stop at their times, events appear at theirs.
 */
function simulatedEcs(clock: Clock, scenario: {completeAt?: number; failedAt?: number; tasks?: SimTask[]; events?: Array<{at: number; message: string}>}): RolloutEcs & {calls: number} {
  const start = clock.now().getTime()
  const t = () => (clock.now().getTime() - start) / 1000
  const sim = {
    calls: 0,
    async services(_cluster: string, names: string[]) {
      sim.calls++
      const completed = scenario.completeAt !== undefined && t() >= scenario.completeAt
      const failed = scenario.failedAt !== undefined && t() >= scenario.failedAt
      // ECS counts the new deployment's tasks that crashed, failed to start or failed health checks.
      const failedTasks = (scenario.tasks ?? []).filter((task) => task.stoppedAt <= t() && task.taskDefinition === NEW && (task.stopCode !== 'ServiceSchedulerInitiated' || (task.reason ?? '').includes('health checks'))).length
      const ours: Deployment = {
        id: 'ecs-svc/new', status: 'PRIMARY', taskDefinition: NEW, desiredCount: 2, runningCount: completed ? 2 : 0, failedTasks,
        rolloutState: failed ? 'FAILED' : completed ? 'COMPLETED' : 'IN_PROGRESS',
        ...(failed ? {rolloutStateReason: 'ECS deployment circuit breaker: tasks failed to start.'} : {}),
      }
      const old: Deployment = {id: 'ecs-svc/old', status: 'ACTIVE', taskDefinition: OLD, desiredCount: 2, runningCount: 2, rolloutState: 'COMPLETED'}
      const events: ServiceEvent[] = [
        ...(scenario.events ?? []).filter((e) => e.at <= t()).map((e, i) => ({id: `e${i}`, message: `(service demo--web) ${e.message}`, createdAt: new Date(start + e.at * 1000)})),
        {id: 'old', message: '(service demo--web) has reached a steady state.', createdAt: new Date(start - 3_600_000)},
      ].reverse()
      const service: Service = {serviceName: names[0], status: 'ACTIVE', desiredCount: 2, deployments: completed ? [ours] : [ours, old], events}
      return new Map([[names[0], service]])
    },
    async stoppedTaskArns() {
      return (scenario.tasks ?? []).filter((task) => task.stoppedAt <= t()).map((task) => task.arn)
    },
    async tasks(_cluster: string, arns: string[]) {
      return (scenario.tasks ?? []).filter((task) => arns.includes(task.arn)).map((task): Task => ({
        taskArn: task.arn,
        taskDefinitionArn: task.taskDefinition,
        lastStatus: 'STOPPED',
        stopCode: task.stopCode,
        stoppedReason: task.reason,
        containers: [{name: 'web', exitCode: task.exitCode}],
      }))
    },
  }
  return sim
}

const target = {processType: 'web', service: 'demo--web', taskDefinition: NEW, desiredCount: 2}
const crash = (n: number, at: number, taskDefinition = NEW): SimTask => ({
  arn: `arn:aws:ecs:us-east-1:123456789012:task/herogate/t${n}`, taskDefinition, stoppedAt: at, stopCode: 'EssentialContainerExited', reason: 'Essential container in task exited', exitCode: 1,
})

describe('rollout watcher', () => {
  it('gives up on a crashing release after two failed tasks, well before the circuit breaker and within 90 s', async () => {
    const clock = fakeClock()
    // Typical Fargate: a task is provisioned, pulls and starts in ~30 s, then crashes; ECS retries.
    const ecs = simulatedEcs(clock, {tasks: [crash(1, 35), crash(2, 37), crash(3, 75)], failedAt: 600})
    const events: ProgressEvent[] = []
    const outcome = await watchRollout(ecs, 'herogate', [target], {clock, onProgress: (e) => events.push(e)})
    expect(outcome.ok).to.equal(false)
    expect(outcome.failures.map((f) => f.taskId)).to.deep.equal(['t1', 't2'])
    expect(outcome.failures[0]).to.include({processType: 'web', exitCode: 1, reason: 'crashed with exit code 1'})
    expect(outcome.reason).to.match(/^2 new processes failed/)
    expect(outcome.elapsedMs).to.be.at.most(40_000)
    expect(events).to.deep.include({kind: 'step', id: 'rollout:web', message: 'Rolling out web', status: 'failed'})
    expect(events).to.deep.include({kind: 'output', stream: 'rollout', line: 'web: task t1 crashed with exit code 1'})
  })

  it('counts tasks stopped for failing ELB health checks and tasks that failed to start', async () => {
    const clock = fakeClock()
    const ecs = simulatedEcs(clock, {
      tasks: [
        {arn: 'task/h1', taskDefinition: NEW, stoppedAt: 50, stopCode: 'ServiceSchedulerInitiated', reason: 'Task failed ELB health checks in (target-group arn:aws:elasticloadbalancing:tg/hg-demo/1)'},
        {arn: 'task/h2', taskDefinition: NEW, stoppedAt: 60, stopCode: 'TaskFailedToStart', reason: 'ResourceInitializationError: unable to pull secrets'},
      ],
    })
    const outcome = await watchRollout(ecs, 'herogate', [target], {clock})
    expect(outcome.ok).to.equal(false)
    expect(outcome.failures.map((f) => f.reason)).to.deep.equal([
      'failed health checks: Task failed ELB health checks in (target-group arn:aws:elasticloadbalancing:tg/hg-demo/1)',
      'failed to start: ResourceInitializationError: unable to pull secrets',
    ])
    expect(outcome.elapsedMs).to.be.within(60_000, 63_000)
  })

  it('succeeds when the deployment completes, passing service events on', async () => {
    const clock = fakeClock()
    const ecs = simulatedEcs(clock, {completeAt: 45, events: [{at: 10, message: 'has started 2 tasks: (task a) (task b).'}]})
    const events: ProgressEvent[] = []
    const outcome = await watchRollout(ecs, 'herogate', [target], {clock, onProgress: (e) => events.push(e)})
    expect(outcome).to.deep.equal({ok: true, reason: undefined, failures: [], elapsedMs: 45_000})
    expect(events.filter((e) => e.kind === 'output')).to.deep.equal([{kind: 'output', stream: 'rollout', line: 'web: has started 2 tasks: (task a) (task b).'}])
    expect(events.at(-1)).to.deep.equal({kind: 'step', id: 'rollout:web', message: 'Rolling out web', status: 'done'})
  })

  it('waits for a slow but healthy rollout instead of rolling it back', async () => {
    const clock = fakeClock()
    // One unrelated failure (an old task) and a scale-in stop do not count against the release.
    const ecs = simulatedEcs(clock, {
      completeAt: 11 * 60,
      tasks: [crash(9, 20, OLD), {arn: 'task/s1', taskDefinition: NEW, stoppedAt: 30, stopCode: 'ServiceSchedulerInitiated', reason: 'Scaling activity initiated by (deployment ecs-svc/new)'}],
    })
    const outcome = await watchRollout(ecs, 'herogate', [target], {clock})
    expect(outcome.ok).to.equal(true)
    expect(outcome.failures).to.deep.equal([])
    expect(outcome.elapsedMs).to.equal(11 * 60_000)
  })

  it('fails when ECS itself marks the deployment failed (circuit breaker)', async () => {
    const clock = fakeClock()
    const ecs = simulatedEcs(clock, {failedAt: 30, tasks: [crash(1, 20)]})
    const outcome = await watchRollout(ecs, 'herogate', [target], {clock})
    expect(outcome.ok).to.equal(false)
    expect(outcome.reason).to.equal('ECS stopped the web rollout: ECS deployment circuit breaker: tasks failed to start.')
  })

  it('stops waiting after its overall timeout', async () => {
    const clock = fakeClock()
    const ecs = simulatedEcs(clock, {})
    const outcome = await watchRollout(ecs, 'herogate', [target], {clock, settings: {timeoutMs: 5 * 60_000, pollMs: 10_000}})
    expect(outcome.ok).to.equal(false)
    expect(outcome.reason).to.equal('the rollout did not finish within 5 minutes')
    expect(outcome.elapsedMs).to.equal(5 * 60_000)
    expect(ecs.calls).to.equal(31)
  })
})

describe('rollout watcher calls', () => {
  it('lists stopped tasks only once the deployment reports failed tasks, and takes the services the update returned as the start', async () => {
    const clock = fakeClock()
    const ecs = simulatedEcs(clock, {completeAt: 60, tasks: [crash(1, 20)]})
    let listed = 0
    const list = ecs.stoppedTaskArns.bind(ecs)
    ecs.stoppedTaskArns = async (cluster, service) => {
      listed++
      return list(cluster, service)
    }

    const updated = await ecs.services('herogate', ['demo--web'])
    ecs.calls = 0
    const outcome = await watchRollout(ecs, 'herogate', [target], {clock, updated, settings: {pollMs: 10_000}})
    expect(outcome).to.include({ok: true})
    expect(outcome.failures.map((f) => f.taskId)).to.deep.equal(['t1'])
    // Polls at 0, 10 ... 60 s: one DescribeServices each; stopped tasks listed once, after t1 crashed at 20 s.
    expect(ecs.calls).to.equal(7)
    expect(listed).to.equal(1)
  })
})

describe('rollout watcher interrupted', () => {
  it('stops watching when the signal aborts, saying so', async () => {
    const clock = fakeClock()
    const controller = new AbortController()
    const ecs = simulatedEcs(clock, {})
    const services = ecs.services.bind(ecs)
    ecs.services = async (cluster, names) => {
      if (ecs.calls === 3) controller.abort(new Error('interrupted'))
      return services(cluster, names)
    }

    const outcome = await watchRollout(ecs, 'herogate', [target], {clock, signal: controller.signal})
    expect(outcome).to.include({ok: false, reason: 'interrupted'})
    expect(ecs.calls).to.equal(4)
  })
})

describe('taskFailure', () => {
  const cases: Array<[string, Task, string | undefined]> = [
    ['crash with exit code', {stopCode: 'EssentialContainerExited', containers: [{exitCode: 137}]}, 'crashed with exit code 137'],
    ['crash without exit code', {stopCode: 'EssentialContainerExited', stoppedReason: 'Essential container in task exited', containers: [{}]}, 'crashed: Essential container in task exited'],
    ['image pull failure', {stopCode: 'TaskFailedToStart', containers: [{reason: 'CannotPullContainerError: not found'}]}, 'failed to start: CannotPullContainerError: not found'],
    ['container health check', {stopCode: 'ServiceSchedulerInitiated', stoppedReason: 'Task failed container health checks'}, 'failed health checks: Task failed container health checks'],
    ['deployment replaced it', {stopCode: 'ServiceSchedulerInitiated', stoppedReason: 'Scaling activity initiated by (deployment ecs-svc/1)'}, undefined],
    ['user stopped it', {stopCode: 'UserInitiated', stoppedReason: 'herogate ps:stop'}, undefined],
    ['spot interruption', {stopCode: 'SpotInterruption'}, undefined],
  ]
  for (const [name, task, expected] of cases) {
    it(name, () => expect(taskFailure(task)).to.equal(expected))
  }
})
