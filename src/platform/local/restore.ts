import {resolve} from 'node:path'

import type {DeployOutcome, DesiredState} from './contracts.js'
import {desiredState, settleIfFree} from './release-owner.js'
import {readRelease} from './releases.js'
import {appPaths, readApp} from './state.js'

/**
 * What a supervisor does as it starts (started by its watchdog, at login, or by a command):
 * settle what the supervisor before it left mid-release, then bring back the current release
 * from the app's records. So a restart needs no command, and runs what the records say.
 */

/** The records of `app` are those in `appDir` (a daemon run for another directory, as some tests do, has none to read). */
function recordsIn(app: string, appDir: string): boolean {
  try {
    return resolve(appPaths(app).dir) === resolve(appDir)
  } catch {
    return false
  }
}

/**
 * Settles a release left pending by a supervisor that was killed while it owned it (marked
 * failed, its branch moved back; or made current if it had succeeded), when the app lock is
 * free: a live holder settles itself. Says what it did on `say`.
 */
export async function settleLeftovers(app: string, appDir: string, say: (message: string) => void): Promise<void> {
  if (recordsIn(app, appDir)) await settleIfFree(app, say)
}

/**
 * What the app in `appDir` should be running now, from its records: the current release with
 * its config, formation and settings. Undefined when there is nothing to run: no release with
 * code yet, everything scaled to zero, or `appDir` is not that app's directory.
 */
export function currentState(app: string, appDir: string): DesiredState | undefined {
  if (!recordsIn(app, appDir)) return undefined
  const paths = appPaths(app)
  let record
  try {
    record = readApp(app)
  } catch {
    return undefined
  }

  const release = readRelease(paths, record.current)
  if (!release?.image) return undefined
  const state = desiredState(paths, release, record.formation, record.settings)
  return Object.values(state.formation).some((count) => count > 0) ? state : undefined
}

/** Runs `state` (currentState's) on a supervisor that has just started, saying so, and why when it cannot. */
export async function bringBack(state: DesiredState, deploy: (state: DesiredState) => Promise<DeployOutcome>, say: (message: string) => void): Promise<void> {
  say(`Supervisor started: bringing back v${state.release.version}`)
  const outcome = await deploy(state)
  if (!outcome.ok) say(`Could not bring back v${state.release.version}: ${outcome.reason ?? 'unknown reason'}`)
}
