import {expect} from 'chai'
import {execFileSync, spawnSync} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {gitPassword} from '../../../src/aws/codecommit-credentials.js'
import {credentialHelper} from '../../../src/platform/aws/apps.js'

const devCli = fileURLToPath(new URL('../../../bin/dev.js', import.meta.url))
const tsxLoader = new URL('../../../node_modules/tsx/dist/loader.mjs', import.meta.url).href
const URL_ = 'https://git-codecommit.eu-west-1.amazonaws.com/v1/repos/herogate-demo'

/** git itself runs the helper as `create` configures it, from source (bin/dev.js), with env credentials only. */
describe('git:credentials as git runs it', function () {
  this.timeout(60_000)
  let repo: string
  let home: string

  before(() => {
    repo = mkdtempSync(join(tmpdir(), 'herogate-cred-'))
    home = mkdtempSync(join(tmpdir(), 'herogate-home-'))
    execFileSync('git', ['init', '-q', repo])
    // bin/dev.js needs tsx; the configured value has the same shape as the real one.
    const helper = credentialHelper(devCli).replace(`'${process.execPath}'`, `'${process.execPath}' --import ${tsxLoader}`)
    execFileSync('git', ['config', '--add', `credential.${URL_}.helper`, ''], {cwd: repo})
    execFileSync('git', ['config', '--add', `credential.${URL_}.helper`, helper], {cwd: repo})
    execFileSync('git', ['config', `credential.${URL_}.UseHttpPath`, 'true'], {cwd: repo})
  })

  after(() => {
    rmSync(repo, {recursive: true, force: true})
    rmSync(home, {recursive: true, force: true})
  })

  function fill(env: Record<string, string>) {
    return spawnSync('git', ['credential', 'fill'], {
      cwd: repo,
      input: `protocol=https\nhost=git-codecommit.eu-west-1.amazonaws.com\npath=v1/repos/herogate-demo\n\n`,
      encoding: 'utf8',
      env: {
        PATH: process.env.PATH!, HOME: home, GIT_TERMINAL_PROMPT: '0', GIT_CONFIG_NOSYSTEM: '1',
        AWS_CONFIG_FILE: join(home, 'none'), AWS_SHARED_CREDENTIALS_FILE: join(home, 'none'), AWS_EC2_METADATA_DISABLED: 'true', ...env,
      },
    })
  }

  it('answers git with the access key, session token and the SigV4 git password', () => {
    const secretAccessKey = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY'
    const result = fill({AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: secretAccessKey, AWS_SESSION_TOKEN: 'TOKEN'})
    expect(result.status, result.stderr).to.equal(0)
    const answer = Object.fromEntries(result.stdout.trim().split('\n').map((line: string) => line.split(/=(.*)/s).slice(0, 2)))
    expect(answer.username).to.equal('AKIDEXAMPLE%TOKEN')
    const stamp = /^(\d{8}T\d{6})Z[0-9a-f]{64}$/.exec(answer.password)
    expect(stamp, answer.password).to.not.equal(null)
    const at = new Date(stamp![1].replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})$/, '$1-$2-$3T$4:$5:$6Z'))
    const expected = gitPassword({accessKeyId: 'AKIDEXAMPLE', secretAccessKey}, {host: 'git-codecommit.eu-west-1.amazonaws.com', path: 'v1/repos/herogate-demo', region: 'eu-west-1'}, at)
    expect(answer.password).to.equal(expected)
  })

  it('without AWS credentials fails with a one-line reason and no password', () => {
    const result = fill({})
    expect(result.status).to.not.equal(0)
    expect(result.stdout).to.not.contain('password=')
    expect(result.stderr).to.contain('herogate: No AWS credentials found.')
  })
})
