import type {Progress, ProgressEvent} from '../platform/types.js'

export interface Renderer {
  progress: Progress
  /** Leaves the screen tidy: prints rows still in progress as they stand. */
  done(): void
}

type Out = Pick<NodeJS.WriteStream, 'write'> & {isTTY?: boolean; columns?: number}

const TERMINAL = /(_COMPLETE|_FAILED|^COMPLETE$|^FAILED$|^done$|^failed$|^skipped$)/
const FAILED = /(FAILED|ROLLBACK|^failed$)/

/**
 * Picks how progress looks: live rows on a TTY (finished rows settle above the ones still
 * moving), one plain line per event when piped, nothing under --json. Always stderr.
 */
export function createRenderer(options: {json: boolean; stream?: Out}): Renderer {
  const stream = options.stream ?? process.stderr
  if (options.json) return {progress: () => {}, done: () => {}}
  return stream.isTTY ? liveRenderer(stream) : lineRenderer(stream)
}

function describe(event: ProgressEvent): string {
  switch (event.kind) {
    case 'resource': {
      const what = event.description ?? event.resourceType
      return `${event.status.padEnd(20)} ${event.id}${what ? ` (${what})` : ''}${event.reason ? `: ${event.reason}` : ''}`
    }

    case 'step':
      return `${event.message}...${event.status === 'start' ? '' : ` ${event.detail ?? event.status}`}`
    case 'output':
      return event.line
    case 'warning':
      return `Warning: ${event.message}`
  }
}

function lineRenderer(stream: Out): Renderer {
  return {
    progress(event) {
      stream.write(describe(event) + '\n')
    },
    done() {},
  }
}

function liveRenderer(stream: Out): Renderer {
  const rows = new Map<string, string>()
  let drawn = 0
  const width = () => Math.max(20, (stream.columns ?? 100) - 1)
  const clip = (line: string) => (line.length > width() ? line.slice(0, width() - 1) + '…' : line)
  const erase = () => {
    if (drawn > 0) stream.write(`\u001B[${drawn}F\u001B[0J`)
    drawn = 0
  }

  const draw = () => {
    for (const row of rows.values()) stream.write(clip(row) + '\n')
    drawn = rows.size
  }

  const settle = (line: string) => {
    erase()
    stream.write(line + '\n')
    draw()
  }

  return {
    progress(event) {
      if (event.kind === 'output' || event.kind === 'warning') return settle(describe(event))
      const id = event.kind === 'resource' ? `${event.stack ?? ''}/${event.id}` : `step/${event.id}`
      const status = event.status
      const mark = FAILED.test(status) ? '✖' : TERMINAL.test(status) ? '✔' : '…'
      const line = `${mark} ${describe(event)}`
      if (TERMINAL.test(status)) {
        rows.delete(id)
        return settle(line)
      }

      rows.set(id, line)
      erase()
      draw()
    },
    done() {
      drawn = 0
      rows.clear()
    },
  }
}

/** Runs each piece of work as one progress step: start, then done (or failed when it throws). */
export function stepper(progress: Progress) {
  return async <T>(id: string, message: string, work: () => Promise<T>): Promise<T> => {
    progress({kind: 'step', id, message, status: 'start'})
    try {
      const result = await work()
      progress({kind: 'step', id, message, status: 'done'})
      return result
    } catch (error) {
      progress({kind: 'step', id, message, status: 'failed'})
      throw error
    }
  }
}
