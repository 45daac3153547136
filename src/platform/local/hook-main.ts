// Entry point of a local app repo's pre-receive hook: `node hook-main.js APP` with git's ref lines on stdin.
import {deployRef, parsePushedRefs, receivePush} from './git-hook.js'
import {defaultContext} from './workflow.js'

async function main(): Promise<number> {
  const app = process.argv[2]
  let input = ''
  for await (const chunk of process.stdin) input += chunk
  const refs = parsePushedRefs(input)
  const target = deployRef(refs)
  if (!target) {
    if (refs.length > 0) process.stdout.write(`-----> Pushed ${refs.map((r) => r.ref.replace('refs/heads/', '')).join(', ')}: only main or master deploy, skipping build\n`)
    return 0
  }

  // The commit waits in git's quarantine: git needs these variables to read it, but nothing
  // started from here (build, release phase, the supervisor daemon) should inherit them.
  const gitEnv = {...process.env}
  for (const key of Object.keys(process.env)) if (key.startsWith('GIT_')) delete process.env[key]
  try {
    await receivePush(defaultContext(), app, target.newSha, process.stdout, gitEnv)
    return 0
  } catch (error) {
    process.stdout.write(` !     Push rejected: ${(error as Error).message}\n`)
    return 1
  }
}

const code = await main()
// Exit even if a client socket or a watcher is still open: git waits for this process.
process.stdout.write('', () => process.exit(code))
