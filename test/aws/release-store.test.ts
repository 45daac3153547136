import {expect} from 'chai'

import {
  configDeltaFits, fitRecord, INTERRUPTED_FAILURE, lockHeld, nameFromArn, packChunks, parseHead, parseSlot, type ReleaseRecord, resolveReleases, type Slot,
  unpackChunk,
} from '../../src/aws/release-store.js'
import {configAt} from '../../src/platform/aws/rollback.js'

const NOW = new Date('2026-11-21T10:00:00.000Z')
const record = (version: number, fields: Partial<ReleaseRecord> = {}): ReleaseRecord => ({
  version, kind: 'config', description: `r${version}`, status: 'succeeded', author: 'a', createdAt: '2026-11-21T09:00:00.000Z', ...fields,
})
const lock = (expiresAt: string) => ({holder: 'alice', operation: 'config:set', since: '2026-11-21T09:59:00.000Z', expiresAt, token: 't'})
const LIVE = lock('2026-11-21T10:10:00.000Z')
const EXPIRED = lock('2026-11-21T09:50:00.000Z')
const parameter = (version: number, value: unknown) => ({Name: `/herogate/demo/releases/${String(version).padStart(6, '0')}`, Value: JSON.stringify(value)})

describe('release store helpers', () => {
  const arns: Array<[string, string]> = [
    ['arn:aws:iam::123456789012:user/alice', 'alice'],
    ['arn:aws:sts::123456789012:assumed-role/Admin/alice@example.com', 'alice@example.com'],
    ['arn:aws:iam::123456789012:root', 'root'],
    ['arn:aws:sts::123456789012:assumed-role/herogate-demo-build/AWSCodeBuild-1234', 'AWSCodeBuild-1234'],
  ]
  for (const [arn, name] of arns) it(`names ${arn} ${name}`, () => expect(nameFromArn(arn)).to.equal(name))

  describe('resolveReleases: each release\'s final record is in the next slot or the head', () => {
    const cases: Array<{name: string; slots: Slot[]; head?: {latest: ReleaseRecord; current?: ReleaseRecord}; expected: string[]}> = [
      {name: 'no releases', slots: [], expected: []},
      {
        name: 'ended releases: the next slot and the head hold how they ended',
        slots: [
          {version: 1, record: record(1, {status: 'pending'}), lock: EXPIRED},
          {version: 2, record: record(2, {status: 'pending'}), lock: EXPIRED, previous: record(1)},
          {version: 3, record: record(3, {status: 'pending'}), lock: LIVE, previous: record(2, {status: 'failed', failure: 'crashed'})},
        ],
        head: {latest: record(3), current: undefined},
        expected: ['v3 succeeded', 'v2 failed', 'v1 succeeded'],
      },
      {
        name: 'the newest still running is pending; one whose holder stopped reads as interrupted',
        slots: [
          {version: 1, record: record(1, {status: 'pending'}), lock: EXPIRED},
          {version: 2, record: record(2, {status: 'pending'}), lock: EXPIRED, previous: record(1)},
          {version: 3, record: record(3, {status: 'pending', phase: 'rollout'}), lock: LIVE, previous: record(2, {status: 'failed'})},
        ],
        head: {latest: record(2, {status: 'failed'}), current: record(1)},
        expected: ['v3 pending', 'v2 failed', 'v1 succeeded'],
      },
      {
        name: 'interrupted',
        slots: [{version: 1, record: record(1, {status: 'pending'}), lock: EXPIRED}],
        expected: [`v1 failed ${INTERRUPTED_FAILURE}`],
      },
      {
        name: 'records written before claims stand as they are; claims that make no release are no release',
        slots: [{version: 1, record: record(1, {kind: 'deploy'})}, {version: 2, lock: LIVE, previous: record(1)}],
        expected: ['v1 succeeded'],
      },
    ]
    for (const c of cases) {
      it(c.name, () => {
        const resolved = resolveReleases(c.slots, c.head, NOW).map((r) => `v${r.version} ${r.status}${r.failure === INTERRUPTED_FAILURE ? ` ${r.failure}` : ''}`)
        expect(resolved).to.deep.equal(c.expected)
      })
    }
  })

  it('reads slots, records written before claims, and heads, ignoring what is not one', () => {
    const slot: Slot = {version: 4, record: record(4, {status: 'pending'}), lock: LIVE, previous: record(3)}
    expect(parseSlot(parameter(4, slot))).to.deep.equal(slot)
    expect(parseSlot(parameter(2, record(2)))).to.deep.equal({version: 2, record: record(2)})
    expect(parseSlot(parameter(5, {version: 4}))).to.equal(undefined)
    expect(parseSlot({Name: '/herogate/demo/releases/000001', Value: 'not json'})).to.equal(undefined)
    expect(parseHead({Value: JSON.stringify({latest: record(3)})})).to.deep.equal({latest: record(3)})
    // A head of numbers (before claims) is not read: the slots are listed instead.
    expect(parseHead({Value: JSON.stringify({latest: 3, configVersion: 2})})).to.equal(undefined)
  })

  it('holds a lock only while its release is pending and it has not expired', () => {
    expect(lockHeld({version: 1, record: record(1, {status: 'pending'}), lock: LIVE}, NOW)).to.equal(true)
    expect(lockHeld({version: 1, lock: LIVE}, NOW)).to.equal(true)
    expect(lockHeld({version: 1, record: record(1, {status: 'pending'}), lock: EXPIRED}, NOW)).to.equal(false)
    expect(lockHeld({version: 1, record: record(1)}, NOW)).to.equal(false)
  })

  it('keeps a record within its share of a parameter by shortening long commands', () => {
    const long = 'x'.repeat(1500)
    const big = record(1, {kind: 'deploy', processTypes: {web: long, worker: long, clock: long}})
    const fitted = fitRecord(big)
    expect(Buffer.byteLength(JSON.stringify(fitted))).to.be.at.most(3800)
    expect(fitted.processTypes!.web).to.match(/^x+…$/)
    expect(fitRecord(record(1, {processTypes: {web: 'npm start'}})).processTypes).to.deep.equal({web: 'npm start'})
  })

  it('fits a failure\'s last lines into the record by dropping the oldest first, before cutting any command', () => {
    const lines = Array.from({length: 20}, (_, i) => `${String(i + 1).padStart(2, '0')} ${'y'.repeat(290)}`)
    const failed = record(1, {kind: 'deploy', status: 'failed', failure: 'web crashed', processTypes: {web: 'npm start'}, failureOutput: {process: 'web.1a2b3c4', lines, more: 'herogate logs -a demo --task web.1a2b3c4'}})
    const fitted = fitRecord(failed)
    expect(Buffer.byteLength(JSON.stringify(fitted))).to.be.at.most(3800)
    expect(fitted.processTypes).to.deep.equal({web: 'npm start'})
    const kept = fitted.failureOutput!.lines
    expect(kept.length).to.be.within(8, 12)
    expect(kept).to.deep.equal(lines.slice(-kept.length))
    expect(fitted.failureOutput).to.include({process: 'web.1a2b3c4', more: 'herogate logs -a demo --task web.1a2b3c4'})
  })

  it('says whether a config change is small enough to record', () => {
    expect(configDeltaFits(Array.from({length: 20}, (_, i) => `VAR_${i}`))).to.equal(true)
    expect(configDeltaFits(Array.from({length: 200}, (_, i) => `A_RATHER_LONG_CONFIG_VAR_NAME_${i}`))).to.equal(false)
  })

  describe('configAt: the parameter versions a rollback restores', () => {
    // v1 sets A; v2 deploys; v3 changes A and sets B; v4 fails changing A (put back as version 4); v5 unsets B and changes A.
    const all = [
      record(5, {config: {A: [4, 5], B: [1, 0]}}),
      record(4, {status: 'failed', config: {A: [2, 3]}}),
      record(3, {config: {A: [1, 2], B: [0, 1]}}),
      record(2, {kind: 'deploy'}),
      record(1, {config: {A: [0, 1]}}),
    ]
    const cases: Array<[number, Record<string, number>]> = [
      [4, {A: 4, B: 1}],
      [3, {A: 4, B: 1}],
      [2, {A: 1, B: 0}],
      [1, {A: 1, B: 0}],
      [5, {}],
    ]
    for (const [target, wanted] of cases) {
      it(`to v${target}: ${JSON.stringify(wanted)}`, () => expect(configAt(all, all.find((r) => r.version === target)!)).to.deep.equal(wanted))
    }
  })

  describe('archive parameters', () => {
    /** Text gzip can hardly shrink: random printable ASCII (no quotes or backslashes, which JSON would escape). */
    const noise = (bytes: number) => Array.from({length: bytes}, () => String.fromCharCode(35 + Math.floor(Math.random() * 57))).join('')

    it('packs as many records as fit 4 KB into one, and reads them back', async () => {
      const records = Array.from({length: 25}, (_, i) => record(i + 1, {kind: 'deploy', commit: 'a1b2c3d4e5f6', processTypes: {web: 'node server.js'}}))
      const chunks = await packChunks(records)
      expect(chunks.length).to.be.within(1, 3)
      expect(chunks.every((chunk) => Buffer.byteLength(chunk.value) <= 4096)).to.equal(true)
      const read = await Promise.all(chunks.map((chunk) => unpackChunk({Name: `/herogate/demo/archive/${chunk.from}`, Value: chunk.value})))
      expect(read.flatMap((chunk) => chunk!.records)).to.deep.equal(records)
      expect(read[0]).to.include({from: 1})
      expect(await unpackChunk({Name: '/herogate/demo/archive/000001', Value: 'not an archive'})).to.equal(undefined)
    })

    it('gives a record that does not fit 4 KB a parameter of its own (Advanced, up to 8 KB), and refuses one over that', async () => {
      const chunks = await packChunks([record(1), record(2, {failure: noise(4500)}), record(3)])
      expect(chunks.map((chunk) => chunk.from)).to.deep.equal([1, 2, 3])
      expect(Buffer.byteLength(chunks[1].value)).to.be.within(4097, 8192)
      const error = await packChunks([record(1, {failure: noise(9000)})]).catch((e: Error) => e)
      expect((error as Error).message).to.equal('Release v1 is too big to archive (over 8192 bytes compressed).')
    })

    it('resolves archived releases beside the slots, each once', () => {
      const slots: Slot[] = [{version: 11, record: record(11, {status: 'pending'}), lock: EXPIRED, previous: record(10)}]
      const archived = [record(9), record(10, {status: 'failed'})]
      expect(resolveReleases(slots, {latest: record(11)}, NOW, archived).map((r) => `v${r.version} ${r.status}`)).to.deep.equal(['v11 succeeded', 'v10 succeeded', 'v9 succeeded'])
    })
  })
})

