import {HerogateError} from '../../lib/errors.js'
import type {AutoscaleResult, Autoscaling} from '../autoscale.js'
import {readApp} from './state.js'

/**
 * The local platform does not autoscale: every process runs on this one machine, so a new
 * process adds no capacity, it only splits what the machine has. Refused with that reason.
 */
export class AutoscaleNotLocal extends HerogateError {}

export function autoscaling(app: string): Autoscaling[] {
  readApp(app)
  return []
}

export async function refuse(app: string, type: string): Promise<AutoscaleResult> {
  readApp(app)
  throw new AutoscaleNotLocal(`Autoscaling is for apps on AWS: ${app} runs on this machine, where more processes add no capacity, they only share the same CPUs.`, {
    suggestions: [`herogate scale ${type}=N -a ${app} (set the count by hand)`, 'herogate create (an app on AWS, where ps:autoscale works)'],
  })
}
