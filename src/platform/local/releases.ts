import {existsSync, readdirSync, readFileSync, rmSync} from 'node:fs'
import {basename, join} from 'node:path'

import {HerogateError} from '../../lib/errors.js'
import {deployHint} from '../../lib/hints.js'
import type {FailureOutput, Release, ReleaseStatus} from '../types.js'
import {type AppPaths, latestVersion, makePrivateDir, readJson, versionFile, writeFileAtomic, writeJsonAtomic} from './state.js'

/**
 * Release records: one file per version. A record is written once as pending and then only
 * its status (and the reason of a failure) changes. Whether a release is `current` is not
 * stored in it but read from app.json, so records never need rewriting on a switch.
 */

export interface ReleaseRecord extends Omit<Release, 'current'> {
  /** Why a failed release failed (build, release phase or deploy), for releases:info. */
  reason?: string
  /** A deploy: the branch its push moves, and from where, once the release is live. */
  branch?: {ref: string; old: string}
}

export type NewRelease = Omit<ReleaseRecord, 'version' | 'status' | 'createdAt' | 'reason'>

/**
 * Writes the next version, pending (its owner then finishes it) or, for a release that needs
 * no process to change, succeeded at once. The caller holds the app lock.
 */
export function createRelease(paths: AppPaths, fields: NewRelease, now: Date = new Date(), status: 'pending' | 'succeeded' = 'pending'): ReleaseRecord {
  makePrivateDir(paths.releases)
  const record: ReleaseRecord = {
    version: latestVersion(paths.releases) + 1,
    description: fields.description,
    status,
    author: fields.author,
    createdAt: now.toISOString(),
    ...(fields.commit ? {commit: fields.commit} : {}),
    ...(fields.image ? {image: fields.image} : {}),
    configVersion: fields.configVersion,
    ...(fields.processTypes ? {processTypes: fields.processTypes} : {}),
    ...(fields.branch ? {branch: fields.branch} : {}),
  }
  writeJsonAtomic(versionFile(paths.releases, record.version), record)
  return record
}

export function finishRelease(paths: AppPaths, record: ReleaseRecord, status: Exclude<ReleaseStatus, 'pending'>, reason?: string, failureOutput?: FailureOutput): ReleaseRecord {
  const done: ReleaseRecord = {...record, status, ...(reason ? {reason} : {}), ...(failureOutput ? {failureOutput} : {})}
  writeJsonAtomic(versionFile(paths.releases, record.version), done)
  return done
}

export function readRelease(paths: AppPaths, version: number): ReleaseRecord | undefined {
  const file = versionFile(paths.releases, version)
  return existsSync(file) ? readJson<ReleaseRecord>(file) : undefined
}

/** Every release, newest first. */
export function allReleases(paths: AppPaths): ReleaseRecord[] {
  if (!existsSync(paths.releases)) return []
  return readdirSync(paths.releases)
    .filter((name) => /^\d{6,}\.json$/.test(name))
    .sort()
    .reverse()
    .map((name) => readJson<ReleaseRecord>(join(paths.releases, name)))
}

export function toRelease(record: ReleaseRecord, current: number): Release {
  const {reason, branch: _branch, failureOutput, ...release} = record
  const failed = record.status === 'failed'
  return {...release, current: record.version === current, ...(failed && reason ? {failure: reason} : {}), ...(failed && failureOutput ? {failureOutput} : {})}
}

/**
 * A release's output (build, release phase, rollout: what the push showed, config values
 * hidden) lives beside its record, written by its owner as the release starts and ends.
 */
function outputFile(paths: AppPaths, version: number): string {
  return versionFile(paths.releases, version).replace(/\.json$/, '.output')
}

export function writeReleaseOutput(paths: AppPaths, version: number, lines: string[]): void {
  writeFileAtomic(outputFile(paths, version), lines.map((line) => `${line}\n`).join(''))
}

/** The kept output of a release; undefined when it has none (config changes made with nothing running, releases older than the kept ones). */
export function readReleaseOutput(paths: AppPaths, version: number): string[] | undefined {
  const file = outputFile(paths, version)
  if (!existsSync(file)) return undefined
  return readFileSync(file, 'utf8').split('\n').slice(0, -1)
}

/** Outputs of this many releases are kept (each at most RELEASE_OUTPUT_BYTES): the newest ones. */
export const OUTPUTS_KEPT = 50

export function pruneReleaseOutputs(paths: AppPaths, keep = OUTPUTS_KEPT): void {
  const outputs = readdirSync(paths.releases).filter((name) => /^\d{6,}\.output$/.test(name)).sort()
  for (const name of outputs.slice(0, Math.max(0, outputs.length - keep))) rmSync(join(paths.releases, name), {force: true})
}

/** The release a rollback without a version goes back to: the newest succeeded one with code before the current one. */
export function previousRelease(paths: AppPaths, current: number): ReleaseRecord {
  const target = allReleases(paths).find((r) => r.version < current && r.status === 'succeeded' && r.image)
  if (!target) {
    const app = basename(paths.dir)
    throw new HerogateError('No earlier release with code to roll back to.', {suggestions: [`herogate releases -a ${app}`, deployHint(app)]})
  }

  return target
}

/** "Deploy 1a2b3c4" as Heroku describes a code release. */
export function describeDeploy(commit: string): string {
  return `Deploy ${commit.slice(0, 7)}`
}

/** Types the supervisor runs: everything in the Procfile but the release phase. */
export function runnableTypes(processTypes: Record<string, string> = {}): Record<string, string> {
  const {release: _release, ...types} = processTypes
  return types
}

/**
 * The release release-owner.ts settleReleases has to settle, if any: the newest, when it is
 * pending (its owner may have died) or succeeded without being recorded as current. Reads that
 * find none can show the records as they are.
 */
export function unsettled(paths: AppPaths, record: {current: number}): ReleaseRecord | undefined {
  const newest = readRelease(paths, latestVersion(paths.releases))
  return newest && (newest.status === 'pending' || (newest.status === 'succeeded' && newest.version !== record.current)) ? newest : undefined
}
