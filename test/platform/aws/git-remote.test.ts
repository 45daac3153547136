import {expect} from 'chai'
import {execFileSync} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {AwsClients} from '../../../src/aws/clients.js'
import {AppNotFound, HerogateError, InvalidInput} from '../../../src/lib/errors.js'
import {gitClone, gitRemote, renameApp} from '../../../src/platform/aws/apps.js'
import type {AwsContext} from '../../../src/platform/aws/context.js'
import type {AppResources} from '../../../src/platform/aws/resources.js'
import {fakeClock, REGION} from './formation.fixture.js'

const URL_ = `https://git-codecommit.${REGION}.amazonaws.com/v1/repos/herogate-demo`

/** An AWS context in which only `demo` exists; no AWS call is made past resolving it. */
function context(): AwsContext {
  return {
    region: REGION,
    clients: new AwsClients({region: REGION}),
    clock: fakeClock(),
    appResources: async (_ctx, app) => {
      if (app !== 'demo') throw new AppNotFound(app, REGION)
      return {app} as AppResources
    },
  }
}

const git = (cwd: string, ...args: string[]) => execFileSync('git', args, {cwd, encoding: 'utf8'}).trim()
/** Each value of a multi-valued key, empty ones included. */
const values = (cwd: string, key: string) => execFileSync('git', ['config', '--get-all', key], {cwd, encoding: 'utf8'}).replace(/\n$/, '').split('\n')

describe('aws driver: git:remote and apps:rename', () => {
  let repo: string
  beforeEach(() => {
    repo = mkdtempSync(join(tmpdir(), 'herogate-remote-'))
    git(repo, 'init', '--quiet')
  })
  afterEach(() => rmSync(repo, {recursive: true, force: true}))

  it('git:remote points the remote at the CodeCommit repo, herogate its credential helper, replacing what it pointed at', async () => {
    git(repo, 'remote', 'add', 'herogate', 'https://example.com/old.git')
    const result = await gitRemote(context(), 'demo', {cwd: repo}, '/opt/herogate/bin/run.js')
    expect(result).to.deep.equal({dir: git(repo, 'rev-parse', '--show-toplevel'), remote: 'herogate', url: URL_, previous: 'https://example.com/old.git'})
    expect(git(repo, 'remote', 'get-url', 'herogate')).to.equal(URL_)
    expect(values(repo, `credential.${URL_}.helper`)).to.deep.equal(['', `!'${process.execPath}' '/opt/herogate/bin/run.js' git:credentials`])
    expect(git(repo, 'config', `credential.${URL_}.UseHttpPath`)).to.equal('true')
    // Again: the same remote, the helper set once.
    expect(await gitRemote(context(), 'demo', {cwd: repo, remote: 'herogate'}, '/opt/herogate/bin/run.js')).to.not.have.property('previous')
    expect(values(repo, `credential.${URL_}.helper`)).to.have.length(2)
  })

  it('git:clone clones the CodeCommit repo with herogate as the credential helper, the remote named herogate', async () => {
    // A bare repo stands in for CodeCommit: git fetches the CodeCommit URL from it (url.insteadOf).
    const bare = join(repo, 'codecommit.git')
    git(repo, 'init', '--quiet', '--bare', '--initial-branch=main', bare)
    const work = join(repo, 'work')
    git(repo, 'init', '--quiet', '--initial-branch=main', work)
    git(work, '-c', 'user.name=Dev', '-c', 'user.email=dev@example.com', 'commit', '--quiet', '--allow-empty', '-m', 'first')
    git(work, 'push', '--quiet', bare, 'main')
    const saved = {count: process.env.GIT_CONFIG_COUNT, key: process.env.GIT_CONFIG_KEY_0, value: process.env.GIT_CONFIG_VALUE_0}
    Object.assign(process.env, {GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: `url.${bare}.insteadOf`, GIT_CONFIG_VALUE_0: URL_})
    try {
      const result = await gitClone(context(), 'demo', {cwd: repo, directory: 'cloned'}, '/opt/herogate/bin/run.js')
      const cloned = join(repo, 'cloned')
      expect(result).to.deep.equal({dir: cloned, remote: 'herogate', url: URL_})
      expect(git(cloned, 'log', '--format=%s')).to.equal('first')
      expect(git(cloned, 'config', 'remote.herogate.url')).to.equal(URL_)
      expect(values(cloned, `credential.${URL_}.helper`)).to.deep.equal(['', `!'${process.execPath}' '/opt/herogate/bin/run.js' git:credentials`])
    } finally {
      for (const [key, value] of [['GIT_CONFIG_COUNT', saved.count], ['GIT_CONFIG_KEY_0', saved.key], ['GIT_CONFIG_VALUE_0', saved.value]] as const) {
        if (value === undefined) delete process.env[key]
        else process.env[key] = value
      }
    }
  })

  it('git:remote refuses an unknown app and a directory that is no git repo', async () => {
    expect(await gitRemote(context(), 'nope', {cwd: repo}).catch((e: unknown) => e)).to.be.instanceOf(AppNotFound)
    const plain = mkdtempSync(join(tmpdir(), 'herogate-plain-'))
    try {
      const error = (await gitRemote(context(), 'demo', {cwd: plain}).catch((e: unknown) => e)) as InvalidInput
      expect(error).to.be.instanceOf(InvalidInput)
      expect([error.message, ...error.suggestions]).to.deep.equal([
        `${plain} is not in a git repository, so there is nowhere to add the remote.`,
        'herogate git:clone -a demo (a new clone with the remote set)',
        'git init, then herogate git:remote -a demo',
      ])
    } finally {
      rmSync(plain, {recursive: true, force: true})
    }
  })

  it('apps:rename is refused with the reason and what to do instead, before anything changes', async () => {
    const error = (await renameApp(context(), 'demo', 'shiny').catch((e: unknown) => e)) as HerogateError
    expect(error).to.be.instanceOf(HerogateError)
    expect([error.message, ...error.suggestions]).to.deep.equal([
      'Apps on AWS cannot be renamed: demo is built into the names of its CloudFormation stack, IAM roles, CodeCommit and ECR repositories, log group and SSM parameters. Nothing was changed.',
      `herogate create shiny --region ${REGION} (a new app; in your repo, its remote replaces demo's)`,
      'herogate config --shell -a demo | herogate config:set --file - -a shiny (copies the config)',
      "herogate deploy -a shiny (in the app's git repo): deploys the code to the new app",
      'herogate destroy -a demo --confirm demo (once the new app serves)',
    ])
    expect(await renameApp(context(), 'nope', 'shiny').catch((e: unknown) => e)).to.be.instanceOf(AppNotFound)
    expect(((await renameApp(context(), 'demo', 'Bad_Name').catch((e: unknown) => e)) as Error).message).to.match(/^Invalid app name "Bad_Name"/)
  })
})
