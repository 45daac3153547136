import type {Autoscaling} from '../platform/autoscale.js'
import {InvalidInput} from './errors.js'
import {PROCESS_TYPE} from './naming.js'
import {MAX_PROCESS_COUNT} from './sizes.js'

/** The CPU target when neither --cpu nor --requests-per-process is given: room for a burst before new processes are up. */
export const DEFAULT_CPU_TARGET = 60
export const MAX_REQUESTS_TARGET = 100_000

export interface AutoscaleFlags {
  type: string
  min?: number
  max?: number
  cpu?: number
  requestsPerProcess?: number
}

/**
 * ps:autoscale's flags as one setting, every bound checked before any platform call. A minimum
 * of 0 is refused: with no process there is no CPU or request count per process to scale out on.
 */
export function parseAutoscale(flags: AutoscaleFlags): Autoscaling {
  const {type, min, max, cpu, requestsPerProcess} = flags
  const again = `herogate ps:autoscale ${PROCESS_TYPE.test(type) ? type : 'web'} --min 1 --max 4`
  if (!PROCESS_TYPE.test(type)) throw new InvalidInput(`"${type}" is not a process type name.`, {suggestions: [again]})
  if (min === undefined || max === undefined) throw new InvalidInput('Both --min and --max are needed.', {suggestions: [again]})
  if (min < 1) throw new InvalidInput(`--min ${min}: the minimum is 1 (with no process there is nothing to measure, so nothing to scale out on).`, {suggestions: [again, `herogate scale ${type}=0 (to stop ${type})`]})
  if (max > MAX_PROCESS_COUNT) throw new InvalidInput(`--max ${max}: at most ${MAX_PROCESS_COUNT} processes of one type.`, {suggestions: [`herogate ps:autoscale ${type} --min ${Math.min(min, MAX_PROCESS_COUNT)} --max ${MAX_PROCESS_COUNT}`]})
  if (min > max) throw new InvalidInput(`--min ${min} is above --max ${max}.`, {suggestions: [`herogate ps:autoscale ${type} --min ${max} --max ${min}`]})
  if (cpu !== undefined && requestsPerProcess !== undefined) throw new InvalidInput('Give --cpu or --requests-per-process, not both.', {suggestions: [`herogate ps:autoscale ${type} --min ${min} --max ${max} --cpu ${cpu}`]})
  if (requestsPerProcess !== undefined) {
    if (type !== 'web') {
      throw new InvalidInput(`--requests-per-process is for web only: only web processes get requests from the router (${type} does not).`, {
        suggestions: [`herogate ps:autoscale ${type} --min ${min} --max ${max} --cpu ${DEFAULT_CPU_TARGET}`],
      })
    }

    if (requestsPerProcess < 1 || requestsPerProcess > MAX_REQUESTS_TARGET) {
      throw new InvalidInput(`--requests-per-process ${requestsPerProcess}: give requests per process per minute, 1 to ${MAX_REQUESTS_TARGET}.`, {suggestions: [`herogate ps:autoscale web --min ${min} --max ${max} --requests-per-process 1000`]})
    }

    return {type, min, max, metric: 'requests-per-process', target: requestsPerProcess}
  }

  const target = cpu ?? DEFAULT_CPU_TARGET
  if (target < 1 || target > 100) throw new InvalidInput(`--cpu ${target}: give the average CPU percent to keep, 1 to 100.`, {suggestions: [`herogate ps:autoscale ${type} --min ${min} --max ${max} --cpu ${DEFAULT_CPU_TARGET}`]})
  return {type, min, max, metric: 'cpu', target}
}

/** One line: "1..4 processes, target 60% CPU" or "2..10 processes, target 1000 requests per process per minute". */
export function autoscaleText(autoscaling: Autoscaling): string {
  const goal = autoscaling.metric === 'cpu' ? `${autoscaling.target}% CPU` : `${autoscaling.target} requests per process per minute`
  return `${autoscaling.min}..${autoscaling.max} processes, target ${goal}`
}
