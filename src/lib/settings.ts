import type {AppSetting, AppSettings, SettingName} from '../platform/types.js'
import {InvalidInput} from './errors.js'
import {listWords} from './shell.js'

/**
 * Per-app settings, the same on both platforms: their names, defaults and allowed values.
 * A setting is not a release (like a size change on Heroku): a platform applies it at once
 * where it can, else with the next deploy.
 */

export const DEFAULT_SETTINGS: Readonly<AppSettings> = {'boot-timeout': 60, 'health-check-path': '/'}
export const SETTING_NAMES = Object.keys(DEFAULT_SETTINGS) as SettingName[]

/** Heroku's boot timeout is 60 s; the most is kept well below the AWS rollout's 15 minutes (rollout.ts). */
export const BOOT_TIMEOUT_RANGE = {min: 1, max: 600}

/**
 * Seconds the load balancer takes to call a process healthy once it answers: two passing
 * checks 5 s apart (templates/app.yml, TargetGroup). On AWS the web service's health-check
 * grace period is the boot timeout plus this, so that a process that starts answering just
 * before its boot timeout is not stopped while its checks are still passing.
 */
export const HEALTHY_AFTER_SECONDS = 10

/** Path characters the load balancer and an HTTP request line both take; at most 1024 (ELB's limit). */
const PATH = /^\/[A-Za-z0-9\-._~!$&'()*+,;=:@%/?]{0,1023}$/

const RULES: Record<SettingName, {form: string; example: string; parse(text: string): number | string | undefined}> = {
  'boot-timeout': {
    form: `whole seconds from ${BOOT_TIMEOUT_RANGE.min} to ${BOOT_TIMEOUT_RANGE.max}`,
    example: 'boot-timeout=120',
    parse(text) {
      if (!/^\d+$/.test(text)) return undefined
      const seconds = Number(text)
      return seconds >= BOOT_TIMEOUT_RANGE.min && seconds <= BOOT_TIMEOUT_RANGE.max ? seconds : undefined
    },
  },
  'health-check-path': {
    form: 'a URL path that starts with / (at most 1024 characters, no spaces)',
    example: 'health-check-path=/health',
    parse: (text) => (PATH.test(text) ? text : undefined),
  },
}

export function isSettingName(name: string): name is SettingName {
  return Object.hasOwn(DEFAULT_SETTINGS, name)
}

/** The name, or InvalidInput naming the settings there are. */
export function validateSettingName(name: string): SettingName {
  if (isSettingName(name)) return name
  throw new InvalidInput(`Unknown setting "${name}": the settings are ${SETTING_NAMES.join(' and ')}.`, {suggestions: ['herogate apps:settings']})
}

/** A setting's value from text (a flag or NAME=VALUE), or InvalidInput naming the allowed form and an example. */
export function parseSettingValue<N extends SettingName>(name: N, text: string): AppSettings[N] {
  const rule = RULES[name]
  const value = rule.parse(text.trim())
  if (value === undefined) {
    throw new InvalidInput(`${name} must be ${rule.form}, e.g. ${rule.example} (got "${text}").`, {suggestions: [`herogate apps:settings:set ${rule.example}`]})
  }

  return value as AppSettings[N]
}

/** `NAME=VALUE` arguments of apps:settings:set. */
export function parseSettingArgs(args: string[]): Partial<AppSettings> {
  if (args.length === 0) throw new InvalidInput('No settings given.', {suggestions: [`herogate apps:settings:set ${RULES['boot-timeout'].example}`, 'herogate apps:settings']})
  const settings: Partial<Record<SettingName, number | string>> = {}
  for (const arg of args) {
    const at = arg.indexOf('=')
    if (at <= 0) {
      throw new InvalidInput(`"${arg}" is not NAME=VALUE.`, {suggestions: [`herogate apps:settings:set ${RULES['boot-timeout'].example}`]})
    }

    const name = validateSettingName(arg.slice(0, at))
    if (Object.hasOwn(settings, name)) throw new InvalidInput(`${name} is given twice.`)
    settings[name] = parseSettingValue(name, arg.slice(at + 1))
  }

  return settings as Partial<AppSettings>
}

/** The settings create takes as flags (--boot-timeout, --health-check-path), each read as apps:settings:set reads it. */
export function parseSettingFlags(flags: Partial<Record<SettingName, string>>): Partial<AppSettings> {
  const settings: Partial<Record<SettingName, number | string>> = {}
  for (const name of SETTING_NAMES) if (flags[name] !== undefined) settings[name] = parseSettingValue(name, flags[name])
  return settings as Partial<AppSettings>
}

/** Setting names of apps:settings:unset. */
export function parseSettingNames(args: string[]): SettingName[] {
  if (args.length === 0) throw new InvalidInput('No setting names given.', {suggestions: ['herogate apps:settings:unset boot-timeout']})
  return [...new Set(args.map((arg) => validateSettingName(arg)))]
}

/** Every setting with its value: the stored one, else the default. */
export function settingsView(stored: Partial<AppSettings>): AppSetting[] {
  return SETTING_NAMES.map((name) => {
    const value = stored[name] ?? DEFAULT_SETTINGS[name]
    return {name, value, default: DEFAULT_SETTINGS[name], isDefault: value === DEFAULT_SETTINGS[name]}
  })
}

export function effectiveSettings(stored: Partial<AppSettings> | undefined): AppSettings {
  return {...DEFAULT_SETTINGS, ...stored}
}

/**
 * What a change does to the stored settings: the settings after it, only those that differ
 * from the defaults kept (so a default change reaches every app that has not set one), and
 * which values changed.
 */
export function changeSettings(stored: Partial<AppSettings> | undefined, wanted: Partial<AppSettings>): {before: AppSettings; after: AppSettings; stored: Partial<AppSettings>; changed: SettingName[]} {
  const before = effectiveSettings(stored)
  const after = {...before, ...wanted}
  const kept: Partial<Record<SettingName, number | string>> = {}
  for (const name of SETTING_NAMES) if (after[name] !== DEFAULT_SETTINGS[name]) kept[name] = after[name]
  return {before, after, stored: kept as Partial<AppSettings>, changed: SETTING_NAMES.filter((name) => before[name] !== after[name])}
}

/** The defaults of the named settings, as a change. */
export function defaultsOf(names: SettingName[]): Partial<AppSettings> {
  return Object.fromEntries(names.map((name) => [name, DEFAULT_SETTINGS[name]]))
}

/** The web service's health-check grace period on AWS for a boot timeout (see HEALTHY_AFTER_SECONDS). */
export function gracePeriodSeconds(bootTimeout: number): number {
  return bootTimeout + HEALTHY_AFTER_SECONDS
}

/** The settings as `apps:settings` prints them. */
export function settingsText(app: string, settings: AppSetting[]): string {
  const width = Math.max(...settings.map((setting) => setting.name.length)) + 1
  const lines = settings.map((setting) => `${`${setting.name}:`.padEnd(width)} ${setting.value} ${setting.isDefault ? '(default)' : `(default ${setting.default})`}`)
  return [`=== ${app} Settings`, ...lines].join('\n')
}

/** The note of a change that changed nothing (exit 0: scripts may set what is set already). */
export function nothingChanged(names: SettingName[], settings: AppSettings): string {
  return `${listWords(names.map((name) => `${name} is already ${settings[name]}`))}: nothing changed.`
}
