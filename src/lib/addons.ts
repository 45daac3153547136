import {type Addon, type AddonPlan, type AddonService, ADDON_SERVICES, type Backup} from '../platform/addons.js'
import {HerogateError, InvalidInput} from './errors.js'
import {heading, keyValues, table, timeAgo} from './format.js'
import type {Palette} from './color.js'

/**
 * What every add-on command shares, whatever the platform: the service and plan a user typed
 * checked against the platform's plans (refused with them listed), and how add-ons, plans and
 * backups are shown.
 */

/** The config var of a service's first add-on, as Heroku names it. */
export const FIRST_VAR: Record<AddonService, string> = {postgres: 'DATABASE_URL', redis: 'REDIS_URL'}

/**
 * The config var an add-on's URL goes in: DATABASE_URL / REDIS_URL for the first of its kind,
 * NAME_URL for another or for --as NAME; refused when another add-on holds that var already
 * (--as database beside the DATABASE_URL of the first Postgres).
 */
export function configVarFor(service: AddonService, name: string, as: string | undefined, others: Array<{name: string; configVar: string}>): string {
  const configVar = !as && !others.some((a) => a.configVar === FIRST_VAR[service]) ? FIRST_VAR[service] : `${name.toUpperCase().replaceAll('-', '_')}_URL`
  const holder = others.find((a) => a.configVar === configVar)
  if (holder) {
    throw new InvalidInput(`${configVar} is the config var of add-on ${holder.name} already. Nothing was changed.`, {suggestions: [`herogate addons:create ${service} --as ANOTHER-NAME`]})
  }

  return configVar
}

/** "postgres", "postgresql", "heroku-postgresql", "redis", "heroku-redis", "valkey": Heroku's names carry over. */
export function parseService(typed: string, plans: AddonPlan[]): AddonService {
  const word = typed.toLowerCase().replace(/^heroku-/, '').split(':')[0]
  const service = word === 'postgresql' || word === 'pg' ? 'postgres' : word === 'valkey' ? 'redis' : word
  if ((ADDON_SERVICES as readonly string[]).includes(service)) return service as AddonService
  throw new InvalidInput(`Unknown add-on service "${typed}": herogate offers ${ADDON_SERVICES.join(' and ')}.`, {suggestions: planSuggestions(plans)})
}

/** The plan --plan names (or the service's default), refused with the service's plans listed. Heroku's `postgres:PLAN` works too. */
export function resolvePlan(service: AddonService, typed: string | undefined, plans: AddonPlan[]): AddonPlan {
  const ofService = plans.filter((plan) => plan.service === service)
  const wanted = typed ?? ofService.find((plan) => plan.default)?.name ?? ofService[0]?.name
  const plan = ofService.find((p) => p.name === wanted)
  if (!plan) throw new InvalidInput(`Unknown ${service} plan "${typed}".`, {suggestions: planSuggestions(ofService)})
  return plan
}

function planSuggestions(plans: AddonPlan[]): string[] {
  return plans.map((plan) => `--plan ${plan.name} (${plan.service}: ${plan.description}${plan.monthlyUsd === undefined ? '' : `, ${usd(plan.monthlyUsd)}/month`})`)
}

/** `$15`, `$0.50`: a monthly price as the plans table shows it. */
export function usd(amount: number): string {
  return Number.isInteger(amount) ? `$${amount}` : `$${amount.toFixed(2)}`
}

/** The add-ons of one service, refused when the app has none (pg:* on an app without Postgres). */
export function ofService(addons: Addon[], service: AddonService, app: string, name?: string): Addon[] {
  const mine = addons.filter((addon) => addon.service === service)
  const label = service === 'postgres' ? 'Postgres' : 'Redis'
  if (mine.length === 0) throw new HerogateError(`${app} has no ${label} add-on.`, {suggestions: [`herogate addons:create ${service} -a ${app}`, `herogate addons -a ${app}`]})
  if (name === undefined) return mine
  const named = mine.filter((addon) => addon.name === name || addon.configVar === name)
  if (named.length === 0) throw new HerogateError(`${app} has no ${label} add-on named ${name}.`, {suggestions: mine.map((addon) => `herogate ${service === 'postgres' ? 'pg' : 'redis'}:info ${addon.name} -a ${app}`)})
  return named
}

export function addonsTable(addons: Addon[], plans: AddonPlan[], now: Date): string {
  return table(addons, [
    {header: 'Add-on', get: (a) => a.name},
    {header: 'Service', get: (a) => a.service},
    {header: 'Plan', get: (a) => a.plan},
    {header: 'Price', get: (a) => price(plans.find((p) => p.service === a.service && p.name === a.plan))},
    {header: 'State', get: (a) => a.state},
    {header: 'Config var', get: (a) => a.configVar},
    {header: 'Created', get: (a) => timeAgo(a.createdAt, now)},
  ])
}

export function plansTable(plans: AddonPlan[]): string {
  return table(plans, [
    {header: 'Service', get: (p) => p.service},
    {header: 'Plan', get: (p) => `${p.name}${p.default ? ' (default)' : ''}`},
    {header: 'Price', get: (p) => price(p)},
    {header: 'Description', get: (p) => p.description},
  ])
}

function price(plan: AddonPlan | undefined): string {
  if (plan?.monthlyUsd === undefined) return plan ? 'free' : ''
  return `${usd(plan.monthlyUsd)}/month`
}

/** `=== postgres-1 (DATABASE_URL)` and its key: value lines, as heroku addons:info and pg:info print them. */
export function addonView(addon: Addon, now: Date, colors?: Palette): string {
  const created = timeAgo(addon.createdAt, now)
  return [
    heading(`${addon.name} (${addon.configVar})`, colors),
    keyValues([
      ['Service', addon.service],
      ['Plan', addon.plan],
      ['State', addon.state],
      ['Reason', addon.reason],
      ['Created', created],
      ...addon.details,
    ]),
  ].join('\n')
}

export function backupsTable(backups: Backup[], now: Date): string {
  return table(backups, [
    {header: 'ID', get: (b) => b.id},
    {header: 'Add-on', get: (b) => b.addon},
    {header: 'Created', get: (b) => timeAgo(b.createdAt, now)},
    {header: 'State', get: (b) => b.state},
    {header: 'Size', get: (b) => (b.size === undefined ? '' : bytes(b.size))},
    {header: 'Location', get: (b) => b.location},
  ])
}

function bytes(size: number): string {
  if (size < 1024) return `${size} B`
  if (size < 1024 * 1024) return `${(size / 1024).toFixed(1)} kB`
  return `${(size / 1024 / 1024).toFixed(1)} MB`
}
