import {
  DescribeServicesCommand, DescribeTaskDefinitionCommand, ECSClient, ListTaskDefinitionsCommand, ListTasksCommand, DescribeTasksCommand,
} from '@aws-sdk/client-ecs'
import {GetParametersByPathCommand, SSMClient} from '@aws-sdk/client-ssm'
import {expect} from 'chai'

import {type HerogateError, InvalidInput} from '../../../src/lib/errors.js'
import {names} from '../../../src/lib/naming.js'
import {setConfig, unsetConfig} from '../../../src/platform/aws/config.js'
import type {AwsContext} from '../../../src/platform/aws/context.js'
import {formation, ps, restart, scale, stop} from '../../../src/platform/aws/formation.js'
import type {AppResources} from '../../../src/platform/aws/resources.js'
import {run} from '../../../src/platform/aws/run.js'
import {useMoto} from '../../helpers/moto.js'
import {deployProcesses, IMAGE, makeContext, makeResources, recordDeploy, recordRelease, REGION} from './formation.fixture.js'
import {Writable} from 'node:stream'

const ecs = () => new ECSClient({region: REGION})

async function service(resources: AppResources, type: string) {
  return (await ecs().send(new DescribeServicesCommand({cluster: resources.cluster, services: [names.service(resources.app, type)]}))).services![0]
}

/** Everything a refused operation must leave alone: counts, task definitions, revisions, config, tasks. */
async function snapshot(resources: AppResources) {
  const services = (await ecs().send(new DescribeServicesCommand({cluster: resources.cluster, services: ['web', 'worker'].map((t) => names.service(resources.app, t))}))).services!
  const revisions = (await ecs().send(new ListTaskDefinitionsCommand({}))).taskDefinitionArns
  const config = (await new SSMClient({region: REGION}).send(new GetParametersByPathCommand({Path: names.configPath(resources.app), WithDecryption: true}))).Parameters
  const tasks = await ecs().send(new ListTasksCommand({cluster: resources.cluster}))
  const described = tasks.taskArns?.length ? (await ecs().send(new DescribeTasksCommand({cluster: resources.cluster, tasks: tasks.taskArns}))).tasks : []
  return JSON.stringify({
    services: services.map((s) => [s.serviceName, s.desiredCount, s.taskDefinition]),
    revisions,
    config: config?.map((p) => [p.Name, p.Value, p.Version]),
    tasks: described?.map((t) => [t.taskArn, t.desiredStatus]),
  })
}

const sink = () => new Writable({write: (_chunk, _encoding, done) => done()})

describe('aws driver: formation, scale, ps, restart, stop (moto)', () => {
  const {moto} = useMoto()
  let resources: AppResources
  let ctx: AwsContext

  beforeEach(async () => {
    resources = await makeResources('demo')
    await recordDeploy('demo', await deployProcesses(resources, {web: {count: 1}, worker: {count: 1, size: 'basic'}}))
    // Another app in the same cluster whose name starts like this one's: never ours.
    await deployProcesses({...resources, app: 'demo-two'}, {web: {count: 3}})
    ctx = makeContext(resources)
  })

  it('reads the formation from the services and their task definitions', async () => {
    expect(await formation(ctx, 'demo')).to.deep.equal([
      {type: 'web', quantity: 1, size: 'standard-1x', command: '/bin/sh -c run-web'},
      {type: 'worker', quantity: 1, size: 'basic', command: '/bin/sh -c run-worker'},
    ])
  })

  it('scales by absolute and relative counts', async () => {
    const result = await scale(ctx, 'demo', [{type: 'web', quantity: 2}, {type: 'worker', delta: 2}])
    expect(result.formation).to.deep.equal([
      {type: 'web', quantity: 2, size: 'standard-1x', command: '/bin/sh -c run-web'},
      {type: 'worker', quantity: 3, size: 'basic', command: '/bin/sh -c run-worker'},
    ])
    expect((await service(resources, 'web')).desiredCount).to.equal(2)
    expect((await service(resources, 'worker')).desiredCount).to.equal(3)
    await scale(ctx, 'demo', [{type: 'worker', delta: -1}])
    expect((await service(resources, 'worker')).desiredCount).to.equal(2)
  })

  it('changes a size with a new task definition revision that keeps everything else', async () => {
    await setConfig(ctx, 'demo', {A: '1'})
    const before = await service(resources, 'web')
    await scale(ctx, 'demo', [{type: 'web', quantity: 2, size: 'standard-2x'}])
    const after = await service(resources, 'web')
    expect(after.taskDefinition).not.to.equal(before.taskDefinition)
    expect(after.desiredCount).to.equal(2)
    const definition = (await ecs().send(new DescribeTaskDefinitionCommand({taskDefinition: after.taskDefinition}))).taskDefinition!
    expect([definition.cpu, definition.memory]).to.deep.equal(['1024', '2048'])
    expect(definition.containerDefinitions![0].secrets!.map((s) => s.name)).to.deep.equal(['A'])
    expect(definition.containerDefinitions![0].command).to.deep.equal(['/bin/sh', '-c', 'run-web'])
    expect((await formation(ctx, 'demo'))[0]).to.deep.include({type: 'web', quantity: 2, size: 'standard-2x'})
  })

  it('restarts with a new deployment and lists one-off tasks in ps', async () => {
    await moto().immediateTasks()
    const started = await run(ctx, 'demo', {command: ['sleep', '1'], env: {}, detached: true, tty: false, stdout: sink(), stderr: sink()})
    const processes = await restart(ctx, 'demo')
    const oneOff = processes.find((p) => p.id === started.id)
    expect(oneOff).to.deep.include({name: started.name, type: 'run', command: 'sh -c sleep 1'})
    expect(started.name).to.match(/^run\.[0-9a-z-]{7}$/)
  })

  it('stops a one-off task by id or by name', async () => {
    const first = await run(ctx, 'demo', {command: ['sleep', '100'], env: {}, detached: true, tty: false, stdout: sink(), stderr: sink()})
    await stop(ctx, 'demo', first.id)
    const [task] = (await ecs().send(new DescribeTasksCommand({cluster: resources.cluster, tasks: [first.id]}))).tasks!
    expect(task.desiredStatus).to.equal('STOPPED')
    expect(task.stoppedReason).to.equal('Stopped with herogate ps:stop')
    const second = await run(ctx, 'demo', {command: ['sleep', '100'], env: {}, detached: true, tty: false, stdout: sink(), stderr: sink()})
    expect((await ps(ctx, 'demo')).map((p) => p.name)).to.include(second.name)
    await stop(ctx, 'demo', second.name)
    const [stopped] = (await ecs().send(new DescribeTasksCommand({cluster: resources.cluster, tasks: [second.id]}))).tasks!
    expect(stopped.desiredStatus).to.equal('STOPPED')
  })

  describe('refuses bad input with one InvalidInput line and changes nothing', () => {
    const cases: Array<[string, (ctx: AwsContext) => Promise<unknown>, RegExp]> = [
      ['unknown process type', (c) => scale(c, 'demo', [{type: 'clock', quantity: 1}]), /^Unknown process type clock in demo\.$/],
      ['unknown type among known ones', (c) => scale(c, 'demo', [{type: 'web', quantity: 3}, {type: 'nope', quantity: 1}]), /^Unknown process type nope/],
      ['negative count', (c) => scale(c, 'demo', [{type: 'web', quantity: 2}, {type: 'worker', delta: -2}]), /^worker cannot go below zero \(it has 1\)\.$/],
      ['unknown size', (c) => scale(c, 'demo', [{type: 'web', quantity: 1, size: 'huge-9x'}]), /^Unknown size "huge-9x"\.$/],
      ['too many processes', (c) => scale(c, 'demo', [{type: 'web', quantity: 101}]), /^web: at most 100 processes of one type\.$/],
      ['too many by a relative change', (c) => scale(c, 'demo', [{type: 'web', delta: 100}]), /at most 100/],
      ['invalid process type name', (c) => scale(c, 'demo', [{type: 'we-b', quantity: 1}]), /is not a process type name/],
      ['restart of an unknown type', (c) => restart(c, 'demo', 'clock'), /^Unknown process type clock/],
      ['invalid config key', (c) => setConfig(c, 'demo', {'1BAD': 'x'}), /^Invalid config var name "1BAD"/],
      ['reserved config key', (c) => setConfig(c, 'demo', {PORT: '80'}), /PORT is set by herogate itself/],
      ['reserved config prefix', (c) => setConfig(c, 'demo', {HEROGATE_X: '1', A: '1'}), /reserved for herogate/],
      ['oversize config value', (c) => setConfig(c, 'demo', {A: '1', BIG: 'z'.repeat(9000)}), /at most 8192 bytes/],
      ['config value with a NUL byte, never quoted', (c) => setConfig(c, 'demo', {A: '1', TOKEN: 's3cret\0'}), /^The value of TOKEN cannot be set: it holds a NUL byte, which no environment variable can hold\. Nothing was changed\.$/],
      ['invalid key to unset', (c) => unsetConfig(c, 'demo', ['no-dash']), /Invalid config var name/],
      ['unknown task name', (c) => stop(c, 'demo', 'web.9'), /^No process web\.9 in demo\.$/],
      ['unknown task id', (c) => stop(c, 'demo', '0123456789abcdef0123456789abcdef'), /^No process 0123456789abcdef0123456789abcdef in demo\.$/],
      ['not a task at all', (c) => stop(c, 'demo', 'rm -rf /'), /is neither a process name/],
      ['run with an unknown size', (c) => run(c, 'demo', {command: ['ls'], env: {}, size: 'giant', detached: true, tty: false, stdout: sink(), stderr: sink()}), /^Unknown size "giant"\.$/],
      ['run without a command', (c) => run(c, 'demo', {command: [], env: {}, detached: true, tty: false, stdout: sink(), stderr: sink()}), /^No command given\.$/],
    ]
    for (const [title, operation, message] of cases) {
      it(title, async () => {
        const before = await snapshot(resources)
        const error = await operation(ctx).then(() => undefined, (e: unknown) => e)
        expect(error, 'refused').to.be.instanceOf(InvalidInput)
        expect((error as Error).message).to.match(message)
        expect((error as Error).message).not.to.include('\n')
        expect(await snapshot(resources)).to.equal(before)
      })
    }
  })

  describe('says which process types an app has, and where they come from (issue 11, finding 5)', () => {
    const refusal = (promise: Promise<unknown>) => promise.then(() => undefined, (e: HerogateError) => ({message: e.message, suggestions: e.suggestions}))

    it('from its Procfile', async () => {
      expect(await refusal(scale(ctx, 'demo', [{type: 'clock', quantity: 1}]))).to.deep.equal({
        message: 'Unknown process type clock in demo.',
        suggestions: ['its Procfile has: web, worker', 'herogate ps -a demo'],
      })
    })

    it('without a Procfile: only web, with the image\'s default command', async () => {
      const solo = {...resources, app: 'solo'}
      const arns = await deployProcesses(solo, {web: {count: 1, command: undefined}})
      await recordRelease('solo', {kind: 'deploy', description: 'Deploy 1a2b3c4', status: 'succeeded', author: 'dev', createdAt: '2026-11-21T09:00:00.000Z', image: IMAGE, processTypes: {web: ''}, taskDefinitions: arns})
      const solos = makeContext(solo)
      for (const refused of [scale(solos, 'solo', [{type: 'worker', quantity: 1}]), restart(solos, 'solo', 'worker')]) {
        expect(await refusal(refused)).to.deep.equal({
          message: 'Unknown process type worker in solo.',
          suggestions: ['solo has no Procfile and runs only web, with its image\'s default command (add a Procfile for other process types)', 'herogate ps -a solo'],
        })
      }
    })

    it('before the first deploy: none (the stack\'s placeholder web is no process type); a deploy first', async () => {
      const fresh = {...resources, app: 'fresh'}
      await deployProcesses(fresh, {web: {count: 0, release: undefined}})
      const freshCtx = makeContext(fresh)
      expect(await formation(freshCtx, 'fresh')).to.deep.equal([])
      expect(await refusal(scale(freshCtx, 'fresh', [{type: 'web', quantity: 1}]))).to.deep.equal({
        message: 'fresh has no release with code yet.',
        suggestions: ['herogate deploy -a fresh (in the app\'s git repo)', 'herogate releases -a fresh'],
      })
      expect((await service(fresh, 'web')).desiredCount).to.equal(0)
    })
  })
})
