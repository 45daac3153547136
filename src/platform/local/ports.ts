import {createServer} from 'node:net'

import {HerogateError} from '../../lib/errors.js'

/** A port the OS says is free on `host` right now (bind to 0, read it, close). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer()
    probe.unref()
    probe.once('error', reject)
    probe.listen(0, host, () => {
      const address = probe.address()
      probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no free port'))))
    })
  })
}

/** A free port that is not in `taken` (ports claimed by what is stopped now: other apps, add-ons). */
export async function freePortNotIn(taken: ReadonlySet<number | undefined>): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await freePort()
    if (!taken.has(port)) return port
  }

  throw new HerogateError('Could not find a free port on 127.0.0.1.')
}

/** True when nothing listens on host:port (binding it succeeds). */
export async function portFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer()
    probe.unref()
    probe.once('error', () => resolve(false))
    probe.listen(port, host, () => probe.close(() => resolve(true)))
  })
}

/** Hands out free ports, never the same one twice in a row even before the process binds it. */
export class PortAllocator {
  private readonly recent = new Set<number>()

  constructor(private readonly host = '127.0.0.1', private readonly probe: (host: string) => Promise<number> = freePort) {}

  async next(): Promise<number> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const port = await this.probe(this.host)
      if (this.recent.has(port)) continue
      this.recent.add(port)
      if (this.recent.size > 256) this.recent.delete(this.recent.values().next().value as number)
      return port
    }

    throw new Error('could not find a free port')
  }
}
