import type {Release, RunResult} from '../platform/types.js'

/**
 * Errors a user can act on. Each carries one line saying what happened and suggestions
 * saying what to run next; the base command prints them without a stack trace.
 * Wrappers turn AWS and system errors into these at their boundary; callers use instanceof.
 */
export class HerogateError extends Error {
  readonly suggestions: string[]
  readonly exitCode: number
  /** Lines shown under the message, before the suggestions: what explains it (a failing process's last lines). */
  readonly details: string[]

  constructor(message: string, options: {suggestions?: string[]; exitCode?: number; cause?: unknown; details?: string[]} = {}) {
    super(message, options.cause === undefined ? undefined : {cause: options.cause})
    this.name = new.target.name
    this.suggestions = options.suggestions ?? []
    this.exitCode = options.exitCode ?? 1
    this.details = options.details ?? []
  }
}

/** Bad flags, arguments or files: refused before anything is changed. */
export class InvalidInput extends HerogateError {}

export class AppNotFound extends HerogateError {
  constructor(readonly app: string, where?: string, suggestions?: string[]) {
    super(`App ${app} not found${where ? ` in ${where}` : ''}.`, {
      suggestions: suggestions ?? ['herogate apps'],
    })
  }
}

export class AppExists extends HerogateError {
  constructor(readonly app: string, where?: string) {
    super(`Name ${app} is already taken${where ? ` in ${where}` : ''}.`, {
      suggestions: [`herogate info -a ${app}`, 'herogate create (without a name, for a random one)'],
    })
  }
}

/** No app given and none could be found from HEROGATE_APP or the git remote. */
export class NoAppSpecified extends HerogateError {
  constructor() {
    super('No app specified.', {
      suggestions: ['herogate <command> -a APP', 'export HEROGATE_APP=APP', 'run it inside a repo with a "herogate" git remote'],
    })
  }
}

/** Where herogate finds AWS credentials, for suggestions: the SDK's own places, no AWS CLI needed. */
export const AWS_CREDENTIALS_HELP = 'export AWS_ACCESS_KEY_ID=... AWS_SECRET_ACCESS_KEY=... (or AWS_PROFILE=NAME with the profile in ~/.aws/credentials or ~/.aws/config)'
export const AWS_REGION_HELP = 'export AWS_REGION=eu-west-1 (or region = eu-west-1 in ~/.aws/config, or --region eu-west-1)'

export class NoCredentials extends HerogateError {
  constructor(cause?: unknown) {
    super('No AWS credentials found.', {
      cause,
      suggestions: [AWS_CREDENTIALS_HELP, 'herogate create --local to try herogate on this machine with no AWS account'],
    })
  }
}

export class NoRegion extends HerogateError {
  constructor(message = 'No AWS region set.', suggestions = ['--region eu-west-1', AWS_REGION_HELP]) {
    super(message, {suggestions})
  }
}

/**
 * Neither an AWS region nor AWS credentials are set on this machine: whoever uses only the
 * local platform. `local` is the command that does the same on this machine, when there is one.
 */
export class AwsNotConfigured extends NoRegion {
  constructor(local = 'herogate create --local') {
    super('AWS is not set up on this machine (no AWS credentials, no AWS region).', [
      `${local} (runs the app on this machine: no AWS account needed)`,
      `to use AWS: ${AWS_CREDENTIALS_HELP}, and ${AWS_REGION_HELP}`,
    ])
  }
}

/**
 * -a (or HEROGATE_APP) names no local app, and AWS cannot be asked: it is not set up (or has
 * no region). Says which local apps come closest.
 */
export class NoLocalApp extends AppNotFound {
  constructor(app: string, readonly closest: string[], aws: 'not set up' | 'no region') {
    super(app, undefined, [
      'herogate apps (lists your apps)',
      aws === 'no region' ? `--region eu-west-1 (to look for ${app} on AWS)` : `herogate create ${app} --local (to create it)`,
    ])
    const guess = closest.length > 0 ? ` Did you mean ${closest.join(' or ')}?` : ''
    this.message = aws === 'no region'
      ? `No app named ${app} on this machine, and no AWS region set to look for it on AWS.${guess}`
      : `No app named ${app} on this machine.${guess}`
  }
}

/** The requested change would change nothing (same config, same formation). */
export class NoChanges extends HerogateError {}

/**
 * config:set of the values the vars already have, or config:unset of vars that are not set:
 * no release. Not a failure: the commands say so and exit 0, so that scripts can run again.
 */
export class ConfigUnchanged extends NoChanges {
  constructor(readonly keys: string[], why: 'same value' | 'not set') {
    const many = keys.length > 1
    super(why === 'same value'
      ? `${keys.join(', ')} already ${many ? 'have those values' : 'has that value'}: no new release.`
      : `${keys.join(', ')} ${many ? 'are' : 'is'} not set: no new release.`)
  }
}

/** For a config change's catch: what changed (nothing) and why, in place of a ConfigUnchanged error; rethrows any other. */
export function unchangedConfig(error: unknown): {keys: string[]; release?: undefined; note: string} {
  if (error instanceof ConfigUnchanged) return {keys: [], note: error.message}
  throw error
}

/**
 * deploy of the commit that is already live: nothing to release. Not a failure: deploy says
 * "Everything up-to-date" and exits 0, so that a script can deploy again and again.
 */
export class UpToDate extends NoChanges {
  constructor(readonly release: Release) {
    super(`Everything up-to-date: ${release.commit ? `${release.commit.slice(0, 7)} is` : 'that commit is'} live as v${release.version}.`)
  }
}

/** A stack or app is mid-operation and cannot take another change now. */
export class StackBusy extends HerogateError {}

/** Another deploy, config change or rollback holds the app's lock. */
export class LockHeld extends HerogateError {
  constructor(readonly app: string, readonly holder: string, readonly since: Date, readonly operation: string) {
    super(`App ${app} is busy: ${operation} by ${holder} since ${since.toISOString()}.`, {
      suggestions: ['wait for it to finish and try again', `herogate releases -a ${app}`],
    })
  }
}

/** The user interrupted (Ctrl-C); the message says what was left behind. */
export class Interrupted extends HerogateError {
  constructor(message: string) {
    super(message, {exitCode: 130})
  }
}

/** A command the user ran exited non-zero (run, release phase): pass its code through quietly. */
export class ExitCode extends HerogateError {
  constructor(code: number, message = '') {
    super(message, {exitCode: code})
  }
}

/**
 * How an attached one-off process (run, pg:psql, redis:cli) ended, as the command exits:
 * Ctrl-C, never ran (with where to look), or its own exit code passed through.
 */
export function attachedEnded(result: RunResult, whereToLook: string): RunResult {
  if (result.interrupted) throw new Interrupted(`Stopped ${result.name} (Ctrl-C).`)
  if (result.exitCode === undefined) throw new HerogateError(`${result.name} did not run${result.stopReason ? `: ${result.stopReason}` : '.'}`, {suggestions: [whereToLook]})
  if (result.exitCode !== 0) throw new ExitCode(result.exitCode)
  return result
}

export function isHerogateError(error: unknown): error is HerogateError {
  return error instanceof HerogateError
}
