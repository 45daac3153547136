import {DescribeTaskDefinitionCommand, DescribeTasksCommand, ECSClient, ListServicesCommand, ListTasksCommand, StopTaskCommand} from '@aws-sdk/client-ecs'
import {mockClient} from 'aws-sdk-client-mock'
import {expect} from 'chai'

import {AwsClients} from '../../../src/aws/clients.js'
import type {AwsContext} from '../../../src/platform/aws/context.js'
import {ps, stop} from '../../../src/platform/aws/formation.js'
import type {AppResources} from '../../../src/platform/aws/resources.js'
import {taskDefinitionInput} from '../../../src/platform/aws/taskdef.js'
import {fakeClock, IMAGE, REGION} from './formation.fixture.js'

const resources = {app: 'demo', region: REGION, cluster: 'herogate', logGroup: '/herogate/demo', executionRoleArn: 'e', taskRoleArn: 't'} as AppResources
const arnOf = (id: string) => `arn:aws:ecs:us-east-1:1:task/herogate/${id}`
const task = (id: string, extra: Record<string, unknown>) => ({taskArn: arnOf(id), ...extra})
const at = (s: number) => new Date(Date.parse('2026-11-21T10:00:00.000Z') + s * 1000)

describe('aws driver: ps (mocked ECS)', () => {
  function setup() {
    const client = new ECSClient({region: REGION})
    const mock = mockClient(client)
    const clients = new AwsClients({region: REGION})
    clients.set('ecs', client)
    const ctx: AwsContext = {region: REGION, clients, clock: fakeClock(), appResources: async () => resources}
    const v7 = {...taskDefinitionInput('demo', resources, {processType: 'web', image: IMAGE, size: 'standard-1x', configKeys: [], release: 7, command: ['npm', 'start']}), taskDefinitionArn: 'web:7'}
    const w7 = {...taskDefinitionInput('demo', resources, {processType: 'worker', image: IMAGE, size: 'basic', configKeys: [], release: 7}), taskDefinitionArn: 'worker:7'}
    mock.on(ListServicesCommand).resolves({serviceArns: ['arn:aws:ecs:us-east-1:1:service/herogate/demo--web', 'arn:aws:ecs:us-east-1:1:service/herogate/demo--worker']})
    mock.on(ListTasksCommand, {serviceName: 'demo--web'}).resolves({taskArns: ['aaaaaaaaaaaa', 'bbbbbbbbbbbb', 'cccccccccccc'].map(arnOf)})
    mock.on(ListTasksCommand, {serviceName: 'demo--worker'}).resolves({taskArns: [arnOf('dddddddddddd')]})
    mock.on(ListTasksCommand, {startedBy: 'herogate-run/demo'}).resolves({taskArns: []})
    mock.on(ListTasksCommand, {family: 'herogate-demo--scheduler'}).resolves({taskArns: []})
    mock.on(DescribeTasksCommand).resolves({
      tasks: [
        task('cccccccccccc', {taskDefinitionArn: 'web:7', lastStatus: 'PENDING', cpu: '512', memory: '1024'}),
        task('bbbbbbbbbbbb', {taskDefinitionArn: 'web:7', lastStatus: 'RUNNING', healthStatus: 'UNHEALTHY', startedAt: at(20), cpu: '512', memory: '1024'}),
        task('aaaaaaaaaaaa', {taskDefinitionArn: 'web:7', lastStatus: 'RUNNING', healthStatus: 'HEALTHY', startedAt: at(10), cpu: '512', memory: '1024'}),
        task('dddddddddddd', {taskDefinitionArn: 'worker:7', lastStatus: 'RUNNING', startedAt: at(5), cpu: '256', memory: '512'}),
      ].map((t, i) => ({...t, taskArn: t.taskArn, group: i < 3 ? 'service:demo--web' : 'service:demo--worker'})),
    })
    mock.on(DescribeTaskDefinitionCommand, {taskDefinition: 'web:7'}).resolves({taskDefinition: v7 as never})
    mock.on(DescribeTaskDefinitionCommand, {taskDefinition: 'worker:7'}).resolves({taskDefinition: w7 as never})
    return {mock, ctx}
  }

  it('numbers tasks oldest first per type and reads release, health and size', async () => {
    const {mock, ctx} = setup()
    const processes = await ps(ctx, 'demo')
    expect(processes.map((p) => [p.name, p.id, p.status, p.health, p.release, p.size, p.startedAt ?? null])).to.deep.equal([
      ['web.1', 'aaaaaaaaaaaa', 'running', 'healthy', 7, 'standard-1x', '2026-11-21T10:00:10.000Z'],
      ['web.2', 'bbbbbbbbbbbb', 'running', 'unhealthy', 7, 'standard-1x', '2026-11-21T10:00:20.000Z'],
      ['web.3', 'cccccccccccc', 'pending', 'unknown', 7, 'standard-1x', null],
      ['worker.1', 'dddddddddddd', 'running', 'unknown', 7, 'basic', '2026-11-21T10:00:05.000Z'],
    ])
    expect(processes[0].command).to.equal('npm start')
    // One DescribeTaskDefinition per distinct task definition, not per task.
    expect(mock.commandCalls(DescribeTaskDefinitionCommand)).to.have.length(2)
  })

  it('stops a process by its ps name', async () => {
    const {mock, ctx} = setup()
    mock.on(StopTaskCommand).resolves({})
    await stop(ctx, 'demo', 'web.2')
    expect(mock.commandCalls(StopTaskCommand)[0].args[0].input).to.deep.equal({cluster: 'herogate', task: 'bbbbbbbbbbbb', reason: 'Stopped with herogate ps:stop'})
  })
})
