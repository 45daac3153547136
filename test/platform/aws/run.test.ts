import {Writable} from 'node:stream'

import {CloudWatchLogsClient, GetLogEventsCommand} from '@aws-sdk/client-cloudwatch-logs'
import {
  DescribeServicesCommand, DescribeTaskDefinitionCommand, DescribeTasksCommand, ECSClient, ListTasksCommand, RegisterTaskDefinitionCommand, RunTaskCommand, StopTaskCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs'
import {mockClient} from 'aws-sdk-client-mock'
import {expect} from 'chai'

import {AwsClients} from '../../../src/aws/clients.js'
import {TaskNotStarted} from '../../../src/aws/ecs.js'
import {HerogateError} from '../../../src/lib/errors.js'
import {names} from '../../../src/lib/naming.js'
import type {AwsContext} from '../../../src/platform/aws/context.js'
import type {AppResources} from '../../../src/platform/aws/resources.js'
import {run} from '../../../src/platform/aws/run.js'
import {taskDefinitionInput} from '../../../src/platform/aws/taskdef.js'
import type {RunOptions} from '../../../src/platform/types.js'
import type {Behaviour} from '../../helpers/ecs-model.js'
import {useMoto} from '../../helpers/moto.js'
import {modelApp} from './ecs-model.fixture.js'
import {deployProcesses, fakeClock, IMAGE, makeContext, makeResources, putLogs, REGION} from './formation.fixture.js'

function capture(): Writable & {text: () => string} {
  const chunks: string[] = []
  const stream = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk))
      done()
    },
  }) as Writable & {text: () => string}
  stream.text = () => chunks.join('')
  return stream
}

function options(command: string[], extra: Partial<RunOptions> = {}): RunOptions & {stdout: ReturnType<typeof capture>} {
  return {command, env: {}, detached: false, tty: false, stdout: capture(), stderr: capture(), ...extra} as RunOptions & {stdout: ReturnType<typeof capture>}
}

describe('aws driver: run (moto)', () => {
  const {moto} = useMoto()
  let resources: AppResources
  let ctx: AwsContext

  beforeEach(async () => {
    resources = await makeResources('demo')
    await deployProcesses(resources, {web: {configKeys: ['DATABASE_URL'], emptyKeys: ['EMPTY']}, worker: {}})
  })

  it('runs a one-off task in the app network with its config, streams its output and returns its outcome', async () => {
    const clock = fakeClock()
    let taskIdSeen = ''
    const sleep = clock.sleep
    let putDone = false
    // The first time run() waits, the "container" writes its output to its awslogs stream.
    clock.sleep = async (ms, signal) => {
      if (!putDone && taskIdSeen) {
        putDone = true
        await putLogs(resources.logGroup, `run/run/${taskIdSeen}`, [{timestamp: clock.now().getTime(), message: 'hi'}, {timestamp: clock.now().getTime() + 1, message: 'bye'}])
      }

      return sleep(ms, signal)
    }

    ctx = makeContext(resources, {clock})
    const ecs = new ECSClient({region: REGION})
    const opts = options(['echo', 'hi'], {env: {EXTRA: '1'}, size: 'standard-2x'})
    const progress: string[] = []
    opts.onProgress = (event) => {
      if (event.kind === 'step') progress.push(`${event.status} ${event.message}`)
    }

    // Learn the task id from the first DescribeTasks call, through a middleware.
    const client = await ctx.clients.ecs()
    client.middlewareStack.add((next) => async (args) => {
      const input = args.input as {tasks?: string[]}
      if (input.tasks?.[0]) taskIdSeen = input.tasks[0]
      return next(args)
    }, {step: 'initialize', name: 'learnTaskId'})

    const result = await run(ctx, 'demo', opts)
    expect(result.detached).to.equal(false)
    expect(result.name).to.equal(`run.${result.id.slice(0, 7)}`)
    expect(opts.stdout.text()).to.equal('hi\nbye\n')
    expect(progress[0]).to.equal(`start Running echo hi on demo`)

    const [task] = (await ecs.send(new DescribeTasksCommand({cluster: resources.cluster, tasks: [result.id]}))).tasks!
    expect(task.startedBy).to.equal('herogate-run/demo')
    expect(task.overrides?.containerOverrides?.[0]).to.deep.include({name: 'run', command: ['sh', '-c', 'echo hi'], environment: [{name: 'PORT', value: '5000'}, {name: 'EXTRA', value: '1'}]})
    const definition = (await ecs.send(new DescribeTaskDefinitionCommand({taskDefinition: task.taskDefinitionArn}))).taskDefinition!
    expect(definition.family).to.equal(names.taskFamily('demo', 'run'))
    expect([definition.cpu, definition.memory]).to.deep.equal(['1024', '2048'])
    const container = definition.containerDefinitions![0]
    expect(container.image).to.equal(IMAGE)
    expect(container.secrets!.map((s) => s.name)).to.deep.equal(['DATABASE_URL'])
    expect(container.environment).to.deep.include({name: 'EMPTY', value: ''})
    expect(container.logConfiguration?.options?.['awslogs-stream-prefix']).to.equal('run')
    // moto cannot set container exit codes: what it reports is passed through as is.
    expect(result.exitCode ?? result.stopReason).not.to.equal(undefined)
  })

  it('reuses the run task definition while image, config and size match', async () => {
    await moto().immediateTasks()
    ctx = makeContext(resources)
    const first = await run(ctx, 'demo', options(['true'], {detached: true}))
    const second = await run(ctx, 'demo', options(['true'], {detached: true}))
    const ecs = new ECSClient({region: REGION})
    const [a, b] = (await ecs.send(new DescribeTasksCommand({cluster: resources.cluster, tasks: [first.id, second.id]}))).tasks!
    expect(a.taskDefinitionArn).to.equal(b.taskDefinitionArn)
    await run(ctx, 'demo', options(['true'], {detached: true, size: 'basic'}))
    const latest = (await ecs.send(new DescribeTaskDefinitionCommand({taskDefinition: names.taskFamily('demo', 'run')}))).taskDefinition!
    expect(latest.taskDefinitionArn).not.to.equal(a.taskDefinitionArn)
    expect([latest.cpu, latest.memory]).to.deep.equal(['256', '512'])
  })

  it('says there is nothing to run before the first release', async () => {
    const empty = await makeResources('empty')
    const error = await run(makeContext(empty), 'empty', options(['ls'])).catch((e: unknown) => e)
    expect(error).to.be.instanceOf(HerogateError)
    expect((error as Error).message).to.equal('empty has no release yet, so there is no image to run.')
    // The app stack's placeholder web definition has no release either.
    const placeholder = await makeResources('placeholder')
    await deployProcesses(placeholder, {web: {count: 0, release: undefined}})
    const again = await run(makeContext(placeholder), 'placeholder', options(['ls'])).catch((e: unknown) => e)
    expect((again as Error).message).to.equal('placeholder has no release yet, so there is no image to run.')
  })
})

describe('aws driver: run (mocked ECS and Logs)', () => {
  const resources: AppResources = {
    app: 'demo', region: REGION, stackName: 'herogate-demo', cluster: 'herogate', subnets: ['subnet-1'], securityGroup: 'sg-1',
    executionRoleArn: 'arn:aws:iam::1:role/exec', taskRoleArn: 'arn:aws:iam::1:role/task', logGroup: '/herogate/demo', ecrRepositoryUri: 'repo',
    targetGroupArn: 'tg', webUrl: 'http://x', gitUrl: 'git', artifactBucket: 'b', pipeline: 'p', codeBuildProject: 'c',
  }
  const webInput = taskDefinitionInput('demo', resources, {processType: 'web', image: IMAGE, size: 'standard-1x', configKeys: [], release: 3})
  const runInput = taskDefinitionInput('demo', resources, {processType: 'run', image: IMAGE, size: 'standard-1x', configKeys: [], release: 3})
  const webDefinition = {...webInput, taskDefinitionArn: 'arn:aws:ecs:us-east-1:1:task-definition/herogate-demo--web:1', cpu: '512', memory: '1024'}
  const runDefinition = {...runInput, taskDefinitionArn: 'arn:aws:ecs:us-east-1:1:task-definition/herogate-demo--run:4', cpu: '512', memory: '1024'}
  const taskArn = 'arn:aws:ecs:us-east-1:1:task/herogate/0123456789abcdef0123456789abcdef'

  function setup() {
    const ecsClient = new ECSClient({region: REGION})
    const logsClient = new CloudWatchLogsClient({region: REGION})
    const ecs = mockClient(ecsClient)
    const logs = mockClient(logsClient)
    const clients = new AwsClients({region: REGION})
    clients.set('ecs', ecsClient)
    clients.set('logs', logsClient)
    const clock = fakeClock()
    const ctx: AwsContext = {region: REGION, clients, clock, appResources: async () => resources}
    ecs.on(DescribeServicesCommand).resolves({services: [{serviceName: 'demo--web', status: 'ACTIVE', taskDefinition: webDefinition.taskDefinitionArn}]})
    ecs.on(DescribeTaskDefinitionCommand, {taskDefinition: webDefinition.taskDefinitionArn}).resolves({taskDefinition: webDefinition as never})
    ecs.on(DescribeTaskDefinitionCommand, {taskDefinition: 'herogate-demo--run'}).resolves({taskDefinition: runDefinition as never})
    ecs.on(RunTaskCommand).resolves({tasks: [{taskArn, lastStatus: 'PROVISIONING'}]})
    return {ecs, logs, ctx, clock}
  }

  it('passes the exit code through and prints every line once, including lines flushed after the stop', async () => {
    const {ecs, logs, ctx} = setup()
    ecs.on(DescribeTasksCommand)
      .resolvesOnce({tasks: [{taskArn, lastStatus: 'RUNNING'}]})
      .resolves({tasks: [{taskArn, lastStatus: 'STOPPED', stoppedReason: 'Essential container in task exited', containers: [{name: 'run', exitCode: 3}]}]})
    logs.on(GetLogEventsCommand)
      .resolvesOnce({events: [{timestamp: 1, message: 'one'}], nextForwardToken: 't1'})
      .resolvesOnce({events: [], nextForwardToken: 't1'})
      .resolvesOnce({events: [{timestamp: 2, message: 'two'}], nextForwardToken: 't2'})
      .resolves({events: [], nextForwardToken: 't2'})
    const opts = options(['exit', '3'])
    const result = await run(ctx, 'demo', opts)
    expect(result).to.deep.equal({id: '0123456789abcdef0123456789abcdef', name: 'run.0123456', detached: false, exitCode: 3})
    expect(opts.stdout.text()).to.equal('one\ntwo\n')
    expect(ecs.commandCalls(RegisterTaskDefinitionCommand)).to.have.length(0)
    expect(logs.commandCalls(GetLogEventsCommand)[0].args[0].input).to.include({logGroupName: '/herogate/demo', logStreamName: 'run/run/0123456789abcdef0123456789abcdef'})
  })

  it('returns the stop reason and no exit code when the task never ran', async () => {
    const {ecs, logs, ctx} = setup()
    ecs.on(DescribeTasksCommand).resolves({
      tasks: [{taskArn, lastStatus: 'STOPPED', stoppedReason: 'CannotPullContainerError: pull image manifest has been retried 5 time(s)', containers: [{name: 'run', reason: 'CannotPullContainerError'}]}],
    })
    logs.on(GetLogEventsCommand).rejects(Object.assign(new Error('The specified log stream does not exist.'), {name: 'ResourceNotFoundException'}))
    const result = await run(ctx, 'demo', options(['ls']))
    expect(result.exitCode).to.equal(undefined)
    expect(result.stopReason).to.match(/^CannotPullContainerError/)
  })

  it('throws with ECS reason when the task cannot be placed', async () => {
    const {ecs, ctx} = setup()
    ecs.on(RunTaskCommand).resolves({tasks: [], failures: [{reason: 'Capacity is unavailable at this time', arn: 'x'}]})
    const error = await run(ctx, 'demo', options(['ls'])).catch((e: unknown) => e)
    expect(error).to.be.instanceOf(TaskNotStarted)
    expect((error as Error).message).to.equal('ECS could not start the task: Capacity is unavailable at this time.')
  })

  it('stops the task and says so when interrupted', async () => {
    const {ecs, logs, ctx, clock} = setup()
    const controller = new AbortController()
    ecs.on(DescribeTasksCommand).resolves({tasks: [{taskArn, lastStatus: 'RUNNING'}]})
    ecs.on(StopTaskCommand).resolves({})
    logs.on(GetLogEventsCommand).resolves({events: [], nextForwardToken: 't'})
    const sleep = clock.sleep
    clock.sleep = async (ms, signal) => {
      if (clock.sleeps.length === 2) controller.abort()
      return sleep(ms, signal)
    }

    const result = await run(ctx, 'demo', options(['sleep', '1000'], {signal: controller.signal}))
    expect(result).to.deep.include({interrupted: true, detached: false, id: '0123456789abcdef0123456789abcdef'})
    expect(ecs.commandCalls(StopTaskCommand)[0].args[0].input).to.deep.equal({cluster: 'herogate', task: '0123456789abcdef0123456789abcdef', reason: 'Interrupted with Ctrl-C in herogate run'})
  })

  it('returns at once when detached', async () => {
    const {ecs, ctx} = setup()
    const result = await run(ctx, 'demo', options(['worker'], {detached: true}))
    expect(result).to.deep.equal({id: '0123456789abcdef0123456789abcdef', name: 'run.0123456', detached: true})
    expect(ecs.commandCalls(DescribeTasksCommand)).to.have.length(0)
    const input = ecs.commandCalls(RunTaskCommand)[0].args[0].input
    expect(input.networkConfiguration).to.deep.equal({awsvpcConfiguration: {subnets: ['subnet-1'], securityGroups: ['sg-1'], assignPublicIp: 'ENABLED'}})
    expect(input.taskDefinition).to.equal(runDefinition.taskDefinitionArn)
  })
})

describe('aws driver: run (ECS model, mocked Logs)', () => {
  const LINES = ['migrating', 'done']

  /** An app whose web process runs release 3, ECS played by the model; a run task's stream holds LINES once the task runs. */
  async function setup(behaviour: Behaviour) {
    const app = await modelApp('demo')
    const {model, ecs, resources, ctx} = app
    const web = (await ecs.send(new RegisterTaskDefinitionCommand(taskDefinitionInput('demo', resources, {processType: 'web', image: IMAGE, size: 'standard-1x', configKeys: ['DATABASE_URL'], release: 3})))).taskDefinition!
    await ecs.send(new UpdateServiceCommand({cluster: resources.cluster, service: 'demo--web', taskDefinition: web.taskDefinitionArn, desiredCount: 1}))
    const serving = model.behaviour
    model.behaviour = (context) => (context.family === names.taskFamily('demo', 'run') ? behaviour : serving(context))
    const logsClient = new CloudWatchLogsClient({region: REGION})
    const logs = mockClient(logsClient)
    ctx.clients.set('logs', logsClient)
    logs.on(GetLogEventsCommand).callsFake(async (input: {logStreamName: string; nextToken?: string}) => {
      const [task] = model.describe({family: names.taskFamily('demo', 'run')}).filter((t) => input.logStreamName.endsWith(t.taskArn!.slice(t.taskArn!.lastIndexOf('/') + 1)))
      if (!task?.startedAt) throw Object.assign(new Error('The specified log stream does not exist.'), {name: 'ResourceNotFoundException'})
      return input.nextToken ? {events: [], nextForwardToken: 'f1'} : {events: LINES.map((message, i) => ({timestamp: i, message})), nextForwardToken: 'f1'}
    })
    return app
  }

  it('passes the exit code of the command through, with its output', async () => {
    const {ctx, model} = await setup({exitAfterMs: 20_000, exitCode: 3})
    const opts = options(['rake', 'db:migrate'])
    const steps: string[] = []
    opts.onProgress = (event) => event.kind === 'step' && steps.push(`${event.status} ${event.message}${event.detail ? `: ${event.detail}` : ''}`)
    const result = await run(ctx, 'demo', opts)
    expect(result).to.deep.include({detached: false, exitCode: 3})
    expect(opts.stdout.text()).to.equal('migrating\ndone\n')
    expect(steps).to.deep.equal([`start Running rake db:migrate on demo`, `done Running rake db:migrate on demo: up, ${result.name}`, `failed ${result.name} exited with 3`])
    const [task] = model.describe({family: names.taskFamily('demo', 'run')})
    expect(task).to.include({lastStatus: 'STOPPED', stopCode: 'EssentialContainerExited', startedBy: 'herogate-run/demo'})
    expect(task.overrides?.containerOverrides?.[0].command).to.deep.equal(['sh', '-c', 'rake db:migrate'])
  })

  it('reports why a task that never started stopped, with no exit code', async () => {
    const {ctx} = await setup({failToStart: 'ResourceInitializationError: unable to pull secrets or registry auth'})
    const result = await run(ctx, 'demo', options(['ls']))
    expect(result.exitCode).to.equal(undefined)
    expect(result.stopReason).to.equal('ResourceInitializationError: unable to pull secrets or registry auth')
  })

  it('stops the task when interrupted, and ECS records who stopped it', async () => {
    const {ctx, model} = await setup({})
    const controller = new AbortController()
    const sleep = ctx.clock.sleep
    let sleeps = 0
    ctx.clock.sleep = async (ms, signal) => {
      // Ctrl-C once the command has run for a minute.
      if (++sleeps === 60) controller.abort()
      return sleep(ms, signal)
    }

    const result = await run(ctx, 'demo', options(['sleep', '3600'], {signal: controller.signal}))
    expect(result).to.deep.include({interrupted: true, detached: false})
    const [task] = model.describe({family: names.taskFamily('demo', 'run')})
    expect(task).to.include({desiredStatus: 'STOPPED', stopCode: 'UserInitiated', stoppedReason: 'Interrupted with Ctrl-C in herogate run'})
  })

  it('leaves a detached task running, where ps finds it by its startedBy', async () => {
    const {ctx, model, ecs, resources, clock} = await setup({})
    const result = await run(ctx, 'demo', options(['worker'], {detached: true}))
    expect(result).to.deep.include({detached: true})
    clock.advance(10 * 60_000)
    const listed = await ecs.send(new ListTasksCommand({cluster: resources.cluster, startedBy: 'herogate-run/demo'}))
    expect(listed.taskArns).to.have.length(1)
    expect(model.describe({family: names.taskFamily('demo', 'run')})[0]).to.include({lastStatus: 'RUNNING'})
  })
})
