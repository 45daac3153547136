import {execFileSync, spawn} from 'node:child_process'
import {cpSync, existsSync, mkdirSync, mkdtempSync, rmSync} from 'node:fs'
import {connect, type Socket} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {writeConfig} from '../../../src/platform/local/config.js'
import {createRelease, finishRelease} from '../../../src/platform/local/releases.js'
import type {ProcessInfo} from '../../../src/platform/types.js'
import type {DeployOutcome, DesiredState, LogReader, LogWriter, ReleaseEnded, ReleaseEvent, ReleaseRequest, SupervisorClient} from '../../../src/platform/local/contracts.js'
import {takeRelease} from '../../../src/platform/local/release-owner.js'
import {defaultRuntime} from '../../../src/platform/local/runtime.js'
import {appPaths, writeApp} from '../../../src/platform/local/state.js'
import type {LocalRuntime} from '../../../src/platform/local/runtime.js'
import type {LogLine, LogOptions} from '../../../src/platform/types.js'

export const FIXTURE = fileURLToPath(new URL('../../fixtures/node-app', import.meta.url))
const ROOT = fileURLToPath(new URL('../../..', import.meta.url))
/** The built CLI (`npm test` builds first): with it, a push's hook runs herogate from dist, as a user's does. */
export const CLI = join(ROOT, 'bin', 'run.js')
/** The runtime tests' app (test/fixtures/runtime/app.mjs and worker.mjs), steered by its environment. */
export const RUNTIME_FIXTURE = fileURLToPath(new URL('../../fixtures/runtime', import.meta.url))

/**
 * A local app in HEROGATE_HOME as a push leaves it, written by the workflow's own code:
 * app.json, release v1 (the runtime fixture as its build) with its config, and a formation.
 * A supervisor started for it brings v1 back from these records alone. Its directory.
 */
export function appOnDisk(app: string, port: number, formation: Record<string, number>, config: Record<string, string> = {RELEASE: 'v1'}): string {
  const paths = appPaths(app)
  mkdirSync(paths.dir, {recursive: true, mode: 0o700})
  cpSync(RUNTIME_FIXTURE, join(paths.builds, 'b1'), {recursive: true})
  const configVersion = writeConfig(paths, config)
  const release = createRelease(paths, {description: 'Deploy 1234567', author: 'dev@example.com', image: 'b1', configVersion, processTypes: {web: 'node app.mjs', worker: 'node worker.mjs'}})
  finishRelease(paths, release, 'succeeded')
  writeApp({name: app, port, createdAt: new Date().toISOString(), formation, current: release.version, configVersion})
  return paths.dir
}

/** `count` clients each sending a request body of a megabyte to /echo, one byte every 200 ms each, until stopped. */
export function slowBodies(port: number, count: number): {sockets: Socket[]; stop(): void} {
  const sockets: Socket[] = []
  for (let i = 0; i < count; i++) {
    const socket = connect(port, '127.0.0.1')
    socket.on('error', () => {})
    socket.write('POST /echo HTTP/1.1\r\nHost: slow\r\nContent-Length: 1000000\r\n\r\nx')
    sockets.push(socket)
  }

  const drip = setInterval(() => {
    for (const socket of sockets) socket.write('x')
  }, 200)
  return {
    sockets,
    stop() {
      clearInterval(drip)
      for (const socket of sockets) socket.destroy()
    },
  }
}

/** A temporary HEROGATE_HOME for the current describe block; restores the old one on cleanup. */
export function tempHome(): {dir: string; cleanup(): void} {
  const previous = process.env.HEROGATE_HOME
  const dir = mkdtempSync(join(tmpdir(), 'herogate-home-'))
  process.env.HEROGATE_HOME = dir
  return {
    dir,
    cleanup() {
      if (previous === undefined) delete process.env.HEROGATE_HOME
      else process.env.HEROGATE_HOME = previous
      rmSync(dir, {recursive: true, force: true})
    },
  }
}

export function sh(cwd: string, command: string, args: string[]): string {
  return execFileSync(command, args, {cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe']}).trim()
}

/** A git work tree holding a copy of the fixture app, committed once. */
export function fixtureRepo(): string {
  const dir = mkdtempSync(join(tmpdir(), 'herogate-app-'))
  cpSync(FIXTURE, dir, {recursive: true})
  sh(dir, 'git', ['init', '--quiet', '--initial-branch=main'])
  sh(dir, 'git', ['config', 'user.email', 'dev@example.com'])
  sh(dir, 'git', ['config', 'user.name', 'Dev'])
  commitAll(dir, 'first')
  return dir
}

export function commitAll(dir: string, message: string): string {
  sh(dir, 'git', ['add', '-A'])
  sh(dir, 'git', ['commit', '--quiet', '--allow-empty', '-m', message])
  return sh(dir, 'git', ['rev-parse', 'HEAD'])
}

/** A supervisor that runs nothing: it records what it was asked and answers as told (and owns releases as the real one does). */
export class FakeSupervisor implements SupervisorClient {
  constructor(private readonly app = 'app', private readonly log: LogWriter = new FakeLogs()) {}

  deploys: DesiredState[] = []
  formation: Record<string, number> = {}
  running: DesiredState | undefined
  restarts: Array<string | undefined> = []
  stopped: string[] = []
  shutdowns = 0
  /** The next deploys' outcome. */
  outcome: DeployOutcome = {ok: true}

  async deploy(state: DesiredState): Promise<DeployOutcome> {
    this.deploys.push(state)
    if (this.outcome.ok) {
      this.running = state
      this.formation = {...state.formation}
    }

    return this.outcome
  }

  async release(request: ReleaseRequest, onEvent?: (event: ReleaseEvent) => void): Promise<ReleaseEnded> {
    const run = takeRelease(this.app, request, {deploy: (state) => this.deploy(state), log: this.log, now: () => new Date()})
    return run((event) => onEvent?.(event))
  }

  async scale(formation: Record<string, number>): Promise<void> {
    this.formation = {...formation}
  }

  async restart(processType?: string): Promise<void> {
    this.restarts.push(processType)
  }

  async stop(id: string): Promise<void> {
    this.stopped.push(id)
  }

  async status(): Promise<ProcessInfo[]> {
    if (!this.running) return []
    return Object.entries(this.formation).flatMap(([type, count]) =>
      Array.from({length: count}, (_, i) => ({
        name: `${type}.${i + 1}`,
        type,
        id: String(1000 + i),
        status: 'up',
        health: 'healthy' as const,
        release: this.running!.release.version,
      })),
    )
  }

  async shutdown(): Promise<void> {
    this.shutdowns++
    this.running = undefined
  }
}

export class FakeLogs implements LogWriter, LogReader {
  lines: LogLine[] = []

  append(line: LogLine): void {
    this.lines.push(line)
  }

  async *read(options: LogOptions): AsyncIterable<LogLine> {
    yield* this.lines.filter((l) => !options.source || l.source === options.source).slice(-options.num)
  }
}

/** A runtime with one fake supervisor per app directory, started on first use. */
export class FakeRuntime implements LocalRuntime {
  supervisors = new Map<string, FakeSupervisor>()
  starts = 0
  logs = new FakeLogs()

  async ensureSupervisor(options: {appDir: string; app: string}): Promise<SupervisorClient> {
    let supervisor = this.supervisors.get(options.appDir)
    if (!supervisor) {
      supervisor = new FakeSupervisor(options.app, this.logs)
      this.supervisors.set(options.appDir, supervisor)
      this.starts++
    }

    return supervisor
  }

  async stopSupervisor(appDir: string): Promise<boolean> {
    const supervisor = this.supervisors.get(appDir)
    if (!supervisor) return false
    await supervisor.shutdown()
    this.supervisors.delete(appDir)
    return true
  }

  async supervisorRunning(appDir: string): Promise<boolean> {
    return this.supervisors.has(appDir)
  }

  async publishedProcesses(appDir: string): Promise<ProcessInfo[] | undefined> {
    return this.supervisors.get(appDir)?.status()
  }

  supervisorAlive(appDir: string): boolean {
    return this.supervisors.has(appDir)
  }

  logWriter(): LogWriter {
    return this.logs
  }

  logReader(): LogReader {
    return this.logs
  }
}

/** Collects what a Writable-like output receives. */
export function collector(): {write(text: string): boolean; text: string} {
  return {
    text: '',
    write(text: string) {
      this.text += text
      return true
    },
  }
}

/** Runs a command to completion; resolves with its exit code and combined output. */
export function exec(cwd: string, command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{code: number; output: string}> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {cwd, env, stdio: ['ignore', 'pipe', 'pipe']})
    let output = ''
    child.stdout.on('data', (chunk) => (output += chunk))
    child.stderr.on('data', (chunk) => (output += chunk))
    child.once('error', reject)
    child.once('close', (code) => resolve({code: code ?? 1, output}))
  })
}

/** GET a URL: status and body, or status 0 when nothing answered. */
export async function get(url: string): Promise<{status: number; body: string}> {
  try {
    const response = await fetch(url, {signal: AbortSignal.timeout(3000)})
    return {status: response.status, body: await response.text()}
  } catch {
    return {status: 0, body: ''}
  }
}

/** Polls `check` until it returns true (bounded attempts, so a broken app fails the test rather than hanging it). */
export async function eventually(check: () => Promise<boolean>, attempts = 100, pauseMs = 100): Promise<boolean> {
  for (let i = 0; i < attempts; i++) {
    if (await check()) return true
    await new Promise((resolve) => setTimeout(resolve, pauseMs))
  }

  return false
}

/** After a block that ran a real app: its supervisor (and processes) stopped, its home and the other `dirs` removed, even when stopping fails. */
export async function removeApp(app: string, home: {cleanup(): void}, ...dirs: string[]): Promise<void> {
  try {
    await defaultRuntime.stopSupervisor(appPaths(app).dir)
  } finally {
    home.cleanup()
    for (const dir of dirs) rmSync(dir, {recursive: true, force: true})
  }
}

/**
 * For a describe block: in a temporary home, `app` created from the fixture through the
 * built CLI and pushed once (v1 serving); its supervisor stopped and everything removed after.
 */
export function pushedApp(app: string) {
  let home: ReturnType<typeof tempHome>
  let repo = ''
  let url = ''
  const env = () => ({...process.env, HEROGATE_HOME: home.dir, HEROGATE_APP: ''})
  before(async () => {
    if (!existsSync(join(ROOT, 'dist', 'platform', 'local', 'hook-main.js'))) throw new Error('dist/ is missing: run npm run build first (npm test does it)')
    home = tempHome()
    repo = fixtureRepo()
    const created = await exec(repo, process.execPath, [CLI, 'create', app, '--local', '--json'], env())
    if (created.code !== 0) throw new Error(created.output)
    url = (JSON.parse(created.output.slice(created.output.indexOf('{'))) as {webUrl: string}).webUrl
    const push = await exec(repo, 'git', ['push', 'herogate', 'main'], env())
    if (push.code !== 0) throw new Error(push.output)
  })

  after(() => removeApp(app, home, repo))

  return {
    get home() {
      return home.dir
    },
    get repo() {
      return repo
    },
    get url() {
      return url
    },
    env,
    herogate: (...args: string[]) => exec(repo, process.execPath, [CLI, ...args], env()),
  }
}
