import {
  CreateServiceCommand, DeleteServiceCommand, DeregisterTaskDefinitionCommand, DescribeServicesCommand, ListServicesCommand, ListTaskDefinitionFamiliesCommand,
  ListTaskDefinitionsCommand, ListTasksCommand, RegisterTaskDefinitionCommand, RunTaskCommand, UpdateServiceCommand,
} from '@aws-sdk/client-ecs'
import {expect} from 'chai'

import {taskDefinitionInput} from '../../src/platform/aws/taskdef.js'
import {modelResources} from '../platform/aws/ecs-model.fixture.js'
import {fakeClock} from '../platform/aws/formation.fixture.js'
import {EcsModel} from './ecs-model.js'

/** The model's own contract: the documented ECS behaviours the other tests rely on. */
describe('ECS model', () => {
  const resources = modelResources('demo')
  const network = {awsvpcConfiguration: {subnets: resources.subnets, securityGroups: [resources.securityGroup]}}
  let clock: ReturnType<typeof fakeClock>
  let model: EcsModel
  let ecs: ReturnType<EcsModel['client']>

  beforeEach(() => {
    clock = fakeClock()
    model = new EcsModel(clock)
    ecs = model.client()
  })

  const register = async (type: string, image = 'app') =>
    (await ecs.send(new RegisterTaskDefinitionCommand(taskDefinitionInput('demo', resources, {processType: type, image, size: 'standard-1x', configKeys: []})))).taskDefinition!.taskDefinitionArn!
  const error = (promise: Promise<unknown>) => promise.then(() => expect.fail('expected an error'), (e: Error) => `${e.name}: ${e.message}`)

  it('keeps a deleted service DRAINING, out of ListServices, refusing its name until it is INACTIVE', async () => {
    const taskDefinition = await register('worker')
    const create = () => ecs.send(new CreateServiceCommand({cluster: 'herogate', serviceName: 'demo--worker', taskDefinition, desiredCount: 1, networkConfiguration: network}))
    await create()
    clock.advance(60_000)
    expect(await error(ecs.send(new DeleteServiceCommand({cluster: 'herogate', service: 'demo--worker'})))).to.equal('InvalidParameterException: The service cannot be stopped while it is scaled above 0.')
    await ecs.send(new DeleteServiceCommand({cluster: 'herogate', service: 'demo--worker', force: true}))
    expect((await ecs.send(new ListServicesCommand({cluster: 'herogate'}))).serviceArns).to.deep.equal([])
    expect((await ecs.send(new DescribeServicesCommand({cluster: 'herogate', services: ['demo--worker']}))).services![0].status).to.equal('DRAINING')
    expect(await error(create())).to.equal('InvalidParameterException: Unable to Start a service that is still Draining.')
    expect(await error(ecs.send(new UpdateServiceCommand({cluster: 'herogate', service: 'demo--worker', desiredCount: 1})))).to.equal('ServiceNotActiveException: Service was not ACTIVE.')
    clock.advance(model.timings.drainMinMs)
    expect(model.service('demo--worker')).to.include({status: 'INACTIVE'})
    expect((await create()).service).to.include({status: 'ACTIVE'})
  })

  it('moves tasks through their states, lists stopped ones for an hour, and takes startedBy as the only filter', async () => {
    const taskDefinition = await register('run')
    model.behaviour = () => ({exitAfterMs: 10_000, exitCode: 2})
    const {tasks} = await ecs.send(new RunTaskCommand({cluster: 'herogate', taskDefinition, startedBy: 'herogate-run/demo', networkConfiguration: network}))
    const states: string[] = []
    for (let i = 0; i < 12; i++) {
      states.push(model.describe()[0].lastStatus!)
      clock.advance(5000)
    }

    expect([...new Set(states)]).to.deep.equal(['PROVISIONING', 'PENDING', 'RUNNING', 'DEPROVISIONING', 'STOPPED'])
    expect(model.describe()[0]).to.deep.include({stopCode: 'EssentialContainerExited', group: 'family:herogate-demo--run', containers: [{name: 'run', taskArn: tasks![0].taskArn, lastStatus: 'STOPPED', exitCode: 2}]})
    expect((await ecs.send(new ListTasksCommand({cluster: 'herogate', startedBy: 'herogate-run/demo'}))).taskArns).to.deep.equal([])
    expect((await ecs.send(new ListTasksCommand({cluster: 'herogate', family: 'herogate-demo--run', desiredStatus: 'STOPPED'}))).taskArns).to.have.length(1)
    expect(await error(ecs.send(new ListTasksCommand({cluster: 'herogate', startedBy: 'x', family: 'herogate-demo--run'})))).to.equal('InvalidParameterException: When startedBy is specified, it must be the only filter.')
    clock.advance(model.timings.stoppedRetentionMs)
    expect((await ecs.send(new ListTasksCommand({cluster: 'herogate', family: 'herogate-demo--run', desiredStatus: 'STOPPED'}))).taskArns).to.deep.equal([])
  })

  it('lists task definitions by whole family and families by prefix; an INACTIVE revision runs nothing', async () => {
    const demo = await register('web')
    await register('web')
    await ecs.send(new RegisterTaskDefinitionCommand(taskDefinitionInput('demo-2', modelResources('demo-2'), {processType: 'web', image: 'app', size: 'standard-1x', configKeys: []})))
    expect((await ecs.send(new ListTaskDefinitionsCommand({familyPrefix: 'herogate-demo--web'}))).taskDefinitionArns).to.have.length(2)
    expect((await ecs.send(new ListTaskDefinitionsCommand({familyPrefix: 'herogate-demo'}))).taskDefinitionArns).to.deep.equal([])
    expect((await ecs.send(new ListTaskDefinitionFamiliesCommand({familyPrefix: 'herogate-demo'}))).families).to.deep.equal(['herogate-demo--web', 'herogate-demo-2--web'])
    await ecs.send(new DeregisterTaskDefinitionCommand({taskDefinition: demo}))
    expect(await error(ecs.send(new RunTaskCommand({cluster: 'herogate', taskDefinition: demo, networkConfiguration: network})))).to.equal('ClientException: TaskDefinition is inactive')
    expect(await error(ecs.send(new RunTaskCommand({cluster: 'herogate', taskDefinition: await register('web')})))).to.equal("InvalidParameterException: Network Configuration must be provided when networkMode 'awsvpc' is specified.")
  })

  it('resets failedTasks once a task of the deployment runs, and fails the deployment at the circuit breaker threshold', async () => {
    const serving = await register('worker', 'good')
    const broken = await register('worker', 'broken')
    model.images.set('broken', {failToStart: 'CannotPullContainerError: not found'})
    model.images.set('good', {})
    await ecs.send(new CreateServiceCommand({
      cluster: 'herogate', serviceName: 'demo--worker', taskDefinition: serving, desiredCount: 1, networkConfiguration: network,
      deploymentConfiguration: {deploymentCircuitBreaker: {enable: true, rollback: true}},
    }))
    clock.advance(60_000)
    expect(model.service('demo--worker')!.deployments!.map((d) => d.rolloutState)).to.deep.equal(['COMPLETED'])
    await ecs.send(new UpdateServiceCommand({cluster: 'herogate', service: 'demo--worker', taskDefinition: broken}))
    clock.advance(31_000)
    expect(model.service('demo--worker')!.deployments![0]).to.include({failedTasks: 1, rolloutState: 'IN_PROGRESS'})
    for (let i = 0; i < 10 && model.service('demo--worker')!.deployments![0].taskDefinition === broken; i++) clock.advance(30_000)
    const [back, failed] = model.service('demo--worker')!.deployments!
    expect(failed).to.include({taskDefinition: broken, status: 'ACTIVE', rolloutState: 'FAILED', failedTasks: 3, rolloutStateReason: 'ECS deployment circuit breaker: tasks failed to start.'})
    expect(back).to.include({taskDefinition: serving, status: 'PRIMARY'})

    // A deployment whose first task runs starts over: failures before it no longer count.
    let nth = 0
    model.images.set('flaky', {})
    model.behaviour = (context) => (context.image === 'flaky' ? (nth++ < 2 ? {failToStart: 'ResourceInitializationError'} : {}) : {})
    await ecs.send(new UpdateServiceCommand({cluster: 'herogate', service: 'demo--worker', taskDefinition: await register('worker', 'flaky')}))
    clock.advance(2 * 31_000)
    expect(model.service('demo--worker')!.deployments![0].failedTasks).to.equal(2)
    clock.advance(60_000)
    expect(model.service('demo--worker')!.deployments![0]).to.include({failedTasks: 0, rolloutState: 'COMPLETED'})
  })
})
