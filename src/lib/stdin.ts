import {readFile} from 'node:fs/promises'
import type {Readable} from 'node:stream'

import {InvalidInput} from './errors.js'

/** Reads a file, or standard input for "-". */
export async function readInput(path: string): Promise<string> {
  if (path !== '-') {
    try {
      return await readFile(path, 'utf8')
    } catch (error) {
      throw new InvalidInput(`Cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}.`, {cause: error})
    }
  }

  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

/** A shell with nothing to run but what it reads: `run bash` with no terminal reads its commands from standard input. */
const SHELL = /^(?:\S*\/)?(?:ba|da|k|z|fi)?sh$/

/** `run bash` with no terminal and nothing on standard input would run nothing: refused, with what to run instead. */
export async function refuseShellWithoutInput(command: string[], stdin: Readable & {isTTY?: boolean}): Promise<void> {
  if (stdin.isTTY || command.length !== 1 || !SHELL.test(command[0]) || !(await endsEmpty(stdin))) return
  throw new InvalidInput(`${command[0]} has nothing to run: there is no terminal, and standard input is empty.`, {
    suggestions: [`herogate run ${command[0]} -c 'COMMAND'`, `herogate run ${command[0]} < script.sh`, 'herogate run (in a terminal, for an interactive shell)'],
  })
}

/**
 * Whether `stream` ends before giving a byte. What it gave is put back, so whoever reads it
 * next gets everything. Waits for the first byte or the end: a pipe that stays open and
 * silent keeps it waiting, as it would keep the command that reads it.
 */
export function endsEmpty(stream: Readable): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const done = (empty: boolean) => {
      stream.off('readable', onReadable)
      stream.off('end', onEnd)
      stream.off('error', onError)
      resolve(empty)
    }

    const onReadable = () => {
      const chunk = stream.read() as Buffer | string | null
      if (chunk === null) return
      stream.unshift(chunk)
      done(false)
    }

    const onEnd = () => done(true)
    const onError = (error: Error) => {
      stream.off('readable', onReadable)
      stream.off('end', onEnd)
      reject(error)
    }

    stream.on('readable', onReadable)
    stream.once('end', onEnd)
    stream.once('error', onError)
  })
}
