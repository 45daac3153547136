#!/usr/bin/env node
// `npm run demo`: deploys examples/hello-node to the local platform from a temporary git
// repo (create --local, git push herogate main) and prints its URL once it answers.
import {execFileSync, spawnSync} from 'node:child_process'
import {cpSync, mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const cli = join(root, 'bin', 'run.js')
const dir = mkdtempSync(join(tmpdir(), 'herogate-demo-'))
const say = (text) => process.stderr.write(`${text}\n`)

function fail(message) {
  say(`\n ✖ ${message}`)
  process.exit(1)
}

function git(...args) {
  const result = spawnSync('git', args, {cwd: dir, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8'})
  if (result.error) fail('git is not installed: install git, then run npm run demo again')
  if (result.status !== 0) fail(`git ${args[0]} failed: ${result.stderr.trim()}`)
}

say(`==> Copying examples/hello-node to ${dir}`)
cpSync(join(root, 'examples', 'hello-node'), dir, {recursive: true})
git('init', '--quiet', '--initial-branch=main')
git('add', '-A')
git('-c', 'user.name=herogate demo', '-c', 'user.email=demo@herogate.invalid', 'commit', '--quiet', '-m', 'Hello from herogate')

say('==> herogate create --local')
let app
try {
  app = JSON.parse(execFileSync(process.execPath, [cli, 'create', '--local', '--json'], {cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit']}))
} catch (error) {
  fail(`herogate create --local failed${error.stdout ? `: ${error.stdout.trim()}` : ''}`)
}

say(`    ${app.name}: ${app.webUrl}`)
say('==> git push herogate main')
const push = spawnSync('git', ['push', 'herogate', 'main'], {cwd: dir, stdio: 'inherit'})
if (push.status !== 0) fail('the push was rejected (see the remote: lines above)')

let answer
for (let attempt = 0; attempt < 50 && !answer; attempt++) {
  try {
    const response = await fetch(app.webUrl, {signal: AbortSignal.timeout(2000)})
    if (response.ok) answer = (await response.text()).trim()
  } catch {
    // Not answering yet.
  }

  if (!answer) await new Promise((resolve) => setTimeout(resolve, 200))
}

if (!answer) fail(`${app.webUrl} does not answer; see: herogate logs -a ${app.name}`)
const home = process.env.HEROGATE_HOME ? `HEROGATE_HOME=${process.env.HEROGATE_HOME} ` : ''
const hg = `${home}node ${cli}`
process.stdout.write(`\n${app.webUrl}  answers: ${answer}\n\n`)
say(`Your app ${app.name} runs on this machine. Its code is in ${dir}. Try:`)
const tries = [
  [`cd ${dir}`, ''],
  [`${hg} config:set GREETING="Hi there"`, 'new release, rolling restart'],
  [`${hg} releases`, 'v1 deploy, v2 config'],
  [`${hg} logs -t`, 'router, app and deploy lines (Ctrl-C ends)'],
  [`${hg} rollback`, 'back to v1, code and config'],
  [`${hg} destroy --confirm ${app.name}`, 'stops it, frees the port'],
]
const width = Math.max(...tries.map(([command]) => command.length))
for (const [command, why] of tries) say(`  ${why ? `${command.padEnd(width)}  # ${why}` : command}`)
