import {expect} from 'chai'
import {execFileSync, spawnSync} from 'node:child_process'
import {cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

const ROOT = fileURLToPath(new URL('..', import.meta.url))

/**
 * The README's quick start as a newcomer follows it: each of its command blocks, as written,
 * in a fresh copy of the repository (the files git tracks), with a fresh HEROGATE_HOME and an
 * npm prefix of its own, so `npm link` puts `herogate` on a PATH that had none.
 */
export function quickStartBlocks(readme: string): string[][] {
  const start = readme.indexOf('\n## Quick start')
  const end = readme.indexOf('\n## ', start + 1)
  expect(start, 'README has no "## Quick start" section').to.be.greaterThan(-1)
  const blocks: string[][] = []
  let block: string[] | undefined
  for (const line of readme.slice(start, end).split('\n')) {
    if (line.startsWith('    ') && line.trim()) {
      block ??= []
      block.push(line.trim().replace(/\s+#.*$/, ''))
    } else if (block) {
      blocks.push(block)
      block = undefined
    }
  }

  if (block) blocks.push(block)
  return blocks
}

describe('README quick start, as written, in a fresh clone', function () {
  this.timeout(600_000)
  let work: string
  let clone: string
  let env: NodeJS.ProcessEnv

  before(function () {
    work = mkdtempSync(join(tmpdir(), 'herogate-quickstart-'))
    clone = join(work, 'herogate')
    // The files a clone has: what git tracks, and what it would once committed (not what it ignores), as they are here.
    const tracked = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {cwd: ROOT, encoding: 'utf8'}).split('\0').filter(Boolean)
    for (const file of tracked) if (existsSync(join(ROOT, file))) cpSync(join(ROOT, file), join(clone, file), {recursive: true, dereference: false})
    expect(existsSync(join(clone, 'dist')), 'dist/ is built output, not in a clone').to.equal(false)
    // `npm install` as written, from what this machine installed already (hard links) and
    // npm's cache: the test reaches no registry.
    execFileSync('cp', ['-al', join(ROOT, 'node_modules'), join(clone, 'node_modules')])
    rmSync(join(clone, 'node_modules', '.package-lock.json'), {force: true})
    const prefix = join(work, 'npm-prefix')
    mkdirSync(prefix)
    env = {...process.env}
    // npm's own variables of the run that started these tests would point npm at this work tree.
    for (const key of Object.keys(env)) if (key.startsWith('npm_')) delete env[key]
    env = {
      ...env,
      HEROGATE_HOME: join(work, 'herogate-home'),
      npm_config_prefix: prefix,
      npm_config_offline: 'true',
      npm_config_audit: 'false',
      npm_config_fund: 'false',
      npm_config_update_notifier: 'false',
      // No herogate but the one the quick start links: the PATH a fresh machine has.
      PATH: [join(prefix, 'bin'), ...(process.env.PATH ?? '').split(':').filter((dir) => !existsSync(join(dir, 'herogate')))].join(':'),
    }
  })

  after(function () {
    if (!work) return
    // Stops what the quick start started: every app's supervisor, router and processes.
    const cli = join(clone, 'bin', 'run.js')
    if (existsSync(join(clone, 'dist'))) {
      const apps = spawnSync(process.execPath, [cli, 'apps', '--local', '--json'], {env, encoding: 'utf8'})
      for (const app of apps.status === 0 ? (JSON.parse(apps.stdout) as {name: string}[]) : []) {
        spawnSync(process.execPath, [cli, 'destroy', '--confirm', app.name, '-a', app.name], {env, cwd: work, encoding: 'utf8'})
      }
    }

    rmSync(work, {recursive: true, force: true})
  })

  it('puts herogate on the PATH and deploys the demo and an app of your own with the commands it shows', async function () {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
    const [install, ownApp, ...rest] = quickStartBlocks(readme)
    expect(rest, 'the quick start has two command blocks').to.deep.equal([])
    expect(install).to.include('npm run demo')
    expect(spawnSync('bash', ['-c', 'command -v herogate'], {env}).status, 'herogate is on the PATH before the quick start').to.not.equal(0)

    const first = spawnSync('bash', ['-euo', 'pipefail', '-c', install.join('\n')], {cwd: clone, env, encoding: 'utf8'})
    expect(first.status, `${install.join('; ')}:\n${first.stdout}${first.stderr}`).to.equal(0)
    expect(first.stdout).to.match(/^http:\/\/127\.0\.0\.1:\d+ {2}answers: Hello from herogate/m)

    // "cd my-app": a git repo with a Procfile, as the block's comment says.
    const myApp = join(work, 'my-app')
    cpSync(join(ROOT, 'examples', 'hello-node'), myApp, {recursive: true})
    const git = (...args: string[]) => execFileSync('git', args, {cwd: myApp, env, stdio: 'ignore'})
    git('init', '--quiet', '--initial-branch=main')
    git('add', '-A')
    git('-c', 'user.name=Quick Start', '-c', 'user.email=quick@start.invalid', 'commit', '--quiet', '-m', 'my app')

    const second = spawnSync('bash', ['-euo', 'pipefail', '-c', ownApp.join('\n')], {cwd: work, env, encoding: 'utf8'})
    expect(second.status, `${ownApp.join('; ')}:\n${second.stdout}${second.stderr}`).to.equal(0)
    const url = /^http:\/\/127\.0\.0\.1:\d+\/$/m.exec(second.stdout)?.[0]
    expect(url, `herogate open printed no URL:\n${second.stdout}${second.stderr}`).to.be.a('string')
    const response = await fetch(url!)
    expect(await response.text()).to.match(/^Hello from herogate/)
  })
})
