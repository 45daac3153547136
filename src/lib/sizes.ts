import {InvalidInput} from './errors.js'

/**
 * Process sizes, Heroku-style names mapped to CPU/memory pairs that Fargate accepts
 * (CPU units: 1024 = 1 vCPU; memory in MiB). The README documents this table.
 */
export const SIZES = {
  basic: {cpu: 256, memory: 512},
  'standard-1x': {cpu: 512, memory: 1024},
  'standard-2x': {cpu: 1024, memory: 2048},
  'performance-m': {cpu: 2048, memory: 4096},
  'performance-l': {cpu: 4096, memory: 8192},
  'performance-xl': {cpu: 8192, memory: 16_384},
} as const

export type SizeName = keyof typeof SIZES
export const DEFAULT_SIZE: SizeName = 'standard-1x'
/** Most processes of one type herogate will start; a guard against typos like web=200. */
export const MAX_PROCESS_COUNT = 100

export function isSize(name: string): name is SizeName {
  return Object.hasOwn(SIZES, name)
}

export function sizeSpec(name: string): {cpu: number; memory: number} {
  if (!isSize(name)) {
    throw new InvalidInput(`Unknown size "${name}".`, {suggestions: [`use one of: ${Object.keys(SIZES).join(', ')}`]})
  }

  return SIZES[name]
}

/** The size name for a CPU/memory pair, for showing what a task runs with. */
export function sizeFor(cpu: number | string | undefined, memory: number | string | undefined): string {
  const entry = Object.entries(SIZES).find(([, spec]) => spec.cpu === Number(cpu) && spec.memory === Number(memory))
  return entry ? entry[0] : `${cpu ?? '?'}cpu/${memory ?? '?'}MiB`
}
