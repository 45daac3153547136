import {Command, Errors, Flags} from '@oclif/core'

import {openPlatform} from '../platform/index.js'
import type {AppTarget, Platform, PlatformKind, Progress} from '../platform/types.js'
import {resolveApp} from './app.js'
import {colorEnabled, palette, type Palette} from './color.js'
import {HerogateError, InvalidInput} from './errors.js'
import {createRenderer, type Renderer, stepper} from './progress.js'
import type {ReadContext} from './reads.js'

/**
 * The lifecycle every herogate command shares: resolve the app, open its platform, render
 * progress on stderr, turn errors into one line plus suggestions (stack only with DEBUG).
 */
export abstract class HerogateCommand extends Command {
  static baseFlags = {
    'no-color': Flags.boolean({description: 'no colour in the output (also: NO_COLOR=1); without it, colour only on a terminal', helpGroup: 'GLOBAL'}),
  }

  private renderer?: Renderer
  private abortController?: AbortController
  private onInterrupt?: () => void

  /** The app from -a, HEROGATE_APP or the git remote, and the platform it lives on. */
  protected async resolveTarget(flags: {app?: string; region?: string; profile?: string}): Promise<{target: AppTarget; platform: Platform}> {
    const target = await resolveApp({app: flags.app, cwd: process.cwd(), region: flags.region})
    const platform = await this.platform(target.platform, {region: target.region ?? flags.region, profile: flags.profile, app: target.name})
    return {target, platform}
  }

  protected platform(kind: PlatformKind, options: {region?: string; profile?: string; app?: string} = {}): Promise<Platform> {
    return openPlatform(kind, options)
  }

  /** What the read commands (lib/reads.ts, shared with the fast path of bin/run.cjs) need of a command. */
  protected get io(): ReadContext {
    const command = this
    return {
      log: (message) => this.log(message),
      write: (text) => process.stdout.write(text),
      note: (message) => this.note(message),
      json: this.jsonEnabled(),
      colors: this.colors,
      now: () => this.now(),
      progress: (event) => this.progress(event),
      // Read when a command needs it (logs -t): taking it listens for Ctrl-C.
      get signal() {
        return command.signal
      },
      resolveTarget: (flags) => this.resolveTarget(flags),
      platform: (kind, options) => this.platform(kind, options),
    }
  }

  /** Progress renderer on stderr: rows on a TTY, lines when piped, silent under --json. */
  protected get progress(): Progress {
    this.renderer ??= createRenderer({json: this.jsonEnabled()})
    return this.renderer.progress
  }

  /** Runs `work` as one progress step: "message..." then "done" (or "failed" when it throws). */
  protected step<T>(message: string, work: () => Promise<T>): Promise<T> {
    return stepper(this.progress)(message, message, work)
  }

  /** Aborted on the first Ctrl-C, so long operations can stop and say what they left behind. */
  protected get signal(): AbortSignal {
    if (!this.abortController) {
      const controller = new AbortController()
      this.abortController = controller
      this.onInterrupt = () => controller.abort(new Error('interrupted'))
      process.once('SIGINT', this.onInterrupt)
    }

    return this.abortController.signal
  }

  /** Now, for relative times in tables ("2m ago"): tests set the clock (setCommandClock) so output is exact. */
  protected now(): Date {
    return commandClock()
  }

  /** Colours for what goes to stdout (tables, log lines): none when piped, with --no-color or NO_COLOR. */
  protected get colors(): Palette {
    return palette(colorEnabled(process.stdout, {noColorFlag: this.noColorFlag()}))
  }

  /** --no-color given before the command's own words (`run CMD --no-color` hands it to CMD, and turns herogate's off too: harmless). */
  private noColorFlag(): boolean {
    const end = this.argv.indexOf('--')
    return (end < 0 ? this.argv : this.argv.slice(0, end)).includes('--no-color')
  }

  /** A line for the user on stderr (progress, hints); stdout stays for data. */
  protected note(message: string): void {
    if (!this.jsonEnabled()) process.stderr.write(message + '\n')
  }

  /**
   * Destructive commands: `--confirm APP` must name the app; without it, a TTY is asked to
   * type the name, and anything else is refused.
   */
  protected async confirmDestructive(name: string, confirm: string | undefined, what: string): Promise<void> {
    if (confirm !== undefined) {
      if (confirm === name) return
      throw new InvalidInput(`Confirmation "${confirm}" did not match ${name}. Nothing was changed.`, {suggestions: [`--confirm ${name}`]})
    }

    if (!process.stdin.isTTY || !process.stderr.isTTY) {
      throw new InvalidInput(`This ${what} ${name} and cannot be undone; confirm with --confirm ${name}.`, {suggestions: [`--confirm ${name}`]})
    }

    const {input} = await import('@inquirer/prompts')
    process.stderr.write(`\n !    WARNING: This ${what} ${name}.\n !    To proceed, type ${name} or re-run this command with --confirm ${name}\n\n`)
    const answer = await input({message: '>', theme: {prefix: ''}}, {output: process.stderr})
    if (answer.trim() !== name) throw new InvalidInput(`Confirmation did not match ${name}. Nothing was changed.`)
  }

  protected async finally(error: Error | undefined): Promise<void> {
    // Commands run one after another in one process too (tests, scripts that import herogate).
    if (this.onInterrupt) process.off('SIGINT', this.onInterrupt)
    this.renderer?.done()
    await super.finally(error)
  }

  async catch(error: Error & {exitCode?: number; oclif?: {exit?: number}; code?: string}): Promise<unknown> {
    this.renderer?.done()
    if (error instanceof Errors.ExitError) throw error
    if (process.env.DEBUG && error.stack) process.stderr.write(error.stack + '\n')
    let exitCode = 1
    let lines: string[]
    if (error instanceof HerogateError) {
      exitCode = error.exitCode
      lines = error.message ? [error.message, ...error.details.map((d) => `      ${d}`), ...error.suggestions.map((s) => `  Try: ${s}`)] : []
    } else if (error instanceof Errors.CLIError) {
      // oclif's own parse errors: unknown flag, missing argument, a flag value out of range.
      exitCode = error.oclif?.exit ?? 2
      lines = this.parseErrorLines(error)
    } else if (error.name === 'ExitPromptError') {
      exitCode = 130
      lines = ['Cancelled. Nothing was changed.']
    } else {
      lines = [`${error.message || String(error)}${process.env.DEBUG ? '' : ' (set DEBUG=1 for details)'}`]
    }

    if (lines.length > 0) {
      const mark = palette(colorEnabled(process.stderr, {noColorFlag: this.noColorFlag()})).red(' ▸')
      process.stderr.write(`${mark}    ${lines[0]}\n${lines.slice(1).map((line) => `${line}\n`).join('')}`)
    }

    this.exit(exitCode)
    return undefined
  }

  /**
   * oclif's parse errors say what is wrong over several lines, some of them empty of meaning
   * ("Missing 1 required arg:", "Parsing --num"): one line that says it all, then the usage.
   */
  private parseErrorLines(error: Errors.CLIError): string[] {
    const help = `  Try: herogate help ${this.id ?? ''}`.trimEnd()
    // oclif does not export RequiredArgsError: it is the parse error that carries the missing args.
    const missingArgs = (error as Errors.CLIError & {args?: unknown}).args
    if (Array.isArray(missingArgs) && missingArgs.every((arg) => typeof arg?.name === 'string')) {
      const missing = (missingArgs as Array<{name: string; description?: string}>).map((arg) => `${arg.name.toUpperCase()}${arg.description ? ` (${arg.description})` : ''}`)
      return [`Missing ${missing.length > 1 ? 'arguments' : 'argument'}: ${missing.join(', ')}.`, `  Usage: ${this.usageLine()}`, help]
    }

    const said = error.message.split('\n').map((line) => line.trim()).filter((line) => line && !/occurred:$/.test(line) && line !== 'See more help with --help')
    const flag = /^Parsing (--[\w-]+)$/.exec(said[0] ?? '')
    if (flag && said[1]) return [`Invalid value for ${flag[1]}: ${said[1].replace(/\.$/, '')}.`, help]
    return [said[0] ?? error.message, help]
  }

  /** `herogate config:get KEY [-a APP]`: the arguments, and -a where the command takes it. */
  private usageLine(): string {
    const ctor = this.ctor
    const args = Object.entries(ctor.args ?? {}).map(([name, arg]) => (arg.required ? name.toUpperCase() : `[${name.toUpperCase()}]`))
    const app = ctor.flags && 'app' in ctor.flags ? ['[-a APP]'] : []
    return ['herogate', this.id ?? '', ...args, ...app].filter(Boolean).join(' ')
  }
}

let clock: () => Date = () => new Date()

/** The clock commands tell relative times by; undefined restores the system clock. */
export function setCommandClock(now: (() => Date) | undefined): void {
  clock = now ?? (() => new Date())
}

function commandClock(): Date {
  return clock()
}
