/**
 * Colour for human output, as CLIs agree on it: `--no-color` and NO_COLOR (no-color.org) turn
 * it off, FORCE_COLOR turns it on (FORCE_COLOR=0 off), and otherwise only a terminal gets it
 * (not a pipe, not TERM=dumb). Each stream decides for itself: `logs | less` keeps colour on
 * stderr's hints and none in the piped lines.
 */

export interface Palette {
  readonly enabled: boolean
  bold(text: string): string
  dim(text: string): string
  red(text: string): string
  green(text: string): string
  yellow(text: string): string
  blue(text: string): string
  magenta(text: string): string
  cyan(text: string): string
  /** A status word in the colour of what it means: green when fine, red when failed, yellow on the way. */
  status(word: string): string
  /** The same colour for the same process type every time (web, worker, router...). */
  process(type: string, text: string): string
}

const GOOD = new Set(['up', 'running', 'succeeded', 'healthy'])
const BAD = new Set(['crashed', 'failed', 'unhealthy', 'damaged', 'down'])
const MOVING = new Set(['starting', 'pending', 'stopping', 'creating', 'deleting', 'provisioning', 'activating', 'deprovisioning'])

/** Whether `stream` gets colour, given the command line's --no-color and the environment. */
export function colorEnabled(stream: {isTTY?: boolean}, options: {noColorFlag?: boolean; env?: NodeJS.ProcessEnv} = {}): boolean {
  const env = options.env ?? process.env
  if (options.noColorFlag) return false
  const force = env.FORCE_COLOR
  if (force !== undefined) return !['0', 'false'].includes(force.toLowerCase())
  if (env.NO_COLOR) return false
  return Boolean(stream.isTTY) && env.TERM !== 'dumb'
}

function sgr(open: number, close: number): (text: string) => string {
  return (text) => `\u001B[${open}m${text}\u001B[${close}m`
}

const PROCESS_COLORS = [36, 32, 33, 34, 35]
/** The ones everyone sees first keep one colour; other process types get one by their name. */
const KNOWN_PROCESS_COLORS = new Map(Object.entries({web: 36, worker: 32, router: 34, deploy: 33, build: 35, release: 35}))
const plain = (text: string) => text

export function palette(enabled: boolean): Palette {
  const c = (open: number, close = 39) => (enabled ? sgr(open, close) : plain)
  const colors = {
    bold: c(1, 22),
    dim: c(2, 22),
    red: c(31),
    green: c(32),
    yellow: c(33),
    blue: c(34),
    magenta: c(35),
    cyan: c(36),
  }
  return {
    enabled,
    ...colors,
    status(word) {
      const key = word.toLowerCase()
      if (GOOD.has(key)) return colors.green(word)
      if (BAD.has(key)) return colors.red(word)
      if (MOVING.has(key)) return colors.yellow(word)
      return word
    },
    process(type, text) {
      if (!enabled) return text
      let hash = 0
      for (const char of type) hash = (hash * 31 + char.charCodeAt(0)) >>> 0
      return sgr(KNOWN_PROCESS_COLORS.get(type) ?? PROCESS_COLORS[hash % PROCESS_COLORS.length], 39)(text)
    },
  }
}

/** The text a terminal shows: without colour codes (for widths). */
export function visible(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\u001B\[[0-9;]*m/g, '')
}
