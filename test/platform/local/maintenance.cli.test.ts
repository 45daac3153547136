import {expect} from 'chai'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {defaultRuntime} from '../../../src/platform/local/runtime.js'
import {appPaths} from '../../../src/platform/local/state.js'
import {eventually, get, pushedApp} from './helpers.js'

interface Answer {
  start: number
  end: number
  status: number
  body: string
}

/** Requests in a loop on `workers` connections until stopped: every answer, with when it was asked and answered. */
function constantLoad(url: string, workers: number): {answers: Answer[]; stop(): Promise<void>} {
  const answers: Answer[] = []
  let running = true
  const loops = Array.from({length: workers}, async () => {
    while (running) {
      const start = performance.now()
      const {status, body} = await get(url)
      answers.push({start, end: performance.now(), status, body})
    }
  })
  return {
    answers,
    async stop() {
      running = false
      await Promise.all(loops)
    },
  }
}

describe('maintenance mode of a local app, end to end', function () {
  this.timeout(180_000)
  const app = pushedApp('maint-app')

  it('answers every request under constant load: 503 with the page only while it is on', async () => {
    const load = constantLoad(app.url, 4)
    try {
      expect(await eventually(async () => load.answers.filter((a) => a.status === 200).length >= 20)).to.equal(true)
      const onStart = performance.now()
      const on = await app.herogate('maintenance:on')
      const onEnd = performance.now()
      expect(on.code, on.output).to.equal(0)
      expect(await eventually(async () => load.answers.filter((a) => a.start > onEnd && a.status === 503).length >= 20)).to.equal(true)
      const status = await app.herogate('maintenance')
      expect(status.output).to.equal('on\n')
      const offStart = performance.now()
      const off = await app.herogate('maintenance:off')
      const offEnd = performance.now()
      expect(off.code, off.output).to.equal(0)
      expect(await eventually(async () => load.answers.filter((a) => a.start > offEnd && a.status === 200).length >= 20)).to.equal(true)
      await load.stop()

      const {answers} = load
      // Every request answered: a 200 from the app or the maintenance page.
      expect(answers.filter((a) => a.status !== 200 && a.status !== 503)).to.deep.equal([])
      // 503s only while it was on: asked after maintenance:on started, before maintenance:off ended.
      const maintenance = answers.filter((a) => a.status === 503)
      expect(maintenance.length).to.be.greaterThan(0)
      expect(maintenance.filter((a) => a.start < onStart || a.start > offEnd)).to.deep.equal([])
      // At once: from the moment maintenance:on returned until maintenance:off started, nothing but the page.
      expect(answers.filter((a) => a.start > onEnd && a.end < offStart && a.status !== 503)).to.deep.equal([])
      expect(answers.filter((a) => a.start > offEnd && a.status !== 200)).to.deep.equal([])
      expect(maintenance[0].body).to.include('Down for maintenance')
    } finally {
      await load.stop()
    }
  })

  it('keeps running processes and one-off runs working, logs H80, and survives a supervisor restart', async () => {
    const ps = await app.herogate('ps', '--json')
    const before = (JSON.parse(ps.output) as Array<{id: string; status: string}>).map((p) => p.id)
    expect((await app.herogate('maintenance:on')).code).to.equal(0)
    expect((await get(app.url)).status).to.equal(503)
    // Processes keep running: the same ones, still up.
    const during = JSON.parse((await app.herogate('ps', '--json')).output) as Array<{id: string; status: string}>
    expect(during.map((p) => p.id)).to.deep.equal(before)
    expect(during.every((p) => p.status === 'up')).to.equal(true)
    const run = await app.herogate('run', '--', 'node', '-e', 'console.log("one-off ok")')
    expect(run.code, run.output).to.equal(0)
    expect(run.output).to.include('one-off ok')
    const logs = await app.herogate('logs', '-n', '50', '--source', 'herogate')
    expect(logs.output).to.match(/router\]: at=info code=H80 desc="Maintenance mode" method=GET path="\/" .* status=503/)
    const info = await app.herogate('info')
    expect(info.output).to.include('Maintenance: on')

    // The supervisor is stopped; the next command brings it back, still in maintenance mode.
    const savedHome = process.env.HEROGATE_HOME
    process.env.HEROGATE_HOME = app.home
    try {
      await defaultRuntime.stopSupervisor(appPaths('maint-app').dir)
    } finally {
      if (savedHome === undefined) delete process.env.HEROGATE_HOME
      else process.env.HEROGATE_HOME = savedHome
    }

    expect((await app.herogate('ps')).code).to.equal(0)
    expect(await eventually(async () => (await get(app.url)).status !== 0)).to.equal(true)
    expect((await get(app.url)).status).to.equal(503)
    expect((await app.herogate('maintenance:off')).code).to.equal(0)
    expect((await get(app.url)).status).to.equal(200)
  })

  it('serves the page given with --page, and refuses a missing one without changing anything', async () => {
    const page = join(app.repo, 'down.html')
    writeFileSync(page, '<h1>Back at noon</h1>\n')
    const missing = await app.herogate('maintenance:on', '--page', join(app.repo, 'nope.html'))
    expect(missing.code).to.equal(1)
    expect(missing.output).to.include('nope.html cannot be read (ENOENT)')
    expect((await app.herogate('maintenance')).output).to.equal('off\n')
    expect((await app.herogate('maintenance:on', '--page', page)).code).to.equal(0)
    expect(await get(app.url)).to.deep.equal({status: 503, body: '<h1>Back at noon</h1>\n'})
    const json = JSON.parse((await app.herogate('maintenance', '--json')).output)
    expect(json).to.deep.equal({app: 'maint-app', enabled: true, page: 'down.html'})
    expect((await app.herogate('maintenance:off')).code).to.equal(0)
  })

  it('refuses ps:autoscale with the reason', async () => {
    const refused = await app.herogate('ps:autoscale', 'web', '--min', '1', '--max', '3')
    expect(refused.code).to.equal(1)
    expect(refused.output).to.include('Autoscaling is for apps on AWS: maint-app runs on this machine')
    expect(refused.output).to.include('herogate scale web=N -a maint-app')
  })
})
