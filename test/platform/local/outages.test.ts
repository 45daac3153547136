import {expect} from 'chai'
import {execFileSync, spawnSync} from 'node:child_process'
import {chmodSync, chownSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {createServer} from 'node:net'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

import type {RunSpec} from '../../../src/platform/local/contracts.js'
import {openLogStore} from '../../../src/platform/local/logstore.js'
import {freePort} from '../../../src/platform/local/ports.js'
import {processRunning} from '../../../src/platform/local/processes.js'
import {ensureSupervisor, stopSupervisor} from '../../../src/platform/local/supervisor-client.js'
import {readRecord} from '../../../src/platform/local/supervisor-paths.js'
import {appOnDisk, RUNTIME_FIXTURE as fixtures} from './helpers.js'

/**
 * The local runtime under the outages of issue 10, with real processes, real files and real
 * HTTP: a full disk, a stalled or killed supervisor, a hostile temp directory.
 */

const tuning = {bootTimeoutMs: 5000, graceMs: 300, stopGraceMs: 2000}
const spec = (version: number): RunSpec => ({version, dir: fixtures, processTypes: {web: 'node app.mjs', worker: 'node worker.mjs'}, env: {RELEASE: `v${version}`}})
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function status(port: number, path = '/'): Promise<number> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}${path}`, {signal: AbortSignal.timeout(5000)})
    await response.text()
    return response.status
  } catch {
    return 0
  }
}

/** GET / until it answers 200 (a deadline only guards against hanging); the body as JSON. */
async function answer(port: number): Promise<{release: string; dyno: string}> {
  return waitFor(async () => {
    try {
      const response = await fetch(`http://127.0.0.1:${port}/`, {signal: AbortSignal.timeout(3000)})
      return response.status === 200 ? ((await response.json()) as {release: string; dyno: string}) : undefined
    } catch {
      return undefined
    }
  }, `127.0.0.1:${port} answered`)
}

/** The app's web and worker pids as the supervisor reports them. */
async function pids(appDir: string, app: string, port: number): Promise<number[]> {
  const supervisor = await ensureSupervisor({appDir, app, port, host: '127.0.0.1', tuning})
  return (await supervisor.status()).map((p) => Number(p.id))
}

/** Runs ensure-main.ts as a separate command with `env` added to this one's. */
function ensureFromAnotherCommand(args: string[], env: NodeJS.ProcessEnv): {status: number | null; stdout: string; stderr: string} {
  const main = fileURLToPath(new URL('ensure-main.ts', import.meta.url))
  const result = spawnSync(process.execPath, ['--import', 'tsx', main, ...args], {env: {...process.env, ...env}, encoding: 'utf8', timeout: 60_000})
  return {status: result.status, stdout: result.stdout, stderr: result.stderr}
}

async function waitFor<T>(check: () => Promise<T | undefined | false> | T | undefined | false, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`)
    await pause(50)
  }
}

describe('local runtime outages (real processes and HTTP)', function () {
  this.timeout(90_000)

  describe('a full disk', () => {
    let appDir: string
    let mounted = false

    before(function () {
      // A real full filesystem needs a small tmpfs, which only root may mount (CI runs as root).
      // Elsewhere the log store's own test injects the failure at its file seam.
      if (process.getuid?.() !== 0) this.skip()
      appDir = mkdtempSync(join(tmpdir(), 'herogate-full-'))
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m,mode=0700', 'tmpfs', appDir])
      mounted = true
    })

    after(async () => {
      if (!appDir) return
      try {
        await stopSupervisor(appDir)
      } finally {
        if (mounted) execFileSync('umount', ['-l', appDir])
        rmSync(appDir, {recursive: true, force: true})
      }
    })

    it('keeps serving while nothing can be written, then logs again by itself and says how many lines it dropped', async () => {
      const port = await freePort()
      const supervisor = await ensureSupervisor({appDir, app: 'full-disk', port, host: '127.0.0.1', tuning})
      expect(await supervisor.deploy({release: spec(1), formation: {web: 1, worker: 1}})).to.deep.equal({ok: true})
      const before = await supervisor.status()

      // Fill the filesystem that holds the app directory: logs, supervisor output, everything.
      const filler = join(appDir, 'filler')
      try {
        writeFileSync(filler, Buffer.alloc(4 * 1024 * 1024))
      } catch (error) {
        expect((error as NodeJS.ErrnoException).code).to.equal('ENOSPC')
      }

      for (let i = 0; i < 64; i++) {
        try {
          writeFileSync(join(appDir, `crumb-${i}`), 'x')
        } catch {
          break
        }
      }

      // Requests, app output and router lines for a while: every request is answered.
      const deadline = Date.now() + 1500
      let answered = 0
      while (Date.now() < deadline) {
        expect(await status(port, '/log')).to.equal(200)
        answered++
      }

      expect(answered).to.be.greaterThan(10)
      expect(processRunning(supervisor.pid)).to.equal(true)
      expect((await supervisor.status()).map((p) => [p.name, p.id, p.status])).to.deep.equal(before.map((p) => [p.name, p.id, 'up']))

      // Space again: no command, the next lines are written and the gap is accounted for.
      rmSync(filler, {force: true})
      const notice = await waitFor(async () => {
        await status(port, '/log')
        const lines: string[] = []
        for await (const line of openLogStore(appDir).read({num: 100_000, tail: false})) lines.push(`${line.process} ${line.message}`)
        return lines.find((line) => line.startsWith('logs '))
      }, 'the log store wrote again')
      expect(notice).to.match(
        /^logs (Error L12 \(Local buffer overflow\): \d+ messages dropped since \S+ \(writing the log store failed: ENOSPC\)|The log store could not be written from \S+ \(ENOSPC\): \d+ messages? (was|were) held and written late, none dropped)$/,
      )
      expect(readFileSync(join(appDir, 'supervisor.out'), 'utf8')).to.not.include('supervisor error')
    })
  })

  describe('one supervisor per app, and it comes back by itself', () => {
    let app: string
    let appDir: string
    let port: number
    let stopped: number | undefined

    beforeEach(async () => {
      app = `outage-${Math.random().toString(36).slice(2, 8)}`
      port = await freePort()
      appDir = appOnDisk(app, port, {web: 1, worker: 1}, {RELEASE: 'v1', SECRET: 'kept-private'})
      stopped = undefined
    })

    afterEach(async () => {
      if (stopped) process.kill(stopped, 'SIGCONT')
      await stopSupervisor(appDir)
      rmSync(appDir, {recursive: true, force: true})
    })

    it('brings back the current release when it starts, from the records alone', async () => {
      const supervisor = await ensureSupervisor({appDir, app, port, host: '127.0.0.1', tuning})
      expect(supervisor.started).to.equal(false)
      expect((await supervisor.status()).map((p) => [p.name, p.release, p.status])).to.deep.equal([
        ['web.1', 1, 'up'],
        ['worker.1', 1, 'up'],
      ])
      expect((await answer(port)).release).to.equal('v1')
    })

    it('after kill -9 of the supervisor, the app answers again without any command', async () => {
      const supervisor = await ensureSupervisor({appDir, app, port, host: '127.0.0.1', tuning})
      await answer(port)
      process.kill(supervisor.pid, 'SIGKILL')
      await waitFor(() => !processRunning(supervisor.pid), 'the supervisor died')
      // Nothing but the watchdog runs now: this only reads.
      expect((await answer(port)).release).to.equal('v1')
      const record = readRecord(appDir)!
      expect(record.pid).to.not.equal(supervisor.pid)
      expect(record.watchdog?.pid).to.be.a('number')
      expect(readFileSync(join(appDir, 'supervisor.out'), 'utf8')).to.match(/watchdog: the supervisor exited with status 137; starting it again in 0 s/)
    })

    it('a deploy cut short by the supervisor dying reports it only once the running release serves again', async () => {
      const supervisor = await ensureSupervisor({appDir, app, port, host: '127.0.0.1', tuning})
      await answer(port)
      const deploying = supervisor.deploy({release: {...spec(2), env: {RELEASE: 'v2', NO_LISTEN: '1'}}, formation: {web: 1}})
      await waitFor(async () => (await logLines(appDir)).some((line) => line.startsWith('booting web.1 release v2 on')), 'v2 was booting')
      process.kill(supervisor.pid, 'SIGKILL')
      const outcome = await deploying
      expect(outcome.ok).to.equal(false)
      expect(outcome.reason).to.match(/^the supervisor stopped during the deploy \(\w+\) and was started again with the release that was running$/)
      // What the caller prints now ("v1 keeps serving") is true now.
      const response = await fetch(`http://127.0.0.1:${port}/`)
      expect(response.status).to.equal(200)
      expect(((await response.json()) as {release: string}).release).to.equal('v1')
    })

    it('while the watchdog backs off from a supervisor that cannot start, a command says why; it comes back once it can', async () => {
      const supervisor = await ensureSupervisor({appDir, app, port, host: '127.0.0.1', tuning})
      await answer(port)
      // Held still, the watchdog tries again only after another program took the router's port.
      const watchdog = readRecord(appDir)!.watchdog!.pid
      process.kill(watchdog, 'SIGSTOP')
      process.kill(supervisor.pid, 'SIGKILL')
      await waitFor(() => !processRunning(supervisor.pid), 'the supervisor died')
      // The killed router's connections may hold the port for a moment.
      const blocker = createServer()
      await waitFor(
        () => new Promise<boolean>((resolve) => {
          blocker.once('error', () => resolve(false))
          blocker.listen(port, '127.0.0.1', () => resolve(true))
        }),
        'the port was free',
      )
      process.kill(watchdog, 'SIGCONT')
      try {
        let error: Error | undefined
        await ensureSupervisor({appDir, app, port, host: '127.0.0.1', tuning}).catch((error_: Error) => (error = error_))
        expect(error?.message).to.equal(`Could not start the router of ${app}: port ${port} on 127.0.0.1 is already in use by another program.`)
      } finally {
        await new Promise((resolve) => blocker.close(resolve))
      }

      // No command: the watchdog's next try finds the port free.
      expect((await answer(port)).release).to.equal('v1')
    })

    it('a stalled supervisor is waited for and left alone: no second one, its app untouched', async () => {
      const supervisor = await ensureSupervisor({appDir, app, port, host: '127.0.0.1', tuning})
      const running = await pids(appDir, app, port)
      process.kill(supervisor.pid, 'SIGSTOP')
      stopped = supervisor.pid
      let error: Error | undefined
      await ensureSupervisor({appDir, app, port, host: '127.0.0.1', tuning, silentWaitMs: 1500}).catch((error_: Error) => (error = error_))
      expect(error?.message).to.equal(`The supervisor of ${app} (pid ${supervisor.pid}) is running but has not answered for 1.5 s; it was left alone, and the app with it.`)
      expect(readRecord(appDir)?.pid).to.equal(supervisor.pid)
      expect(running.every((pid) => processRunning(pid))).to.equal(true)

      process.kill(supervisor.pid, 'SIGCONT')
      stopped = undefined
      expect((await answer(port)).release).to.equal('v1')
      expect(await pids(appDir, app, port)).to.deep.equal(running)
      expect((await ensureSupervisor({appDir, app, port, host: '127.0.0.1', tuning})).pid).to.equal(supervisor.pid)
    })

    it('a second daemon refuses to start while the first lives, and touches none of its processes', async () => {
      const supervisor = await ensureSupervisor({appDir, app, port, host: '127.0.0.1', tuning})
      const running = await pids(appDir, app, port)
      const main = fileURLToPath(new URL('../../../src/platform/local/supervisor-main.ts', import.meta.url))
      const twin = spawnSync(process.execPath, ['--import', 'tsx', main], {
        env: {...process.env, HEROGATE_SUPERVISOR: JSON.stringify({appDir, app, port, host: '127.0.0.1', tuning})},
        encoding: 'utf8',
        timeout: 60_000,
      })
      expect(twin.status).to.equal(5)
      expect(twin.stderr).to.equal(`herogate-start-error: another supervisor of ${app} is running (pid ${supervisor.pid})\n`)
      expect(running.every((pid) => processRunning(pid))).to.equal(true)
      expect(readRecord(appDir)?.pid).to.equal(supervisor.pid)
      expect((await answer(port)).release).to.equal('v1')
    })
  })

  describe('deep app directories: the socket in a private temp directory', () => {
    let appDir: string
    let port: number
    const uid = process.getuid?.() ?? 'user'
    const squatted = join(tmpdir(), `herogate-${uid}`)

    beforeEach(async () => {
      appDir = join(mkdtempSync(join(tmpdir(), 'herogate-deep-')), 'd'.repeat(100))
      port = await freePort()
    })

    afterEach(async () => {
      await stopSupervisor(appDir)
      rmSync(dirname(appDir), {recursive: true, force: true})
      rmSync(squatted, {recursive: true, force: true})
    })

    it('starts even when another user created /tmp/herogate-<uid> first', async () => {
      mkdirSync(squatted, {recursive: true})
      chmodSync(squatted, 0o777)
      if (process.getuid?.() === 0) chownSync(squatted, 65_534, 65_534)
      const supervisor = await ensureSupervisor({appDir, app: 'deep', port, host: '127.0.0.1', tuning})
      const socket = readRecord(appDir)!.socket!
      expect(dirname(socket)).to.not.equal(squatted)
      expect(lstatSync(dirname(socket)).uid).to.equal(process.getuid?.())
      expect(statSync(dirname(socket)).mode & 0o777).to.equal(0o700)
      expect(await supervisor.deploy({release: spec(1), formation: {web: 1}})).to.deep.equal({ok: true})
      expect((await answer(port)).release).to.equal('v1')
    })

    it('a command with another TMPDIR reaches the same supervisor', async () => {
      const supervisor = await ensureSupervisor({appDir, app: 'deep', port, host: '127.0.0.1', tuning})
      const otherTmp = mkdtempSync(join(tmpdir(), 'herogate-othertmp-'))
      try {
        const other = ensureFromAnotherCommand([appDir, 'deep', String(port)], {TMPDIR: otherTmp})
        expect(other.status, other.stderr).to.equal(0)
        expect(JSON.parse(other.stdout)).to.deep.equal({pid: supervisor.pid, started: false})
      } finally {
        rmSync(otherTmp, {recursive: true, force: true})
      }
    })
  })

  describe('start-up failures', () => {
    let appDir: string

    beforeEach(() => {
      appDir = mkdtempSync(join(tmpdir(), 'herogate-fail-'))
    })

    afterEach(async () => {
      await stopSupervisor(appDir)
      rmSync(appDir, {recursive: true, force: true})
    })

    it('tells the user why the supervisor could not start, and keeps that reason in supervisor.out', async () => {
      // Something that is not a socket where the socket goes.
      mkdirSync(join(appDir, 'supervisor.sock', 'in-the-way'), {recursive: true})
      const port = await freePort()
      let error: Error | undefined
      await ensureSupervisor({appDir, app: 'blocked', port, host: '127.0.0.1', tuning}).catch((error_: Error) => (error = error_))
      expect(error?.message).to.match(new RegExp(`^The supervisor of blocked could not start: cannot listen on ${join(appDir, 'supervisor.sock')} \\(\\w+\\)\\.$`))

      rmSync(join(appDir, 'supervisor.sock'), {recursive: true, force: true})
      await ensureSupervisor({appDir, app: 'blocked', port, host: '127.0.0.1', tuning})
      // The next start appends: the reason of the failed one is still there.
      expect(readFileSync(join(appDir, 'supervisor.out'), 'utf8')).to.include('herogate-start-error: cannot listen on')
    })
  })
})

async function logLines(appDir: string): Promise<string[]> {
  const lines: string[] = []
  for await (const line of openLogStore(appDir).read({num: 100_000, tail: false})) lines.push(line.message)
  return lines
}
