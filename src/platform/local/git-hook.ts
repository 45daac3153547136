import {chmodSync, existsSync, readFileSync, rmSync} from 'node:fs'
import {join} from 'node:path'

import {HerogateError} from '../../lib/errors.js'
import {git} from '../../lib/git.js'
import {herogateHome} from '../../lib/home.js'
import {procfileWarning} from '../../lib/parse.js'
import {BoundedOutput, configMasker, failureDetails} from '../../lib/process-output.js'
import {buildCommit} from './build.js'
import {readConfig} from './config.js'
import type {ReleaseEvent} from './contracts.js'
import {listenWarning} from './listening.js'
import {releaseEventLines} from './release-owner.js'
import {describeDeploy, type ReleaseRecord} from './releases.js'
import {entryCommand} from './run.js'
import {appPaths, readApp, writeFileAtomic} from './state.js'
import {baseEnv, handOver, type LocalContext, log, withAppLock} from './workflow.js'

/**
 * `git push herogate main` hands main (and master) to the bare repo's proc-receive hook,
 * which runs herogate's own code and is itself responsible for moving those refs (git's
 * receive.procReceiveRefs). Under the app lock it checks that the branch is still where the
 * pusher saw it (two clones pushing at once: the second is told to pull), builds the commit,
 * and hands the release to the supervisor, which runs the release phase, rolls it out and
 * moves the branch once the code is live. So the branch, the release record and what runs
 * always agree, even when the push is interrupted: from the hand-over on the release is the
 * supervisor's, and it ends (and the branch follows) whatever happens to the push.
 * Output reaches the pusher as `remote:` lines.
 */

const DEPLOY_REFS = ['refs/heads/main', 'refs/heads/master']
const ZERO = '0'.repeat(40)

function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`
}

/** Marks the hook as herogate's: an older herogate's pre-receive hook is replaced, a user's own hook is left alone. */
const HOOK_MARK = '# herogate:'

/** git's proc-receive hook (receive.procReceiveRefs) came with git 2.29: "git version 2.39.5" -> true. */
export function procReceiveSupported(version: string): boolean {
  const match = /(\d+)\.(\d+)/.exec(version)
  return match !== null && (Number(match[1]) > 2 || (Number(match[1]) === 2 && Number(match[2]) >= 29))
}

/**
 * Writes the proc-receive hook of `repo` (it runs herogate by absolute path with this
 * HEROGATE_HOME baked in) and routes pushes of main and master to it.
 */
export async function installHook(repo: string, app: string): Promise<void> {
  // An older git would never run the hook: pushes would move main without deploying anything.
  const version = await git(repo, ['version'])
  if (!procReceiveSupported(version)) {
    throw new HerogateError(`Local apps need git 2.29 or newer to receive pushes (this is ${version.replace('git version ', '')}).`, {suggestions: ['upgrade git, then try again']})
  }

  const [node, ...args] = entryCommand('hook-main')
  const script = [
    '#!/bin/sh',
    `${HOOK_MARK} builds and releases what is pushed to main or master, and moves the branch once it is live.`,
    // The node that created the app, or the one on PATH if that one has gone (a Node upgrade).
    `NODE=${shellQuote(node)}; [ -x "$NODE" ] || NODE=node`,
    `HEROGATE_HOME=${shellQuote(herogateHome())} exec "$NODE" ${[...args, app].map(shellQuote).join(' ')}`,
    '',
  ].join('\n')
  const file = join(repo, 'hooks', 'proc-receive')
  writeFileAtomic(file, script, 0o755)
  chmodSync(file, 0o755)
  const legacy = join(repo, 'hooks', 'pre-receive')
  if (existsSync(legacy) && readFileSync(legacy, 'utf8').includes(HOOK_MARK)) rmSync(legacy)
  // Every ref comes to the hook (to say what deploys); it hands all but main and master back to git.
  await git(repo, ['config', '--replace-all', 'receive.procReceiveRefs', 'refs'])
}

export interface PushedRef {
  oldSha: string
  newSha: string
  ref: string
}

/** The commands git hands proc-receive (or pre-receive): one `old new ref` line per pushed ref. */
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
    if (pushed && pushed.newSha !== ZERO && !/^0+$/.test(pushed.newSha)) return pushed
  }

  return undefined
}

export interface Output {
  write(text: string): unknown
}

/** What became of one pushed ref: git reports `ok` or `ng REASON` for it to the pusher. */
export interface RefResult {
  ref: string
  ok: boolean
  reason?: string
  /** The release a deployed ref made (succeeded or failed). */
  release?: ReleaseRecord
  /** Not main or master: git updates it as usual. */
  fallThrough?: boolean
}

/**
 * Receives the pushed main/master refs (as proc-receive gets them). Under the app lock: a ref
 * that moved since the pusher looked is refused; the deployed one is built and handed to the
 * supervisor, which moves it once live; another one (master pushed beside main) just moves.
 */
export async function receivePush(ctx: LocalContext, app: string, refs: PushedRef[], out: Output, gitEnv: NodeJS.ProcessEnv = baseEnv()): Promise<RefResult[]> {
  const paths = appPaths(app)
  // What the push shows of a deploy, kept as the start of its release's output (releases:output).
  let shown: BoundedOutput | undefined
  const tell = (line: string) => {
    out.write(`${line}\n`)
    shown?.add(line)
  }

  const say = (process: string, message: string) => {
    tell(`-----> ${message}`)
    log(ctx, app, process, message)
  }

  const refuse = (reason: string) => {
    out.write(` !     Push rejected: ${reason}\n`)
    return reason
  }

  const target = deployRef(refs)
  const others = refs.filter((pushed) => !DEPLOY_REFS.includes(pushed.ref))
  if (others.length > 0) out.write(`-----> Pushed ${others.map((r) => short(r.ref)).join(', ')}: only main or master deploy, skipping build\n`)
  const passed = others.map((pushed): RefResult => ({ref: pushed.ref, ok: true, fallThrough: true}))
  const ours = refs.filter((pushed) => DEPLOY_REFS.includes(pushed.ref))
  if (ours.length === 0) return passed
  const results = await withAppLock(ctx, app, 'deploy', async (lock) => {
    const results = new Map<string, RefResult>()
    for (const pushed of ours) {
      const at = (await git(paths.repo, ['rev-parse', '--verify', '--quiet', pushed.ref], gitEnv).catch(() => '')) || ZERO
      if (at !== pushed.oldSha) {
        results.set(pushed.ref, {ref: pushed.ref, ok: false, reason: refuse(`${short(pushed.ref)} moved to ${at.slice(0, 7)} since you fetched (another push went first): pull, then push again`)})
      } else if (/^0+$/.test(pushed.newSha)) {
        results.set(pushed.ref, {ref: pushed.ref, ok: false, reason: refuse(`${short(pushed.ref)} is the branch herogate deploys from: it cannot be deleted`)})
      }
    }

    for (const pushed of ours) {
      if (results.has(pushed.ref) || pushed === target) continue
      await git(paths.repo, ['update-ref', pushed.ref, pushed.newSha, pushed.oldSha], gitEnv)
      results.set(pushed.ref, {ref: pushed.ref, ok: true})
      out.write(`-----> Pushed ${short(pushed.ref)}: only ${target ? short(target.ref) : 'main or master'} deploys\n`)
    }

    if (target && !results.has(target.ref)) results.set(target.ref, await deploy(target))
    return results

    async function deploy(pushed: PushedRef): Promise<RefResult> {
      const commit = pushed.newSha
      const record = readApp(app)
      const config = readConfig(paths, record.configVersion)
      // The build sees the config (as Heroku's does): what it prints shows no value of it.
      const mask = configMasker(config)
      shown = new BoundedOutput()
      say('build', `Building ${app} (${commit.slice(0, 7)})`)
      let build
      try {
        build = await buildCommit(paths, {commit, gitEnv, buildEnv: {...baseEnv(), ...config}, log: (m) => say('build', mask(m)), onLine: (line) => echo('build', mask(line))})
      } catch (error) {
        const why = `Build failed: ${mask((error as Error).message)}`
        say('build', why)
        return {ref: pushed.ref, ok: false, reason: refuse(why)}
      }

      const types = Object.keys(build.processTypes).filter((t) => t !== 'release')
      say('build', `Process types: ${types.join(', ') || '(none)'}`)
      let author = 'unknown'
      try {
        author = (await git(paths.repo, ['log', '-1', '--format=%ae', commit], gitEnv)) || author
      } catch {
        // An author is nice to have; a commit without one still deploys.
      }

      // If the supervisor dies before it has recorded the release, the build belongs to no
      // release: the next release's prune removes it.
      const ended = await handOver(ctx, app, lock, {
        release: {description: describeDeploy(commit), author, commit, image: build.id, configVersion: record.configVersion, processTypes: build.processTypes},
        releasePhase: true,
        branch: {ref: pushed.ref, old: pushed.oldSha},
        output: shown.lines(),
      }, (event) => show(event, record.port, record.current))

      if (ended.ok) {
        await warn(build.processTypes)
        return {ref: pushed.ref, ok: true, release: ended.release}
      }

      const reason = `${ended.stage === 'release' ? 'Release phase' : 'Deploy'} failed: ${ended.reason}.`
      refuse(reason)
      // Why, where the pusher looks: the failing process's last lines (the release command's
      // are just above), and where to read more.
      const version = ended.release.version
      const more = ended.output?.more ?? (ended.stage === 'release' ? `herogate releases:output v${version} -a ${app}` : `herogate logs -a ${app}`)
      const lines = ended.stage === 'release' ? [] : failureDetails(ended.output)
      for (const line of [...lines, `More: ${more}`]) out.write(` !     ${line}\n`)

      return {ref: pushed.ref, ok: false, reason, release: ended.release}
    }
  })
  return refs.map((pushed) => results.get(pushed.ref) ?? passed.find((r) => r.ref === pushed.ref)!)

  function echo(process: string, line: string): void {
    tell(`       ${line}`)
    log(ctx, app, process, line)
  }

  /** The supervisor's report of the release it owns (it logs the same lines itself). */
  function show(event: ReleaseEvent, port: number, before: number): void {
    for (const line of releaseEventLines(event, port, before)) out.write(`${line}\n`)
  }

  /** What a user should know about the release that is live now (after its "Released" line). Best effort: a warning must not fail a deploy that succeeded. */
  async function warn(processTypes: Record<string, string>): Promise<void> {
    const running = (await ctx.runtime.publishedProcesses(appPaths(app).dir).catch(() => undefined)) ?? []
    for (const warning of [procfileWarning(processTypes), listenWarning(running)]) {
      if (!warning) continue
      out.write(` !     Warning: ${warning}\n`)
      log(ctx, app, 'deploy', `Warning: ${warning}`)
    }
  }
}

function short(ref: string): string {
  return ref.replace('refs/heads/', '')
}
