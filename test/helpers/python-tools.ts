import {spawnSync} from 'node:child_process'
import {createHash} from 'node:crypto'
import {existsSync, mkdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {homedir} from 'node:os'
import {join} from 'node:path'

/**
 * The Python tools the AWS tests need, moto (the emulator) and cfn-lint, at pinned versions:
 * from the machine's python3 when it has exactly these, otherwise from a virtualenv that
 * `npm test` (its pretest step, test/prepare.ts) sets up once in a cache and reuses. Every
 * test that needs them asks `pythonTools()` here, so they all skip (or, under CI, fail) alike.
 */
export const PINS = {moto: '5.2.1', cfnLint: '1.51.0'} as const
export const REQUIREMENTS = [`moto[server]==${PINS.moto}`, `cfn-lint==${PINS.cfnLint}`]
export const INSTALL_HINT = `python3 -m pip install ${REQUIREMENTS.map((r) => `'${r}'`).join(' ')}`

export interface Tools {
  /** The python whose packages include moto (run `-m moto.server` with it). */
  python: string
  /** The cfn-lint executable of that same installation. */
  cfnLint: string
  /** Where they come from: the machine's python3 or herogate's cached virtualenv. */
  source: 'system' | 'venv'
}

export type Found = {ok: true; tools: Tools} | {ok: false; reason: string}

export interface ToolOptions {
  /** The python3 to look in and to make the virtualenv with (default: python3 on PATH). */
  python?: string
  /** Where virtualenvs are kept (default: $XDG_CACHE_HOME or ~/.cache, then herogate-test/python-tools). */
  cacheDir?: string
  /** The environment pip runs with: PIP_INDEX_URL, PIP_FIND_LINKS, proxies. */
  env?: NodeJS.ProcessEnv
}

/** One folder per set of pins and python, so a change of either makes a new one. */
export function venvDir(options: ToolOptions = {}): string {
  const python = options.python ?? 'python3'
  const key = createHash('sha256').update(JSON.stringify([REQUIREMENTS, python])).digest('hex').slice(0, 12)
  const base = options.cacheDir ?? join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'herogate-test', 'python-tools')
  return join(base, `venv-${key}`)
}

/** Why the last setup could not install the tools, kept beside the virtualenvs for the test run's summary. */
const reasonFile = (options: ToolOptions) => `${venvDir(options)}.failed`

// Prints the interpreter, then the version of each package (or "-"), then where cfn-lint's script is.
const PROBE = `
import sys, importlib.metadata as m
def version(name):
    try:
        return m.version(name)
    except m.PackageNotFoundError:
        return "-"
script = "-"
try:
    script = next((str(f.locate()) for f in (m.distribution("cfn-lint").files or []) if f.name == "cfn-lint"), "-")
except m.PackageNotFoundError:
    pass
print(sys.executable)
print(" ".join(version(n) for n in ("moto", "flask", "flask-cors", "cfn-lint")))
print(script)
`

/** The tools in one python's packages when they are there at the pinned versions. */
function look(python: string, source: Tools['source']): Found {
  const r = spawnSync(python, ['-c', PROBE], {encoding: 'utf8', timeout: 30_000})
  if (r.error) return {ok: false, reason: (r.error as NodeJS.ErrnoException).code === 'ENOENT' ? `no ${python} on this machine` : r.error.message}
  if (r.status !== 0) return {ok: false, reason: `${python} failed: ${lastLine(r.stderr)}`}
  const [executable, versions, script] = r.stdout.trim().split('\n')
  const [moto, flask, flaskCors, cfnLint] = versions.split(' ')
  const wrong: string[] = []
  if (moto !== PINS.moto) wrong.push(moto === '-' ? 'no moto' : `moto ${moto}, not ${PINS.moto}`)
  else if (flask === '-' || flaskCors === '-') wrong.push('moto without its server extra (flask, flask-cors)')
  if (cfnLint !== PINS.cfnLint) wrong.push(cfnLint === '-' ? 'no cfn-lint' : `cfn-lint ${cfnLint}, not ${PINS.cfnLint}`)
  else if (!existsSync(script)) wrong.push('no cfn-lint executable')
  if (wrong.length > 0) return {ok: false, reason: `${source === 'system' ? python : 'the cached virtualenv'} has ${wrong.join(' and ')}`}
  return {ok: true, tools: {python: executable, cfnLint: script, source}}
}

/** Finds the tools without installing anything: the machine's python3, then the cached virtualenv. */
export function findTools(options: ToolOptions = {}): Found {
  const system = look(options.python ?? 'python3', 'system')
  if (system.ok) return system
  const venv = join(venvDir(options), 'bin', 'python')
  if (existsSync(join(venvDir(options), COMPLETE))) {
    const cached = look(venv, 'venv')
    if (cached.ok) return cached
  }

  return system
}

/**
 * Finds the tools, or makes the cached virtualenv with them. A virtualenv's scripts name its
 * folder, so it is made where it stays; a marker written once pip has finished tells a whole
 * one from an interrupted one, and a lock file keeps two test runs from building it at once.
 */
export function setUpTools(options: ToolOptions = {}, say: (line: string) => void = () => {}): Found {
  const found = findTools(options)
  if (found.ok) return found
  const python = options.python ?? 'python3'
  const target = venvDir(options)
  mkdirSync(join(target, '..'), {recursive: true})
  const failed = (reason: string): Found => {
    writeFileSync(reasonFile(options), reason)
    return {ok: false, reason}
  }

  const has = spawnSync(python, ['-c', 'import venv, ensurepip'], {stdio: 'ignore', timeout: 30_000})
  if (has.error) return failed(`no ${python} on this machine`)
  if (has.status !== 0) return failed(`${python} has no venv module (on Debian or Ubuntu: apt-get install python3-venv)`)

  const unlock = lock(`${target}.lock`)
  try {
    // Another run may have finished it while this one waited for the lock.
    const ready = findTools(options)
    if (ready.ok) return ready
    rmSync(target, {recursive: true, force: true})
    say(`Setting up ${REQUIREMENTS.join(' and ')} for the AWS tests in ${target} (once)...`)
    const venv = spawnSync(python, ['-m', 'venv', target], {encoding: 'utf8', timeout: 120_000})
    if (venv.status !== 0) return failed(`${python} -m venv failed: ${lastLine(venv.stderr || venv.stdout || venv.error?.message || '')}`)
    const pip = spawnSync(
      join(target, 'bin', 'python'),
      ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--no-input', '--retries', '1', '--timeout', '15', ...REQUIREMENTS],
      {encoding: 'utf8', env: {...(options.env ?? process.env), PIP_REQUIRE_VIRTUALENV: '1'}, timeout: 15 * 60_000},
    )
    if (pip.status !== 0) {
      rmSync(target, {recursive: true, force: true})
      return failed(pipProblem(pip.stderr || pip.stdout || pip.error?.message || ''))
    }

    writeFileSync(join(target, COMPLETE), REQUIREMENTS.join('\n'))
  } finally {
    unlock()
  }

  const installed = look(join(target, 'bin', 'python'), 'venv')
  if (!installed.ok) return failed(installed.reason)
  rmSync(reasonFile(options), {force: true})
  return installed
}

const COMPLETE = '.herogate-complete'

/** Takes a lock file, waiting while a live process holds it; a dead holder's lock is taken over. */
function lock(file: string): () => void {
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(file, String(process.pid), {flag: 'wx'})
      return () => rmSync(file, {force: true})
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    }

    const holder = Number(readFileSync(file, 'utf8').trim())
    if (!alive(holder) || attempt > 20 * 60 * 10) rmSync(file, {force: true})
    else Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100)
  }
}

function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** What the last setup said when it could not install the tools, if it said anything. */
export function setupProblem(options: ToolOptions = {}): string | undefined {
  try {
    return readFileSync(reasonFile(options), 'utf8').trim() || undefined
  } catch {
    return undefined
  }
}

function pipProblem(output: string): string {
  if (/NewConnectionError|Failed to establish a new connection|Name or service not known|Temporary failure in name resolution|Connection refused|ConnectTimeout|Network is unreachable|ProxyError|No matching distribution found/.test(output)) {
    return 'pip could not reach a package index with these versions (no network to PyPI?)'
  }

  return `pip install failed: ${lastLine(output)}`
}

export function lastLine(text: string): string {
  return text.trim().split('\n').filter((line) => line.trim()).at(-1)?.trim() ?? 'no output'
}


let found: Found | undefined
let skipped = 0

/** The tools for this test run, looked for once (test/prepare.ts has set them up where it could). */
export function pythonTools(): Found {
  found ??= findTools()
  return found
}

/**
 * For a before() hook or a test that needs moto or cfn-lint: the tools; where they are missing,
 * the tests it covers skip (counted for the run's one-line summary), or under CI=true fail.
 */
export function needPythonTools(context: Mocha.Context): Tools {
  const tools = pythonTools()
  if (tools.ok) return tools.tools
  if (process.env.CI) throw new Error(`CI needs moto and cfn-lint (${tools.reason}): ${INSTALL_HINT}`)
  const runnable = context.test as (Mocha.Runnable & {type?: string}) | undefined
  skipped += runnable?.type === 'hook' ? (runnable.parent?.total() ?? 1) : 1
  return context.skip()
}

/** One line when tests were skipped for want of the tools: how many, why, how to get them. */
export function skippedSummary(): string | undefined {
  if (skipped === 0 || found?.ok !== false) return undefined
  const setup = setupProblem()
  return `Skipped ${skipped} test${skipped === 1 ? '' : 's'} that need moto and cfn-lint (${found.reason}${setup ? `; npm test could not set them up: ${setup}` : ''}). To run them: ${INSTALL_HINT}, or npm test on a machine that reaches PyPI.`
}
