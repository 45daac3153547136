// A process of the lock race in state.test.ts: `tsx lock-racer.ts APP ROUNDS`. Once the file
// `go` appears in the app directory, it takes the app lock ROUNDS times, and inside it checks
// that it is alone (an `inside` marker created exclusively) and adds one to `counter`, with a
// pause between the read and the write to give a second holder time to do the same.
import {appendFileSync, existsSync, openSync, closeSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {appPaths, withLock} from '../../../src/platform/local/state.js'

const [app, rounds] = [process.argv[2], Number(process.argv[3])]
const dir = appPaths(app).dir
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

while (!existsSync(join(dir, 'go'))) await pause(5)
for (let round = 0; round < rounds; round++) {
  await withLock(app, 'race', async () => {
    const marker = join(dir, 'inside')
    try {
      closeSync(openSync(marker, 'wx'))
    } catch {
      appendFileSync(join(dir, 'violations'), `${process.pid}\n`)
    }

    const counter = join(dir, 'counter')
    const count = existsSync(counter) ? Number(readFileSync(counter, 'utf8')) : 0
    await pause(1)
    writeFileSync(counter, String(count + 1))
    rmSync(marker, {force: true})
  }, {waitMs: 60_000})
}
