import type {Clock} from '../platform/aws/context.js'
import {LOCK_TTL_MS} from '../platform/aws/lock.js'
import {RELEASE_PHASE_TIMEOUT_MS} from '../platform/aws/release-image.js'
import {ROLLOUT_SETTINGS} from '../platform/aws/rollout.js'
import {HerogateError} from '../lib/errors.js'

/**
 * How long each part of a push's build may take. The build project's timeout is their sum
 * (create passes it to the app stack), so a release whose every part takes its longest still
 * ends inside it; when one part overran, the deadline (the timeout less the margin) stops the
 * release in time to put every service back and record it as failed.
 */
export const BUDGET_MS = {
  /** Provisioning, installing herogate's release code and building the image (a cold buildpacks build is the slow case). */
  build: 25 * 60_000,
  /** Waiting for another release of the app: a lock whose holder stopped is taken over after its TTL. */
  lockWait: LOCK_TTL_MS,
  releasePhase: RELEASE_PHASE_TIMEOUT_MS,
  rollout: ROLLOUT_SETTINGS.timeoutMs,
  /** Kept free at the end: putting the previous release back and recording the failure. */
  margin: 5 * 60_000,
}

/** The build project's timeout (CodeBuild counts whole minutes). */
export const BUILD_TIMEOUT_MINUTES = Math.ceil(Object.values(BUDGET_MS).reduce((sum, ms) => sum + ms, 0) / 60_000)

/** Less than this left before the deadline once the image is built: the release is not started. */
export const MIN_RELEASE_MS = 5 * 60_000

/** Epoch ms by which a release must have ended, putting back included. */
export function releaseDeadline(buildStartedAt: number, timeoutMinutes = BUILD_TIMEOUT_MINUTES): number {
  return buildStartedAt + timeoutMinutes * 60_000 - BUDGET_MS.margin
}

/**
 * How long to wait for the app's lock, `now` being after the image build: a slow build shortens
 * the wait first, so that the rollout keeps its time. The release phase and the rollout keep
 * their own budgets; when they would run past the deadline, the deadline stops them.
 */
export function lockWaitMs(deadline: number, now: number): number {
  return Math.max(0, Math.min(BUDGET_MS.lockWait, deadline - now - BUDGET_MS.rollout))
}

/** The build is about to reach its timeout: what was running stops, and is put back. */
export class BuildOutOfTime extends HerogateError {
  constructor(readonly timeoutMinutes: number, detail = '') {
    super(`The build stopped the release ${BUDGET_MS.margin / 60_000} minutes before its ${timeoutMinutes}-minute timeout${detail ? `: ${detail}` : '.'}`, {
      suggestions: ['herogate logs --source herogate (which step took the time)', 'herogate deploy (to try again)'],
    })
  }
}

/**
 * A clock whose sleeps end at the deadline: the sleep that reaches it aborts the returned signal
 * (with BuildOutOfTime) and throws. Every wait of a release (lock, release phase, rollout) sleeps
 * on its context's clock, so with this clock and signal each stops there and puts back what it
 * changed, with a real clock and with a test's.
 */
export function deadlineClock(clock: Clock, deadline: number, reason: () => Error): {clock: Clock; signal: AbortSignal} {
  const controller = new AbortController()
  const expire = () => {
    if (!controller.signal.aborted) controller.abort(reason())
    return controller.signal.reason as Error
  }

  return {
    signal: controller.signal,
    clock: {
      now: () => clock.now(),
      async sleep(ms, signal) {
        if (controller.signal.aborted) throw controller.signal.reason
        const left = deadline - clock.now().getTime()
        if (left <= ms) {
          if (left > 0) await clock.sleep(left, signal)
          throw expire()
        }

        await clock.sleep(ms, signal ? AbortSignal.any([signal, controller.signal]) : controller.signal)
      },
    },
  }
}
