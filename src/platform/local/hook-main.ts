// Entry point of a local app repo's proc-receive hook: `node hook-main.js APP`, speaking git's
// pkt-line protocol on stdin and stdout (githooks(5), proc-receive); everything said to the
// pusher goes to stderr, which git passes on as `remote:` lines.
import {installHook, parsePushedRefs, type RefResult, receivePush} from './git-hook.js'
import {appPaths} from './state.js'
import {baseEnv, defaultContext} from './workflow.js'

const FLUSH = '0000'

function pkt(text: string): string {
  return (Buffer.byteLength(text) + 4).toString(16).padStart(4, '0') + text
}

/** Reads pkt-lines from stdin, a section (up to the next flush) at a time. */
function pktSections(): {next(): Promise<string[]>; first(): Promise<Buffer>} {
  let buffer = Buffer.alloc(0)
  let ended = false
  let wake: (() => void) | undefined
  process.stdin.on('data', (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk])
    wake?.()
  })
  process.stdin.on('end', () => {
    ended = true
    wake?.()
  })
  const more = () => new Promise<void>((resolve) => (wake = resolve))
  return {
    async first() {
      while (buffer.length < 5 && !ended) await more()
      return buffer
    },
    async next() {
      const lines: string[] = []
      for (;;) {
        while (buffer.length < 4 || buffer.length < (Number.parseInt(buffer.subarray(0, 4).toString(), 16) || 4)) {
          if (ended) throw new Error('git closed the hook input mid-message')
          await more()
        }

        const length = Number.parseInt(buffer.subarray(0, 4).toString(), 16)
        if (length === 0) {
          buffer = buffer.subarray(4)
          return lines
        }

        lines.push(buffer.subarray(4, length).toString('utf8').replace(/\n$/, ''))
        buffer = buffer.subarray(length)
      }
    },
  }
}

async function main(): Promise<number> {
  const app = process.argv[2]
  const input = pktSections()
  // An app set up by an older herogate runs this as its pre-receive hook, with plain lines.
  // A pkt-line opens with its length and then "version=1"; a pre-receive line with a commit id.
  if (/^[0-9a-f]{5}/.test((await input.first()).toString('latin1', 0, 5))) {
    await installHook(appPaths(app).repo, app)
    process.stderr.write(' !     Push rejected: herogate has updated how this app receives pushes; push again.\n')
    return 1
  }

  await input.next()
  process.stdout.write(pkt('version=1\0') + FLUSH)
  const refs = parsePushedRefs((await input.next()).join('\n'))
  // Started from git, this process has git's variables: what it starts must not inherit them.
  const gitEnv = baseEnv()
  for (const key of Object.keys(process.env)) if (key.startsWith('GIT_')) delete process.env[key]
  let results: RefResult[]
  try {
    results = await receivePush(defaultContext(), app, refs, process.stderr, gitEnv)
  } catch (error) {
    const reason = (error as Error).message
    process.stderr.write(` !     Push rejected: ${reason}\n`)
    results = refs.map((pushed) => ({ref: pushed.ref, ok: false, reason}))
  }

  const oneLine = (text = 'rejected') => text.replaceAll(/\s+/g, ' ').trim()
  const report = (r: RefResult) => (r.ok ? pkt(`ok ${r.ref}\n`) + (r.fallThrough ? pkt('option fall-through\n') : '') : pkt(`ng ${r.ref} ${oneLine(r.reason)}\n`))
  process.stdout.write(results.map(report).join('') + FLUSH)
  return 0
}

const code = await main()
// Exit even if a client socket or a watcher is still open: git waits for this process.
process.stdout.write('', () => process.exit(code))
