import {expect} from 'chai'
import {tmpdir} from 'node:os'
import {PassThrough} from 'node:stream'

import {runStreaming} from '../../../src/platform/local/build.js'
import {ProcessManager} from '../../../src/platform/local/processes.js'
import {runOneOff} from '../../../src/platform/local/run.js'
import {MemoryLog} from './fakes.js'

/**
 * A config value node cannot pass to a process (one stored before values were checked at
 * input) must not reach the logs or the push output through node's spawn error, which quotes it.
 */
describe('local spawn errors never quote the environment', () => {
  const SECRET = 's3cret-value'
  const env = {PATH: process.env.PATH ?? '/usr/bin:/bin', TOKEN: `${SECRET}\0tail`}

  it('the process manager logs which variable, not its value', async () => {
    const log = new MemoryLog()
    const manager = new ProcessManager({log, baseEnv: {}})
    const process = manager.start({type: 'web', index: 1, command: 'true', dir: tmpdir(), env, release: 1})
    await process.waitExit()
    const messages = log.messages('web.1')
    expect(messages).to.include('Process failed to start: the environment variable TOKEN cannot be passed to a process (it holds a NUL byte)')
    expect(messages.join('\n')).to.not.include(SECRET)
  })

  it('a build or release command fails with which variable, not its value', async () => {
    const error = await runStreaming('true', [], {cwd: tmpdir(), env, onLine: () => {}}).then(() => undefined, (e: unknown) => e as Error)
    expect(error?.message).to.equal('Could not start true: the environment variable TOKEN cannot be passed to a process (it holds a NUL byte)')
    expect(String(error?.stack)).to.not.include(SECRET)
  })

  for (const detached of [false, true]) {
    it(`a one-off process (run${detached ? ' --detached' : ''}) fails with which variable, not its value`, async () => {
      const sink = new PassThrough()
      const error = await runOneOff({command: ['true'], env: {}, detached, tty: false, stdout: sink, stderr: sink}, {dir: tmpdir(), env, appDir: tmpdir()}).then(() => undefined, (e: unknown) => e as Error)
      expect(error?.message).to.equal('Could not start the command: the environment variable TOKEN cannot be passed to a process (it holds a NUL byte)')
      expect(`${String(error?.stack)} ${String((error as {cause?: unknown})?.cause)}`).to.not.include(SECRET)
    })
  }
})
