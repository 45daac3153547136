import {Config, Errors} from '@oclif/core'
import {fileURLToPath} from 'node:url'

import {setPlatformFactory} from '../../src/platform/index.js'
import type {Platform} from '../../src/platform/types.js'

let config: Config | undefined
const root = fileURLToPath(new URL('../..', import.meta.url))

export interface CommandOutput {
  stdout: string
  stderr: string
  exitCode: number
}

type CommandClass = {run(argv?: string[], config?: Config): Promise<unknown>}

/** Runs a command class in-process against `platform`, capturing stdout, stderr and the exit code. */
export async function runCommand(command: CommandClass, argv: string[], platform: Platform): Promise<CommandOutput> {
  config ??= await Config.load(root)
  setPlatformFactory(() => platform)
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
  }

  return {stdout: out.join(''), stderr: err.join(''), exitCode}
}
