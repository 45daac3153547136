/**
 * A live stream of timestamped items, put in time order: lines of several writers (processes,
 * the router, builds) reach a tail a little out of order, as each writer batches, but each
 * within `holdMs` of its time. So an item is held until `holdMs` after its time (after it
 * arrived, for one stamped in the future): by then everything older has come. When it is let
 * go, so is every held item not newer than it, oldest first. Old items (history) pass at once;
 * an item later than its writer promised is let go at once too: late, never lost. When the
 * source ends, whatever is held is let go.
 */

export interface OrderClock {
  now(): number
  /** Resolves after `ms`, or at once when `signal` aborts (the waiting is then not needed). */
  sleep(ms: number, signal?: AbortSignal): Promise<void>
}

export const systemOrderClock: OrderClock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise((resolve) => {
      if (signal?.aborted) return resolve()
      const timer = setTimeout(done, ms)
      function done() {
        clearTimeout(timer)
        signal?.removeEventListener('abort', done)
        resolve()
      }

      signal?.addEventListener('abort', done, {once: true})
    }),
}

export async function* inTimeOrder<T>(source: AsyncIterable<T>, timeOf: (item: T) => number, options: {holdMs: number; clock?: OrderClock}): AsyncGenerator<T> {
  const clock = options.clock ?? systemOrderClock
  const iterator = source[Symbol.asyncIterator]()
  let held: Array<{item: T; due: number}> = []
  let firstDue = Number.POSITIVE_INFINITY
  let next: Promise<IteratorResult<T>> | undefined
  let finished = false
  try {
    while (!finished) {
      next ??= iterator.next()
      let arrived: IteratorResult<T> | undefined
      if (held.length === 0) {
        arrived = await next
      } else {
        const wake = new AbortController()
        const wait = Math.max(0, firstDue - clock.now())
        arrived = await Promise.race([next, clock.sleep(wait, wake.signal).then(() => undefined)])
        wake.abort()
      }

      if (arrived) {
        next = undefined
        if (arrived.done) finished = true
        else {
          const due = Math.min(timeOf(arrived.value), clock.now()) + options.holdMs
          held.push({item: arrived.value, due})
          firstDue = Math.min(firstDue, due)
        }
      }

      const now = clock.now()
      if (!finished && firstDue > now) continue
      let upTo = Number.NEGATIVE_INFINITY
      for (const entry of held) if (finished || entry.due <= now) upTo = Math.max(upTo, timeOf(entry.item))

      if (upTo === Number.NEGATIVE_INFINITY) continue
      const out = held.filter((entry) => timeOf(entry.item) <= upTo)
      held = held.filter((entry) => timeOf(entry.item) > upTo)
      firstDue = held.reduce((first, entry) => Math.min(first, entry.due), Number.POSITIVE_INFINITY)
      // A stable sort: items of the same time keep the order they came in.
      out.sort((a, b) => timeOf(a.item) - timeOf(b.item))
      for (const entry of out) yield entry.item
    }
  } finally {
    // Not awaited: a source waiting for its next item would hold the caller up.
    if (!finished) void iterator.return?.()?.catch(() => undefined)
  }
}
