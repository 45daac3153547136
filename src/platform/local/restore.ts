import {resolve} from 'node:path'

import type {DesiredState} from './contracts.js'
import {readRelease} from './releases.js'
import {appPaths, readApp} from './state.js'
import {desiredState} from './workflow.js'

/**
 * What the app in `appDir` should be running now, from its records: the current release with
 * its config and formation. A supervisor started by its watchdog (or at login) brings this
 * back with no command. Undefined when there is nothing to run: no release with code yet,
 * everything scaled to zero, or `appDir` is not that app's directory.
 */
export function currentState(app: string, appDir: string): DesiredState | undefined {
  const paths = appPaths(app)
  if (resolve(paths.dir) !== resolve(appDir)) return undefined
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
