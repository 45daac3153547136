import {GetParametersByPathCommand, SSMClient} from '@aws-sdk/client-ssm'
import {expect} from 'chai'
import {spawnSync} from 'node:child_process'
import {existsSync, mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {useMoto} from '../../helpers/moto.js'

const root = fileURLToPath(new URL('../../../', import.meta.url))
const cli = join(root, 'bin', 'run.js')

/**
 * Issue 10, item 18: on AWS, releases, releases:info and rollback of an app that does not exist
 * say so, as every other command does, and a region that cannot be one is named as such. The
 * built CLI against moto, output compared whole.
 */
describe('releases, releases:info and rollback of an unknown app, and a bad region (CLI, moto)', function () {
  this.timeout(60_000)
  useMoto()
  let cwd: string
  let home: string

  before(function () {
    if (existsSync(join(root, 'dist', 'commands', 'releases', 'index.js'))) return
    if (process.env.CI) throw new Error('missing dist (run npm run build)')
    console.warn('    (skipping: missing dist; run npm run build)')
    this.skip()
  })

  beforeEach(() => {
    cwd = mkdtempSync(join(tmpdir(), 'herogate-releases-cli-'))
    home = mkdtempSync(join(tmpdir(), 'herogate-home-'))
  })

  afterEach(() => {
    rmSync(cwd, {recursive: true, force: true})
    rmSync(home, {recursive: true, force: true})
  })

  function herogate(...args: string[]) {
    const result = spawnSync(process.execPath, [cli, ...args], {
      cwd,
      encoding: 'utf8',
      env: {...process.env, HEROGATE_HOME: home, AWS_REGION: 'us-east-1', NO_COLOR: '1', AWS_EC2_METADATA_DISABLED: 'true'},
    })
    return {status: result.status, stdout: result.stdout, stderr: result.stderr}
  }

  const unknown = ' ▸    App nope not found in us-east-1.\n  Try: herogate apps --region us-east-1\n'

  it('releases -a nope says the app is unknown', () => {
    expect(herogate('releases', '-a', 'nope')).to.deep.equal({status: 1, stdout: '', stderr: unknown})
    expect(herogate('releases', '-a', 'nope', '--json')).to.deep.equal({status: 1, stdout: '', stderr: unknown})
  })

  it('releases:info -a nope says the app is unknown, with or without a version', () => {
    expect(herogate('releases:info', '-a', 'nope')).to.deep.equal({status: 1, stdout: '', stderr: unknown})
    expect(herogate('releases:info', 'v3', '-a', 'nope')).to.deep.equal({status: 1, stdout: '', stderr: unknown})
  })

  it('releases:output -a nope says the app is unknown, with or without a version', () => {
    expect(herogate('releases:output', '-a', 'nope')).to.deep.equal({status: 1, stdout: '', stderr: unknown})
    expect(herogate('releases:output', 'v3', '-a', 'nope', '--json')).to.deep.equal({status: 1, stdout: '', stderr: unknown})
  })

  it('rollback -a nope says the app is unknown, and changes nothing', async () => {
    expect(herogate('rollback', '-a', 'nope')).to.deep.equal({status: 1, stdout: '', stderr: `Rolling back nope...\nRolling back nope... failed\n${unknown}`})
    expect(herogate('releases:rollback', 'v2', '-a', 'nope')).to.deep.equal({status: 1, stdout: '', stderr: `Rolling back nope to v2...\nRolling back nope to v2... failed\n${unknown}`})
    // No release number was claimed for it.
    const left = await new SSMClient({region: 'us-east-1'}).send(new GetParametersByPathCommand({Path: '/herogate/nope/', Recursive: true}))
    expect(left.Parameters).to.deep.equal([])
  })

  it('--region not-a-region says the region is invalid, before any call', () => {
    const invalid = ' ▸    --region not-a-region is not an AWS region: region names look like us-east-1 or eu-west-2.\n  Try: --region us-east-1\n'
    for (const command of [['releases'], ['releases:info'], ['rollback'], ['config'], ['ps']]) {
      expect(herogate(...command, '-a', 'nope', '--region', 'not-a-region'), command[0]).to.deep.equal({status: 1, stdout: '', stderr: invalid})
    }

    // apps lists local apps without AWS set up, but a region asked for by name must be one.
    expect(herogate('apps', '--region', 'not-a-region')).to.deep.equal({status: 1, stdout: '', stderr: invalid})
  })
})
