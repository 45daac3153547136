import type {AwsClients} from '../../aws/clients.js'
import type {AppResources, LoadAppResources} from './resources.js'

export interface Clock {
  now(): Date
  sleep(ms: number, signal?: AbortSignal): Promise<void>
}

export const systemClock: Clock = {
  now: () => new Date(),
  sleep: (ms, signal) =>
    new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason)
      const timer = setTimeout(resolve, ms)
      signal?.addEventListener('abort', () => {
        clearTimeout(timer)
        reject(signal.reason)
      }, {once: true})
    }),
}

/** What every part of the AWS driver needs; tests inject mocked clients and a fake clock. */
export interface AwsContext {
  region: string
  clients: AwsClients
  clock: Clock
  /** Where app infrastructure comes from; unset: resources.ts reads it from the stacks. Tests and benches set it. */
  appResources?: LoadAppResources
  /** The app resources one command has read, by app (resources.ts commandContext); unset: read each time they are needed. */
  resourcesRead?: Map<string, Promise<AppResources>>
}
