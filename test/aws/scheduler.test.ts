import {
  ConflictException, CreateScheduleCommand, CreateScheduleGroupCommand, DeleteScheduleCommand, GetScheduleCommand, ListSchedulesCommand,
  ResourceNotFoundException, SchedulerClient, UpdateScheduleCommand,
} from '@aws-sdk/client-scheduler'
import {mockClient} from 'aws-sdk-client-mock'
import {expect} from 'chai'

import {ScheduleExists, ScheduleNotFound, SchedulerService} from '../../src/aws/scheduler.js'
import {HerogateError} from '../../src/lib/errors.js'

const notFound = () => new ResourceNotFoundException({Message: 'Schedule group herogate-demo does not exist.', message: 'Schedule group herogate-demo does not exist.', $metadata: {}})
const input = {ScheduleExpression: 'rate(1 hour)', FlexibleTimeWindow: {Mode: 'OFF' as const}, Target: {Arn: 'arn:cluster', RoleArn: 'arn:role'}}

describe('EventBridge Scheduler wrapper (aws/scheduler.ts)', () => {
  const client = new SchedulerClient({region: 'us-east-1'})
  const scheduler = mockClient(client)
  beforeEach(() => scheduler.reset())

  it('lists a group\'s schedules across pages; a group that does not exist has none', async () => {
    scheduler.on(ListSchedulesCommand).resolvesOnce({Schedules: [{Name: 'a1'}], NextToken: 't'}).resolves({Schedules: [{Name: 'b2'}]})
    expect(await new SchedulerService(client).list('herogate-demo')).to.deep.equal(['a1', 'b2'])
    expect(scheduler.commandCalls(ListSchedulesCommand)[1].args[0].input).to.deep.equal({GroupName: 'herogate-demo', NextToken: 't', MaxResults: 100})
    scheduler.on(ListSchedulesCommand).rejects(notFound())
    expect(await new SchedulerService(client).list('herogate-demo')).to.deep.equal([])
  })

  it('creates the group first when AWS says it is missing (a stack made before scheduled jobs), then the schedule', async () => {
    scheduler.on(CreateScheduleCommand).rejectsOnce(notFound()).resolves({ScheduleArn: 'arn:s'})
    scheduler.on(CreateScheduleGroupCommand).resolves({ScheduleGroupArn: 'arn:g'})
    await new SchedulerService(client).create('herogate-demo', 'a1', input, [{Key: 'herogate:app', Value: 'demo'}])
    expect(scheduler.commandCalls(CreateScheduleGroupCommand)[0].args[0].input).to.deep.equal({Name: 'herogate-demo', Tags: [{Key: 'herogate:app', Value: 'demo'}]})
    expect(scheduler.commandCalls(CreateScheduleCommand)).to.have.length(2)
  })

  it('a group made meanwhile by another command is what was wanted', async () => {
    scheduler.on(CreateScheduleCommand).rejectsOnce(notFound()).resolves({ScheduleArn: 'arn:s'})
    scheduler.on(CreateScheduleGroupCommand).rejects(new ConflictException({Message: 'exists', message: 'exists', $metadata: {}}))
    await new SchedulerService(client).create('herogate-demo', 'a1', input, [])
    expect(scheduler.commandCalls(CreateScheduleCommand)).to.have.length(2)
  })

  it('turns AWS errors into typed ones: a schedule that exists, one that does not, anything else with what was being done', async () => {
    const service = new SchedulerService(client)
    scheduler.on(CreateScheduleCommand).rejects(new ConflictException({Message: 'exists', message: 'exists', $metadata: {}}))
    expect(await service.create('herogate-demo', 'a1', input, []).catch((e: unknown) => e)).to.be.instanceOf(ScheduleExists)
    scheduler.on(GetScheduleCommand).rejects(notFound())
    scheduler.on(UpdateScheduleCommand).rejects(notFound())
    scheduler.on(DeleteScheduleCommand).rejects(notFound())
    expect(await service.get('herogate-demo', 'a1').catch((e: unknown) => e)).to.be.instanceOf(ScheduleNotFound)
    expect(await service.update('herogate-demo', 'a1', input).catch((e: unknown) => e)).to.be.instanceOf(ScheduleNotFound)
    expect(await service.delete('herogate-demo', 'a1').catch((e: unknown) => e)).to.be.instanceOf(ScheduleNotFound)
    scheduler.on(DeleteScheduleCommand).rejects(Object.assign(new Error('User is not authorized'), {name: 'AccessDeniedException'}))
    const denied = await service.delete('herogate-demo', 'a1').catch((e: unknown) => e) as HerogateError
    expect(denied.message).to.equal('AWS denied deleting the schedule a1 (AccessDeniedException: User is not authorized).')
  })

  it('reads a schedule back: expression, description, the task definition its target runs', async () => {
    scheduler.on(GetScheduleCommand).resolves({
      ScheduleExpression: 'rate(1 hour)', Description: '{"command":"x"}', CreationDate: new Date('2026-11-21T10:00:00Z'),
      Target: {Arn: 'arn:cluster', RoleArn: 'arn:role', EcsParameters: {TaskDefinitionArn: 'arn:td:3'}},
    })
    expect(await new SchedulerService(client).get('herogate-demo', 'a1')).to.deep.equal({
      name: 'a1', expression: 'rate(1 hour)', description: '{"command":"x"}', taskDefinitionArn: 'arn:td:3', createdAt: new Date('2026-11-21T10:00:00Z'),
    })
  })
})
