import {InvalidInput} from './errors.js'

/**
 * Schedules of scheduled jobs, in the forms EventBridge Scheduler accepts, validated here so
 * that AWS never refuses one after herogate has changed something:
 *
 *   cron(min hour day-of-month month day-of-week year)   six fields, one of the two days "?"
 *   rate(N minute|minutes|hour|hours|day|days)           singular for 1, plural above
 *   min hour day-of-month month day-of-week               a crontab line (translated to cron(...))
 *   @hourly @daily @weekly @monthly @yearly               crontab shorthands (translated)
 *
 * Everything is evaluated in UTC, as EventBridge Scheduler does without a time zone. Both
 * platforms store the EventBridge form; the local supervisor evaluates it with `isDue`.
 */

export const SCHEDULE_FORMS = [
  'cron(min hour day-of-month month day-of-week year), e.g. "cron(0 3 * * ? *)" (one of the two days must be ?)',
  'rate(N minutes|hours|days), e.g. "rate(10 minutes)", "rate(1 hour)"',
  'a crontab line "min hour day-of-month month day-of-week", e.g. "*/10 * * * *", or @hourly, @daily, @weekly, @monthly, @yearly',
]

const SHORTHANDS: Record<string, string> = {
  '@hourly': '0 * * * *',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@weekly': '0 0 * * 0',
  '@monthly': '0 0 1 * *',
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC']
/** EventBridge numbers days of the week 1-7 from Sunday; crontab 0-7 from Sunday (7 is Sunday again). */
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT']

function refuse(problem: string, input: string): never {
  throw new InvalidInput(`Invalid schedule "${input}": ${problem}.`, {suggestions: SCHEDULE_FORMS.map((form) => `accepted: ${form}`)})
}

/** The EventBridge Scheduler expression for what the user typed; refused with one line naming the accepted forms. */
export function parseSchedule(input: string): string {
  const typed = input.trim().replaceAll(/\s+/g, ' ')
  if (typed === '') refuse('it is empty', input)
  const wrapped = /^(cron|rate|at)\((.*)\)$/i.exec(typed)
  if (wrapped) {
    const kind = wrapped[1].toLowerCase()
    if (kind === 'at') refuse('at(...) runs once; scheduled jobs repeat (use herogate run:detached for a one-off)', input)
    return kind === 'rate' ? parseRate(wrapped[2].trim(), input) : parseCron(wrapped[2].trim().split(' '), input)
  }

  const shorthand = SHORTHANDS[typed.toLowerCase()]
  if (typed.startsWith('@') && !shorthand) refuse(`${typed} is not one of @hourly, @daily, @weekly, @monthly, @yearly`, input)
  const fields = (shorthand ?? typed).split(' ')
  if (fields.length === 5) return fromCrontab(fields, input)
  if (fields.length === 6) return parseCron(fields, input)
  refuse(`a crontab line has 5 fields and cron(...) 6, not ${fields.length}`, input)
}

function parseRate(body: string, input: string): string {
  const match = /^(\d+) (minute|minutes|hour|hours|day|days)$/.exec(body)
  if (!match) refuse('a rate is rate(N minutes), rate(N hours) or rate(N days)', input)
  const value = Number(match[1])
  if (value < 1 || !Number.isSafeInteger(value)) refuse('a rate must be a positive whole number', input)
  const plural = match[2].endsWith('s')
  const unit = match[2].replace(/s$/, '')
  if (value === 1 && plural) refuse(`EventBridge wants the singular for 1: rate(1 ${unit})`, input)
  if (value > 1 && !plural) refuse(`EventBridge wants the plural above 1: rate(${value} ${unit}s)`, input)
  return `rate(${value} ${match[2]})`
}

interface FieldRule {
  name: string
  min: number
  max: number
  names?: string[]
  /** Which of EventBridge's wildcards besides , - * / the field takes. */
  special: RegExp
}

const FIELDS: FieldRule[] = [
  {name: 'minutes', min: 0, max: 59, special: /^$/},
  {name: 'hours', min: 0, max: 23, special: /^$/},
  {name: 'day-of-month', min: 1, max: 31, special: /^(\?|L|LW|\d{1,2}W)$/},
  {name: 'month', min: 1, max: 12, names: MONTHS, special: /^$/},
  {name: 'day-of-week', min: 1, max: 7, names: DAYS, special: /^(\?|L|[1-7]L|[A-Z]{3}L|[1-7]#[1-5]|[A-Z]{3}#[1-5])$/},
  {name: 'year', min: 1970, max: 2199, special: /^$/},
]

/** Validates six EventBridge cron fields as AWS does; returns the canonical cron(...) expression. */
function parseCron(fields: string[], input: string): string {
  if (fields.length !== 6) refuse(`cron(...) has 6 fields (min hour day-of-month month day-of-week year), not ${fields.length}`, input)
  const upper = fields.map((field) => field.toUpperCase())
  upper.forEach((field, i) => checkField(field, FIELDS[i], input))
  const [dom, dow] = [upper[2], upper[4]]
  if (dom === '?' && dow === '?') refuse('day-of-month and day-of-week cannot both be ?: give one of them', input)
  if (dom !== '?' && dow !== '?') refuse(`EventBridge needs ? in day-of-month or day-of-week (e.g. "${upper.slice(0, 4).join(' ')} ? ${upper[5]}" for every day)`, input)
  return `cron(${upper.join(' ')})`
}

function checkField(field: string, rule: FieldRule, input: string): void {
  if (field === '') refuse(`the ${rule.name} field is empty`, input)
  for (const part of field.split(',')) {
    if (rule.special.test(part)) {
      if (field.includes(',') && part === '?') refuse(`? stands alone in ${rule.name}`, input)
      checkSpecialRange(part, rule, input)
      continue
    }

    const [range, step, extra] = part.split('/')
    if (extra !== undefined) refuse(`"${part}" in ${rule.name} has two steps`, input)
    if (step !== undefined && !/^\d+$/.test(step)) refuse(`the step "/${step}" in ${rule.name} is not a number`, input)
    if (step !== undefined && Number(step) === 0) refuse(`the step "/0" in ${rule.name} never moves`, input)
    if (range === '*') continue
    const [from, to, more] = range.split('-')
    if (more !== undefined) refuse(`"${range}" in ${rule.name} is not a range`, input)
    const low = value(from, rule, input)
    if (to !== undefined) {
      const high = value(to, rule, input)
      if (high < low && rule.name !== 'day-of-week') refuse(`the range "${range}" in ${rule.name} runs backwards`, input)
    }
  }
}

function checkSpecialRange(part: string, rule: FieldRule, input: string): void {
  const day = /^(\d{1,2})W$/.exec(part)
  if (day && (Number(day[1]) < 1 || Number(day[1]) > 31)) refuse(`"${part}": ${day[1]} is not a day of the month (1-31)`, input)
  const named = /^([A-Z]{3})(L|#\d)$/.exec(part)
  if (named) value(named[1], rule, input)
}

/** One value of a field, by number or name (JAN, MON), within the field's range. */
function value(token: string, rule: FieldRule, input: string): number {
  const byName = rule.names?.indexOf(token) ?? -1
  if (byName >= 0) return byName + 1
  if (!/^\d+$/.test(token)) {
    const names = rule.names ? ` or ${rule.names[0]}-${rule.names.at(-1)}` : ''
    refuse(`"${token}" is not a ${rule.name} value (${rule.min}-${rule.max}${names})`, input)
  }

  const n = Number(token)
  if (n < rule.min || n > rule.max) refuse(`${rule.name} ${n} is out of range ${rule.min}-${rule.max}`, input)
  return n
}

/**
 * A crontab line as cron(...): the year becomes *, days of the week are renumbered (crontab
 * 0-7 from Sunday to EventBridge's 1-7), and the day left as * gets EventBridge's ?. Crontab
 * runs a line whose two days are both restricted on either day; EventBridge cannot: refused.
 */
function fromCrontab(fields: string[], input: string): string {
  const [minute, hour, dom, month, dowTyped] = fields.map((field) => field.toUpperCase())
  const crontab: FieldRule[] = [FIELDS[0], FIELDS[1], FIELDS[2], FIELDS[3]]
  ;[minute, hour, dom, month].forEach((field, i) => {
    if (/[?LW#]/.test(field)) refuse(`"${field}" (${crontab[i].name}) uses EventBridge wildcards: write it as cron(...) with 6 fields`, input)
    checkField(field, crontab[i], input)
  })
  const dow = crontabDays(dowTyped, input)
  if (dom !== '*' && dow !== '*') {
    refuse('crontab runs on either the day of the month or the day of the week, which EventBridge cannot: restrict one of them and leave the other *', input)
  }

  return `cron(${minute} ${hour} ${dow === '*' ? dom : '?'} ${month} ${dow === '*' ? '?' : dow} *)`
}

/** A crontab day-of-week field (0-7 or SUN-SAT, ranges and steps) as an EventBridge list of 1-7. */
function crontabDays(field: string, input: string): string {
  if (field === '*') return '*'
  const rule: FieldRule = {name: 'day-of-week', min: 0, max: 7, names: DAYS, special: /^$/}
  const days = new Set<number>()
  for (const part of field.split(',')) {
    const [range, stepText, extra] = part.split('/')
    if (extra !== undefined || (stepText !== undefined && !/^[1-9]\d*$/.test(stepText))) refuse(`"${part}" in day-of-week is not a valid step`, input)
    const step = Number(stepText ?? 1)
    let [low, high] = [0, 6]
    if (range !== '*') {
      const [from, to, more] = range.split('-')
      if (more !== undefined) refuse(`"${range}" in day-of-week is not a range`, input)
      low = crontabDay(from, rule, input)
      high = to === undefined ? (stepText === undefined ? low : 6) : crontabDay(to, rule, input)
      if (to !== undefined && to !== '7' && to !== '07' && high < low) refuse(`the range "${range}" in day-of-week runs backwards`, input)
      // 5-7: Friday to Sunday, Sunday being 7 as well as 0.
      if (high < low) high = 7
    }

    for (let day = low; day <= high; day += step) days.add(day % 7)
  }

  if (days.size === 7) return '*'
  return [...days].sort((a, b) => a - b).map((day) => day + 1).join(',')
}

function crontabDay(token: string, rule: FieldRule, input: string): number {
  const byName = DAYS.indexOf(token)
  if (byName >= 0) return byName
  if (!/^\d+$/.test(token) || Number(token) > 7) refuse(`"${token}" is not a crontab day of the week (0-7 or SUN-SAT)`, input)
  return token === '7' ? 7 : Number(token) % 7
}

// --- Evaluation (the local supervisor runs jobs with it; both platforms show the next run) ---

type Matcher = (value: number, date: Date) => boolean

interface CronPlan {
  minutes: Set<number>
  hours: Set<number>
  day: (date: Date) => boolean
  months: Set<number>
  years: Matcher
}

/** The sets a validated cron(...) expression stands for. */
function planOf(expression: string): CronPlan {
  const fields = expression.slice(5, -1).split(' ')
  const [minutes, hours, dom, months, dow, years] = fields
  const domMatch = dom === '?' ? undefined : dayOfMonthMatcher(dom)
  const dowMatch = dow === '?' ? undefined : dayOfWeekMatcher(dow)
  const yearSet = years === '*' ? undefined : expand(years, FIELDS[5])
  return {
    minutes: expand(minutes, FIELDS[0]),
    hours: expand(hours, FIELDS[1]),
    day: (date) => (domMatch ? domMatch(date.getUTCDate(), date) : true) && (dowMatch ? dowMatch(date.getUTCDay() + 1, date) : true),
    months: expand(months, FIELDS[3]),
    years: (year) => !yearSet || yearSet.has(year),
  }
}

/** Every value a field of , - * / stands for (EventBridge ranges may wrap, e.g. FRI-MON). */
function expand(field: string, rule: FieldRule): Set<number> {
  const values = new Set<number>()
  for (const part of field.split(',')) {
    const [range, stepText] = part.split('/')
    const step = Number(stepText ?? 1)
    let [low, high] = [rule.min, rule.max]
    if (range !== '*') {
      const [from, to] = range.split('-')
      low = numberOf(from, rule)
      high = to === undefined ? (stepText === undefined ? low : rule.max) : numberOf(to, rule)
    }

    const span = high >= low ? high - low : rule.max - low + 1 + high - rule.min
    for (let i = 0; i <= span; i += step) {
      const v = low + i
      values.add(v > rule.max ? v - (rule.max - rule.min + 1) : v)
    }
  }

  return values
}

function numberOf(token: string, rule: FieldRule): number {
  const byName = rule.names?.indexOf(token) ?? -1
  return byName >= 0 ? byName + 1 : Number(token)
}

function daysInMonth(date: Date): number {
  return new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 0)).getUTCDate()
}

function dayOfMonthMatcher(field: string): Matcher {
  const matchers: Matcher[] = field.split(',').map((part) => {
    if (part === 'L') return (day, date) => day === daysInMonth(date)
    if (part === 'LW') return (day, date) => day === nearestWeekday(date, daysInMonth(date))
    const weekday = /^(\d+)W$/.exec(part)
    if (weekday) return (day, date) => day === nearestWeekday(date, Math.min(Number(weekday[1]), daysInMonth(date)))
    const set = expand(part, FIELDS[2])
    return (day) => set.has(day)
  })
  return (day, date) => matchers.some((match) => match(day, date))
}

/** The weekday nearest to day `target` of the date's month, never leaving the month (Quartz's W). */
function nearestWeekday(date: Date, target: number): number {
  const weekday = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), target)).getUTCDay()
  if (weekday === 6) return target === 1 ? 3 : target - 1
  if (weekday === 0) return target === daysInMonth(date) ? target - 2 : target + 1
  return target
}

function dayOfWeekMatcher(field: string): Matcher {
  const matchers: Matcher[] = field.split(',').map((part) => {
    if (part === 'L') return (day) => day === 7
    const last = /^(\w+)L$/.exec(part)
    if (last) {
      const wanted = numberOf(last[1], FIELDS[4])
      return (day, date) => day === wanted && date.getUTCDate() + 7 > daysInMonth(date)
    }

    const nth = /^(\w+)#(\d)$/.exec(part)
    if (nth) {
      const wanted = numberOf(nth[1], FIELDS[4])
      return (day, date) => day === wanted && Math.ceil(date.getUTCDate() / 7) === Number(nth[2])
    }

    const set = expand(part, FIELDS[4])
    return (day) => set.has(day)
  })
  return (day, date) => matchers.some((match) => match(day, date))
}

const MINUTE_MS = 60_000
const RATE_MS = {minute: MINUTE_MS, hour: 60 * MINUTE_MS, day: 24 * 60 * MINUTE_MS}

function rateMs(expression: string): number {
  const [, n, unit] = /^rate\((\d+) (minute|hour|day)s?\)$/.exec(expression)!
  return Number(n) * RATE_MS[unit as keyof typeof RATE_MS]
}

/**
 * True when a job runs in the minute that starts at `minute` (seconds ignored). A rate counts
 * from `anchor`, when the job was made, as EventBridge Scheduler counts from its creation.
 */
export function isDue(expression: string, minute: Date, anchor: Date): boolean {
  const at = Math.floor(minute.getTime() / MINUTE_MS) * MINUTE_MS
  if (expression.startsWith('rate(')) {
    const start = Math.ceil(anchor.getTime() / MINUTE_MS) * MINUTE_MS
    return at >= start && (at - start) % rateMs(expression) === 0
  }

  const plan = planOf(expression)
  const date = new Date(at)
  return plan.minutes.has(date.getUTCMinutes()) && plan.hours.has(date.getUTCHours()) && plan.months.has(date.getUTCMonth() + 1) &&
    plan.years(date.getUTCFullYear(), date) && plan.day(date)
}

/** The first minute after `after` when the job runs, within five years; undefined when it never runs again. */
export function nextRun(expression: string, after: Date, anchor: Date): Date | undefined {
  const from = Math.floor(after.getTime() / MINUTE_MS) * MINUTE_MS + MINUTE_MS
  if (expression.startsWith('rate(')) {
    const start = Math.ceil(anchor.getTime() / MINUTE_MS) * MINUTE_MS
    if (from <= start) return new Date(start)
    const period = rateMs(expression)
    return new Date(start + Math.ceil((from - start) / period) * period)
  }

  const plan = planOf(expression)
  const minutes = [...plan.minutes].sort((a, b) => a - b)
  const hours = [...plan.hours].sort((a, b) => a - b)
  const start = new Date(from)
  let day = Date.UTC(start.getUTCFullYear(), start.getUTCMonth(), start.getUTCDate())
  for (let i = 0; i < 366 * 5; i++, day += 24 * 60 * MINUTE_MS) {
    const date = new Date(day)
    if (!plan.months.has(date.getUTCMonth() + 1) || !plan.years(date.getUTCFullYear(), date) || !plan.day(date)) continue
    for (const hour of hours) {
      for (const minute of minutes) {
        const at = day + (hour * 60 + minute) * MINUTE_MS
        if (at >= from) return new Date(at)
      }
    }
  }

  return undefined
}
