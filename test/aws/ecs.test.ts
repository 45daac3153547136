import {DescribeServicesCommand, DescribeTaskDefinitionCommand, ECSClient, ListServicesCommand, ListTasksCommand, UpdateServiceCommand} from '@aws-sdk/client-ecs'
import {mockClient} from 'aws-sdk-client-mock'
import {expect} from 'chai'

import {EcsService} from '../../src/aws/ecs.js'
import {HerogateError} from '../../src/lib/errors.js'

function setup() {
  const client = new ECSClient({region: 'us-east-1', maxAttempts: 1})
  return {mock: mockClient(client), ecs: new EcsService(client)}
}

const arn = (name: string) => `arn:aws:ecs:us-east-1:1:service/herogate/${name}`

describe('aws/ecs EcsService (mocked)', () => {
  it('finds the process types across pages, never another app whose name starts the same', async () => {
    const {mock, ecs} = setup()
    mock.on(ListServicesCommand)
      .resolvesOnce({serviceArns: [arn('demo--web'), arn('demo-two--web')], nextToken: 'n'})
      .resolves({serviceArns: [arn('demo--worker'), arn('other--web'), arn('demo--')]})
    expect(await ecs.processTypes('herogate', 'demo')).to.deep.equal(['web', 'worker'])
    expect(mock.commandCalls(ListServicesCommand)[1].args[0].input).to.include({cluster: 'herogate', nextToken: 'n'})
  })

  it('describes services 10 at a time and leaves out inactive ones', async () => {
    const {mock, ecs} = setup()
    mock.on(DescribeServicesCommand).callsFake((input: {services: string[]}) => ({
      services: input.services.map((name, i) => ({serviceName: name, status: i === 0 ? 'INACTIVE' : 'ACTIVE', desiredCount: 1, taskDefinition: `td-${name}`})),
    }))
    const types = Array.from({length: 12}, (_, i) => `t${String(i).padStart(2, '0')}`)
    const services = await ecs.services('herogate', 'demo', types)
    expect(mock.commandCalls(DescribeServicesCommand).map((c) => c.args[0].input.services!.length)).to.deep.equal([10, 2])
    expect(services.map((s) => s.type)).to.deep.equal(types.filter((t) => t !== 't00' && t !== 't10'))
    expect(services[0]).to.deep.include({name: 'demo--t01', desiredCount: 1, taskDefinition: 'td-demo--t01'})
  })

  it('reads a missing task definition as undefined and a missing service as no tasks', async () => {
    const {mock, ecs} = setup()
    mock.on(DescribeTaskDefinitionCommand).rejects(Object.assign(new Error('Unable to describe task definition.'), {name: 'ClientException'}))
    mock.on(ListTasksCommand).rejects(Object.assign(new Error('Service not found.'), {name: 'ServiceNotFoundException'}))
    expect(await ecs.taskDefinition('herogate-demo--run')).to.equal(undefined)
    expect(await ecs.listTasks('herogate', {serviceName: 'demo--web'})).to.deep.equal([])
  })

  it('turns throttling and other failures into one line saying what it was doing', async () => {
    const {mock, ecs} = setup()
    mock.on(UpdateServiceCommand)
      .rejectsOnce(Object.assign(new Error('Rate exceeded'), {name: 'ThrottlingException'}))
      .rejects(Object.assign(new Error('The service cannot be updated: it is draining.'), {name: 'ServiceNotActiveException'}))
    const throttled = await ecs.updateService('herogate', 'demo--web', {desiredCount: 2}).catch((e: unknown) => e)
    expect(throttled).to.be.instanceOf(HerogateError)
    expect((throttled as Error).message).to.equal('AWS kept throttling updating service demo--web (ThrottlingException), even after retrying.')
    const inactive = await ecs.updateService('herogate', 'demo--web', {desiredCount: 2}).catch((e: unknown) => e)
    expect((inactive as Error).message).to.equal('AWS failed updating service demo--web: ServiceNotActiveException: The service cannot be updated: it is draining.')
  })
})
