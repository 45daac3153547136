import {fstatSync, readFileSync, writeSync} from 'node:fs'

import type {AppFlags, ReadContext} from './reads.js'

/**
 * The read commands of local apps (ps, config, releases, info, apps, logs -n) without oclif:
 * loading oclif and its command modules costs twice node's own start-up, and these commands
 * are what a user types most. bin/run.js tries this first. It takes only a plain command
 * line of flags it knows, for an app on the local platform; anything else (help, a flag it
 * does not take, a value oclif would check, an app on AWS, any error) is left to oclif, which
 * runs the command from the start and says what is wrong in its own words. What it prints
 * comes from the same code as the oclif command's (lib/reads.ts), and oclif's manifest gives
 * the flags' letters, defaults and allowed values, so the two cannot drift apart unnoticed
 * (test/fast-path.test.ts runs every case both ways).
 */

interface ManifestFlag {
  name: string
  char?: string
  type: 'boolean' | 'option'
  default?: unknown
  options?: string[]
  multiple?: boolean
  exclusive?: string[]
  allowNo?: boolean
}

interface ManifestCommand {
  id: string
  aliases?: string[]
  flags: Record<string, ManifestFlag>
  args?: Record<string, unknown>
  enableJsonFlag?: boolean
}

type Flags = Record<string, string | number | boolean | undefined>

interface Read {
  /** The function of lib/reads.ts that is the command. */
  run: 'ps' | 'config' | 'releases' | 'appsInfo' | 'apps' | 'logs'
  /** The flags this path maps onto the read; a command line with any other goes to oclif. */
  flags: string[]
  /** Flags it takes only when absent (logs -t streams until Ctrl-C: oclif's). */
  refused?: string[]
}

const APP = ['app', 'json', 'no-color']

/** Command id to what it takes; aliases come from the manifest. --region and --profile are AWS's, so oclif's. */
export const FAST_READS: Record<string, Read> = {
  ps: {run: 'ps', flags: APP},
  config: {run: 'config', flags: [...APP, 'shell']},
  releases: {run: 'releases', flags: [...APP, 'num']},
  'apps:info': {run: 'appsInfo', flags: APP},
  apps: {run: 'apps', flags: ['json', 'local', 'aws', 'no-color']},
  logs: {run: 'logs', flags: ['app', 'num', 'dyno', 'process-type', 'task', 'source', 'since', 'json', 'no-color'], refused: ['tail']},
}

/** Raised where the fast path stops and leaves the command to oclif. */
class NotHere extends Error {}

/**
 * Runs argv (without node and the script) when it is a read this path takes; true when it
 * did, false when oclif should run it (nothing was printed or changed then).
 */
export async function runFast(argv: string[], manifestUrl: URL): Promise<boolean> {
  if (argv.length === 0 || process.env.HEROGATE_CONTENT_TYPE) return false
  let manifest: {commands: Record<string, ManifestCommand>}
  try {
    manifest = JSON.parse(readFileSync(manifestUrl, 'utf8'))
  } catch {
    return false
  }

  const command = findCommand(manifest.commands, argv[0])
  const read = command && FAST_READS[command.id]
  if (!command || !read) return false
  const flags = parseFlags(command, read, argv.slice(1))
  if (!flags) return false

  // Loaded only for a command line this path takes: any other command pays for this module alone.
  const [reads, {resolveApp}, {openPlatform}, {createRenderer}, {colorEnabled, palette}] = await Promise.all([
    import('./reads.js'),
    import('./app.js'),
    import('../platform/index.js'),
    import('./progress.js'),
    import('./color.js'),
  ])
  const json = Boolean(command.enableJsonFlag && flags.json)
  // Output is held until the command has finished, in the order it came, so that a command
  // left to oclif halfway has printed nothing. Written to the file descriptors: process.stdout
  // and process.stderr load node's streams, which take longer than the rest of a read.
  const out: Array<[1 | 2, string]> = []
  // Only warnings reach it here (ps), which a terminal shows as plain lines too.
  const renderer = createRenderer({json, stream: {write: (text: string) => out.push([2, text]) > 0}})
  const io: ReadContext = {
    log: (message) => json || out.push([1, `${message}\n`]),
    write: (text) => out.push([1, text]),
    note: (message) => json || out.push([2, `${message}\n`]),
    json,
    // As HerogateCommand's: a terminal gets colour unless --no-color or the environment says
    // otherwise. A character device stands for a terminal (node:tty would load streams; the
    // other character device a command writes to, /dev/null, shows nothing either way).
    colors: palette(colorEnabled({isTTY: isCharacterDevice(1)}, {noColorFlag: Boolean(flags['no-color'])})),
    now: () => new Date(),
    progress: renderer.progress,
    // Only logs -t waits on it, and that is oclif's.
    get signal() {
      return new AbortController().signal
    },
    async resolveTarget(flags: AppFlags) {
      const target = await resolveApp({app: flags.app, cwd: process.cwd(), region: flags.region})
      if (target.platform !== 'local') throw new NotHere()
      return {target, platform: await openPlatform('local')}
    },
    platform: (kind, options) => openPlatform(kind, options),
  }

  let result: unknown
  try {
    result = await (reads[read.run] as (io: ReadContext, flags: Flags) => Promise<unknown>)(io, flags)
  } catch {
    return false
  }

  renderer.done()
  if (json) out.push([1, `${JSON.stringify(result, null, 2)}\n`])
  for (const [fd, text] of out) writeAll(fd, text)
  return true
}

function isCharacterDevice(fd: number): boolean {
  try {
    return fstatSync(fd).isCharacterDevice()
  } catch {
    return false
  }
}

/** Writes all of `text` to a file descriptor, waiting while a non-blocking pipe is full. */
function writeAll(fd: number, text: string): void {
  let buffer = Buffer.from(text)
  while (buffer.length > 0) {
    try {
      buffer = buffer.subarray(writeSync(fd, buffer))
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1)
    }
  }
}

function findCommand(commands: Record<string, ManifestCommand>, word: string): ManifestCommand | undefined {
  if (Object.hasOwn(commands, word)) return commands[word]
  return Object.values(commands).find((command) => command.aliases?.includes(word))
}

/**
 * oclif's reading of a plain command line: `--name value`, `--name=value`, `-n value`, `-nvalue`,
 * booleans by name or letter. Undefined for anything else (arguments, `--`, a repeated flag,
 * `--no-x`, joined letters, a value that looks like a flag, a number above the flag's default,
 * a value outside its options), which oclif then reads and, where it must, refuses.
 */
export function parseFlags(command: ManifestCommand, read: Read, argv: string[]): Flags | undefined {
  const known = Object.values(command.flags).filter((flag) => read.flags.includes(flag.name) || read.refused?.includes(flag.name))
  const byName = new Map(known.map((flag) => [flag.name, flag]))
  const byChar = new Map(known.filter((flag) => flag.char).map((flag) => [flag.char!, flag]))
  const flags: Flags = {}
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]
    let flag: ManifestFlag | undefined
    let value: string | undefined
    if (word.startsWith('--') && word.length > 2) {
      const [name, ...rest] = word.slice(2).split('=')
      flag = byName.get(name)
      if (rest.length > 0) value = rest.join('=')
    } else if (/^-[^-]/.test(word)) {
      flag = byChar.get(word[1])
      if (word.length > 2) value = word.slice(2)
    } else {
      return undefined
    }

    if (!flag || flag.multiple || Object.hasOwn(flags, flag.name)) return undefined
    if (flag.type === 'boolean') {
      if (value !== undefined) return undefined
      flags[flag.name] = true
      continue
    }

    if (value === undefined) value = argv[++i]
    if (value === undefined || value === '' || value.startsWith('-')) return undefined
    if (flag.options && !flag.options.includes(value)) return undefined
    if (typeof flag.default === 'number') {
      // 1 up to the default is within any range the flag takes; oclif checks the rest.
      if (!/^[1-9]\d*$/.test(value) || Number(value) > flag.default) return undefined
      flags[flag.name] = Number(value)
    } else {
      flags[flag.name] = value
    }
  }

  for (const name of read.refused ?? []) if (flags[name]) return undefined
  for (const flag of known) {
    if (flags[flag.name] === undefined && flag.default !== undefined) flags[flag.name] = flag.default as string | number | boolean
    if (flags[flag.name] !== undefined && flag.exclusive?.some((other) => flags[other] !== undefined && flags[other] !== false)) return undefined
  }

  return flags
}
