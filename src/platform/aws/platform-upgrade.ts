import {readFile} from 'node:fs/promises'

import {type StackSummary, templateResources, WaitAborted} from '../../aws/cloudformation.js'
import {StackFailed} from '../../aws/cloudformation.js'
import {HerogateError, Interrupted, StackBusy} from '../../lib/errors.js'
import {names} from '../../lib/naming.js'
import type {OperationOptions, Progress} from '../types.js'
import type {AwsContext} from './context.js'
import {stacksOf} from './resources.js'

/**
 * The platform template's version, as its TemplateVersion output says. 1: before add-ons (no
 * output); 2: private data subnets and subnet groups for add-ons (issue 12).
 */
export const PLATFORM_VERSION = 2

export function platformVersion(stack: StackSummary): number {
  return Number(stack.outputs.TemplateVersion ?? 1) || 1
}

export interface PlatformUpgrade {
  region: string
  from: number
  to: number
  /** What the update added, one line each ([] when the platform was current). */
  added: string[]
}

/** One line for `create` (stderr) when the region's platform is older than this herogate's. */
export function upgradeNote(region: string, platform: StackSummary): string | undefined {
  if (platformVersion(platform) >= PLATFORM_VERSION) return undefined
  return `The herogate platform of ${region} is older than this herogate (version ${platformVersion(platform)} of ${PLATFORM_VERSION}): add-ons need the private data subnets an update adds. Run: herogate platform:upgrade --region ${region}`
}

/**
 * platform:upgrade: brings the region's platform stack to the template this herogate ships,
 * keeping its parameters. Apps keep running: the update only adds resources (data subnets with
 * no route out of the VPC, the database and cache subnet groups, the ECR pull-through cache rule
 * when the platform predates it) and outputs.
 */
export async function upgradePlatform(ctx: AwsContext, options: OperationOptions = {}): Promise<PlatformUpgrade> {
  const progress: Progress = options.onProgress ?? (() => {})
  const stacks = await stacksOf(ctx)
  const name = names.platformStack()
  const platform = await stacks.describe(name)
  if (!platform) throw new HerogateError(`There is no herogate platform in ${ctx.region}.`, {suggestions: [`herogate create --region ${ctx.region} (makes the current one)`]})
  if (platform.status.endsWith('_IN_PROGRESS')) throw new StackBusy(`The herogate platform of ${ctx.region} is ${platform.status}.`, {suggestions: ['wait for it to finish and try again']})
  const from = platformVersion(platform)
  const added = whatUpgradeAdds(platform)
  if (added.length === 0) return {region: ctx.region, from, to: from, added}

  const templateBody = await readFile(new URL('../../../templates/platform.yml', import.meta.url), 'utf8')
  // The platform has no NoEcho parameter: its values, read back, are kept as they are.
  const parameters: Record<string, string> = {PublicImageCachePrefix: names.publicImageCache()}
  for (const key of ['Domain', 'CertificateArn', 'PublicImageCachePrefix']) if (platform.parameters[key] !== undefined) parameters[key] = platform.parameters[key]
  progress({kind: 'step', id: 'platform-upgrade', message: `Upgrading the herogate platform of ${ctx.region}: ${added.join('; ')}`, status: 'start'})
  const marker = await stacks.latestEventId(platform.id)
  const changed = await stacks.update({id: platform.id, templateBody, parameters})
  if (changed) {
    let final: StackSummary
    try {
      final = await stacks.wait(platform.id, {onProgress: progress, signal: options.signal, resources: await templateResources(templateBody), stackDescription: 'herogate platform (upgrade)', afterEventId: marker})
    } catch (error) {
      if (error instanceof WaitAborted) throw new Interrupted(`Interrupted: the platform update of ${ctx.region} goes on in AWS; run herogate platform:upgrade --region ${ctx.region} again to follow it.`)
      throw error
    }

    if (final.status !== 'UPDATE_COMPLETE') {
      progress({kind: 'step', id: 'platform-upgrade', message: 'Upgrading the herogate platform', status: 'failed'})
      const failure = await stacks.failure(platform.id, marker)
      throw new StackFailed(
        `Could not upgrade the herogate platform of ${ctx.region}: ${failure ? `${failure.resource} (${failure.resourceType}): ${failure.reason}` : `stack ended ${final.status}`}. CloudFormation put it back as it was; apps keep running.`,
        name,
        failure,
        [`herogate platform:upgrade --region ${ctx.region} (after fixing the cause)`],
      )
    }
  }

  progress({kind: 'step', id: 'platform-upgrade', message: `Upgraded the herogate platform of ${ctx.region}`, status: 'done'})
  return {region: ctx.region, from, to: PLATFORM_VERSION, added}
}

/** What the current template adds to this platform stack, in words. */
export function whatUpgradeAdds(platform: StackSummary): string[] {
  const added: string[] = []
  if (!platform.outputs.DatabaseSubnetGroup || !platform.outputs.DataSubnets) {
    added.push('private data subnets in two availability zones (no route to the internet, no NAT) for add-ons')
    added.push('a database subnet group (RDS) and a cache subnet group (ElastiCache) over them')
  }

  if (!('PublicImageCachePrefix' in platform.parameters)) added.push(`the ECR pull-through cache of ECR Public (${names.publicImageCache()}/*) that builds pull their tools through`)
  if (added.length === 0 && platformVersion(platform) < PLATFORM_VERSION) added.push(`template version ${PLATFORM_VERSION}`)
  return added
}
