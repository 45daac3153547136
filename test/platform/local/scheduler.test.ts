import {expect} from 'chai'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {HerogateError, InvalidInput} from '../../../src/lib/errors.js'
import {type JobClock, JobRunner} from '../../../src/platform/local/job-runner.js'
import {LocalPlatform} from '../../../src/platform/local/index.js'
import {readRuns, writeRuns} from '../../../src/platform/local/scheduler.js'
import {appPaths} from '../../../src/platform/local/state.js'
import type {LogLine} from '../../../src/platform/types.js'
import {commitAll, exec, fixtureRepo, removeApp, tempHome} from './helpers.js'

/** A clock whose minutes pass when the test says: sleep() waits until advance() has moved past its end. */
class TestClock implements JobClock {
  private waiters: Array<{until: number; resolve: () => void}> = []
  constructor(private time: number) {}

  now(): Date {
    return new Date(this.time)
  }

  sleep(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      this.waiters.push({until: this.time + ms, resolve})
      signal.addEventListener('abort', () => resolve(), {once: true})
    })
  }

  /** Moves to `iso` and wakes the sleepers whose time has come. */
  advance(iso: string): void {
    this.time = new Date(iso).getTime()
    const due = this.waiters.filter((w) => w.until <= this.time)
    this.waiters = this.waiters.filter((w) => w.until > this.time)
    for (const waiter of due) waiter.resolve()
  }

  get sleeping(): number {
    return this.waiters.length
  }
}

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 20_000
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/**
 * Scheduled jobs on the local platform with a real app (git push, build, config releases):
 * the supervisor's job runner with an injected clock, so a minute takes no time.
 */
describe('local scheduled jobs (real app, injected clock)', function () {
  this.timeout(120_000)
  const app = 'cron-app'
  let home: ReturnType<typeof tempHome>
  let repo: string
  let platform: LocalPlatform
  let lines: LogLine[]
  const log = {append: (line: LogLine) => lines.push(line)}

  before(async () => {
    home = tempHome()
    repo = fixtureRepo()
    platform = new LocalPlatform({now: () => new Date('2026-11-28T10:00:30.000Z')})
    await platform.createApp({name: app, cwd: repo})
    const {code, output} = await exec(repo, 'git', ['push', 'herogate', 'main'])
    expect(code, output).to.equal(0)
  })

  after(() => removeApp(app, home, repo))
  beforeEach(() => {
    lines = []
  })

  it('a job scheduled every minute runs with the app\'s config, its output logged as scheduler.N, its exit code recorded', async () => {
    const job = await platform.addScheduledJob(app, {schedule: '* * * * *', command: 'echo "job sees $GREETING as $DYNO on port $PORT"; exit 3'})
    expect(job).to.deep.include({schedule: 'cron(* * * * ? *)', source: 'cli', nextRun: '2026-11-28T10:01:00.000Z', createdAt: '2026-11-28T10:00:30.000Z'})
    await platform.setConfig(app, {GREETING: 'hello from config'})

    const clock = new TestClock(Date.parse('2026-11-28T10:00:45Z'))
    const runner = new JobRunner({app, appDir: appPaths(app).dir, log, clock})
    const looping = runner.loop()
    await until(() => clock.sleeping === 1, 'the runner to wait for the next minute')
    clock.advance('2026-11-28T10:01:00Z')
    await until(() => lines.some((l) => l.message.startsWith('Process exited')), 'the first run to end')
    await until(() => clock.sleeping === 1, 'the runner to wait again')
    clock.advance('2026-11-28T10:02:00Z')
    await until(() => lines.filter((l) => l.message.startsWith('Process exited')).length === 2, 'the second run to end')
    await runner.stop()
    await looping

    const names = [...new Set(lines.map((l) => l.process))]
    expect(names).to.have.length(2)
    for (const name of names) {
      expect(name).to.match(/^scheduler\.\d{4}$/)
      const own = lines.filter((l) => l.process === name)
      expect(own.map((l) => [l.source, l.message.replace(/port \d+/, 'port N')])).to.deep.equal([
        ['herogate', `Starting process with command \`${job.command}\` (job ${job.id})`],
        ['app', `job sees hello from config as ${name} on port N`],
        ['herogate', 'Process exited with status 3'],
      ])
      expect(own.every((l) => l.release === 2)).to.equal(true)
    }

    // (The app's own supervisor runs the job too when a real minute starts meanwhile: its runs end the same way.)
    const [listed] = await platform.scheduledJobs(app)
    expect(listed.lastRun).to.deep.include({status: 'failed', exitCode: 3})
    expect(listed.lastRun!.name).to.match(/^scheduler\.\d{4}$/)
  })

  it('runs nothing in a minute no job is due in, and a rate counts from when the job was made', async () => {
    const runner = new JobRunner({app, appDir: appPaths(app).dir, log, clock: new TestClock(0)})
    const hourly = await platform.addScheduledJob(app, {schedule: 'rate(2 hours)', command: 'echo every two hours'})
    // As EventBridge Scheduler starts a rate without a start date: at once (the next minute), then every period.
    expect(hourly.nextRun).to.equal('2026-11-28T10:01:00.000Z')
    const due = await runner.tick(new Date('2026-11-28T11:01:00Z'))
    // Only the every-minute job of the test before.
    expect(due.map((run) => run.exitCode)).to.deep.equal([3])
    const both = await runner.tick(new Date('2026-11-28T12:01:00Z'))
    expect(both.map((run) => run.exitCode).sort()).to.deep.equal([0, 3])
    expect(lines.some((l) => l.message === 'every two hours')).to.equal(true)
    await platform.removeScheduledJob(app, hourly.id)
  })

  it('lists a run in progress as ps does, as scheduler.N of type scheduler, until it ends', async () => {
    const job = await platform.addScheduledJob(app, {schedule: 'rate(3 hours)', command: 'sleep 1'})
    const runner = new JobRunner({app, appDir: appPaths(app).dir, log, clock: new TestClock(0)})
    const ticking = runner.tick(new Date('2026-11-28T10:01:00Z'))
    await until(() => runner.status().some((p) => p.command === 'sleep 1'), 'the run to start')
    const running = runner.status().find((p) => p.command === 'sleep 1')!
    expect(running).to.deep.include({type: 'scheduler', status: 'up', release: 2})
    expect(running.name).to.match(/^scheduler\.\d{4}$/)
    await ticking
    expect(runner.status()).to.deep.equal([])
    await platform.removeScheduledJob(app, job.id)
  })

  it('jobs declared in app.json come with the release that brings them; a bad one fails the push, naming it', async () => {
    writeFileSync(join(repo, 'app.json'), JSON.stringify({cron: [{command: 'echo declared', schedule: 'cron(0 12 * * * *)'}]}))
    commitAll(repo, 'a job AWS would refuse')
    const refused = await exec(repo, 'git', ['push', 'herogate', 'main'])
    expect(refused.code).to.not.equal(0)
    expect(refused.output).to.include('remote:  !     Push rejected: Build failed: app.json cron[0]: Invalid schedule "cron(0 12 * * * *)": EventBridge needs ? in day-of-month or day-of-week (e.g. "0 12 * * ? *" for every day).')

    writeFileSync(join(repo, 'app.json'), JSON.stringify({cron: [{command: 'echo declared', schedule: '@daily'}]}))
    commitAll(repo, 'a daily job')
    const pushed = await exec(repo, 'git', ['push', 'herogate', 'main'])
    expect(pushed.code, pushed.output).to.equal(0)
    const jobs = await platform.scheduledJobs(app)
    const declared = jobs.find((job) => job.source === 'app.json')!
    expect(declared).to.deep.include({schedule: 'cron(0 0 * * ? *)', command: 'echo declared', nextRun: '2026-11-29T00:00:00.000Z'})
    const error = await platform.removeScheduledJob(app, declared.id).catch((error_: Error) => error_)
    expect(error).to.be.instanceOf(InvalidInput)
    expect((error as Error).message).to.equal(`Job ${declared.id} of ${app} is declared in app.json: remove it from app.json's "cron" list and deploy.`)
  })

  it('a run the supervisor was killed in is recorded as cut short when the next one starts', async () => {
    // A job of its own (never due), so that the app's supervisor, which runs the others, leaves its record alone.
    const job = await platform.addScheduledJob(app, {schedule: 'cron(0 0 1 1 ? 2030)', command: 'echo new year'})
    writeRuns(appPaths(app).dir, {...readRuns(appPaths(app).dir), [job.id]: {name: 'scheduler.4242', startedAt: '2026-11-28T10:05:00.000Z', status: 'running'}})
    const clock = new TestClock(Date.parse('2026-11-28T10:05:30Z'))
    const runner = new JobRunner({app, appDir: appPaths(app).dir, log, clock})
    const looping = runner.loop()
    await until(() => clock.sleeping === 1, 'the runner to start')
    await runner.stop()
    await looping
    expect(readRuns(appPaths(app).dir)[job.id]).to.deep.equal({
      name: 'scheduler.4242', startedAt: '2026-11-28T10:05:00.000Z', status: 'failed', stopReason: 'the app\'s supervisor stopped during the run',
    })
    await platform.removeScheduledJob(app, job.id)
  })

  it('refuses an unknown id, and the same job twice', async () => {
    const unknown = await platform.removeScheduledJob(app, 'nope123').catch((error: Error) => error)
    expect(unknown).to.be.instanceOf(HerogateError)
    expect((unknown as Error).message).to.equal(`${app} has no scheduled job nope123.`)
    const [first] = await platform.scheduledJobs(app)
    const twice = await platform.addScheduledJob(app, {schedule: '* * * * *', command: first.command}).catch((error: Error) => error)
    expect((twice as Error).message).to.equal(`${app} has this job already: ${first.id}.`)
  })
})
