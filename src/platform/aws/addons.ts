import {randomBytes} from 'node:crypto'
import {readFile} from 'node:fs/promises'

import {CloudFormation, StackFailed, type StackSummary, templateResources, WaitAborted, type WaitOptions} from '../../aws/cloudformation.js'
import {type DatabaseKind, Rds, type Snapshot} from '../../aws/rds.js'
import {ConfigStore, readParameters} from '../../aws/ssm.js'
import {configVarFor} from '../../lib/addons.js'
import {HerogateError, Interrupted, InvalidInput, StackBusy} from '../../lib/errors.js'
import {checkAddonName, names} from '../../lib/naming.js'
import {ADDON_SERVICES, type Addon, type AddonCreateOptions, type AddonDestroyOptions, type AddonResult, type AddonService, type AddonState, type Backup} from '../addons.js'
import type {ConfigChange, OperationOptions, Progress, RunOptions, RunResult} from '../types.js'
import {type AwsPlan, planFor} from './addon-plans.js'
import {getConfig, setConfig, unsetConfig} from './config.js'
import type {AwsContext} from './context.js'
import {pollUntil} from './draining.js'
import {appTaskSecurityGroup} from './app-upgrade.js'
import {platformVersion, PLATFORM_VERSION} from './platform-upgrade.js'
import {appResources, stacksOf} from './resources.js'
import {createFailed, FAILED_CREATE as FAILED_STACK, removeFailedCreate, USABLE} from './stack-states.js'

export {addonPlans} from './addon-plans.js'

/**
 * Add-ons on AWS: one CloudFormation stack per add-on (templates/addon-postgres.yml,
 * templates/addon-redis.yml) in the platform's private data subnets. The password is made here
 * and handed to the stack as a NoEcho parameter; its only stored copy is the config var with the
 * URL, set by a config release as config:set does. When herogate no longer holds it (the create
 * was not waited for, or was interrupted), attaching gives the database a fresh one by a stack
 * update, so no second copy is ever kept.
 */

const TEMPLATES = new URL('../../../templates/', import.meta.url)
const TEMPLATE: Record<AddonService, string> = {postgres: 'addon-postgres.yml', redis: 'addon-redis.yml'}
const SECRET_PARAMETER: Record<AddonService, string> = {postgres: 'MasterPassword', redis: 'AuthToken'}
/** An add-on stack rolling back is failed already: nothing of it will be usable. */
const FAILED_CREATE = new Set([...FAILED_STACK, 'ROLLBACK_IN_PROGRESS'])
/** RDS snapshots take minutes; a deadline keeps a stuck one from hanging a command forever. */
const SNAPSHOT_WAIT_MS = 60 * 60 * 1000
const SNAPSHOT_POLL_MS = 10_000

/** An add-on name given to addons:* that the app has no add-on of. */
export class AddonNotFound extends HerogateError {}
/** addons:create --as NAME where NAME is taken. */
export class AddonExists extends HerogateError {}

interface AddonStack {
  stack: StackSummary
  name: string
  service: AddonService
  configVar: string
}

export async function addons(ctx: AwsContext, app: string): Promise<Addon[]> {
  await appResources(ctx, app)
  const found = await addonStacks(ctx, app)
  const attached = await attachedVars(ctx, app, found.map((a) => a.configVar))
  return found.map((a) => addonOf(a, attached.has(a.configVar)))
}

export async function addonInfo(ctx: AwsContext, app: string, name: string): Promise<Addon> {
  const found = await findAddon(ctx, app, name)
  const attached = await attachedVars(ctx, app, [found.configVar])
  const addon = addonOf(found, attached.has(found.configVar))
  if (found.service === 'postgres' && addon.state === 'available') {
    const latest = (await listSnapshots(ctx, app, found)).at(-1)
    if (latest) addon.details.push(['Latest backup', `${latest.id} (${latest.status}${latest.createdAt ? `, ${latest.createdAt.toISOString()}` : ''})`])
  }

  return addon
}

export async function createAddon(ctx: AwsContext, app: string, options: AddonCreateOptions): Promise<AddonResult> {
  const progress: Progress = options.onProgress ?? (() => {})
  if (!ADDON_SERVICES.includes(options.service)) {
    throw new InvalidInput(`Unknown add-on service ${JSON.stringify(options.service)}.`, {suggestions: ADDON_SERVICES.map((s) => `herogate addons:create ${s}`)})
  }

  const plan = planFor(options.service, options.plan)
  if (options.as) checkAddonName(options.as)
  const stacks = await stacksOf(ctx)
  // Described once: the app's resources come from it too when the app stack publishes none (a missing app is said first).
  const described = await stacks.describe(names.platformStack())
  const resources = await appResources(ctx, app, described)
  const platform = readyPlatform(ctx, described)
  const existing = await addonStacks(ctx, app)
  const name = options.as ?? defaultName(options.service, existing)
  const previous = existing.find((a) => a.name === name)
  if (previous) {
    const recovered = await recover(ctx, app, previous, options, stacks)
    if (recovered) return recovered
  }

  // The rule both platforms name config vars by (lib/addons.ts), refusing one another add-on holds.
  const configVar = configVarFor(options.service, name, options.as, existing.filter((a) => a.name !== name))
  const set = await attachedVars(ctx, app, [configVar])
  if (set.has(configVar)) {
    throw new AddonExists(`${configVar} is set already (by config:set), so a new add-on would replace it. Nothing was changed.`, {
      suggestions: [`herogate addons:create ${options.service} --as NAME -a ${app} (sets NAME_URL instead)`, `herogate config:unset ${configVar} -a ${app} (then create it again)`],
    })
  }

  // The add-on admits the app's own task group, never the platform's shared one (every app's tasks are in that).
  const {group, upgraded} = await appTaskSecurityGroup(ctx, stacks, app, resources.securityGroup, platform, {
    onProgress: progress, signal: options.signal, retry: `herogate addons:create ${options.service}${options.as ? ` --as ${options.as}` : ''} -a ${app}`,
  })
  const secret = newSecret()
  const templateBody = await template(options.service)
  const stackName = names.addonStack(app, name)
  const parameters: Record<string, string> = {
    AppName: app,
    AddonName: name,
    Plan: plan.name,
    VpcId: platform.outputs.VpcId,
    TaskSecurityGroup: group,
    ...plan.parameters,
    ...(options.service === 'postgres'
      ? {DatabaseIdentifier: names.addonDatabaseBase(app, name), DatabaseSubnetGroup: platform.outputs.DatabaseSubnetGroup}
      : {CacheIdentifier: names.addonDatabaseBase(app, name), CacheSubnetGroup: platform.outputs.CacheSubnetGroup}),
    [SECRET_PARAMETER[options.service]]: secret,
  }
  progress({kind: 'step', id: 'addon-stack', message: `Creating ${options.service} add-on ${name} of ${app} (plan ${plan.name}, stack ${stackName})`, status: 'start'})
  const id = await stacks.create({
    name: stackName,
    templateBody,
    parameters,
    tags: {[names.appTag()]: app, [names.addonTag()]: name, [names.addonServiceTag()]: options.service, [names.addonConfigVarTag()]: configVar},
  })
  const notes = [costNote(plan), ...(upgraded ? [`Upgraded ${app}: its processes now run in a security group of their own, the only one ${name} admits; they move into it with the release that attaches ${configVar}.`] : [])]
  if (!options.wait) {
    progress({kind: 'step', id: 'addon-stack', message: `Creating ${options.service} add-on ${name}; it takes a few minutes`, status: 'done'})
    const stack = (await stacks.describe(id)) ?? {name: stackName, id, status: 'CREATE_IN_PROGRESS', outputs: {}, parameters: {}, tags: {}}
    return {addon: addonOf({stack, name, service: options.service, configVar}, false), notes: [...notes, `herogate addons:wait ${name} -a ${app} (attaches ${configVar} once it is made)`]}
  }

  const stack = await waitFor(ctx, stacks, id, app, name, await templateResources(templateBody), options)
  if (stack.status !== 'CREATE_COMPLETE') await failedCreate(stacks, stack, app, name, progress)
  progress({kind: 'step', id: 'addon-stack', message: `Created ${options.service} add-on ${name}`, status: 'done'})
  return attach(ctx, app, {stack, name, service: options.service, configVar}, secret, options, notes)
}

export async function waitAddons(ctx: AwsContext, app: string, name: string | undefined, options: OperationOptions = {}): Promise<Addon[]> {
  const stacks = await stacksOf(ctx)
  const all = name ? [await findAddon(ctx, app, name)] : await addonStacks(ctx, app)
  const attached = await attachedVars(ctx, app, all.map((a) => a.configVar))
  const done: Addon[] = []
  for (const found of all) {
    if (attached.has(found.configVar) && USABLE.has(found.stack.status)) {
      if (name) done.push(addonOf(found, true))
      continue
    }

    if (FAILED_CREATE.has(found.stack.status)) {
      const failure = await stacks.failure(found.stack.id)
      throw new StackFailed(`Add-on ${found.name} could not be made${failure ? `: ${failure.resource} (${failure.resourceType}) failed: ${failure.reason}` : ` (stack ${found.stack.status})`}.`, found.stack.name, failure, [
        `herogate addons:destroy ${found.name} -a ${app} --confirm ${app} (removes what is left)`,
        `herogate addons:create ${found.service} --as ${found.name} -a ${app} (replaces it)`,
      ])
    }

    const recovered = await recover(ctx, app, found, {...options, service: found.service, wait: true}, stacks)
    done.push(recovered?.addon ?? addonOf(found, attached.has(found.configVar)))
  }

  return done
}

export async function destroyAddon(ctx: AwsContext, app: string, name: string, options: AddonDestroyOptions = {}): Promise<AddonResult> {
  const progress: Progress = options.onProgress ?? (() => {})
  const found = await findAddon(ctx, app, name)
  if (/^UPDATE_.*IN_PROGRESS$/.test(found.stack.status)) {
    // A restore or a new password is being applied: deleting now would race it.
    throw new StackBusy(`Add-on ${name} is being changed right now (${found.stack.status}).`, {suggestions: [`herogate addons:wait ${name} -a ${app}`, `herogate addons:destroy ${name} -a ${app} (once it is done)`]})
  }

  const config = await getConfig(ctx, app)
  const url = config[found.configVar]
  if (url) {
    // Another var holding the same URL (a copy made by config:set) would point at a database that is gone.
    const relying = Object.keys(config).filter((key) => key !== found.configVar && config[key] !== '' && config[key] === url)
    if (relying.length > 0) {
      throw new InvalidInput(`Config var${relying.length === 1 ? '' : 's'} ${relying.join(', ')} of ${app} hold${relying.length === 1 ? 's' : ''} the URL of add-on ${name} too. Nothing was changed.`, {
        suggestions: [`herogate config:unset ${relying.join(' ')} -a ${app} (then destroy the add-on)`],
      })
    }
  }

  const notes: string[] = []
  let change: ConfigChange | undefined
  if (url !== undefined) {
    // Detached first, as a release, so that no process keeps a URL to a database that is going.
    change = await unsetConfig(ctx, app, [found.configVar], options)
    notes.push(`Removed ${found.configVar} from ${app} (release v${change.release?.version ?? '?'}).`)
  }

  const stacks = await stacksOf(ctx)
  const removed = await deleteAddonStack(ctx, stacks, app, found, options.snapshot ?? true, progress, options.signal)
  notes.push(...removed)
  return {addon: {...addonOf(found, false), state: 'deleting'}, ...(change ? {config: change} : {}), notes}
}

export async function addonShell(ctx: AwsContext, app: string, service: AddonService, name: string | undefined, _options: RunOptions): Promise<RunResult> {
  const found = await addonOfService(ctx, app, service, name)
  const client = service === 'postgres' ? 'psql' : 'valkey-cli --tls'
  throw new HerogateError(
    `${service === 'postgres' ? 'pg:psql' : 'redis:cli'} on AWS is not available: ${found.name} is in private subnets that only the app's tasks reach, and an interactive session inside them needs ECS Exec with AWS's Session Manager plugin, which herogate does not drive.`,
    {
      suggestions: [
        `herogate run '${client} "$${found.configVar}" -c ...' -a ${app} (a one-off command, with ${client.split(' ')[0]} in the app's image)`,
        `herogate config:get ${found.configVar} -a ${app} (the URL, for a client on a machine inside the VPC)`,
      ],
    },
  )
}

export async function backups(ctx: AwsContext, app: string, name?: string): Promise<Backup[]> {
  const targets = name ? [await addonOfService(ctx, app, 'postgres', name)] : (await addonStacks(ctx, app)).filter((a) => a.service === 'postgres')
  const all: Backup[] = []
  for (const target of targets) all.push(...(await listSnapshots(ctx, app, target)).map((s) => backupOf(target.name, s)))
  return all.sort((a, b) => a.createdAt.localeCompare(b.createdAt))
}

export async function captureBackup(ctx: AwsContext, app: string, name: string | undefined, options: OperationOptions = {}): Promise<Backup> {
  const target = await addonOfService(ctx, app, 'postgres', name)
  if (!USABLE.has(target.stack.status)) {
    throw new StackBusy(`Add-on ${target.name} is ${stateOf(target.stack.status)}; a backup needs it available.`, {suggestions: [`herogate addons:wait ${target.name} -a ${app}`]})
  }

  const snapshot = await takeSnapshot(ctx, app, target, stamp(ctx), options)
  return backupOf(target.name, snapshot)
}

/**
 * pg:backups:restore: the add-on's stack is updated to a new database made from the snapshot
 * (CloudFormation keeps a snapshot of the one it replaces), with a new password; the new URL
 * is attached as a config release.
 */
export async function restoreBackup(ctx: AwsContext, app: string, id: string, options: OperationOptions & {into?: string} = {}): Promise<Backup> {
  const postgres = (await addonStacks(ctx, app)).filter((a) => a.service === 'postgres')
  const target = options.into ? postgres.find((a) => a.name === options.into) : postgres.find((a) => id.startsWith(`${names.addonDatabaseBase(app, a.name)}-`))
  if (!target) {
    throw new AddonNotFound(options.into ? `${app} has no Postgres add-on ${options.into}.` : `Backup ${id} is not of a Postgres add-on of ${app}.`, {
      suggestions: [`herogate pg:backups -a ${app}`, ...(postgres.length > 0 ? [`herogate pg:backups:restore ${id} --into ${postgres[0].name} -a ${app}`] : [])],
    })
  }

  const kind = kindOf(target)
  const snapshot = await new Rds(await ctx.clients.rds()).snapshot(kind, id)
  if (snapshot.status !== 'available') {
    throw new StackBusy(`Backup ${id} is ${snapshot.status}; only a completed backup can be restored.`, {suggestions: [`herogate pg:backups -a ${app}`]})
  }

  const stacks = await stacksOf(ctx)
  const secret = newSecret()
  const templateBody = await template('postgres')
  const progress: Progress = options.onProgress ?? (() => {})
  progress({kind: 'step', id: 'restore', message: `Restoring ${id} into ${target.name} (a new database replaces the current one)`, status: 'start'})
  const marker = await stacks.latestEventId(target.stack.id)
  await stacks.update({
    id: target.stack.id,
    templateBody,
    parameters: {...carried(target.stack), SnapshotIdentifier: id, DatabaseIdentifier: nextGeneration(app, target), MasterPassword: secret},
  })
  const stack = await waitFor(ctx, stacks, target.stack.id, app, target.name, await templateResources(templateBody), {...options, afterEventId: marker})
  if (!USABLE.has(stack.status) || stack.status === 'UPDATE_ROLLBACK_COMPLETE') {
    const failure = await stacks.failure(stack.id, marker)
    throw new StackFailed(`Could not restore ${id} into ${target.name}: ${failure ? `${failure.resource}: ${failure.reason}` : `stack ended ${stack.status}`}. The current database is unchanged.`, stack.name, failure)
  }

  progress({kind: 'step', id: 'restore', message: `Restored ${id} into ${target.name}`, status: 'done'})
  await attach(ctx, app, {...target, stack}, secret, options, [])
  return backupOf(target.name, snapshot)
}

/** apps:destroy: every add-on of the app, Postgres with a final snapshot unless `snapshot` is false; lines for its report. */
export async function destroyAppAddons(ctx: AwsContext, app: string, options: OperationOptions & {snapshot?: boolean}): Promise<string[]> {
  const stacks = await stacksOf(ctx)
  const removed: string[] = []
  for (const found of await addonStacks(ctx, app)) {
    const lines = await deleteAddonStack(ctx, stacks, app, found, options.snapshot ?? true, options.onProgress ?? (() => {}), options.signal)
    removed.push(`${found.service} add-on ${found.name} (stack ${found.stack.name}${lines.length > 0 ? `; ${lines.join(' ')}` : ''})`)
  }

  return removed
}

/** The add-on stacks of an app, by the tags herogate gives them. */
export async function addonStacks(ctx: AwsContext, app: string): Promise<AddonStack[]> {
  const stacks = await stacksOf(ctx)
  const found: AddonStack[] = []
  for (const stack of await stacks.list(names.addonStackPrefix(app))) {
    const service = stack.tags[names.addonServiceTag()] as AddonService
    if (stack.tags[names.appTag()] !== app || !ADDON_SERVICES.includes(service)) continue
    found.push({stack, name: stack.tags[names.addonTag()], service, configVar: stack.tags[names.addonConfigVarTag()]})
  }

  return found.sort((a, b) => (a.stack.createdAt?.getTime() ?? 0) - (b.stack.createdAt?.getTime() ?? 0) || a.name.localeCompare(b.name))
}

/**
 * A second addons:create (or addons:wait) of an add-on whose stack exists: a failed one is
 * removed (and made again by the caller), one being made is waited for, one made but not
 * attached (an interrupted create, or one not waited for) gets a fresh secret and is attached.
 * Undefined when the caller should create the add-on anew.
 */
async function recover(ctx: AwsContext, app: string, found: AddonStack, options: AddonCreateOptions, stacks: CloudFormation): Promise<AddonResult | undefined> {
  const progress: Progress = options.onProgress ?? (() => {})
  if (found.service !== options.service) {
    throw new AddonExists(`Add-on name ${found.name} is taken by a ${found.service} add-on of ${app}.`, {suggestions: [`herogate addons:create ${options.service} --as NAME -a ${app}`]})
  }

  let {stack} = found
  if (stack.status === 'DELETE_IN_PROGRESS') {
    await waitFor(ctx, stacks, stack.id, app, found.name, undefined, {...options, onProgress: progress})
    return undefined
  }

  if (FAILED_CREATE.has(stack.status)) {
    const failure = await stacks.failure(stack.id)
    progress({kind: 'warning', message: `A previous create of add-on ${found.name} failed${failure ? ` (${failure.resource}: ${failure.reason})` : ''}; replacing it.`})
    await deleteStack(ctx, stacks, app, found, progress, options.signal)
    return undefined
  }

  const attached = (await attachedVars(ctx, app, [found.configVar])).has(found.configVar)
  if (attached && USABLE.has(stack.status)) {
    throw new AddonExists(`${app} has an add-on named ${found.name} already.`, {
      suggestions: [`herogate addons:create ${options.service} --as NAME -a ${app} (another name)`, `herogate addons:info ${found.name} -a ${app}`],
    })
  }

  if (!options.wait) return {addon: addonOf(found, attached), notes: [`herogate addons:wait ${found.name} -a ${app}`]}
  if (stack.status.endsWith('_IN_PROGRESS')) {
    progress({kind: 'step', id: 'addon-stack', message: `Waiting for add-on ${found.name} (${stack.status})`, status: 'start'})
    stack = await waitFor(ctx, stacks, stack.id, app, found.name, await templateResources(await template(found.service)), options)
    if (stack.status !== 'CREATE_COMPLETE' && !USABLE.has(stack.status)) await failedCreate(stacks, stack, app, found.name, progress)
    progress({kind: 'step', id: 'addon-stack', message: `Add-on ${found.name} is made`, status: 'done'})
  }

  // herogate does not hold the secret the stack was made with: the database gets a new one.
  const secret = newSecret()
  progress({kind: 'step', id: 'addon-secret', message: `Giving ${found.name} a new password to attach it`, status: 'start'})
  const marker = await stacks.latestEventId(stack.id)
  if (await stacks.update({id: stack.id, templateBody: await template(found.service), parameters: {...carried(stack), [SECRET_PARAMETER[found.service]]: secret}})) {
    stack = await waitFor(ctx, stacks, stack.id, app, found.name, undefined, {...options, afterEventId: marker})
    if (!USABLE.has(stack.status) || stack.status === 'UPDATE_ROLLBACK_COMPLETE') {
      const failure = await stacks.failure(stack.id, marker)
      throw new StackFailed(`Could not give add-on ${found.name} a new password: ${failure ? `${failure.resource}: ${failure.reason}` : `stack ended ${stack.status}`}.`, stack.name, failure, [
        `herogate addons:destroy ${found.name} -a ${app} --confirm ${app}`,
      ])
    }
  }

  progress({kind: 'step', id: 'addon-secret', message: `Gave ${found.name} a new password`, status: 'done'})
  return attach(ctx, app, {...found, stack}, secret, options, [])
}

/** Sets the add-on's URL as its config var (a release, as config:set makes). */
async function attach(ctx: AwsContext, app: string, found: AddonStack, secret: string, options: OperationOptions, notes: string[]): Promise<AddonResult> {
  const url = urlOf(found, secret)
  let config: ConfigChange
  try {
    config = await setConfig(ctx, app, {[found.configVar]: url}, options)
  } catch (error) {
    if (!(error instanceof HerogateError)) throw error
    // The add-on is made; attaching again (with a new password) is what addons:wait does.
    throw new HerogateError(`Add-on ${found.name} is made, but ${found.configVar} could not be set: ${error.message}`, {
      cause: error,
      suggestions: [`herogate addons:wait ${found.name} -a ${app} (attaches it)`, `herogate addons:destroy ${found.name} -a ${app} --confirm ${app}`],
    })
  }

  return {addon: addonOf(found, true), config, notes: [...notes, `${found.configVar} is set on ${app} (release v${config.release?.version ?? '?'}).`]}
}

/** Deletes an add-on's stack, Postgres after a final snapshot when `snapshot`; lines saying where it is. */
async function deleteAddonStack(ctx: AwsContext, stacks: CloudFormation, app: string, found: AddonStack, snapshot: boolean, progress: Progress, signal?: AbortSignal): Promise<string[]> {
  const notes: string[] = []
  if (found.service === 'postgres' && snapshot && USABLE.has(found.stack.status)) {
    const taken = await takeSnapshot(ctx, app, found, `final-${stamp(ctx)}`, {onProgress: progress, signal}).catch((error: unknown) => {
      if (!(error instanceof HerogateError) || error instanceof Interrupted) throw error
      // Nothing is deleted without the snapshot that was asked for.
      throw new HerogateError(`Could not take the final snapshot of add-on ${found.name}: ${error.message} The add-on is kept.`, {
        cause: error,
        suggestions: [`herogate addons:destroy ${found.name} -a ${app} --confirm ${app} (to retry)`, `herogate addons:destroy ${found.name} -a ${app} --confirm ${app} --no-snapshot (without one)`],
      })
    })
    notes.push(`Final snapshot: ${taken.id} (RDS ${kindOf(found) === 'cluster' ? 'cluster snapshot' : 'snapshot'} in ${ctx.region}; kept until you delete it).`)
  } else if (found.service === 'postgres' && !snapshot) {
    notes.push('No final snapshot was taken (--no-snapshot).')
  } else if (found.service === 'postgres') {
    notes.push(`No final snapshot: the database was ${stateOf(found.stack.status)}.`)
  }

  await deleteStack(ctx, stacks, app, found, progress, signal)
  return notes
}

async function deleteStack(ctx: AwsContext, stacks: CloudFormation, app: string, found: AddonStack, progress: Progress, signal?: AbortSignal): Promise<void> {
  const message = `Deleting add-on ${found.name} (stack ${found.stack.name})`
  progress({kind: 'step', id: `addon-delete-${found.name}`, message, status: 'start'})
  const marker = await stacks.latestEventId(found.stack.id)
  if (found.stack.status !== 'DELETE_IN_PROGRESS') await stacks.delete(found.stack.id)
  let final: StackSummary
  try {
    final = await stacks.wait(found.stack.id, {onProgress: progress, signal, resources: await templateResources(await template(found.service)), stackDescription: `${found.service} add-on ${found.name}`, afterEventId: marker})
  } catch (error) {
    if (error instanceof WaitAborted) throw new Interrupted(`Interrupted: stack ${found.stack.name} keeps deleting in AWS; run herogate addons:destroy ${found.name} -a ${app} again to follow it.`)
    throw error
  }

  if (final.status !== 'DELETE_COMPLETE') {
    progress({kind: 'step', id: `addon-delete-${found.name}`, message, status: 'failed'})
    const failure = await stacks.failure(found.stack.id, marker)
    throw new StackFailed(`Could not delete add-on ${found.name}: ${failure ? `${failure.resource} (${failure.resourceType}): ${failure.reason}` : `stack ended ${final.status}`}.`, found.stack.name, failure, [
      `herogate addons:destroy ${found.name} -a ${app} --confirm ${app} (to retry)`,
    ])
  }

  progress({kind: 'step', id: `addon-delete-${found.name}`, message: `Deleted add-on ${found.name}`, status: 'done'})
}

async function takeSnapshot(ctx: AwsContext, app: string, found: AddonStack, suffix: string, options: OperationOptions): Promise<Snapshot> {
  const progress: Progress = options.onProgress ?? (() => {})
  const rds = new Rds(await ctx.clients.rds())
  const kind = kindOf(found)
  const id = `${names.addonDatabaseBase(app, found.name)}-${suffix}`
  const message = `Taking snapshot ${id} of ${found.name}`
  progress({kind: 'step', id: `snapshot-${id}`, message, status: 'start'})
  let snapshot = await rds.createSnapshot(kind, databaseId(found), id, {[names.appTag()]: app, [names.addonTag()]: found.name})
  const done = await pollUntil(ctx.clock, async () => {
    snapshot = await rds.snapshot(kind, id)
    return snapshot.status !== 'creating'
  }, {timeoutMs: SNAPSHOT_WAIT_MS, pollMs: SNAPSHOT_POLL_MS, signal: options.signal}).catch((error: unknown) => {
    if (options.signal?.aborted) throw new Interrupted(`Interrupted: snapshot ${id} keeps being taken in AWS; nothing else was changed.`)
    throw error
  })
  if (!done || snapshot.status !== 'available') {
    progress({kind: 'step', id: `snapshot-${id}`, message, status: 'failed'})
    throw new HerogateError(`Snapshot ${id} of ${found.name} ${done ? `ended ${snapshot.status}` : 'was still being taken after an hour'}.`, {
      suggestions: [`herogate pg:backups -a ${app}`],
    })
  }

  progress({kind: 'step', id: `snapshot-${id}`, message: `Took snapshot ${id}`, status: 'done'})
  return snapshot
}

async function listSnapshots(ctx: AwsContext, app: string, found: AddonStack): Promise<Snapshot[]> {
  const base = names.addonDatabaseBase(app, found.name)
  const all = await new Rds(await ctx.clients.rds()).snapshots(kindOf(found), {prefix: `${base}-`})
  return all
}

async function waitFor(ctx: AwsContext, stacks: CloudFormation, id: string, app: string, name: string, resources: WaitOptions['resources'], options: OperationOptions & {afterEventId?: string}): Promise<StackSummary> {
  try {
    return await stacks.wait(id, {onProgress: options.onProgress, signal: options.signal, resources, stackDescription: `add-on ${name} of ${app}`, afterEventId: options.afterEventId})
  } catch (error) {
    if (error instanceof WaitAborted) {
      throw new Interrupted(`Interrupted: add-on ${name} keeps being made in AWS. herogate addons:wait ${name} -a ${app} attaches it; herogate addons:destroy ${name} -a ${app} removes it.`)
    }

    throw error
  }
}

/** A failed create leaves nothing billed: its stack is deleted, and the error says why it failed. */
async function failedCreate(stacks: CloudFormation, stack: StackSummary, app: string, name: string, progress: Progress): Promise<never> {
  progress({kind: 'step', id: 'addon-stack', message: `Creating add-on ${name}`, status: 'failed'})
  const removed = await removeFailedCreate(stacks, stack.id)
  throw createFailed(`add-on ${name}`, stack, removed, removed.deleted ? [`herogate addons:create ... -a ${app} (after fixing the cause)`] : [`herogate addons:destroy ${name} -a ${app} --confirm ${app}`])
}

/** The platform stack if it has the data subnets add-ons need; an older one is refused with the upgrade to run. */
function readyPlatform(ctx: AwsContext, platform: StackSummary | undefined): StackSummary {
  if (!platform) throw new HerogateError(`There is no herogate platform in ${ctx.region}.`, {suggestions: [`herogate create --region ${ctx.region}`]})
  if (platformVersion(platform) < PLATFORM_VERSION || !platform.outputs.DatabaseSubnetGroup) {
    throw new HerogateError(`The herogate platform of ${ctx.region} predates add-ons: it has no private data subnets for databases yet. Nothing was changed.`, {
      suggestions: [`herogate platform:upgrade --region ${ctx.region} (adds them; apps keep running)`],
    })
  }

  return platform
}

async function findAddon(ctx: AwsContext, app: string, name: string): Promise<AddonStack> {
  const all = await addonStacks(ctx, app)
  const found = all.find((a) => a.name === name)
  if (found) return found
  await appResources(ctx, app)
  throw new AddonNotFound(`${app} has no add-on named ${name}.`, {
    suggestions: all.length > 0 ? all.map((a) => `herogate addons:info ${a.name} -a ${app}`) : [`herogate addons -a ${app}`],
  })
}

async function addonOfService(ctx: AwsContext, app: string, service: AddonService, name?: string): Promise<AddonStack> {
  if (name) {
    const found = await findAddon(ctx, app, name)
    if (found.service !== service) throw new InvalidInput(`Add-on ${name} of ${app} is a ${found.service}, not a ${service}.`, {suggestions: [`herogate addons -a ${app}`]})
    return found
  }

  const found = (await addonStacks(ctx, app)).find((a) => a.service === service)
  if (found) return found
  await appResources(ctx, app)
  throw new AddonNotFound(`${app} has no ${service === 'postgres' ? 'Postgres' : 'Redis'} add-on.`, {suggestions: [`herogate addons:create ${service} -a ${app}`]})
}

/** Which of these config vars are set (read by name: no other value is read). */
async function attachedVars(ctx: AwsContext, app: string, keys: string[]): Promise<Set<string>> {
  const wanted = [...new Set(keys.filter(Boolean))]
  if (wanted.length === 0) return new Set()
  const found = await readParameters(await ctx.clients.ssm(), ConfigStore.parameterNames(app, wanted), `reading the config of ${app}`)
  return new Set(ConfigStore.valuesIn(app, wanted, found).keys())
}

function addonOf(found: AddonStack, attached: boolean): Addon {
  const {stack} = found
  const state = stateOf(stack.status, attached)
  const details: Array<[string, string]> = []
  const plan = stack.parameters.Plan ?? stack.outputs.Plan ?? ''
  if (found.service === 'postgres') {
    details.push(['Engine', stack.parameters.Serverless === 'true' ? 'Aurora Serverless v2 (PostgreSQL 16)' : `RDS for PostgreSQL 17 (${stack.parameters.InstanceClass ?? ''}${stack.parameters.MultiAZ === 'true' ? ', Multi-AZ' : ''})`])
  } else {
    details.push(['Engine', `ElastiCache for Valkey 8 (${stack.parameters.NodeType ?? ''}${stack.parameters.Nodes === '2' ? ', with a replica' : ''})`])
  }

  if (stack.outputs.Host) details.push(['Host', `${stack.outputs.Host}:${stack.outputs.Port ?? ''}`])
  if (found.service === 'postgres' && stack.parameters.AllocatedStorage && stack.parameters.Serverless !== 'true') details.push(['Storage', `${stack.parameters.AllocatedStorage} GB gp3`])
  details.push(['Encryption', found.service === 'postgres' ? 'at rest (KMS) and in transit (sslmode=require)' : 'at rest and in transit (rediss://, AUTH token)'])
  details.push(['Stack', stack.name])
  if (stack.outputs.DatabaseIdentifier ?? stack.outputs.CacheIdentifier) details.push(['Identifier', stack.outputs.DatabaseIdentifier ?? stack.outputs.CacheIdentifier])
  if (USABLE.has(stack.status) && !attached) details.push(['Note', `made, ${found.configVar} not set yet: herogate addons:wait ${found.name}`])
  return {
    name: found.name,
    service: found.service,
    plan,
    state,
    configVar: found.configVar,
    createdAt: (stack.createdAt ?? new Date(0)).toISOString(),
    ...(state === 'failed' ? {reason: stack.statusReason ?? stack.status} : {}),
    details,
  }
}

function stateOf(status: string, attached = true): AddonState {
  if (status.startsWith('DELETE_')) return status === 'DELETE_FAILED' ? 'failed' : 'deleting'
  if (FAILED_CREATE.has(status)) return 'failed'
  if (USABLE.has(status)) return attached ? 'available' : 'creating'
  return status.startsWith('UPDATE_') && attached ? 'available' : 'creating'
}

function defaultName(service: AddonService, existing: AddonStack[]): string {
  const taken = new Set(existing.map((a) => a.name))
  // A failed or unattached one of the default name is recovered, not skipped.
  for (let n = 1; ; n++) {
    const name = `${service}-${n}`
    const previous = existing.find((a) => a.name === name)
    if (!taken.has(name) || (previous && !USABLE.has(previous.stack.status))) return name
  }
}

function urlOf(found: AddonStack, secret: string): string {
  const {Host: host, Port: port} = found.stack.outputs
  if (!host) throw new HerogateError(`Add-on ${found.name}'s stack ${found.stack.name} gives no host.`, {suggestions: [`aws cloudformation describe-stacks --stack-name ${found.stack.name}`]})
  if (found.service === 'postgres') return `postgres://herogate:${secret}@${host}:${port || '5432'}/app?sslmode=require`
  return `rediss://:${secret}@${host}:${port || '6379'}`
}

function kindOf(found: AddonStack): DatabaseKind {
  return found.stack.outputs.Kind === 'cluster' || found.stack.parameters.Serverless === 'true' ? 'cluster' : 'instance'
}

function databaseId(found: AddonStack): string {
  return found.stack.outputs.DatabaseIdentifier || found.stack.parameters.DatabaseIdentifier
}

/** A restore's database gets a new identifier (CloudFormation replaces a named resource only under a new name). */
function nextGeneration(app: string, found: AddonStack): string {
  const base = names.addonDatabaseBase(app, found.name)
  const current = databaseId(found) ?? base
  const generation = current === base ? 1 : Number(/-r(\d+)$/.exec(current)?.[1] ?? 1)
  return `${base}-r${generation + 1}`
}

/** The stack's own parameters, carried into an update (the secret is given anew or kept by the caller). */
function carried(stack: StackSummary): Record<string, string> {
  const kept = {...stack.parameters}
  delete kept.MasterPassword
  delete kept.AuthToken
  return kept
}

function backupOf(addon: string, snapshot: Snapshot): Backup {
  const state = snapshot.status === 'available' ? 'completed' : snapshot.status === 'creating' ? 'running' : 'failed'
  return {id: snapshot.id, addon, createdAt: (snapshot.createdAt ?? new Date(0)).toISOString(), state, location: `RDS snapshot ${snapshot.id}${snapshot.sizeGb ? ` (${snapshot.sizeGb} GB database)` : ''}`}
}

function costNote(plan: AwsPlan): string {
  return `Plan ${plan.name}: about $${plan.monthlyUsd!.toFixed(2)} a month on demand in us-east-1 (${plan.description}).`
}

function newSecret(): string {
  return randomBytes(24).toString('hex')
}

function stamp(ctx: AwsContext): string {
  return ctx.clock.now().toISOString().replaceAll(/[-:TZ.]/g, '').slice(0, 14)
}

async function template(service: AddonService): Promise<string> {
  try {
    return await readFile(new URL(TEMPLATE[service], TEMPLATES), 'utf8')
  } catch (error) {
    throw new HerogateError(`herogate's template ${TEMPLATE[service]} is missing from this installation.`, {cause: error, suggestions: ['reinstall herogate']})
  }
}
