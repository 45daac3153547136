import {chmodSync, existsSync} from 'node:fs'
import {join} from 'node:path'

import {HerogateError} from '../../lib/errors.js'
import {git} from '../../lib/git.js'
import {herogateHome} from '../../lib/home.js'
import {procfileWarning} from '../../lib/parse.js'
import {buildCommit, pruneBuilds, runStreaming} from './build.js'
import {readConfig} from './config.js'
import {listenWarning} from './listening.js'
import {createRelease, describeDeploy, finishRelease} from './releases.js'
import {entryCommand} from './run.js'
import {appPaths, readApp, withLock, writeFileAtomic} from './state.js'
import {activate, baseEnv, connect, formationFor, type LocalContext, log, processEnv} from './workflow.js'

/**
 * `git push herogate main` runs the bare repo's pre-receive hook, which runs herogate's own
 * code: build, release phase, rolling deploy. Its output reaches the pusher as `remote:`
 * lines, and a non-zero exit rejects the push, so a failed build or release leaves the ref
 * (and the running release) where they were.
 */

const DEPLOY_REFS = ['refs/heads/main', 'refs/heads/master']
const ZERO = /^0+$/

function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`
}

/** Writes the pre-receive hook of `repo`: it runs herogate by absolute path with this HEROGATE_HOME baked in. */
export function installHook(repo: string, app: string): void {
  const [node, ...args] = entryCommand('hook-main')
  const script = [
    '#!/bin/sh',
    '# herogate: builds and releases what is pushed to main or master; a failure rejects the push.',
    // The node that created the app, or the one on PATH if that one has gone (a Node upgrade).
    `NODE=${shellQuote(node)}; [ -x "$NODE" ] || NODE=node`,
    `HEROGATE_HOME=${shellQuote(herogateHome())} exec "$NODE" ${[...args, app].map(shellQuote).join(' ')}`,
    '',
  ].join('\n')
  const file = join(repo, 'hooks', 'pre-receive')
  writeFileAtomic(file, script, 0o755)
  chmodSync(file, 0o755)
}

export interface PushedRef {
  oldSha: string
  newSha: string
  ref: string
}

/** pre-receive's stdin: one `old new ref` line per pushed ref. */
export function parsePushedRefs(text: string): PushedRef[] {
  return text
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((parts) => parts.length === 3)
    .map(([oldSha, newSha, ref]) => ({oldSha, newSha, ref}))
}

/** The ref whose commit gets deployed: main, else master; undefined when neither was pushed (or it was deleted). */
export function deployRef(refs: PushedRef[]): PushedRef | undefined {
  for (const name of DEPLOY_REFS) {
    const pushed = refs.find((r) => r.ref === name)
    if (pushed && !ZERO.test(pushed.newSha)) return pushed
  }

  return undefined
}

export interface Output {
  write(text: string): unknown
}

/**
 * Builds `commit`, runs its release phase and rolls it out. Resolves with the release on
 * success; throws (after saying why on `out`) when the build, release phase or deploy fails,
 * in which case the old release keeps serving.
 */
export async function receivePush(ctx: LocalContext, app: string, commit: string, out: Output, gitEnv: NodeJS.ProcessEnv = process.env) {
  const paths = appPaths(app)
  const say = (process: string, message: string) => {
    out.write(`-----> ${message}\n`)
    log(ctx, app, process, message)
  }

  const echo = (process: string) => (line: string) => {
    out.write(`       ${line}\n`)
    log(ctx, app, process, line)
  }

  return withLock(
    app,
    'deploy',
    async () => {
      const record = readApp(app)
      const config = readConfig(paths, record.configVersion)
      const env = {...baseEnv(), ...config}
      const releaseEnv = {...processEnv(), ...config, DYNO: 'release.1'}
      const short = commit.slice(0, 7)
      say('build', `Building ${app} (${short})`)
      let build
      try {
        build = await buildCommit(paths, {commit, gitEnv, buildEnv: env, log: (m) => say('build', m), onLine: echo('build')})
      } catch (error) {
        say('build', `Build failed: ${(error as Error).message}`)
        throw error
      }

      const types = Object.keys(build.processTypes).filter((t) => t !== 'release')
      say('build', `Process types: ${types.join(', ') || '(none)'}`)
      let author = 'unknown'
      try {
        author = (await git(paths.repo, ['log', '-1', '--format=%ae', commit], gitEnv)) || author
      } catch {
        // An author is nice to have; a commit without one still deploys.
      }

      let release = createRelease(
        paths,
        {description: describeDeploy(commit), author, commit, image: build.id, configVersion: record.configVersion, processTypes: build.processTypes},
        ctx.now(),
      )
      const releaseCommand = build.processTypes.release
      if (releaseCommand) {
        say('release', `Running release command: ${releaseCommand}`)
        const code = await runStreaming('sh', ['-c', releaseCommand], {cwd: build.dir, env: releaseEnv, onLine: echo('release')})
        if (code !== 0) {
          const reason = `release command exited with code ${code}`
          finishRelease(paths, release, 'failed', reason)
          say('release', `Release v${release.version} failed: ${reason}; v${record.current || 'none'} keeps serving`)
          pruneBuilds(paths, record.current)
          throw new HerogateError(`Release phase failed: ${reason}.`)
        }
      }

      say('deploy', `Deploying v${release.version}`)
      const result = await activate(ctx, app, release, formationFor(build.processTypes, record.formation))
      release = result.release
      pruneBuilds(paths, result.ok ? release.version : record.current, [build.id])
      if (!result.ok) {
        say('deploy', `Deploy of v${release.version} failed: ${result.reason}; ${record.current ? `v${record.current} keeps serving` : 'nothing is serving'}`)
        throw new HerogateError(`Deploy failed: ${result.reason}.`)
      }

      say('deploy', `Released v${release.version}: http://127.0.0.1:${record.port}`)
      // Best effort: a warning must not fail a deploy that succeeded.
      const running = await connect(ctx, app, {locked: true}).then((client) => client.status()).catch(() => [])
      for (const warning of [procfileWarning(build.processTypes), listenWarning(running)]) {
        if (!warning) continue
        out.write(` !     Warning: ${warning}\n`)
        log(ctx, app, 'deploy', `Warning: ${warning}`)
      }

      return release
    },
    {waitMs: ctx.lockWaitMs},
  )
}

/** True when `repo` looks like an app repo with herogate's hook installed. */
export function hookInstalled(repo: string): boolean {
  return existsSync(join(repo, 'hooks', 'pre-receive'))
}
