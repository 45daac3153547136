import {expect} from 'chai'

import {ProcessManager, shellLine} from '../../../src/platform/local/processes.js'
import {FakeClock, fakeProcesses, MemoryLog, settle} from './fakes.js'

describe('local ProcessManager', () => {
  const spec = {type: 'web', index: 1, command: 'node app.js', dir: '/srv/app', env: {SECRET: 's3', PORT: 'ignored'}, release: 3, port: 5123}

  function setup(options: {stopGraceMs?: number} = {}) {
    const clock = new FakeClock()
    const fakes = fakeProcesses()
    const log = new MemoryLog()
    const crashes: string[] = []
    const restarts: string[] = []
    const manager = new ProcessManager({
      log,
      clock,
      spawn: fakes.spawn,
      kill: fakes.kill,
      baseEnv: {PATH: '/bin'},
      backoff: {baseMs: 1000, capMs: 8000, stableMs: 30_000},
      stopGraceMs: options.stopGraceMs ?? 5000,
      onCrash: (process) => crashes.push(process.name),
      onRestart: (process) => restarts.push(process.name),
    })
    return {clock, fakes, log, manager, crashes, restarts}
  }

  it('starts the command in the release dir with config, PORT, DYNO, NODE_ENV and the app\'s bins on PATH', () => {
    const {fakes, manager} = setup()
    const process = manager.start(spec)
    expect(process.name).to.equal('web.1')
    expect(process.id).to.equal('1000')
    expect(process.status).to.equal('starting')
    expect(fakes.children[0].command).to.equal('node app.js')
    expect(fakes.children[0].cwd).to.equal('/srv/app')
    expect(fakes.children[0].env).to.deep.equal({PATH: '/bin:/srv/app/bin:/srv/app/node_modules/.bin', SECRET: 's3', PORT: '5123', DYNO: 'web.1', NODE_ENV: 'production'})
  })

  it('captures stdout and stderr line by line as app lines of the process', async () => {
    const {fakes, log, manager} = setup()
    manager.start(spec)
    const child = fakes.children[0]
    child.stdout.write('hello\nwor')
    child.stdout.write('ld\r\n')
    child.stderr.write('oops\n')
    child.stdout.end('last words')
    await settle()
    const app = log.lines.filter((line) => line.source === 'app')
    expect(app.map((line) => line.message)).to.deep.equal(['hello', 'world', 'oops', 'last words'])
    expect(app.every((line) => line.process === 'web.1')).to.equal(true)
  })

  it('names the release on every line of a process, so that two web.1 of a rolling deploy are told apart', async () => {
    const {fakes, log, manager} = setup()
    const old = manager.start(spec)
    manager.markUp(old, 'healthy')
    const fresh = manager.start({...spec, release: 4})
    manager.markUp(fresh, 'healthy')
    fakes.children[1].stdout.write('listening\n')
    await settle()
    expect(log.lines.map((line) => `${line.source}[${line.process}] v${line.release}: ${line.message}`)).to.deep.equal([
      'herogate[web.1] v3: Starting process with command `node app.js`',
      'herogate[web.1] v3: State changed from starting to up',
      'herogate[web.1] v4: Starting process with command `node app.js`',
      'herogate[web.1] v4: State changed from starting to up',
      'app[web.1] v4: listening',
    ])
  })

  it('restarts a crashed process with exponential backoff, capped', () => {
    const {clock, fakes, log, manager, crashes, restarts} = setup()
    const process = manager.start(spec)
    process.probation = false
    const delays: number[] = []
    for (let i = 0; i < 5; i++) {
      fakes.children.at(-1)!.exit(1)
      expect(process.status).to.equal('crashed')
      delays.push(clock.pending()[0])
      clock.advance(delays.at(-1)!)
    }

    expect(delays).to.deep.equal([1000, 2000, 4000, 8000, 8000])
    expect(fakes.children).to.have.length(6)
    expect(process.status).to.equal('starting')
    expect(process.id).to.equal('1005')
    expect(crashes).to.have.length(5)
    expect(restarts).to.have.length(5)
    expect(log.messages('web.1')).to.include('Process exited with status 1')
    expect(log.messages('web.1')).to.include('State changed from starting to crashed')
  })

  it('resets the backoff once a process stayed up', () => {
    const {clock, fakes, manager} = setup()
    const process = manager.start(spec)
    process.probation = false
    fakes.children[0].exit(1)
    clock.advance(1000)
    fakes.children[1].exit(1)
    expect(clock.pending()[0]).to.equal(2000)
    clock.advance(2000)
    clock.advance(31_000)
    fakes.children[2].exit(1)
    expect(clock.pending()[0]).to.equal(1000)
  })

  it('leaves a crash on probation to its deploy: no restart', () => {
    const {clock, fakes, manager, crashes} = setup()
    manager.start(spec)
    fakes.children[0].exit(1)
    expect(crashes).to.deep.equal(['web.1'])
    expect(clock.pending()).to.deep.equal([])
  })

  it('stops with SIGTERM and resolves once the process is gone', async () => {
    const {fakes, manager, crashes} = setup()
    const process = manager.start(spec)
    await manager.stop(process)
    expect(fakes.children[0].signals[0]).to.equal('SIGTERM')
    expect(manager.list()).to.deep.equal([])
    expect(crashes).to.deep.equal([])
  })

  it('sends SIGKILL after the grace period when SIGTERM is ignored', async () => {
    const {clock, fakes, manager} = setup({stopGraceMs: 3000})
    const process = manager.start(spec)
    fakes.children[0].ignoreTerm = true
    const stopped = manager.stop(process)
    await settle()
    expect(process.status).to.equal('stopping')
    expect(clock.pending()).to.deep.equal([3000])
    clock.advance(3000)
    await stopped
    expect(fakes.children[0].signals.slice(0, 2)).to.deep.equal(['SIGTERM', 'SIGKILL'])
  })

  it('gives the rest of the group its grace period after the shell exits, then SIGKILL', async () => {
    const clock = new FakeClock()
    const fakes = fakeProcesses()
    let groupLeft = true
    const manager = new ProcessManager({log: new MemoryLog(), clock, spawn: fakes.spawn, kill: fakes.kill, groupAlive: () => groupLeft, stopGraceMs: 1000})
    const process = manager.start(spec)
    const kills: string[] = []
    const stopped = manager.stop(process).then(() => kills.push('stopped'))
    await settle()
    // The shell died of SIGTERM at once; its command is still cleaning up.
    expect(fakes.children[0].signals).to.deep.equal(['SIGTERM'])
    clock.advance(500)
    await settle()
    expect(kills).to.deep.equal([])
    groupLeft = false
    clock.advance(50)
    await stopped
    expect(kills).to.deep.equal(['stopped'])
  })

  it('cancels a pending restart when stopped', async () => {
    const {clock, fakes, manager} = setup()
    const process = manager.start(spec)
    process.probation = false
    fakes.children[0].exit(1)
    await manager.stop(process)
    clock.advance(60_000)
    expect(fakes.children).to.have.length(1)
  })

  it('finds processes by name, pid or type', () => {
    const {manager} = setup()
    manager.start(spec)
    manager.start({...spec, index: 2, port: 5124})
    manager.start({...spec, type: 'worker', index: 1, port: undefined})
    expect(manager.find('web.2').map((p) => p.name)).to.deep.equal(['web.2'])
    expect(manager.find('1002').map((p) => p.name)).to.deep.equal(['worker.1'])
    expect(manager.find('web').map((p) => p.name)).to.deep.equal(['web.1', 'web.2'])
    expect(manager.find('clock')).to.deep.equal([])
  })

  describe('shellLine', () => {
    const cases: Array<[string, string]> = [
      ['node server.js', 'exec node server.js'],
      ['  bundle exec puma -C config/puma.rb ', 'exec bundle exec puma -C config/puma.rb'],
      ['node -e "console.log(1)"', 'node -e "console.log(1)"'],
      ['npm run start:prod', 'exec npm run start:prod'],
      ['cd web && node server.js', 'cd web && node server.js'],
      ['node a.js; node b.js', 'node a.js; node b.js'],
      ['node server.js | tee out', 'node server.js | tee out'],
      ['node server.js --port $PORT', 'node server.js --port $PORT'],
      ['NODE_ENV=production node server.js', 'NODE_ENV=production node server.js'],
      ['export A=1', 'export A=1'],
      ['python -m http.server > log 2>&1', 'python -m http.server > log 2>&1'],
    ]
    for (const [command, expected] of cases) {
      it(`${command} -> ${expected}`, () => expect(shellLine(command)).to.equal(expected))
    }
  })
})
