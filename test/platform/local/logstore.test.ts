import {expect} from 'chai'
import {appendFileSync, existsSync, mkdtempSync, rmSync, statSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {LogStore, openLogStore} from '../../../src/platform/local/logstore.js'
import type {LogLine, LogOptions} from '../../../src/platform/types.js'

const at = (second: number) => new Date(Date.UTC(2026, 10, 21, 10, 0, second))
const line = (second: number, process: string, message: string, source: LogLine['source'] = 'app'): LogLine => ({time: at(second), source, process, message})

async function collect(iterable: AsyncIterable<LogLine>): Promise<string[]> {
  const out: string[] = []
  for await (const item of iterable) out.push(`${item.source}[${item.process}] ${item.message}`)
  return out
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('local LogStore', () => {
  let dir: string
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'herogate-logs-'))
  })
  afterEach(() => rmSync(dir, {recursive: true, force: true}))

  const options = (extra: Partial<LogOptions> = {}): LogOptions => ({num: 100, tail: false, ...extra})

  /** Tails `store` until `count` messages came: the messages, in the order the tail gave them. */
  async function tailMessages(store: LogStore, count: number): Promise<string[]> {
    const controller = new AbortController()
    const seen: string[] = []
    for await (const item of store.read(options({tail: true, signal: controller.signal}))) {
      seen.push(item.message)
      if (seen.length === count) controller.abort()
    }

    return seen
  }

  it('keeps lines as JSON in <appDir>/logs and reads them back with their time', async () => {
    const store = openLogStore(dir)
    store.append(line(1, 'web.1', 'hello "world"\ttab'))
    expect(existsSync(join(dir, 'logs'))).to.equal(true)
    const lines: LogLine[] = []
    for await (const item of store.read(options())) lines.push(item)
    expect(lines).to.deep.equal([line(1, 'web.1', 'hello "world"\ttab')])
    expect(statSync(join(dir, 'logs')).mode & 0o777).to.equal(0o700)
  })

  it('filters by process type, exact process, source and time, then keeps the last num', async () => {
    const store = openLogStore(dir)
    store.append(line(1, 'web.1', 'a'))
    store.append(line(2, 'worker.1', 'b'))
    store.append(line(3, 'router', 'c', 'herogate'))
    store.append(line(4, 'web.2', 'd'))
    store.append(line(5, 'web.10', 'e'))
    store.append(line(6, 'build', 'f', 'herogate'))
    expect(await collect(store.read(options({processType: 'web'})))).to.deep.equal(['app[web.1] a', 'app[web.2] d', 'app[web.10] e'])
    expect(await collect(store.read(options({task: 'web.1'})))).to.deep.equal(['app[web.1] a'])
    expect(await collect(store.read(options({source: 'herogate'})))).to.deep.equal(['herogate[router] c', 'herogate[build] f'])
    expect(await collect(store.read(options({since: at(4)})))).to.have.length(3)
    expect(await collect(store.read(options({num: 2})))).to.deep.equal(['app[web.10] e', 'herogate[build] f'])
    expect(await collect(store.read(options({num: 0})))).to.deep.equal([])
  })

  it('reads lines of other writers (another process), in time order', async () => {
    const cli = openLogStore(dir)
    const supervisor = openLogStore(dir, {buffered: true})
    supervisor.append(line(1, 'web.1', 'one'))
    cli.append(line(2, 'build', 'two', 'herogate'))
    supervisor.append(line(3, 'web.1', 'three'))
    expect(await collect(cli.read(options()))).to.deep.equal(['herogate[build] two'])
    supervisor.flush()
    expect(await collect(cli.read(options()))).to.deep.equal(['app[web.1] one', 'herogate[build] two', 'app[web.1] three'])
  })

  it('flushes a buffered store on its own shortly after', async () => {
    const store = openLogStore(dir, {buffered: true, flushMs: 1})
    store.append(line(1, 'web.1', 'later'))
    expect(await collect(store.read(options()))).to.deep.equal([])
    await pause(20)
    expect(await collect(store.read(options()))).to.deep.equal(['app[web.1] later'])
  })

  it('writes a buffered burst as it comes, holding at most 64 KB in memory', async () => {
    const store = openLogStore(dir, {buffered: true, flushMs: 60_000})
    const message = 'y'.repeat(200)
    for (let i = 0; i < 1000; i++) store.append(line(1, 'web.1', `${i} ${message}`))
    // About 270 KB appended and the timer far away: all but the last few KB are on disk already.
    const onDisk = statSync(join(dir, 'logs', 'herogate.log.jsonl')).size
    expect(onDisk).to.be.greaterThan(270_000 - 64 * 1024)
    store.flush()
    expect(await collect(store.read(options({num: 2000})))).to.have.length(1000)
  })

  it('tails: history first, then new lines as they arrive, until the signal aborts', async () => {
    const store = new LogStore(join(dir, 'logs'), {pollMs: 20})
    store.append(line(1, 'web.1', 'old'))
    const reading = tailMessages(store, 3)
    await pause(30)
    store.append(line(2, 'web.1', 'new 1'))
    store.append(line(3, 'worker.1', 'new 2'))
    expect(await reading).to.deep.equal(['old', 'new 1', 'new 2'])
  })

  it('tails in time order across writers: a line written late by a batching writer comes before newer ones', async () => {
    const store = new LogStore(join(dir, 'logs'), {pollMs: 20})
    const reading = tailMessages(store, 3)
    await pause(30)
    const now = Date.now()
    // The router wrote at once; the supervisor's batch, stamped earlier, lands after it.
    store.append({time: new Date(now), source: 'herogate', process: 'router', message: 'at=info path=/'})
    store.append({time: new Date(now - 20), source: 'app', process: 'web.1', message: 'handling /'})
    store.append({time: new Date(now - 10), source: 'app', process: 'web.1', message: 'handled /'})
    expect(await reading).to.deep.equal(['handling /', 'handled /', 'at=info path=/'])
  })

  it('keeps the release of a process line, so the old and the new web.1 are told apart', async () => {
    const store = openLogStore(dir)
    store.append({...line(1, 'web.1', 'State changed from up to stopping', 'herogate'), release: 7})
    store.append({...line(2, 'web.1', 'State changed from starting to up', 'herogate'), release: 8})
    store.append(line(3, 'router', 'at=info'))
    const lines: LogLine[] = []
    for await (const item of store.read(options())) lines.push(item)
    expect(lines.map((l) => l.release)).to.deep.equal([7, 8, undefined])
    expect(Object.hasOwn(lines[2], 'release')).to.equal(false)
  })

  it('ends an idle tail as soon as the signal aborts', async () => {
    const store = new LogStore(join(dir, 'logs'), {pollMs: 60_000})
    const controller = new AbortController()
    const reading = collect(store.read(options({tail: true, signal: controller.signal})))
    setTimeout(() => controller.abort(), 20)
    expect(await reading).to.deep.equal([])
  })

  it('loses and doubles no line at the history/tail boundary while a writer runs', async () => {
    const store = new LogStore(join(dir, 'logs'), {pollMs: 10})
    const writer = openLogStore(dir)
    const total = 600
    let written = 0
    const writing = (async () => {
      while (written < total) {
        for (let i = 0; i < 20; i++) writer.append(line(1, 'web.1', String(written++)))
        await pause(1)
      }
    })()
    while (written < 200) await pause(1)
    const controller = new AbortController()
    const seen: number[] = []
    for await (const item of store.read(options({num: 100_000, tail: true, signal: controller.signal}))) {
      seen.push(Number(item.message))
      if (seen.length === total) controller.abort()
    }

    await writing
    expect(seen).to.deep.equal([...Array.from({length: total}).keys()])
  })

  it('rotates past maxBytes to one old file, reads across both, and tails across a rotation', async () => {
    const store = new LogStore(join(dir, 'logs'), {maxBytes: 4000, pollMs: 10})
    for (let i = 0; i < 100; i++) store.append(line(1, 'web.1', `history ${i}`))
    expect(statSync(store.currentPath).size).to.be.at.most(4100)
    expect(existsSync(store.oldPath)).to.equal(true)
    const last = await collect(store.read(options({num: 30})))
    expect(last).to.have.length(30)
    expect(last.at(-1)).to.equal('app[web.1] history 99')

    const controller = new AbortController()
    const seen: string[] = []
    const reading = (async () => {
      for await (const item of store.read(options({num: 0, tail: true, signal: controller.signal}))) {
        seen.push(item.message)
        if (seen.length === 80) controller.abort()
      }
    })()
    for (let i = 0; i < 80; i++) {
      store.append(line(2, 'web.1', `live ${i}`))
      if (i % 10 === 9) await pause(15)
    }

    await reading
    expect(seen).to.deep.equal(Array.from({length: 80}, (_, i) => `live ${i}`))
    expect(statSync(store.currentPath).size + statSync(store.oldPath).size).to.be.at.most(8200)
  })

  it('never throws when the disk is full: keeps the newest lines, drops the rest, says so once, recovers by itself', async () => {
    let full = true
    const appendFile = (path: string, text: string) => {
      if (full) throw Object.assign(new Error('ENOSPC: no space left on device, write'), {code: 'ENOSPC'})
      appendFileSync(path, text)
    }

    const troubles: string[] = []
    const store = new LogStore(join(dir, 'logs'), {appendFile, onTrouble: (message) => troubles.push(message)})
    const long = 'x'.repeat(1000)
    for (let i = 0; i < 1000; i++) store.append(line(1, 'web.1', `${i} ${long}`))
    const buffered = new LogStore(join(dir, 'logs'), {appendFile, buffered: true, onTrouble: (message) => troubles.push(message)})
    buffered.append(line(1, 'router', 'from the buffered writer', 'herogate'))
    buffered.flush()
    expect(troubles).to.have.length(2)
    expect(troubles[0]).to.match(/^cannot write to .*herogate\.log\.jsonl \(ENOSPC\): keeping the newest lines in memory and dropping the rest until it works again$/)
    expect(store.dropped).to.be.greaterThan(700)

    full = false
    store.append(line(2, 'web.1', 'space again'))
    buffered.append(line(2, 'router', 'buffered again', 'herogate'))
    buffered.flush()
    expect(store.dropped).to.equal(0)
    const lines = await collect(store.read(options({num: 100_000})))
    const kept = lines.filter((text) => text.startsWith('app[web.1] ') && text.endsWith(long))
    // The newest ones were held and written once the disk had room, oldest first.
    expect(kept.length).to.be.within(200, 300)
    expect(kept.at(-1)).to.equal(`app[web.1] 999 ${long}`)
    // One line per writer about its gap: the one that dropped lines counts them, the other held all of its.
    const notices = lines.filter((text) => text.startsWith('herogate[logs] '))
    expect(notices).to.have.length(2)
    expect(notices).to.satisfy((found: string[]) =>
      found.some((text) => new RegExp(`^herogate\\[logs\\] Error L12 \\(Local buffer overflow\\): ${1000 - kept.length} messages dropped since \\S+ \\(writing the log store failed: ENOSPC\\)$`).test(text)),
    )
    expect(notices).to.satisfy((found: string[]) =>
      found.some((text) => /^herogate\[logs\] The log store could not be written from \S+ \(ENOSPC\): 1 message was held and written late, none dropped$/.test(text)),
    )
    expect(lines).to.include.members(['app[web.1] space again', 'herogate[router] from the buffered writer', 'herogate[router] buffered again'])
  })
})
