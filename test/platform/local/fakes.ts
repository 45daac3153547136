import {EventEmitter} from 'node:events'
import {PassThrough} from 'node:stream'

import type {LogLine} from '../../../src/platform/types.js'
import type {ChildHandle, Clock, KillFn, SpawnFn} from '../../../src/platform/local/processes.js'

/** A clock whose time only moves when a test (or an injected sleep) advances it. */
export class FakeClock implements Clock {
  time = 1_000_000
  private timers: Array<{at: number; callback: () => void; id: number}> = []
  private nextId = 1

  now(): number {
    return this.time
  }

  setTimeout(callback: () => void, ms: number): unknown {
    const id = this.nextId++
    this.timers.push({at: this.time + ms, callback, id})
    return id
  }

  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((timer) => timer.id !== handle)
  }

  /** Moves time forward, firing due timers in order. */
  advance(ms: number): void {
    const end = this.time + ms
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at)
      const next = this.timers[0]
      if (!next || next.at > end) break
      this.timers.shift()
      this.time = next.at
      next.callback()
    }

    this.time = end
  }

  pending(): number[] {
    return this.timers.map((timer) => timer.at - this.time).sort((a, b) => a - b)
  }
}

export class FakeChild extends EventEmitter implements ChildHandle {
  readonly stdout = new PassThrough()
  readonly stderr = new PassThrough()
  signals: string[] = []
  ignoreTerm = false
  exited = false

  constructor(readonly pid: number, readonly command: string, readonly env: Record<string, string>, readonly cwd: string) {
    super()
  }

  exit(code: number | null, signal: NodeJS.Signals | null = null): void {
    if (this.exited) return
    this.exited = true
    this.emit('exit', code, signal)
  }
}

/** spawn/kill doubles: every child is recorded; SIGTERM and SIGKILL end it unless it ignores SIGTERM. */
export function fakeProcesses(): {spawn: SpawnFn; kill: KillFn; children: FakeChild[]; onSpawn?: (child: FakeChild) => void} {
  const state = {
    children: [] as FakeChild[],
    onSpawn: undefined as ((child: FakeChild) => void) | undefined,
    spawn: ((command, options) => {
      const child = new FakeChild(1000 + state.children.length, command, options.env, options.cwd)
      state.children.push(child)
      state.onSpawn?.(child)
      return child
    }) as SpawnFn,
    kill: ((handle, signal) => {
      const child = handle as FakeChild
      // Like kill(-pid) on a group that is gone: nothing to signal.
      if (child.exited) return
      child.signals.push(signal)
      if (signal === 'SIGKILL' || !child.ignoreTerm) child.exit(null, signal)
    }) as KillFn,
  }
  return state
}

export class MemoryLog {
  lines: LogLine[] = []
  append(line: LogLine): void {
    this.lines.push(line)
  }

  messages(process?: string): string[] {
    return this.lines.filter((line) => !process || line.process === process).map((line) => line.message)
  }
}

export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve))
}
