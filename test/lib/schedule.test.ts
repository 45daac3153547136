import {expect} from 'chai'

import {InvalidInput} from '../../src/lib/errors.js'
import {isDue, nextRun, parseSchedule} from '../../src/lib/schedule.js'
import {declaredJobs} from '../../src/platform/scheduler.js'

function refusal(input: string): InvalidInput {
  try {
    parseSchedule(input)
  } catch (error) {
    expect(error).to.be.instanceOf(InvalidInput)
    return error as InvalidInput
  }

  throw new Error(`"${input}" was not refused`)
}

const at = (iso: string) => new Date(iso)

describe('schedules (lib/schedule)', () => {
  describe('accepts the forms EventBridge Scheduler takes, and crontab lines translated to them', () => {
    const cases: Array<[string, string]> = [
      ['rate(1 minute)', 'rate(1 minute)'],
      ['rate(10 minutes)', 'rate(10 minutes)'],
      ['rate(1 day)', 'rate(1 day)'],
      ['  cron(0 3 * * ? *) ', 'cron(0 3 * * ? *)'],
      ['cron(0 9 ? * mon-fri *)', 'cron(0 9 ? * MON-FRI *)'],
      ['cron(15 10 ? * 6L 2026-2030)', 'cron(15 10 ? * 6L 2026-2030)'],
      ['cron(0 12 L * ? *)', 'cron(0 12 L * ? *)'],
      ['cron(0 12 15W * ? *)', 'cron(0 12 15W * ? *)'],
      ['cron(0 8 ? * 3#1 *)', 'cron(0 8 ? * 3#1 *)'],
      ['cron(0/15 * * JAN,JUL ? *)', 'cron(0/15 * * JAN,JUL ? *)'],
      ['0 3 * * ? *', 'cron(0 3 * * ? *)'],
      // crontab: the day left * gets ?, days of the week move from 0-7 to 1-7.
      ['*/10 * * * *', 'cron(*/10 * * * ? *)'],
      ['30 2 1 * *', 'cron(30 2 1 * ? *)'],
      ['0 9 * * 1-5', 'cron(0 9 ? * 2,3,4,5,6 *)'],
      ['0 9 * * MON-FRI', 'cron(0 9 ? * 2,3,4,5,6 *)'],
      ['0 0 * * 0', 'cron(0 0 ? * 1 *)'],
      ['0 0 * * 7', 'cron(0 0 ? * 1 *)'],
      ['0 0 * * 5-7', 'cron(0 0 ? * 1,6,7 *)'],
      ['0 0 * * */2', 'cron(0 0 ? * 1,3,5,7 *)'],
      ['0 0 * * 0-6', 'cron(0 0 * * ? *)'],
      ['@daily', 'cron(0 0 * * ? *)'],
      ['@hourly', 'cron(0 * * * ? *)'],
      ['@weekly', 'cron(0 0 ? * 1 *)'],
    ]
    for (const [typed, expected] of cases) {
      it(`${typed} -> ${expected}`, () => expect(parseSchedule(typed)).to.equal(expected))
    }
  })

  describe('refuses, in one line naming what is wrong, what AWS would refuse', () => {
    const cases: Array<[string, RegExp]> = [
      ['', /it is empty/],
      ['cron(0 12 * * * *)', /EventBridge needs \? in day-of-month or day-of-week \(e\.g\. "0 12 \* \* \? \*" for every day\)/],
      ['cron(0 12 ? * ? *)', /day-of-month and day-of-week cannot both be \?/],
      ['cron(0 12 32 * ? *)', /day-of-month 32 is out of range 1-31/],
      ['cron(60 12 * * ? *)', /minutes 60 is out of range 0-59/],
      ['cron(0 24 * * ? *)', /hours 24 is out of range 0-23/],
      ['cron(0 12 ? * 0 *)', /day-of-week 0 is out of range 1-7/],
      ['cron(0 12 * FOO ? *)', /"FOO" is not a month value \(1-12 or JAN-DEC\)/],
      ['cron(0 12 * * ? 2300)', /year 2300 is out of range 1970-2199/],
      ['cron(0 12 * * ?)', /cron\(\.\.\.\) has 6 fields/],
      ['cron(L 12 * * ? *)', /"L" is not a minutes value/],
      ['cron(0 12 ? * 2#6 *)', /"2#6" is not a day-of-week value/],
      ['cron(*/0 12 * * ? *)', /the step "\/0" in minutes never moves/],
      ['cron(0 20-10 * * ? *)', /the range "20-10" in hours runs backwards/],
      ['rate(1 minutes)', /EventBridge wants the singular for 1: rate\(1 minute\)/],
      ['rate(5 minute)', /EventBridge wants the plural above 1: rate\(5 minutes\)/],
      ['rate(0 minutes)', /a rate must be a positive whole number/],
      ['rate(2 weeks)', /a rate is rate\(N minutes\), rate\(N hours\) or rate\(N days\)/],
      ['at(2026-12-01T10:00:00)', /at\(\.\.\.\) runs once/],
      ['0 12 1 * 1', /crontab runs on either the day of the month or the day of the week, which EventBridge cannot/],
      ['0 12 * * 8', /"8" is not a crontab day of the week/],
      ['0 12 L * *', /uses EventBridge wildcards: write it as cron\(\.\.\.\) with 6 fields/],
      ['every 10 minutes', /a crontab line has 5 fields and cron\(\.\.\.\) 6, not 3/],
      ['@often', /@often is not one of @hourly, @daily/],
    ]
    for (const [typed, message] of cases) {
      it(`${typed || '(empty)'}`, () => {
        const error = refusal(typed)
        expect(error.message).to.match(message)
        expect(error.message).to.match(/^Invalid schedule ".*": .*\.$/)
        expect(error.message).to.not.include('\n')
        expect(error.suggestions.join('\n')).to.include('cron(min hour day-of-month month day-of-week year)').and.include('rate(N minutes|hours|days)').and.include('crontab line')
      })
    }
  })

  describe('evaluation, in UTC', () => {
    const anchor = at('2026-11-28T10:00:30Z')
    const cases: Array<[string, string, string]> = [
      ['rate(1 minute)', '2026-11-28T10:00:30Z', '2026-11-28T10:01:00.000Z'],
      ['rate(10 minutes)', '2026-11-28T10:05:00Z', '2026-11-28T10:11:00.000Z'],
      ['cron(0 3 * * ? *)', '2026-11-28T10:00:00Z', '2026-11-29T03:00:00.000Z'],
      ['cron(*/15 * * * ? *)', '2026-11-28T10:00:00Z', '2026-11-28T10:15:00.000Z'],
      ['cron(0 9 ? * 2-6 *)', '2026-11-28T10:00:00Z', '2026-11-30T09:00:00.000Z'], // Saturday -> Monday
      ['cron(0 12 L * ? *)', '2026-11-28T10:00:00Z', '2026-11-30T12:00:00.000Z'],
      ['cron(0 12 LW * ? *)', '2027-01-01T00:00:00Z', '2027-01-29T12:00:00.000Z'], // 31 Jan 2027 is a Sunday
      ['cron(0 8 ? * 3#1 *)', '2026-11-28T10:00:00Z', '2026-12-01T08:00:00.000Z'], // first Tuesday of December
      ['cron(0 8 ? * 6L *)', '2026-11-28T10:00:00Z', '2026-12-25T08:00:00.000Z'], // last Friday of December
      ['cron(0 0 1 1 ? 2020)', '2026-11-28T10:00:00Z', 'never'],
      ['cron(0 22 ? * FRI-MON *)', '2026-11-28T10:00:00Z', '2026-11-28T22:00:00.000Z'],
    ]
    for (const [expression, after, expected] of cases) {
      it(`${expression} after ${after}: ${expected}`, () => {
        const next = nextRun(expression, at(after), anchor)
        expect(next?.toISOString() ?? 'never').to.equal(expected)
        if (next) expect(isDue(expression, next, anchor)).to.equal(true)
      })
    }

    it('a job is due once in its minute, not in the minutes around it', () => {
      expect(isDue('cron(*/5 * * * ? *)', at('2026-11-28T10:05:42Z'), anchor)).to.equal(true)
      expect(isDue('cron(*/5 * * * ? *)', at('2026-11-28T10:06:00Z'), anchor)).to.equal(false)
      expect(isDue('rate(2 minutes)', at('2026-11-28T10:00:00Z'), anchor), 'before it was made').to.equal(false)
      expect(isDue('rate(2 minutes)', at('2026-11-28T10:03:00Z'), anchor)).to.equal(true)
      expect(isDue('rate(2 minutes)', at('2026-11-28T10:04:00Z'), anchor)).to.equal(false)
    })
  })
})

describe('app.json "cron" entries (platform/scheduler.ts declaredJobs)', () => {
  const refused = (json: string) => {
    try {
      declaredJobs(json)
    } catch (error) {
      expect(error).to.be.instanceOf(InvalidInput)
      return (error as Error).message
    }

    throw new Error('not refused')
  }

  it('reads Dokku\'s format with herogate\'s optional size, schedules as EventBridge takes them', () => {
    const jobs = declaredJobs(JSON.stringify({name: 'x', cron: [{command: 'node nightly.js', schedule: '@daily'}, {command: 'node big.js', schedule: 'rate(1 day)', size: 'performance-m'}]}))
    expect(jobs.map(({id: _id, ...job}) => job)).to.deep.equal([
      {schedule: 'cron(0 0 * * ? *)', command: 'node nightly.js'},
      {schedule: 'rate(1 day)', command: 'node big.js', size: 'performance-m'},
    ])
    expect(declaredJobs(undefined)).to.deep.equal([])
    expect(declaredJobs('{"name": "no jobs"}')).to.deep.equal([])
  })

  it('refuses each bad entry by its place, in one line', () => {
    expect(refused('{"cron": {"command": "x"}}')).to.equal('app.json "cron" must be a list of {"command": "...", "schedule": "..."}.')
    expect(refused('{"cron": [{"command": "x"}]}')).to.equal('app.json cron[0] must be {"command": "...", "schedule": "..."} with an optional "size".')
    expect(refused('{"cron": [{"command": "x", "schedule": "@daily"}, {"command": "y", "schedule": "cron(0 12 * * * *)"}]}')).to.match(/^app\.json cron\[1\]: Invalid schedule "cron\(0 12 \* \* \* \*\)": EventBridge needs \?/)
    expect(refused('{"cron": [{"command": "x", "schedule": "@daily", "size": "huge"}]}')).to.equal('Unknown size "huge" (app.json cron[0]).')
    expect(refused('{"cron": [{"command": " ", "schedule": "@daily"}]}')).to.equal('A scheduled job needs a command (app.json cron[0]).')
    expect(refused('{"cron": [{"command": "x", "schedule": "@daily"}, {"command": "x", "schedule": "0 0 * * *"}]}')).to.equal('app.json "cron" lists the same job twice.')
    expect(refused('{"cron": [')).to.match(/^app\.json is not valid JSON: /)
    const many = Array.from({length: 30}, (_, i) => ({command: `node scripts/job-number-${i}.js --with --some --flags`, schedule: '@hourly'}))
    expect(refused(JSON.stringify({cron: many}))).to.match(/^app\.json "cron" is too long to go with a release \(\d+ bytes of jobs, at most 1500\)\.$/)
  })
})
