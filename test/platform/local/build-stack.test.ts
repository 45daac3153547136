import {expect} from 'chai'
import {cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {PassThrough} from 'node:stream'
import {fileURLToPath} from 'node:url'

import {LocalPlatform} from '../../../src/platform/local/index.js'
import {nodePackage} from '../../../src/platform/local/node-runtime.js'
import {defaultRuntime} from '../../../src/platform/local/runtime.js'
import {appPaths} from '../../../src/platform/local/state.js'
import {type BuildNetwork, registryForBuilds, TOOL_PINS} from '../../helpers/npm-registry.js'
import {commitAll, exec, get, sh, tempHome} from './helpers.js'

const FIXTURES = fileURLToPath(new URL('../../fixtures/build-stack', import.meta.url))

interface Served {
  node: string
  hooks: string[]
  greeting: string | null
  devTool: boolean
  release: string | null
}

/**
 * Builds that honour the app's stack, end to end: a real `git push` of each fixture under
 * test/fixtures/build-stack (npm on Node.js 18 by engines.node, yarn by yarn.lock, pnpm by
 * pnpm-lock.yaml and packageManager), real processes that report the Node.js they run on,
 * the hooks they saw run and the dependencies left after pruning. Node.js and the package
 * managers come through npm and corepack from a registry, as a user's would: the stand-in on
 * 127.0.0.1 with npm's own tarballs (test/helpers/npm-registry.ts), and any request for
 * another host goes to a recorder that forwards nothing.
 */
describe('local builds honour the app\'s stack (engines.node, yarn, pnpm, hooks, pruning)', function () {
  this.timeout(300_000)
  let home: ReturnType<typeof tempHome>
  let platform: LocalPlatform
  const apps: string[] = []
  const repos: string[] = []
  let network: BuildNetwork

  before(async function () {
    network = await registryForBuilds(this)
    // Each run downloads Node.js, npm and the package managers again, from the stand-in.
    home = tempHome()
    platform = new LocalPlatform()
  })

  after(async () => {
    for (const app of apps) await defaultRuntime.stopSupervisor(appPaths(app).dir).catch(() => {})
    home?.cleanup()
    for (const repo of repos) rmSync(repo, {recursive: true, force: true})
    await network?.stop()
  })

  /** A git repo of the common fixture files and `variant`'s, created as a local app and pushed. */
  async function deploy(app: string, variant: string): Promise<{repo: string; url: string; code: number; output: string}> {
    const repo = mkdtempSync(join(tmpdir(), `herogate-${variant}-`))
    repos.push(repo)
    for (const file of ['server.js', 'hook.js', 'release.js', 'Procfile', 'packages']) cpSync(join(FIXTURES, file), join(repo, file), {recursive: true})
    cpSync(join(FIXTURES, variant), repo, {recursive: true})
    writeFileSync(join(repo, '.gitignore'), 'node_modules\n')
    sh(repo, 'git', ['init', '--quiet', '--initial-branch=main'])
    sh(repo, 'git', ['config', 'user.email', 'dev@example.com'])
    sh(repo, 'git', ['config', 'user.name', 'Dev'])
    commitAll(repo, 'first')
    const created = await platform.createApp({name: app, cwd: repo})
    apps.push(app)
    return {repo, url: created.webUrl!, ...(await push(repo))}
  }

  /** git push, with the padding git adds to each remote line taken off. */
  async function push(repo: string): Promise<{code: number; output: string}> {
    const {code, output} = await exec(repo, 'git', ['push', 'herogate', 'main'])
    return {code, output: output.replaceAll(/ +\n/g, '\n')}
  }

  const served = async (url: string): Promise<Served> => JSON.parse((await get(url)).body) as Served

  describe('npm, with engines.node "18.x"', () => {
    let npm: Awaited<ReturnType<typeof deploy>>

    before(async () => {
      npm = await deploy('stack-npm', 'npm')
    })

    it('builds and runs on the newest Node.js 18, and says which and why', async () => {
      expect(npm.code, npm.output).to.equal(0)
      expect(npm.output, npm.output).to.match(/remote: -----> Using Node\.js 18\.\d+\.\d+ \(engines\.node "18\.x" in package\.json\)\n/)
      // This machine's npm supports no Node.js 18: the newest that does comes with it.
      expect(npm.output).to.match(/remote: -----> Using npm 10\.\d+\.\d+ \(the newest that supports Node\.js 18\.\d+\.\d+: this machine's npm \d+\.\d+\.\d+ does not\)\n/)
      const app = await served(npm.url)
      expect(app.node).to.match(/^v18\./)
      expect(app.release, 'the release phase').to.equal(`release node=${app.node}`)
    })

    it('runs heroku-prebuild, heroku-postbuild in place of build and heroku-cleanup, in order, around the install and the pruning', async () => {
      const app = await served(npm.url)
      expect(app.hooks).to.deep.equal([
        `heroku-prebuild node=${app.node} node_modules=absent dev-tool=absent`,
        `heroku-postbuild node=${app.node} node_modules=present dev-tool=present`,
        `heroku-cleanup node=${app.node} node_modules=present dev-tool=absent`,
      ])
      expect(npm.output).to.include('remote: -----> Running heroku-postbuild (npm run heroku-postbuild) in place of build\n')
      expect(npm.output).to.include('remote: -----> Pruning devDependencies (npm prune --omit=dev --no-audit --no-fund)\n')
    })

    it('prunes the devDependency from the running app and keeps the dependency', async () => {
      const app = await served(npm.url)
      expect(app).to.include({greeting: 'hello from a dependency', devTool: false})
    })

    it('runs one-off processes on the same Node.js', async () => {
      const stdout = new PassThrough()
      let text = ''
      stdout.on('data', (chunk) => (text += chunk))
      const result = await platform.run('stack-npm', {command: ['node --version && npm --version'], env: {}, detached: false, tty: false, stdout, stderr: stdout})
      expect(result.exitCode, text).to.equal(0)
      const [node, npmVersion] = text.trim().split('\n')
      expect(node).to.equal((await served(npm.url)).node)
      expect(npmVersion).to.match(/^10\./)
    })

    it('reuses the cached Node.js and the dependencies as installed before pruning on the next push', async () => {
      writeFileSync(join(npm.repo, 'note.txt'), 'second\n')
      commitAll(npm.repo, 'second')
      const {code, output} = await push(npm.repo)
      expect(code, output).to.equal(0)
      expect(output).to.not.include('Downloading')
      expect(output).to.include('remote: -----> Reusing dependencies from the previous build (same lockfile)\n')
      const app = await served(npm.url)
      // The build saw the devDependency again, the running app does not.
      expect(app.hooks[1]).to.equal(`heroku-postbuild node=${app.node} node_modules=present dev-tool=present`)
      expect(app.devTool).to.equal(false)
    })

    it('refuses an engines.node no Node.js release satisfies, in one line, and the old release keeps serving', async () => {
      const pkg = JSON.parse(readFileSync(join(npm.repo, 'package.json'), 'utf8'))
      pkg.engines.node = '99.x'
      writeFileSync(join(npm.repo, 'package.json'), JSON.stringify(pkg, null, 2))
      commitAll(npm.repo, 'node 99')
      const {code, output} = await push(npm.repo)
      expect(code).to.not.equal(0)
      const reason = `No Node.js release satisfies engines.node "99.x" in package.json (the newest published as ${nodePackage()} is `
      expect(output).to.include(`remote:  !     Push rejected: Build failed: ${reason}`)
      expect((await served(npm.url)).node).to.match(/^v18\./)
      sh(npm.repo, 'git', ['reset', '--quiet', '--hard', 'HEAD~1'])
    })
  })

  it('builds a yarn.lock app with yarn through corepack; herogate-postbuild runs in place of heroku-postbuild', async () => {
    const yarn = await deploy('stack-yarn', 'yarn')
    expect(yarn.code, yarn.output).to.equal(0)
    expect(yarn.output).to.match(/remote: -----> Using Node\.js (\d+\.\d+\.\d+) \(no engines\.node: this machine's \1\)\n/)
    expect(yarn.output).to.match(/remote: -----> Using yarn 1\.\d+\.\d+ \(no packageManager in package\.json: the newest Yarn 1 for Node\.js [\d.]+; through corepack [\d.]+\)\n/)
    expect(yarn.output).to.include('remote: -----> Installing dependencies (yarn install)\n')
    expect(yarn.output).to.include('remote: -----> Running herogate-postbuild (yarn run herogate-postbuild) in place of heroku-postbuild\n').and.not.include('Running heroku-postbuild')
    expect(yarn.output).to.include('remote: -----> Pruning devDependencies (yarn install --frozen-lockfile --ignore-engines --ignore-scripts --prefer-offline --production=true --non-interactive)\n')
    const app = await served(yarn.url)
    expect(app.node).to.equal(process.version)
    expect(app.hooks).to.deep.equal([`herogate-postbuild node=${app.node} node_modules=present dev-tool=present`])
    expect(app).to.include({greeting: 'hello from a dependency', devTool: false})
  })

  it('builds a pnpm-lock.yaml app with the pnpm its packageManager pins, through corepack', async () => {
    const pnpm = await deploy('stack-pnpm', 'pnpm')
    expect(pnpm.code, pnpm.output).to.equal(0)
    expect(pnpm.output).to.match(/remote: -----> Using pnpm 9\.15\.4 \(packageManager in package\.json; through corepack [\d.]+\)\n/)
    expect(pnpm.output).to.include('remote: -----> Installing dependencies (pnpm install)\n')
    expect(pnpm.output).to.include('remote: -----> Running build (pnpm run build)\n')
    expect(pnpm.output).to.include('remote: -----> Pruning devDependencies (pnpm prune --prod --ignore-scripts)\n')
    const app = await served(pnpm.url)
    expect(app.hooks).to.deep.equal([`build node=${app.node} node_modules=present dev-tool=present`])
    expect(app).to.include({greeting: 'hello from a dependency', devTool: false})
  })

  // A describe of its own: mocha runs it after the blocks above.
  describe('the network', () => it('fetched Node.js, npm, yarn and pnpm from the stand-in and tried to reach no other host', () => {
    expect(network.outbound, 'requests for hosts other than 127.0.0.1').to.deep.equal([])
    const wanted = TOOL_PINS.filter((pin) => !pin.startsWith('corepack@'))
    expect([...network.registry.served]).to.include.members(wanted)
  }))
})
