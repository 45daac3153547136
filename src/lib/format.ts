import type {LogLine} from '../platform/types.js'

/** Heroku's log format: `2026-11-21T10:00:00.000Z app[web.1]: message`. */
export function formatLogLine(line: LogLine): string {
  return `${line.time.toISOString()} ${line.source}[${line.process}]: ${line.message}`
}

/** Plain text table: header row, then rows; columns padded to the widest cell. */
export function table<T>(rows: T[], columns: Array<{header: string; get: (row: T) => string | number | undefined}>): string {
  const cells = rows.map((row) => columns.map((column) => String(column.get(row) ?? '')))
  const widths = columns.map((column, i) => Math.max(column.header.length, ...cells.map((cell) => cell[i].length)))
  const render = (values: string[]) => values.map((value, i) => (i === values.length - 1 ? value : value.padEnd(widths[i]))).join('  ').trimEnd()
  return [render(columns.map((c) => c.header)), render(widths.map((w) => '─'.repeat(w))), ...cells.map(render)].join('\n')
}

/** `key: value` lines with keys aligned, as `heroku info` prints them. */
export function keyValues(entries: Array<[string, string | number | undefined]>): string {
  const shown = entries.filter(([, value]) => value !== undefined && value !== '')
  const width = Math.max(...shown.map(([key]) => key.length))
  return shown.map(([key, value]) => `${(key + ':').padEnd(width + 1)} ${value}`).join('\n')
}
