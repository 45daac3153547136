import {expect} from 'chai'

import {inTimeOrder, type OrderClock} from '../../src/lib/time-order.js'

/** A clock that moves only when waited on: the reordering runs in zero time, the same every run. */
function manualClock(start: number): OrderClock & {waits: number[]} {
  let now = start
  const waits: number[] = []
  return {
    waits,
    now: () => now,
    async sleep(ms, signal) {
      await new Promise((resolve) => setImmediate(resolve))
      // Time passes only for a wait that was not called off.
      if (signal?.aborted) return
      waits.push(ms)
      now += ms
    },
  }
}

/** A source that yields each batch, then waits for the test's go before the next. */
function batches(...groups: number[][]): {source: AsyncIterable<number>; release(): void} {
  let go: () => void = () => {}
  let gate = Promise.resolve()
  const source = (async function* () {
    for (const [i, group] of groups.entries()) {
      if (i > 0) await gate
      gate = new Promise<void>((resolve) => (go = resolve))
      yield* group
    }
  })()
  return {source, release: () => go()}
}

async function collect(items: AsyncIterable<number>): Promise<number[]> {
  const out: number[] = []
  for await (const item of items) out.push(item)
  return out
}

describe('inTimeOrder', () => {
  it('lets fresh items of several writers go in time order once each has been held its time', async () => {
    const clock = manualClock(1000)
    // Three writers: their lines of 1000..1002 arrive out of order, all within the hold.
    const out = await collect(inTimeOrder((async function* () {
      yield* [1002, 1000, 1001]
    })(), (t) => t, {holdMs: 300, clock}))
    expect(out).to.deep.equal([1000, 1001, 1002])
  })

  it('lets old items (history) pass at once, and releases held ones when their time is up, not at the source\'s end', async () => {
    const clock = manualClock(10_000)
    const {source, release} = batches([1, 2, 10_050, 10_020], [10_400])
    const seen: Array<[number, number]> = []
    const reading = (async () => {
      for await (const item of inTimeOrder(source, (t) => t, {holdMs: 300, clock})) {
        seen.push([item, clock.now()])
        if (item === 10_050) release()
      }
    })()
    await reading
    expect(seen).to.deep.equal([
      [1, 10_000],
      [2, 10_000],
      // Fresh: held 300 ms, and let go then while the source is still open.
      [10_020, 10_300],
      [10_050, 10_300],
      // The source ended: what is held goes at once.
      [10_400, 10_300],
    ])
  })

  it('lets an item later than the hold go at once, late but never lost', async () => {
    const clock = manualClock(5000)
    const {source, release} = batches([5000], [4000])
    const out: number[] = []
    for await (const item of inTimeOrder(source, (t) => t, {holdMs: 100, clock})) {
      out.push(item)
      release()
    }

    expect(out).to.deep.equal([5000, 4000])
  })

  it('keeps the order items came in when their times are equal', async () => {
    const items = [{t: 7, id: 'a'}, {t: 5, id: 'b'}, {t: 7, id: 'c'}, {t: 5, id: 'd'}]
    const out: string[] = []
    for await (const item of inTimeOrder((async function* () {
      yield* items
    })(), (i) => i.t, {holdMs: 10, clock: manualClock(0)})) out.push(item.id)
    expect(out).to.deep.equal(['b', 'd', 'a', 'c'])
  })
})
