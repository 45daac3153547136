import {DescribeTaskDefinitionCommand, RunTaskCommand} from '@aws-sdk/client-ecs'
import {CreateScheduleGroupCommand, GetScheduleCommand, ListSchedulesCommand, SchedulerClient} from '@aws-sdk/client-scheduler'
import {expect} from 'chai'

import {HerogateError, InvalidInput, LockHeld} from '../../../src/lib/errors.js'
import {names} from '../../../src/lib/naming.js'
import {setConfig} from '../../../src/platform/aws/config.js'
import {ps} from '../../../src/platform/aws/formation.js'
import {processOf} from '../../../src/platform/aws/logs.js'
import {taskLogStream} from '../../../src/platform/aws/taskdef.js'
import {withAppLock} from '../../../src/platform/aws/lock.js'
import {releaseImage} from '../../../src/platform/aws/release-image.js'
import {rollback} from '../../../src/platform/aws/rollback.js'
import {addScheduledJob, removeScheduledJob, scheduledJobs} from '../../../src/platform/aws/scheduler.js'
import {declaredJobs} from '../../../src/platform/scheduler.js'
import {useMoto} from '../../helpers/moto.js'
import {type ModelApp, modelResources} from './ecs-model.fixture.js'
import {REGION} from './formation.fixture.js'
import {GOOD, GOOD2, setUpApp} from './releases.fixture.js'

const ROLE = 'arn:aws:iam::123456789012:role/herogate-demo-SchedulerRole'

/**
 * Scheduled jobs on AWS: EventBridge Scheduler played by moto (schedules and their targets), ECS
 * by the ECS model (task definitions, the runs a schedule starts, their exit codes).
 */
describe('AWS scheduled jobs (EventBridge Scheduler in moto, ECS model)', function () {
  useMoto()
  this.timeout(60_000)
  const app = 'demo'
  let setUp: ModelApp
  let scheduler: SchedulerClient

  beforeEach(async () => {
    setUp = await setUpApp(app, {resources: {...modelResources(app), schedulerRoleArn: ROLE}})
    scheduler = new SchedulerClient({region: REGION})
    // As the app stack makes it (ScheduleGroup). moto 5.2.1 answers a schedule in a missing
    // group with HTTP 500, not AWS's ResourceNotFoundException: that path is tested with mocks.
    await scheduler.send(new CreateScheduleGroupCommand({Name: names.scheduleGroup(app)}))
  })

  const deploy = (image: string, appJson?: string) =>
    releaseImage(setUp.ctx, app, {image, commit: image.slice(-12)}, {processTypes: {web: 'node server.js'}, jobs: declaredJobs(appJson), author: 'dev', resources: setUp.resources, lockOptions: {holder: 'codebuild'}})

  /** What each schedule of the app starts: its expression, and its task definition's image, command, release, config keys and size. */
  async function targets(): Promise<Record<string, unknown>> {
    const listed = await scheduler.send(new ListSchedulesCommand({GroupName: names.scheduleGroup(app)}))
    const found: Record<string, unknown> = {}
    for (const {Name} of listed.Schedules ?? []) {
      const schedule = await scheduler.send(new GetScheduleCommand({GroupName: names.scheduleGroup(app), Name}))
      const ecs = schedule.Target!.EcsParameters!
      const {taskDefinition: definition} = await setUp.ecs.send(new DescribeTaskDefinitionCommand({taskDefinition: ecs.TaskDefinitionArn!}))
      const container = definition!.containerDefinitions![0]
      expect(schedule.Target!.RoleArn).to.equal(ROLE)
      expect(schedule.Target!.Arn).to.equal(`arn:aws:ecs:${setUp.resources.region}:123456789012:cluster/herogate`)
      expect(schedule.ScheduleExpressionTimezone).to.equal('UTC')
      expect(ecs).to.deep.include({TaskCount: 1, LaunchType: 'FARGATE', Group: `scheduler:${Name}`, PropagateTags: 'TASK_DEFINITION'})
      expect(ecs.NetworkConfiguration).to.deep.equal({awsvpcConfiguration: {Subnets: ['subnet-a', 'subnet-b'], SecurityGroups: ['sg-tasks'], AssignPublicIp: 'ENABLED'}})
      found[Name!] = {
        expression: schedule.ScheduleExpression,
        family: definition!.family,
        image: container.image,
        command: container.command,
        release: container.environment!.find((e) => e.name === 'HEROGATE_RELEASE')?.value,
        secrets: container.secrets!.map((s) => s.name),
        cpu: definition!.cpu,
      }
    }

    return found
  }

  it('scheduler:add makes a schedule starting the current release; every release (config, deploy, rollback) moves it', async () => {
    await deploy(GOOD)
    const now = setUp.clock.now().toISOString()
    const job = await addScheduledJob(setUp.ctx, app, {schedule: '*/10 * * * *', command: 'node report.js', size: 'standard-2x'})
    expect(job).to.deep.include({schedule: 'cron(*/10 * * * ? *)', command: 'node report.js', size: 'standard-2x', source: 'cli', createdAt: now, nextRun: '2026-11-21T10:10:00.000Z'})
    const family = names.taskFamily(app, 'scheduler')
    expect(await targets()).to.deep.equal({[job.id]: {expression: 'cron(*/10 * * * ? *)', family, image: GOOD, command: ['sh', '-c', 'node report.js'], release: 'v1', secrets: [], cpu: '1024'}})

    await setConfig(setUp.ctx, app, {DATABASE_URL: 'postgres://x'})
    expect(await targets()).to.deep.include({[job.id]: {expression: 'cron(*/10 * * * ? *)', family, image: GOOD, command: ['sh', '-c', 'node report.js'], release: 'v2', secrets: ['DATABASE_URL'], cpu: '1024'}})
    await deploy(GOOD2)
    expect((await targets())[job.id]).to.deep.include({image: GOOD2, release: 'v3'})
    await rollback(setUp.ctx, app, 1)
    expect((await targets())[job.id]).to.deep.include({image: GOOD, release: 'v4', secrets: []})
  })

  it('app.json jobs come and go with the release that declares them; scheduler:remove refuses them', async () => {
    await deploy(GOOD, JSON.stringify({cron: [{command: 'node nightly.js', schedule: '@daily'}]}))
    const [declared] = await scheduledJobs(setUp.ctx, app)
    expect(declared).to.deep.include({schedule: 'cron(0 0 * * ? *)', command: 'node nightly.js', source: 'app.json', nextRun: '2026-11-22T00:00:00.000Z'})
    expect(await targets()).to.have.keys([declared.id])
    const refused = await removeScheduledJob(setUp.ctx, app, declared.id).catch((error: Error) => error)
    expect(refused).to.be.instanceOf(InvalidInput)
    expect((refused as Error).message).to.equal(`Job ${declared.id} of demo is declared in app.json: remove it from app.json's "cron" list and deploy.`)

    await deploy(GOOD2, JSON.stringify({cron: []}))
    expect(await scheduledJobs(setUp.ctx, app)).to.deep.equal([])
    // A rollback brings back the code of v1, and with it the jobs its app.json declared.
    await rollback(setUp.ctx, app, 1)
    expect((await scheduledJobs(setUp.ctx, app)).map((job) => [job.id, job.source])).to.deep.equal([[declared.id, 'app.json']])
    expect((await targets())[declared.id]).to.deep.include({image: GOOD, release: 'v3'})
  })

  it('a run is a task of the scheduler family: ps lists it as scheduler.<task>; a failed run shows its exit code as the last run', async () => {
    await deploy(GOOD)
    const job = await addScheduledJob(setUp.ctx, app, {schedule: 'rate(1 hour)', command: 'node flaky.js'})
    const schedule = await scheduler.send(new GetScheduleCommand({GroupName: names.scheduleGroup(app), Name: job.id}))
    setUp.model.images.clear()
    const fallback = setUp.model.behaviour
    setUp.model.behaviour = (context) => (context.group.startsWith('scheduler:') ? {exitAfterMs: 3000, exitCode: 2} : fallback(context))
    // What EventBridge Scheduler does at the hour: RunTask with the target's parameters.
    const ecs = schedule.Target!.EcsParameters!
    const {tasks} = await setUp.ecs.send(new RunTaskCommand({cluster: 'herogate', taskDefinition: ecs.TaskDefinitionArn, group: ecs.Group, launchType: 'FARGATE', count: 1,
      networkConfiguration: {awsvpcConfiguration: {subnets: ecs.NetworkConfiguration!.awsvpcConfiguration!.Subnets, securityGroups: ecs.NetworkConfiguration!.awsvpcConfiguration!.SecurityGroups}}}))
    const name = `scheduler.${tasks![0].taskArn!.split('/').pop()!.slice(0, 7)}`
    setUp.clock.advance(1000)
    expect((await ps(setUp.ctx, app)).find((p) => p.type === 'scheduler')).to.deep.include({name, command: 'sh -c node flaky.js', release: 1})
    // Its output is in the stream the awslogs driver names, which logs shows under the same name.
    expect(processOf(taskLogStream('scheduler', tasks![0].taskArn!.split('/').pop()!))).to.deep.equal({source: 'app', process: name})
    expect((await scheduledJobs(setUp.ctx, app))[0].lastRun).to.deep.include({name, status: 'running'})
    setUp.clock.advance(60_000)
    expect((await scheduledJobs(setUp.ctx, app))[0].lastRun).to.deep.include({name, status: 'failed', exitCode: 2})
  })

  it('waits for a release in progress (the app lock): a job is moved by the release or added after it, never lost between', async () => {
    await deploy(GOOD)
    let release!: () => void
    let held!: () => void
    const taken = new Promise<void>((resolve) => {
      held = resolve
    })
    const holding = withAppLock(setUp.ctx, app, 'deploy', () => {
      held()
      return new Promise<void>((resolve) => {
        release = resolve
      })
    }, {holder: 'codebuild'})
    await taken
    // The fake clock runs the 20 s wait at once: the lock is still held, so nothing is added.
    const busy = await addScheduledJob(setUp.ctx, app, {schedule: 'rate(1 hour)', command: 'x'}).catch((error: Error) => error)
    expect(busy).to.be.instanceOf(LockHeld)
    expect((busy as Error).message).to.match(/^App demo is busy: deploy by codebuild since /)
    expect(await targets()).to.deep.equal({})
    release()
    await holding
    await addScheduledJob(setUp.ctx, app, {schedule: 'rate(1 hour)', command: 'x'})
    expect(Object.keys(await targets())).to.have.length(1)
  })

  it('refuses, before any call: a schedule AWS would refuse, an unknown size, a job twice, an unknown id', async () => {
    await deploy(GOOD)
    const calls = async (work: () => Promise<unknown>) => (await work().catch((error: Error) => error)) as Error
    expect((await calls(() => addScheduledJob(setUp.ctx, app, {schedule: 'cron(0 12 * * * *)', command: 'x'}))).message).to.match(/^Invalid schedule "cron\(0 12 \* \* \* \*\)": EventBridge needs \?/)
    expect((await calls(() => addScheduledJob(setUp.ctx, app, {schedule: 'rate(1 hour)', command: 'x', size: 'huge'}))).message).to.equal('Unknown size "huge".')
    await addScheduledJob(setUp.ctx, app, {schedule: 'rate(1 hour)', command: 'x'})
    const twice = await calls(() => addScheduledJob(setUp.ctx, app, {schedule: 'rate(1 hour)', command: 'x'}))
    expect(twice.message).to.match(/^demo has this job already: [0-9a-f]{7}\.$/)
    const unknown = await calls(() => removeScheduledJob(setUp.ctx, app, 'nope123'))
    expect(unknown).to.be.instanceOf(HerogateError)
    expect(unknown.message).to.equal('demo has no scheduled job nope123.')
    expect(Object.keys(await targets())).to.have.length(1)
  })
})
