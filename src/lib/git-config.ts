import {readFileSync, statSync} from 'node:fs'
import {homedir} from 'node:os'
import {dirname, join, resolve} from 'node:path'

/**
 * A git remote's URL read from the repository's config file, without starting git: every
 * command that finds its app from the `herogate` remote asks this, and starting git (and
 * loading node's child_process to do it) costs a read command more than the rest of its
 * work. Only the plain case is read here: a `.git` folder, config files without includes
 * or URL rewriting, one plain `url` value. Anything else is `unknown`, and the caller asks
 * git (`git remote get-url`), which then says what git says.
 */
export type RemoteUrl = {url: string | undefined} | 'unknown'

/** Variables that change where git looks or what its config holds (GIT_CONFIG_GLOBAL and _SYSTEM only name files, read below). */
const GIT_ENV = /^GIT_(DIR|WORK_TREE|COMMON_DIR|CONFIG|CONFIG_COUNT|CONFIG_PARAMETERS|CEILING_DIRECTORIES|DISCOVERY_ACROSS_FILESYSTEM|NAMESPACE)$/

export function readRemoteUrl(cwd: string, remote: string): RemoteUrl {
  if (Object.keys(process.env).some((key) => GIT_ENV.test(key))) return 'unknown'
  const gitDir = findGitDir(cwd)
  if (!gitDir) return 'unknown'
  // The system's and the user's files are read by git too: one that rewrites URLs or includes others could change the answer.
  for (const file of [...systemFiles(), ...globalFiles()]) {
    const text = readIfThere(file)
    if (text === undefined) continue
    const sections = text === 'unreadable' || risky(text) ? undefined : sectionsOf(text)
    if (!sections || sections.some((section) => section.name === 'remote' && section.sub === remote)) return 'unknown'
  }

  const text = readIfThere(join(gitDir, 'config'))
  const sections = text === 'unreadable' || text === undefined || risky(text) ? undefined : sectionsOf(text)
  if (!sections) return 'unknown'
  const urls = sections
    .filter((section) => section.name === 'remote' && section.sub === remote)
    .flatMap((section) => section.entries.filter(([key]) => key === 'url').map(([, value]) => value))
  if (urls.length > 1 || urls.some((url) => url === undefined)) return 'unknown'
  return {url: urls[0] || undefined}
}

function systemFiles(): string[] {
  if (/^(1|true|yes|on)$/i.test(process.env.GIT_CONFIG_NOSYSTEM ?? '')) return []
  // Where git's own build puts it: distributions, /usr/local, Homebrew.
  return process.env.GIT_CONFIG_SYSTEM ? [process.env.GIT_CONFIG_SYSTEM] : ['/etc/gitconfig', '/usr/local/etc/gitconfig', '/opt/homebrew/etc/gitconfig']
}

function globalFiles(): string[] {
  if (process.env.GIT_CONFIG_GLOBAL) return [process.env.GIT_CONFIG_GLOBAL]
  const home = homedir()
  return [join(process.env.XDG_CONFIG_HOME || join(home, '.config'), 'git', 'config'), join(home, '.gitconfig')]
}

/** The `.git` folder of the work tree around `cwd`; undefined where it is a file (worktrees, submodules) or not found. */
function findGitDir(cwd: string): string | undefined {
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    try {
      const stat = statSync(join(dir, '.git'))
      return stat.isDirectory() ? join(dir, '.git') : undefined
    } catch {
      // Not here: look further up.
    }

    if (dirname(dir) === dir) return undefined
  }
}

function readIfThere(file: string): string | undefined | 'unreadable' {
  try {
    return readFileSync(file, 'utf8')
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? undefined : 'unreadable'
  }
}

/** Includes and URL rewriting (insteadOf), which git applies and this reader does not. */
function risky(text: string): boolean {
  return /^\s*\[\s*include/im.test(text) || /insteadof/i.test(text)
}

interface Section {
  name: string
  sub?: string
  /** Key (lower-case) and value; undefined where the value is not a plain one. */
  entries: Array<[string, string | undefined]>
}

/**
 * Sections of a git config file: `[name "sub"]` headers and `key = value` lines; a value with
 * quotes, escapes or a comment is left undefined. Undefined for a file with a line of any
 * other form (`[name.sub]`, a key before any section...).
 */
function sectionsOf(text: string): Section[] | undefined {
  const sections: Section[] = []
  let current: Section | undefined
  for (const raw of text.split('\n')) {
    const line = raw.trim()
    if (!line || line.startsWith('#') || line.startsWith(';')) continue
    const header = /^\[\s*([\w-]+)(?:\s+"([^"\\]*)")?\s*\]$/.exec(line)
    if (header) {
      current = {name: header[1].toLowerCase(), sub: header[2], entries: []}
      sections.push(current)
      continue
    }

    const entry = /^([A-Za-z][\w-]*)\s*(?:=\s*(.*))?$/.exec(line)
    if (!entry || !current) return undefined

    const value = entry[2]
    current.entries.push([entry[1].toLowerCase(), value === undefined || /["\\#;]/.test(value) ? undefined : value.trim()])
  }

  return sections
}
