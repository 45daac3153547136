import type {CreateScheduleCommandInput, GetScheduleCommandOutput, SchedulerClient} from '@aws-sdk/client-scheduler'

import {HerogateError} from '../lib/errors.js'
import {awsFailure, isAwsError} from './errors.js'

/** A schedule as herogate reads it back. */
export interface ScheduleInfo {
  name: string
  expression: string
  description: string
  /** The task definition its ECS target runs. */
  taskDefinitionArn?: string
  createdAt?: Date
}

/** The schedule (or its group) does not exist. */
export class ScheduleNotFound extends HerogateError {}
/** A schedule of that name exists already. */
export class ScheduleExists extends HerogateError {}

export type ScheduleInput = Omit<CreateScheduleCommandInput, 'GroupName' | 'Name'>

/**
 * EventBridge Scheduler in herogate's words: an app's jobs are the schedules of its schedule
 * group, one per job, named by the job's id. Pagination lives here.
 */
export class SchedulerService {
  constructor(private readonly client: SchedulerClient) {}

  private async sdk() {
    return import('@aws-sdk/client-scheduler')
  }

  /** Names of the group's schedules; none when the group does not exist (yet). */
  async list(group: string): Promise<string[]> {
    const {ListSchedulesCommand} = await this.sdk()
    const found: string[] = []
    let NextToken: string | undefined
    try {
      do {
        const page = await this.client.send(new ListSchedulesCommand({GroupName: group, NextToken, MaxResults: 100}))
        for (const schedule of page.Schedules ?? []) if (schedule.Name) found.push(schedule.Name)
        NextToken = page.NextToken
      } while (NextToken)
    } catch (error) {
      if (isAwsError(error, 'ResourceNotFoundException')) return []
      throw awsFailure(error, `listing the schedules of ${group}`)
    }

    return found
  }

  async get(group: string, name: string): Promise<ScheduleInfo> {
    const {GetScheduleCommand} = await this.sdk()
    let schedule: GetScheduleCommandOutput
    try {
      schedule = await this.client.send(new GetScheduleCommand({GroupName: group, Name: name}))
    } catch (error) {
      if (isAwsError(error, 'ResourceNotFoundException')) throw new ScheduleNotFound(`No schedule ${name} in ${group}.`, {cause: error})
      throw awsFailure(error, `reading the schedule ${name}`)
    }

    return {
      name,
      expression: schedule.ScheduleExpression ?? '',
      description: schedule.Description ?? '',
      ...(schedule.Target?.EcsParameters?.TaskDefinitionArn ? {taskDefinitionArn: schedule.Target.EcsParameters.TaskDefinitionArn} : {}),
      ...(schedule.CreationDate ? {createdAt: schedule.CreationDate} : {}),
    }
  }

  /** Creates the schedule, and its group first when the group is missing (apps made before scheduled jobs, emulators). */
  async create(group: string, name: string, input: ScheduleInput, tags: Array<{Key: string; Value: string}>): Promise<void> {
    const {CreateScheduleCommand} = await this.sdk()
    const send = () => this.client.send(new CreateScheduleCommand({...input, GroupName: group, Name: name}))
    try {
      await send()
    } catch (error) {
      if (isAwsError(error, 'ConflictException')) throw new ScheduleExists(`A schedule ${name} exists in ${group} already.`, {cause: error})
      if (!isAwsError(error, 'ResourceNotFoundException')) throw awsFailure(error, `creating the schedule ${name}`)
      await this.createGroup(group, tags)
      await send().catch((error_: unknown) => {
        throw awsFailure(error_, `creating the schedule ${name}`)
      })
    }
  }

  async update(group: string, name: string, input: ScheduleInput): Promise<void> {
    const {UpdateScheduleCommand} = await this.sdk()
    try {
      await this.client.send(new UpdateScheduleCommand({...input, GroupName: group, Name: name}))
    } catch (error) {
      if (isAwsError(error, 'ResourceNotFoundException')) throw new ScheduleNotFound(`No schedule ${name} in ${group}.`, {cause: error})
      throw awsFailure(error, `updating the schedule ${name}`)
    }
  }

  async delete(group: string, name: string): Promise<void> {
    const {DeleteScheduleCommand} = await this.sdk()
    try {
      await this.client.send(new DeleteScheduleCommand({GroupName: group, Name: name}))
    } catch (error) {
      if (isAwsError(error, 'ResourceNotFoundException')) throw new ScheduleNotFound(`No schedule ${name} in ${group}.`, {cause: error})
      throw awsFailure(error, `deleting the schedule ${name}`)
    }
  }

  private async createGroup(group: string, tags: Array<{Key: string; Value: string}>): Promise<void> {
    const {CreateScheduleGroupCommand} = await this.sdk()
    try {
      await this.client.send(new CreateScheduleGroupCommand({Name: group, Tags: tags}))
    } catch (error) {
      // Made meanwhile by another command: what was wanted.
      if (!isAwsError(error, 'ConflictException')) throw awsFailure(error, `creating the schedule group ${group}`)
    }
  }
}
