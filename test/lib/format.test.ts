import {expect} from 'chai'

import {colorEnabled, palette} from '../../src/lib/color.js'
import {formatLogLine, formationText, logLineJson, table, timeAgo} from '../../src/lib/format.js'
import type {LogLine} from '../../src/platform/types.js'

const time = new Date('2026-11-21T10:00:00.000Z')

describe('format', () => {
  it('log lines: Heroku\'s format; herogate lines about a process name its release, the app\'s own lines stay as written', () => {
    const state: LogLine = {time, source: 'herogate', process: 'web.1', message: 'State changed from starting to up', release: 8}
    const app: LogLine = {time, source: 'app', process: 'web.1', message: 'listening on 5000', release: 8}
    expect(formatLogLine(state)).to.equal('2026-11-21T10:00:00.000Z herogate[web.1]: State changed from starting to up (v8)')
    expect(formatLogLine(app)).to.equal('2026-11-21T10:00:00.000Z app[web.1]: listening on 5000')
    expect(formatLogLine({time, source: 'herogate', process: 'deploy', message: 'v8 is live'})).to.equal('2026-11-21T10:00:00.000Z herogate[deploy]: v8 is live')
    expect(logLineJson(state)).to.equal('{"time":"2026-11-21T10:00:00.000Z","source":"herogate","process":"web.1","message":"State changed from starting to up","release":8}')
  })

  it('log lines in colour: the time dim, the source[process] in its process type\'s colour', () => {
    expect(formatLogLine({time, source: 'app', process: 'web.1', message: 'hi'}, palette(true))).to.equal('\u001B[2m2026-11-21T10:00:00.000Z\u001B[22m \u001B[36mapp[web.1]:\u001B[39m hi')
  })

  it('relative times for tables', () => {
    const now = new Date('2026-11-21T12:00:00.000Z')
    const ago = (iso: string) => timeAgo(iso, now)
    expect([
      ago('2026-11-21T11:59:58.000Z'), ago('2026-11-21T11:59:15.000Z'), ago('2026-11-21T11:58:00.000Z'), ago('2026-11-21T09:00:00.000Z'),
      ago('2026-11-18T12:00:00.000Z'), ago('2026-09-01T12:00:00.000Z'), ago('2026-11-21T12:05:00.000Z'), timeAgo(undefined, now),
    ]).to.deep.equal(['just now', '45s ago', '2m ago', '3h ago', '3d ago', '2026-09-01', 'just now', undefined])
  })

  it('tables pad by what the terminal shows, colour codes left out', () => {
    const colors = palette(true)
    const rows = [{name: 'web.1', status: 'up'}, {name: 'worker.1', status: 'crashed'}]
    const text = table(rows, [{header: 'Name', get: (r) => r.name}, {header: 'Status', get: (r) => r.status, color: colors.status}, {header: 'Id', get: () => '1'}])
    expect(text).to.equal([
      'Name      Status   Id',
      '────────  ───────  ──',
      'web.1     \u001B[32mup\u001B[39m       1',
      'worker.1  \u001B[31mcrashed\u001B[39m  1',
    ].join('\n'))
  })

  it('formations show sizes only where there are any (local processes have none)', () => {
    expect(formationText([{type: 'web', quantity: 2, size: 'standard-2x'}, {type: 'worker', quantity: 1}])).to.equal('web=2:standard-2x worker=1')
  })

  it('colour: --no-color and NO_COLOR turn it off, FORCE_COLOR on (0: off), else only a terminal that is not dumb', () => {
    const tty = {isTTY: true}
    const pipe = {isTTY: false}
    expect([
      colorEnabled(tty, {env: {}}),
      colorEnabled(pipe, {env: {}}),
      colorEnabled(tty, {env: {}, noColorFlag: true}),
      colorEnabled(tty, {env: {NO_COLOR: '1'}}),
      colorEnabled(tty, {env: {NO_COLOR: ''}}),
      colorEnabled(pipe, {env: {FORCE_COLOR: '1'}}),
      colorEnabled(tty, {env: {FORCE_COLOR: '0'}}),
      colorEnabled(pipe, {env: {FORCE_COLOR: '1'}, noColorFlag: true}),
      colorEnabled(tty, {env: {TERM: 'dumb'}}),
    ]).to.deep.equal([true, false, false, false, true, true, false, false, false])
  })
})
