import {expect} from 'chai'
import {execFileSync, spawnSync} from 'node:child_process'
import {existsSync, mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {useMoto} from '../../helpers/moto.js'

const root = fileURLToPath(new URL('../../../', import.meta.url))
const cli = join(root, 'bin', 'run.js')

/**
 * The built CLI against moto, as a user runs it: create, apps, info, destroy. Needs
 * `npm run build` (the `pretest` script) and templates/buildspec.yml (issue 5).
 */
describe('herogate CLI on AWS (moto)', function () {
  this.timeout(120_000)
  useMoto()
  let repo: string
  let home: string

  before(function () {
    const missing = [join(root, 'dist', 'commands', 'apps', 'create.js'), join(root, 'templates', 'buildspec.yml')].filter((path) => !existsSync(path))
    if (missing.length === 0) return
    if (process.env.CI) throw new Error(`missing ${missing.join(', ')} (run npm run build)`)
    console.warn(`    (skipping: missing ${missing.join(', ')})`)
    this.skip()
  })

  beforeEach(() => {
    repo = mkdtempSync(join(tmpdir(), 'herogate-cli-'))
    home = mkdtempSync(join(tmpdir(), 'herogate-home-'))
    execFileSync('git', ['init', '-q', '-b', 'main', repo])
  })

  afterEach(() => {
    rmSync(repo, {recursive: true, force: true})
    rmSync(home, {recursive: true, force: true})
  })

  function herogate(...args: string[]) {
    const result = spawnSync(process.execPath, [cli, ...args], {
      cwd: repo,
      encoding: 'utf8',
      env: {...process.env, HEROGATE_HOME: home, AWS_REGION: 'us-east-1', NO_COLOR: '1', AWS_EC2_METADATA_DISABLED: 'true'},
    })
    return {status: result.status, stdout: result.stdout, stderr: result.stderr}
  }

  it('creates demo, lists it, describes it and destroys it', () => {
    const create = herogate('create', 'demo')
    expect(create.status, create.stderr).to.equal(0)
    expect(create.stdout).to.contain('Created demo in us-east-1')
    expect(create.stderr).to.contain('Created the shared herogate platform in us-east-1')
    const url = execFileSync('git', ['remote', 'get-url', 'herogate'], {cwd: repo, encoding: 'utf8'}).trim()
    expect(url).to.equal('https://git-codecommit.us-east-1.amazonaws.com/v1/repos/herogate-demo')
    const helper = execFileSync('git', ['config', '--get-all', `credential.${url}.helper`], {cwd: repo, encoding: 'utf8'})
    expect(helper).to.equal(`\n!'${process.execPath}' '${cli}' git:credentials\n`)

    const apps = herogate('apps', '--aws', '--json')
    expect(apps.status, apps.stderr).to.equal(0)
    const listed = JSON.parse(apps.stdout) as Array<{name: string; platform: string; region: string; status: string}>
    expect(listed.map((a) => [a.name, a.platform, a.region, a.status])).to.deep.equal([['demo', 'aws', 'us-east-1', 'idle']])

    // The app comes from the git remote here; -a says it explicitly.
    const info = herogate('info', '-a', 'demo', '--json')
    expect(info.status, info.stderr).to.equal(0)
    const described = JSON.parse(info.stdout)
    expect(described).to.include({name: 'demo', platform: 'aws', region: 'us-east-1', status: 'idle', gitUrl: url, stack: 'herogate-demo'})
    expect(described.webUrl).to.match(/^http:\/\/.+:10000$/)
    expect(described.formation).to.deep.equal([{type: 'web', quantity: 0, size: 'standard-1x'}])

    const taken = herogate('create', 'demo')
    expect(taken.status).to.equal(1)
    expect(taken.stderr).to.contain('Name demo is already taken in us-east-1.')

    const destroy = herogate('destroy', '-a', 'demo', '--confirm', 'demo')
    expect(destroy.status, destroy.stderr).to.equal(0)
    expect(destroy.stdout).to.contain('Destroyed demo.')
    expect(destroy.stdout).to.contain('git remote herogate')
    expect(execFileSync('git', ['remote'], {cwd: repo, encoding: 'utf8'}).trim()).to.equal('')

    const gone = herogate('info', '-a', 'demo', '--region', 'us-east-1')
    expect(gone.status).to.equal(1)
    expect(gone.stderr).to.contain('App demo not found in us-east-1.')
  })
})
