import type {FailureOutput} from '../platform/types.js'

/**
 * What a process printed, as herogate shows it where a release fails (its last lines) and
 * keeps it per release (`releases:output`): config values hidden, bounded in size.
 */

/** How many of a failing process's last lines a failure shows. */
export const FAILURE_LINES = 20
/** A line longer than this is cut where a failure shows it. */
export const FAILURE_LINE_CHARS = 300
/** A release's kept output: its first lines and its last ones, up to this many bytes. */
export const RELEASE_OUTPUT_BYTES = 128 * 1024
/** A single line longer than this is cut in a release's kept output. */
const OUTPUT_LINE_CHARS = 4096

/**
 * Values shorter than this are common words and numbers (1, on, dev): hidden only where they
 * stand alone, not inside a word, a number or a version (1.0.0, my-app_1).
 */
const SHORT_VALUE = 4
const WORD = '[A-Za-z0-9._-]'
/** Supplementary Private Use Area-A: 65,534 placeholders, more than an app has config vars. */
const PRIVATE_USE = 0xF_0000

function escapeRegExp(text: string): string {
  return text.replaceAll(/[.*+?^${}()|[\]\\]/g, String.raw`\$&`)
}

/**
 * Hides every config value a line holds, naming its var instead ("connect to [REDIS_URL]"),
 * longest first; a value of several lines is hidden line by line. Short values are hidden
 * only as a whole word, so that "1" does not eat every digit.
 */
export function configMasker(config: Record<string, string>): (line: string) => string {
  const secrets: Array<{value: string; key: string}> = []
  for (const [key, value] of Object.entries(config)) {
    for (const piece of value.split(/\r?\n/)) if (piece.trim()) secrets.push({value: piece.trim(), key})
  }

  if (secrets.length === 0) return (line) => line
  secrets.sort((a, b) => b.value.length - a.value.length || a.key.localeCompare(b.key))
  const patterns = secrets.map(({value}) => (value.length >= SHORT_VALUE ? undefined : new RegExp(`(?<!${WORD})${escapeRegExp(value)}(?!${WORD})`, 'g')))
  return (line) => {
    // Placeholders first, names last: a shorter value cannot match inside a name put in. A
    // placeholder is NUL, a private-use character, NUL: no config value holds a NUL byte, nor
    // can a value (even "1") match inside one.
    let text = line
    for (const [index, {value}] of secrets.entries()) {
      if (!text.includes(value)) continue
      const mark = `\0${String.fromCodePoint(PRIVATE_USE + index)}\0`
      text = patterns[index] ? text.replace(patterns[index], mark) : text.split(value).join(mark)
    }

    return text.includes('\0') ? text.replaceAll(/\0(.)\0/gu, (_, mark: string) => `[${secrets[mark.codePointAt(0)! - PRIVATE_USE].key}]`) : text
  }
}

/** A line cut to `chars` characters, marked where it was cut. */
export function cutLine(line: string, chars = FAILURE_LINE_CHARS): string {
  return line.length > chars ? `${line.slice(0, chars)}…` : line
}

/** The last `count` lines added. */
export class LastLines {
  private readonly kept: string[] = []

  constructor(private readonly count = FAILURE_LINES) {}

  add(line: string): void {
    this.kept.push(cutLine(line))
    if (this.kept.length > this.count) this.kept.shift()
  }

  lines(): string[] {
    return [...this.kept]
  }
}

/**
 * Output kept within `maxBytes`: the first lines up to half of it, then the newest lines in
 * the other half, with a line saying how many were left out between them.
 */
export class BoundedOutput {
  private readonly head: string[] = []
  private headBytes = 0
  private readonly tail: string[] = []
  private tailBytes = 0
  private omitted = 0

  constructor(lines: string[] = [], private readonly maxBytes = RELEASE_OUTPUT_BYTES) {
    for (const line of lines) this.add(line)
  }

  add(text: string): void {
    const line = cutLine(text, OUTPUT_LINE_CHARS)
    const size = Buffer.byteLength(line) + 1
    if (this.tail.length === 0 && this.headBytes + size <= this.maxBytes / 2) {
      this.head.push(line)
      this.headBytes += size
      return
    }

    this.tail.push(line)
    this.tailBytes += size
    while (this.tailBytes > this.maxBytes / 2 && this.tail.length > 1) {
      this.tailBytes -= Buffer.byteLength(this.tail.shift()!) + 1
      this.omitted++
    }
  }

  lines(): string[] {
    return this.omitted > 0 ? [...this.head, `... (${this.omitted} lines left out) ...`, ...this.tail] : [...this.head, ...this.tail]
  }
}

/** The lines a failure shows under its one-line reason. */
export function failureDetails(output: FailureOutput | undefined): string[] {
  if (!output || output.lines.length === 0) return []
  return [`Last lines of ${output.process}:`, ...output.lines.map((line) => `  ${line}`)]
}
