import type {Clock} from './context.js'

/**
 * ECS keeps a deleted service DRAINING until its tasks are stopping, and refuses to create a
 * service of the same name meanwhile ("Unable to Start a service that is still Draining").
 * Draining takes the target group's deregistration delay plus the processes' shutdown: seconds
 * to a couple of minutes, so the callers wait for it rather than name services differently
 * (names.service(app, type) is how every command finds a process type's service).
 */

/** How long a release or a destroy waits for ECS to finish draining before it gives up. */
export const DRAIN_WAIT_MS = 10 * 60_000
export const DRAIN_POLL_MS = 5000

/**
 * Polls `settled` until it says yes or `timeoutMs` has passed on the clock; resolves with
 * whether it settled. `onTick` runs before each wait (e.g. to keep a lock alive).
 */
export async function pollUntil(
  clock: Clock,
  settled: () => Promise<boolean>,
  options: {timeoutMs?: number; pollMs?: number; signal?: AbortSignal; onTick?: () => Promise<void>} = {},
): Promise<boolean> {
  const deadline = clock.now().getTime() + (options.timeoutMs ?? DRAIN_WAIT_MS)
  for (;;) {
    if (await settled()) return true
    if (clock.now().getTime() >= deadline) return false
    await options.onTick?.()
    await clock.sleep(options.pollMs ?? DRAIN_POLL_MS, options.signal)
  }
}
