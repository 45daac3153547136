import {Config, Errors} from '@oclif/core'
import {fileURLToPath} from 'node:url'

import {setCommandClock} from '../../src/lib/base.js'
import {setPlatformFactory} from '../../src/platform/index.js'
import type {Platform} from '../../src/platform/types.js'

let config: Config | undefined
const root = fileURLToPath(new URL('../..', import.meta.url))

export interface CommandOutput {
  stdout: string
  stderr: string
  exitCode: number
}

type CommandClass = {id?: string; run(argv?: string[], config?: Config): Promise<unknown>}

export interface RunOptions {
  /** Whether stdout and stderr look like a terminal (default: not, as when piped). */
  tty?: boolean
  /** Environment for the command; NO_COLOR and FORCE_COLOR are cleared unless given here. */
  env?: Record<string, string | undefined>
  /** The clock relative times are told by. */
  now?: Date
  /** The command's id, as oclif sets it when it loads the command (ps:stop also when typed as its alias ps:kill). */
  id?: string
}

const COLOR_ENV = ['NO_COLOR', 'FORCE_COLOR']

/** Runs a command class in-process against `platform`, capturing stdout, stderr and the exit code. */
export async function runCommand(command: CommandClass, argv: string[], platform: Platform, options: RunOptions = {}): Promise<CommandOutput> {
  config ??= await Config.load(root)
  setPlatformFactory(() => platform)
  if (options.now) setCommandClock(() => options.now!)
  const env = {...Object.fromEntries(COLOR_ENV.map((key) => [key, undefined])), ...options.env}
  const savedEnv = Object.fromEntries(Object.keys(env).map((key) => [key, process.env[key]]))
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) delete process.env[key]
    else process.env[key] = value
  }

  const savedId = command.id
  if (options.id) command.id = options.id
  const savedTty = [process.stdout.isTTY, process.stderr.isTTY]
  process.stdout.isTTY = options.tty ?? false
  process.stderr.isTTY = options.tty ?? false
  const out: string[] = []
  const err: string[] = []
  const writeOut = process.stdout.write.bind(process.stdout)
  const writeErr = process.stderr.write.bind(process.stderr)
  process.stdout.write = ((chunk: string | Uint8Array) => out.push(String(chunk)) > 0) as typeof process.stdout.write
  process.stderr.write = ((chunk: string | Uint8Array) => err.push(String(chunk)) > 0) as typeof process.stderr.write
  const savedExitCode = process.exitCode
  let exitCode = 0
  try {
    await command.run(argv, config)
  } catch (error) {
    if (error instanceof Errors.ExitError) exitCode = error.oclif.exit ?? 1
    else throw error
  } finally {
    process.stdout.write = writeOut
    process.stderr.write = writeErr
    process.exitCode = savedExitCode
    setPlatformFactory(undefined)
    setCommandClock(undefined)
    command.id = savedId
    ;[process.stdout.isTTY, process.stderr.isTTY] = savedTty
    for (const [key, value] of Object.entries(savedEnv)) {
      if (value === undefined) delete process.env[key]
      else process.env[key] = value
    }
  }

  return {stdout: out.join(''), stderr: err.join(''), exitCode}
}
