import {type CloudFormation, StackFailed, type StackFailure, type StackSummary, type WaitOptions} from '../../aws/cloudformation.js'

/**
 * What the stacks herogate creates (the platform's, an app's, an add-on's) share: the states
 * in which one can be used, those a failed create leaves, and what is done with a stack whose
 * create failed.
 */

/** Stack states a stack can be used (and updated) in. */
export const USABLE = new Set(['CREATE_COMPLETE', 'UPDATE_COMPLETE', 'UPDATE_ROLLBACK_COMPLETE'])

/** Stack states after a failed create: reported with the failing resource's reason, then replaced. */
export const FAILED_CREATE = new Set(['ROLLBACK_COMPLETE', 'ROLLBACK_FAILED', 'CREATE_FAILED', 'DELETE_FAILED'])

/** Why a create failed (its first failing resource), and whether its stack is gone. */
export interface FailedCreate {
  failure?: StackFailure
  deleted: boolean
}

/**
 * A stack whose create has just failed: its failing resource is read, then the stack is deleted
 * at once, so nothing half-made stays billed or holds the name. The deletion is waited for
 * (with `waitOptions`' progress) even when the create's wait was interrupted.
 */
export async function removeFailedCreate(stacks: CloudFormation, id: string, waitOptions: WaitOptions = {}): Promise<FailedCreate> {
  const failure = await stacks.failure(id)
  await stacks.delete(id)
  const deleted = await stacks.wait(id, {...waitOptions, signal: undefined}).then((s) => s.status === 'DELETE_COMPLETE', () => false)
  return {failure, deleted}
}

/** The error of a failed create of `what` (its stack as the create ended): why, and whether the stack is gone. */
export function createFailed(what: string, stack: Pick<StackSummary, 'name' | 'status'>, {failure, deleted}: FailedCreate, suggestions: string[]): StackFailed {
  return new StackFailed(
    `Could not create ${what}: ${failure ? `${failure.resource} (${failure.resourceType}) failed: ${failure.reason}` : `stack ended ${stack.status}`}. ${deleted ? 'Its stack was deleted.' : `Its stack ${stack.name} could not be deleted.`}`,
    stack.name,
    failure,
    suggestions,
  )
}
