import {type ChildProcess, spawn} from 'node:child_process'
import {createServer} from 'node:net'

import {INSTALL_HINT, needPythonTools, pythonTools} from './python-tools.js'

/**
 * A moto server for the tests that need one: started once per process on a free port of
 * 127.0.0.1, reset between tests, stopped by its pid when the run ends.
 * Where moto is missing, the tests that use it skip (outside CI) or fail (under CI=true):
 * test/helpers/python-tools.ts decides, for every test that needs moto or cfn-lint.
 */
export interface Moto {
  endpoint: string
  reset(): Promise<void>
  /** Make ECS tasks jump to STOPPED at once instead of one state per DescribeTasks call. */
  immediateTasks(): Promise<void>
}

let server: {process: ChildProcess; moto: Moto} | undefined

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address()
      probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))))
    })
  })
}

export async function startMoto(): Promise<Moto> {
  if (server) return server.moto
  const tools = pythonTools()
  if (!tools.ok) throw new Error(`moto is needed (${tools.reason}): ${INSTALL_HINT}`)
  const port = await freePort()
  const child = spawn(tools.tools.python, ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], {stdio: 'ignore'})
  // The server must not keep the test process alive: the 'exit' hook below stops it.
  child.unref()
  const endpoint = `http://127.0.0.1:${port}`
  const stop = () => {
    if (child.exitCode === null) child.kill('SIGTERM')
  }

  process.once('exit', stop)
  for (let i = 0; i < 200; i++) {
    try {
      const response = await fetch(`${endpoint}/moto-api/`)
      if (response.ok) break
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50))
    }

    if (child.exitCode !== null) throw new Error(`moto exited with ${child.exitCode}`)
  }

  const moto: Moto = {
    endpoint,
    async reset() {
      await fetch(`${endpoint}/moto-api/reset`, {method: 'POST'})
    },
    async immediateTasks() {
      await fetch(`${endpoint}/moto-api/state-manager/set-transition`, {
        method: 'POST',
        body: JSON.stringify({model_name: 'ecs::task', transition: {progression: 'immediate'}}),
      })
    },
  }
  server = {process: child, moto}
  return moto
}

export function stopMoto(): void {
  if (server && server.process.exitCode === null) server.process.kill('SIGTERM')
  server = undefined
}

/**
 * For a describe() block: starts moto (or skips the block where moto is missing and this is
 * not CI), points the SDK at it with dummy credentials, and resets it before each test.
 */
export function useMoto(): {moto: () => Moto} {
  let moto: Moto | undefined
  const saved: Record<string, string | undefined> = {}
  const env = {AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', AWS_REGION: 'us-east-1', AWS_SESSION_TOKEN: undefined as string | undefined}
  before(async function () {
    needPythonTools(this)
    this.timeout(30_000)
    moto = await startMoto()
    for (const [key, value] of Object.entries({...env, AWS_ENDPOINT_URL: moto.endpoint})) {
      saved[key] = process.env[key]
      if (value === undefined) delete process.env[key]
      else process.env[key] = value
    }
  })
  beforeEach(async () => moto?.reset())
  after(() => {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key]
      else process.env[key] = value
    }
  })
  return {moto: () => moto!}
}
