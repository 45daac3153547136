import type {ConfigEdit, ScaleChange} from '../platform/types.js'
import {InvalidInput} from './errors.js'
import {PROCESS_TYPE} from './naming.js'
import {isSize, MAX_PROCESS_COUNT, SIZES} from './sizes.js'

const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/
/** Names herogate sets itself; a user value would be overwritten or would break routing. */
const RESERVED_KEYS = new Set(['PORT', 'DYNO'])
const RESERVED_PREFIX = 'HEROGATE_'
/**
 * Names that are valid in a shell but not as keys of the objects config travels in: in a
 * JavaScript object `__proto__` sets the prototype instead of a var (the var would vanish).
 */
const UNSAFE_KEYS = new Set(['__proto__'])
/** Long enough for any real name, short enough for an SSM parameter name on AWS (1011 characters with the path and ARN). */
const MAX_KEY_LENGTH = 256

/** Why `key` cannot be a config var name, or undefined when it can. */
export function configKeyProblem(key: string): string | undefined {
  if (!ENV_KEY.test(key)) return 'config var names use letters, digits and underscores and do not start with a digit'
  if (UNSAFE_KEYS.has(key)) return `${key} is not allowed as a config var name`
  if (key.length > MAX_KEY_LENGTH) return `config var names are at most ${MAX_KEY_LENGTH} characters`
  if (RESERVED_KEYS.has(key)) return `${key} is set by herogate itself`
  if (key.toUpperCase().startsWith(RESERVED_PREFIX)) return `names starting with ${RESERVED_PREFIX} are reserved for herogate`
  return undefined
}

export function validateConfigKey(key: string): string {
  const problem = configKeyProblem(key)
  // JSON quoting shows control characters as escapes instead of sending them to the terminal.
  if (problem) throw new InvalidInput(`Invalid config var name ${JSON.stringify(key)}: ${problem}.`)
  return key
}

/** Linux refuses to start a process with a `KEY=VALUE` string longer than this (MAX_ARG_STRLEN), its closing NUL counted. */
const MAX_ENV_STRING_BYTES = 131_072

/**
 * Why `value` cannot reach a process as the environment variable `key` (with what to do
 * instead), or undefined when it can. Never quotes the value: the reason ends up in error text.
 */
export function configValueProblem(key: string, value: string): {reason: string; fix: string} | undefined {
  if (value.includes('\0')) {
    return {reason: 'it holds a NUL byte, which no environment variable can hold', fix: `remove the NUL byte from the value of ${key}`}
  }

  const limit = MAX_ENV_STRING_BYTES - key.length - 2
  const bytes = Buffer.byteLength(value)
  if (bytes > limit) {
    return {reason: `it is ${bytes} bytes, and no process starts with an environment variable ${key} over ${limit} bytes`, fix: `keep ${key} shorter (a file path or URL instead of the contents)`}
  }

  return undefined
}

/** One config var as every platform takes it: a valid name, and a value an environment variable can hold. */
export function validateConfigVar(key: string, value: string): void {
  validateConfigKey(key)
  const problem = configValueProblem(key, value)
  if (problem) throw new InvalidInput(`The value of ${key} cannot be set: ${problem.reason}. Nothing was changed.`, {suggestions: [problem.fix]})
}

/** `KEY=VALUE` arguments; the value is everything after the first `=` and may be empty. */
export function parseConfigArgs(args: string[]): Record<string, string> {
  const vars: Record<string, string> = {}
  for (const [i, arg] of args.entries()) {
    const at = arg.indexOf('=')
    if (at <= 0) {
      // Quoted only when it reads as a name: an argument without a name may well be a value.
      const what = at < 0 && ENV_KEY.test(arg) ? `"${arg}" is not KEY=VALUE` : `Argument ${i + 1} is not KEY=VALUE (${at === 0 ? 'no name before the =' : 'no ='})`
      throw new InvalidInput(`${what}.`, {
        suggestions: ['herogate config:set KEY=VALUE', 'herogate config:set KEY= (an empty value)'],
      })
    }

    const key = arg.slice(0, at)
    const value = arg.slice(at + 1)
    validateConfigVar(key, value)
    vars[key] = value
  }

  return vars
}

/**
 * A .env file: `KEY=value`, optional `export `, `#` comments, single quotes (literal),
 * double quotes (with \n, \t, \\ and \" escapes, may span lines).
 */
export function parseDotenv(text: string): Record<string, string> {
  const vars: Record<string, string> = {}
  const lines = text.replace(/\r\n?/g, '\n').split('\n')
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim()
    if (!line || line.startsWith('#')) continue
    const match = /^(?:export\s+)?([^=\s]+)\s*=\s?(.*)$/.exec(line)
    if (!match) throw new InvalidInput(`Line ${i + 1} of the env file is not KEY=VALUE.`)
    const key = validateConfigKey(match[1])
    let value = match[2]
    if (value.startsWith('"')) {
      let body = value.slice(1)
      while (!closesDoubleQuote(body) && i + 1 < lines.length) body += '\n' + lines[++i]
      if (!closesDoubleQuote(body)) throw new InvalidInput(`The value of ${key} opens a double quote that never closes.`)
      value = unescapeDouble(body.slice(0, closingQuoteIndex(body)))
    } else if (value.startsWith("'")) {
      const end = value.indexOf("'", 1)
      if (end < 0) throw new InvalidInput(`The value of ${key} opens a single quote that never closes.`)
      value = value.slice(1, end)
    } else {
      value = value.replace(/\s+#.*$/, '').trim()
    }

    validateConfigVar(key, value)
    vars[key] = value
  }

  return vars
}

function closingQuoteIndex(body: string): number {
  for (let i = 0; i < body.length; i++) {
    if (body[i] === '\\') i++
    else if (body[i] === '"') return i
  }

  return -1
}

function closesDoubleQuote(body: string): boolean {
  return closingQuoteIndex(body) >= 0
}

function unescapeDouble(body: string): string {
  return body.replace(/\\([nrt"\\$])/g, (_, c: string) => ({n: '\n', r: '\r', t: '\t'})[c as 'n'] ?? c)
}

/** `web=2`, `web+1`, `worker-1`, `web=2:standard-2x`, `web=standard-2x`, `web:standard-2x`. */
export function parseScaleArgs(args: string[]): ScaleChange[] {
  if (args.length === 0) {
    throw new InvalidInput('No process types given.', {suggestions: ['herogate scale web=2 worker=1', 'herogate ps']})
  }

  const seen = new Set<string>()
  return args.map((arg) => {
    const match = /^([^=+:-]+?)(?:([=+-])(\d*))?(?::([a-z0-9-]+)|=([a-z][a-z0-9-]*))?$/.exec(arg)
    // An operator needs a count and takes a size only after `:`; without one, a size alone (web=standard-2x, web:standard-2x).
    if (!match || (match[2] ? !match[3] || match[5] : !match[4] && !match[5])) {
      throw new InvalidInput(`"${arg}" is not TYPE=COUNT, TYPE+N, TYPE-N, TYPE=COUNT:SIZE or TYPE=SIZE.`, {
        suggestions: ['herogate scale web=2 worker=1:standard-2x'],
      })
    }

    const [, type, op, digits, sizeAfterColon, sizeAlone] = match
    if (!PROCESS_TYPE.test(type)) throw new InvalidInput(`"${type}" is not a process type name.`)
    if (seen.has(type)) throw new InvalidInput(`${type} is given twice.`)
    seen.add(type)
    const size = sizeAfterColon ?? sizeAlone
    if (size !== undefined && !isSize(size)) {
      throw new InvalidInput(`Unknown size "${size}".`, {suggestions: [`use one of: ${Object.keys(SIZES).join(', ')}`]})
    }

    const change: ScaleChange = {type}
    if (size) change.size = size
    if (op && digits) {
      const n = Number(digits)
      if (n > MAX_PROCESS_COUNT) {
        throw new InvalidInput(`${type}: at most ${MAX_PROCESS_COUNT} processes of one type.`)
      }

      if (op === '=') change.quantity = n
      else change.delta = op === '+' ? n : -n
    }

    return change
  })
}

/** Applies a change to a current count, refusing results below zero or above the limit. */
export function applyScale(current: number, change: ScaleChange): number {
  const next = change.quantity ?? current + (change.delta ?? 0)
  if (next < 0) throw new InvalidInput(`${change.type} cannot go below zero (it has ${current}).`)
  if (next > MAX_PROCESS_COUNT) throw new InvalidInput(`${change.type}: at most ${MAX_PROCESS_COUNT} processes of one type.`)
  return next
}

/** Procfile: `type: command` lines; blank lines and # comments ignored. */
export function parseProcfile(text: string): Record<string, string> {
  const types: Record<string, string> = {}
  for (const [i, raw] of text.replace(/\r\n?/g, '\n').split('\n').entries()) {
    const line = raw.trim()
    if (!line || line.startsWith('#')) continue
    const match = /^([A-Za-z0-9_]+)\s*:\s*(.+)$/.exec(line)
    if (!match) throw new InvalidInput(`Procfile line ${i + 1} is not "type: command".`)
    if (match[1].length > 30) throw new InvalidInput(`Procfile line ${i + 1}: process type "${match[1]}" is longer than 30 characters.`)
    types[match[1]] = match[2].trim()
  }

  return types
}

/**
 * What to tell the user about process types that deploy fine yet serve no HTTP: only `web`
 * receives requests, so without it the app's URL answers 503 (H14). Undefined with a web type.
 */
export function procfileWarning(types: Record<string, string>): string | undefined {
  if (Object.hasOwn(types, 'web')) return undefined
  const cased = Object.keys(types).find((type) => type.toLowerCase() === 'web')
  if (cased) return `The Procfile declares "${cased}", not "web": process type names are lower-case, and only web receives HTTP requests, so the app's URL answers 503. Rename it to web.`
  return 'The Procfile has no web process type: no process receives HTTP requests, and the app\'s URL answers 503 (H14). Add a line like "web: node server.js" if the app serves HTTP.'
}

/** A branch name git and CodeCommit both accept (the branch whose pushes deploy). */
export function validateBranch(name: string): string {
  if (!/^[A-Za-z0-9._/-]{1,100}$/.test(name) || /^[-/.]|[/.]$|\.\.|\/\/|\.lock$/.test(name)) {
    throw new InvalidInput(`"${name}" is not a branch name.`, {suggestions: ['--branch main', '--branch master']})
  }

  return name
}

/** `v12` or `12` to 12. */
export function parseReleaseVersion(text: string): number {
  const match = /^v?(\d+)$/i.exec(text.trim())
  if (!match || Number(match[1]) < 1) throw new InvalidInput(`"${text}" is not a release version.`, {suggestions: ['herogate releases', 'herogate rollback v3']})
  return Number(match[1])
}

/** `--since`: an ISO time, or a duration ago: 30s, 10m, 2h, 1d. */
export function parseSince(text: string, now: Date = new Date()): Date {
  const ago = /^(\d+)\s*([smhd])$/.exec(text.trim())
  if (ago) {
    const unit = {s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000}[ago[2] as 's']
    return new Date(now.getTime() - Number(ago[1]) * unit)
  }

  const date = new Date(text)
  if (Number.isNaN(date.getTime())) throw new InvalidInput(`"${text}" is not a time.`, {suggestions: ['--since 10m', '--since 2026-11-21T10:00:00Z']})
  return date
}

/** What config:edit applies: the vars new or changed in `after`, and those it no longer has. */
export function configDifference(before: Record<string, string>, after: Record<string, string>): ConfigEdit {
  return {
    set: Object.fromEntries(Object.entries(after).filter(([key, value]) => before[key] !== value)),
    unset: Object.keys(before).filter((key) => !Object.hasOwn(after, key)),
  }
}

/** Vars as .env lines that parseDotenv reads back to the same values (config:edit's file). */
export function toDotenv(vars: Record<string, string>): string {
  return Object.keys(vars)
    .sort()
    .map((key) => `${key}=${dotenvValue(vars[key])}`)
    .join('\n')
}

function dotenvValue(value: string): string {
  if (/^[^\s"'#\\$]*$/.test(value)) return value
  const escaped = value.replace(/[\\"$\n\r\t]/g, (c) => ({'\\': '\\\\', '"': '\\"', $: '\\$', '\n': '\\n', '\r': '\\r', '\t': '\\t'})[c]!)
  return `"${escaped}"`
}
