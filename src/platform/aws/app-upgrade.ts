import {readFile} from 'node:fs/promises'

import {type CloudFormation, StackFailed, type StackSummary, templateResources, WaitAborted} from '../../aws/cloudformation.js'
import {HerogateError, Interrupted, StackBusy} from '../../lib/errors.js'
import {names} from '../../lib/naming.js'
import type {Progress} from '../types.js'
import type {AwsContext} from './context.js'
import {loadBalancerSecurityGroup} from './shared-balancer.js'
import {USABLE} from './stack-states.js'

/**
 * Apps made before each app had a security group of its own ran their tasks in the platform's
 * shared group, which every app's tasks are in: an add-on admitting it would admit them all.
 * The first add-on of such an app (or its first scheduled job: the same update brings the role
 * EventBridge Scheduler runs jobs with) updates its stack to the template this herogate ships, which
 * adds the app's group and publishes it; the add-on's config release then moves the app's
 * services into it (UpdateService with the app's network, config-release.ts), as every release
 * does from then on. Nothing else of the app changes: its parameters are kept as they are.
 */

/**
 * The app's own task security group (`published`: the one its resources name), made by an
 * update of the app stack when the stack predates it (the update's progress goes to
 * `progress`; `retry` is the command to run again). Returns the group and whether the stack was upgraded.
 */
export async function appTaskSecurityGroup(
  ctx: AwsContext, stacks: CloudFormation, app: string, published: string, platform: StackSummary,
  options: {onProgress: Progress; retry: string; signal?: AbortSignal; notMade?: string},
): Promise<{group: string; upgraded: boolean}> {
  const {onProgress: progress, retry, signal} = options
  // What the command that needed the upgrade did not do when it fails (scheduler:add upgrades an older app too).
  const notMade = options.notMade ?? 'no add-on was made'
  if (published && published !== platform.outputs.TaskSecurityGroup) return {group: published, upgraded: false}
  const stack = await stacks.describe(names.appStack(app))
  if (!stack) throw new HerogateError(`The stack of app ${app} is missing.`, {suggestions: [`herogate apps --region ${ctx.region}`]})
  if (stack.outputs.TaskSecurityGroup) return {group: stack.outputs.TaskSecurityGroup, upgraded: false}
  if (!USABLE.has(stack.status)) throw new StackBusy(`App ${app} is not ready: its stack ${stack.name} is ${stack.status}.`, {suggestions: ['wait a minute and try again']})

  const templateBody = await readFile(new URL('../../../templates/app.yml', import.meta.url), 'utf8')
  // The app stack has no NoEcho parameter: its values, read back, are kept as they are.
  const parameters = {...stack.parameters, LoadBalancerSecurityGroup: await loadBalancerSecurityGroup(ctx, platform)}
  const message = `Upgrading app ${app}: its processes get a security group of their own, the only one its add-ons admit (stack ${stack.name})`
  progress({kind: 'step', id: 'app-upgrade', message, status: 'start'})
  const marker = await stacks.latestEventId(stack.id)
  await stacks.update({id: stack.id, templateBody, parameters})
  let final: StackSummary
  try {
    final = await stacks.wait(stack.id, {onProgress: progress, signal, resources: await templateResources(templateBody), stackDescription: `app ${app} (upgrade)`, afterEventId: marker})
  } catch (error) {
    if (error instanceof WaitAborted) throw new Interrupted(`Interrupted: the update of app ${app}'s stack goes on in AWS, and ${notMade}; run ${retry} again once it is done.`)
    throw error
  }

  if (final.status !== 'UPDATE_COMPLETE' || !final.outputs.TaskSecurityGroup) {
    progress({kind: 'step', id: 'app-upgrade', message: `Upgrading app ${app}`, status: 'failed'})
    const failure = await stacks.failure(stack.id, marker)
    throw new StackFailed(
      `Could not give app ${app} a security group of its own: ${failure ? `${failure.resource} (${failure.resourceType}): ${failure.reason.replace(/\.$/, '')}` : `stack ended ${final.status}`}. CloudFormation put the app back as it was; ${notMade}.`,
      stack.name,
      failure,
      [`${retry} (again, after fixing the cause)`],
    )
  }

  progress({kind: 'step', id: 'app-upgrade', message: `Upgraded app ${app}: its processes move into their own security group with its next release`, status: 'done'})
  return {group: final.outputs.TaskSecurityGroup, upgraded: true}
}
