import type {LogLine} from '../platform/types.js'
import {palette, type Palette, visible} from './color.js'

const PLAIN = palette(false)

/**
 * Heroku's log format: `2026-11-21T10:00:00.000Z app[web.1]: message`. herogate's own lines
 * about a process name its release, so that during a rolling deploy the old and the new web.1
 * are told apart: `herogate[web.1]: State changed from starting to up (v8)`. The app's own
 * lines stay exactly as it wrote them.
 */
export function formatLogLine(line: LogLine, colors: Palette = PLAIN): string {
  const release = line.source === 'herogate' && line.release !== undefined ? ` (v${line.release})` : ''
  const type = line.process.split('.')[0]
  return `${colors.dim(line.time.toISOString())} ${colors.process(type, `${line.source}[${line.process}]:`)} ${line.message}${release}`
}

/** A log line as `logs --json` prints it: one JSON object per line, the time in ISO form. */
export function logLineJson(line: LogLine): string {
  return JSON.stringify({...line, time: line.time.toISOString()})
}

interface Column<T> {
  header: string
  get: (row: T) => string | number | undefined
  /** Colours a cell after it is padded (widths count what the terminal shows). */
  color?: (text: string, row: T) => string
}

/** Plain text table: header row, then rows; columns padded to the widest cell. */
export function table<T>(rows: T[], columns: Array<Column<T>>): string {
  const cells = rows.map((row) => columns.map((column) => String(column.get(row) ?? '')))
  const widths = columns.map((column, i) => Math.max(column.header.length, ...cells.map((cell) => visible(cell[i]).length)))
  const pad = (value: string, i: number) => value + ' '.repeat(Math.max(0, widths[i] - visible(value).length))
  const render = (values: string[], row?: T) =>
    values
      .map((value, i) => {
        const padded = i === values.length - 1 ? value : pad(value, i)
        const color = row === undefined ? undefined : columns[i].color
        if (!color || value === '') return padded
        return color(value, row as T) + padded.slice(value.length)
      })
      .join('  ')
      .trimEnd()
  return [render(columns.map((c) => c.header)), render(widths.map((w) => '─'.repeat(w))), ...cells.map((cell, r) => render(cell, rows[r]))].join('\n')
}

/** `key: value` lines with keys aligned, as `heroku info` prints them. */
export function keyValues(entries: Array<[string, string | number | undefined]>): string {
  const shown = entries.filter(([, value]) => value !== undefined && value !== '')
  const width = Math.max(...shown.map(([key]) => key.length))
  return shown.map(([key, value]) => `${(key + ':').padEnd(width + 1)} ${value}`).join('\n')
}

/** `=== title`, as Heroku heads a section. */
export function heading(title: string, colors: Palette = PLAIN): string {
  return colors.bold(`=== ${title}`)
}

/**
 * How long ago `iso` was, as tables show it: `just now`, `45s ago`, `2m ago`, `3h ago`,
 * `5d ago`; older than 30 days, the date. --json keeps the ISO time.
 */
export function timeAgo(iso: string | undefined, now: Date): string | undefined {
  if (!iso) return undefined
  const then = new Date(iso)
  if (Number.isNaN(then.getTime())) return iso
  const seconds = Math.floor((now.getTime() - then.getTime()) / 1000)
  if (seconds < 5) return 'just now'
  if (seconds < 60) return `${seconds}s ago`
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ago`
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)}h ago`
  if (seconds < 30 * 86_400) return `${Math.floor(seconds / 86_400)}d ago`
  return then.toISOString().slice(0, 10)
}

/** `web=2:standard-2x worker=1`: sizes only where the platform has them (local processes have none). */
export function formationText(formation: Array<{type: string; quantity: number; size?: string; autoscale?: {min: number; max: number}}>): string {
  return formation.map((p) => `${p.type}=${p.quantity}${p.size ? `:${p.size}` : ''}${p.autoscale ? ` (autoscaled ${p.autoscale.min}..${p.autoscale.max})` : ''}`).join(' ')
}
