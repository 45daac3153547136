import {expect} from 'chai'

import Scheduler from '../../src/commands/scheduler/index.js'
import SchedulerAdd from '../../src/commands/scheduler/add.js'
import SchedulerRemove from '../../src/commands/scheduler/remove.js'
import type {ScheduledJob} from '../../src/platform/scheduler.js'
import {FakePlatform} from '../helpers/fake-platform.js'
import {runCommand} from '../helpers/run-command.js'

const NOW = new Date('2026-11-21T10:07:00.000Z')

const JOBS: ScheduledJob[] = [
  {
    id: '3f2a1b9', schedule: 'cron(*/10 * * * ? *)', command: 'node report.js', size: 'standard-2x', source: 'cli', createdAt: '2026-11-21T09:00:00.000Z',
    nextRun: '2026-11-21T10:10:00.000Z', lastRun: {name: 'scheduler.0a1b2c3', startedAt: '2026-11-21T10:00:04.000Z', status: 'failed', exitCode: 2},
  },
  {id: '9c8d7e6', schedule: 'cron(0 0 * * ? *)', command: 'node nightly.js', source: 'app.json', createdAt: '2026-11-21T09:00:00.000Z', nextRun: '2026-11-22T00:00:00.000Z'},
  {
    id: '5e4f3a2', schedule: 'rate(1 hour)', command: 'node sync.js', source: 'cli', createdAt: '2026-11-21T09:00:00.000Z', nextRun: '2026-11-21T11:00:00.000Z',
    lastRun: {name: 'scheduler.d4e5f6a', startedAt: '2026-11-21T10:00:00.000Z', status: 'failed', stopReason: 'CannotPullContainerError'},
  },
]

describe('scheduler commands against a fake platform', () => {
  let platform: FakePlatform
  beforeEach(() => {
    platform = new FakePlatform()
  })

  const methods = () => platform.calls.map((c) => c.method)

  it('scheduler lists each job: id, schedule, command, size, where it comes from, next run, last run and its exit code', async () => {
    platform.jobs = JOBS
    const {stdout, stderr, exitCode} = await runCommand(Scheduler, ['-a', 'demo'], platform, {now: NOW})
    expect({stdout, stderr, exitCode}).to.deep.equal({
      stdout: [
        'Id       Schedule              Command          Size         From      Next run              Last run                  Exit',
        '───────  ────────────────────  ───────────────  ───────────  ────────  ────────────────────  ────────────────────────  ─────────────────────────────────────',
        '3f2a1b9  cron(*/10 * * * ? *)  node report.js   standard-2x  cli       2026-11-21 10:10 UTC  scheduler.0a1b2c3 6m ago  2',
        '9c8d7e6  cron(0 0 * * ? *)     node nightly.js               app.json  2026-11-22 00:00 UTC  never',
        '5e4f3a2  rate(1 hour)          node sync.js                  cli       2026-11-21 11:00 UTC  scheduler.d4e5f6a 7m ago  did not run: CannotPullContainerError',
        '',
      ].join('\n'),
      stderr: '',
      exitCode: 0,
    })
  })

  it('scheduler --json prints the jobs as the platform gives them', async () => {
    platform.jobs = JOBS
    const {stdout} = await runCommand(Scheduler, ['-a', 'demo', '--json'], platform, {now: NOW})
    expect(JSON.parse(stdout)).to.deep.equal(JOBS)
  })

  it('scheduler with no jobs says so and how to add one', async () => {
    const {stdout, stderr} = await runCommand(Scheduler, ['-a', 'demo'], platform)
    expect(stdout).to.equal('demo has no scheduled jobs.\n')
    expect(stderr).to.equal('Add one with: herogate scheduler:add "rate(1 hour)" -- COMMAND -a demo (or a "cron" list in app.json)\n')
  })

  it('scheduler:add takes the schedule, then the command with its own flags, and says when it runs next', async () => {
    const {stdout, stderr, exitCode} = await runCommand(SchedulerAdd, ['-a', 'demo', '--size', 'standard-2x', '0 3 * * *', '--', 'node', 'report.js', '--since', '-1d'], platform)
    expect(exitCode).to.equal(0)
    expect(platform.calls.at(-1)).to.deep.equal({method: 'addScheduledJob', args: ['demo', {schedule: '0 3 * * *', command: 'node report.js --since -1d', size: 'standard-2x'}]})
    const [job] = platform.jobs
    expect(stdout).to.equal(`Added job ${job.id}: cron(0 3 * * ? *) node report.js --since -1d\n`)
    expect(stderr).to.equal('Scheduling node report.js --since -1d on demo...\nScheduling node report.js --since -1d on demo... done\nNext run: 2026-11-21 11:00 UTC. Its runs show in herogate logs -d scheduler -a demo\n')
  })

  it('scheduler:add without -- takes everything after the schedule as the command', async () => {
    await runCommand(SchedulerAdd, ['-a', 'demo', 'rate(5 minutes)', 'rake', 'jobs:work'], platform)
    expect(platform.calls.at(-1)?.args[1]).to.deep.equal({schedule: 'rate(5 minutes)', command: 'rake jobs:work'})
  })

  describe('refuses bad input in one line, before any platform call', () => {
    const cases: Array<[string, string[], RegExp]> = [
      ['a cron expression AWS would refuse', ['cron(0 12 * * * *)', '--', 'x'], /^ ▸ {4}Invalid schedule "cron\(0 12 \* \* \* \*\)": EventBridge needs \? in day-of-month or day-of-week \(e\.g\. "0 12 \* \* \? \*" for every day\)\.\n {2}Try: accepted: cron\(min hour day-of-month month day-of-week year\)/],
      ['a rate with the wrong unit', ['rate(1 minutes)', '--', 'x'], /Invalid schedule "rate\(1 minutes\)": EventBridge wants the singular for 1: rate\(1 minute\)\./],
      ['an unknown size', ['--size', 'huge', 'rate(1 hour)', '--', 'x'], /^ ▸ {4}Unknown size "huge"\.\n {2}Try: use one of: basic, standard-1x, standard-2x, performance-m, performance-l, performance-xl/],
      ['no command', ['rate(1 hour)'], /^ ▸ {4}No command given\.\n {2}Try: herogate scheduler:add "rate\(1 hour\)" -- COMMAND/],
      ['no schedule', [], /^ ▸ {4}No schedule given\./],
    ]
    for (const [title, argv, message] of cases) {
      it(title, async () => {
        const {stdout, stderr, exitCode} = await runCommand(SchedulerAdd, ['-a', 'demo', ...argv], platform)
        expect(exitCode).to.equal(1)
        expect(stdout).to.equal('')
        expect(stderr).to.match(message)
        expect(stderr.split('\n').filter((line) => line.startsWith(' ▸'))).to.have.length(1)
        expect(methods()).to.deep.equal([])
      })
    }
  })

  it('scheduler:remove removes without asking and says how to put the job back', async () => {
    platform.jobs = [...JOBS]
    const {stdout, stderr, exitCode} = await runCommand(SchedulerRemove, ['3f2a1b9', '-a', 'demo'], platform)
    expect({stdout, stderr, exitCode}).to.deep.equal({
      stdout: 'Removed job 3f2a1b9: cron(*/10 * * * ? *) node report.js\n',
      stderr: "Removing job 3f2a1b9 from demo...\nRemoving job 3f2a1b9 from demo... done\nPut it back with: herogate scheduler:add -a demo --size standard-2x 'cron(*/10 * * * ? *)' -- 'node report.js'\n",
      exitCode: 0,
    })
    expect(platform.jobs.map((job) => job.id)).to.deep.equal(['9c8d7e6', '5e4f3a2'])
  })

  it('scheduler:remove of an unknown id says so and how to list the ids', async () => {
    const {stderr, exitCode} = await runCommand(SchedulerRemove, ['nope123', '-a', 'demo'], platform)
    expect(exitCode).to.equal(1)
    expect(stderr).to.equal('Removing job nope123 from demo...\nRemoving job nope123 from demo... failed\n ▸    No scheduled job nope123 on demo.\n  Try: herogate scheduler -a demo\n')
  })
})
