import {BatchGetBuildsCommand, CodeBuildClient} from '@aws-sdk/client-codebuild'
import {
  CodePipelineClient, GetPipelineCommand, GetPipelineExecutionCommand, ListActionExecutionsCommand, ListPipelineExecutionsCommand,
  StartPipelineExecutionCommand,
} from '@aws-sdk/client-codepipeline'
import {SSMClient} from '@aws-sdk/client-ssm'
import {expect} from 'chai'
import {mockClient} from 'aws-sdk-client-mock'
import {execFileSync} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {type ReleaseRecord, ReleaseStore} from '../../../src/aws/release-store.js'
import {HerogateError, Interrupted, UpToDate} from '../../../src/lib/errors.js'
import type {AwsContext} from '../../../src/platform/aws/context.js'
import {deploy, gitPush, type Pusher} from '../../../src/platform/aws/deploy.js'
import {BUILD_TIMEOUT_MINUTES} from '../../../src/release/budget.js'
import type {AppResources} from '../../../src/platform/aws/resources.js'
import type {FailureOutput, ProgressEvent} from '../../../src/platform/types.js'
import {useMoto} from '../../helpers/moto.js'
import {endRelease, fakeClock, makeContext, makeResources, putLogs, recordRelease, REGION} from './formation.fixture.js'

const HEAD = '1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d'
const BUILD_ID = 'herogate-demo:8d1c4f5e-0000-4000-8000-000000000001'
const IMAGE = '123456789012.dkr.ecr.us-east-1.amazonaws.com/herogate/demo@sha256:' + 'c'.repeat(64)

/**
 * deploy against moto (release records in SSM, build output in CloudWatch Logs) and mocked
 * CodePipeline and CodeBuild (moto cannot serve those to SDK v3). The mocks play a pipeline
 * run poll by poll; the release code's side (release records) is written as the run goes.
 */
describe('deploy (moto + mocked CodePipeline/CodeBuild)', function () {
  useMoto()
  this.timeout(60_000)
  let resources: AppResources
  let ctx: AwsContext
  let cwd: string
  let pipeline: ReturnType<typeof mockClient>
  let codebuild: ReturnType<typeof mockClient>
  let store: ReleaseStore
  let pushed: Array<{remote: string; branch: string}>
  let events: ProgressEvent[]

  const push = (result: {upToDate: boolean}): Pusher => async (_cwd, remote, branch, onLine) => {
    pushed.push({remote, branch})
    onLine('To https://git-codecommit.us-east-1.amazonaws.com/v1/repos/herogate-demo')
    onLine(result.upToDate ? 'Everything up-to-date' : `   0000000..${HEAD.slice(0, 7)}  HEAD -> main`)
    return result
  }

  const record = (fields: Partial<ReleaseRecord>): Omit<ReleaseRecord, 'version'> => ({
    kind: 'deploy', description: `Deploy ${HEAD.slice(0, 7)}`, status: 'pending', author: 'dev@example.com', createdAt: '2026-11-21T10:00:30.000Z', commit: HEAD, image: IMAGE, ...fields,
  })

  /** A run that shows up on the second poll, builds for a while (`end.afterMs` more between two polls), then ends `end`. */
  function playRun(end: {status: 'Succeeded' | 'Failed'; build: 'SUCCEEDED' | 'FAILED'; release?: 'succeeded' | 'failed'; failure?: string; failureOutput?: FailureOutput; afterMs?: number}) {
    let polls = 0
    let version = 0
    let finished = false
    pipeline.on(ListPipelineExecutionsCommand).callsFake(async () => ({
      pipelineExecutionSummaries: ++polls < 2 ? [] : [{pipelineExecutionId: 'exec-1', status: 'InProgress', startTime: ctx.clock.now(), sourceRevisions: [{actionName: 'Source', revisionId: HEAD}]}],
    }))
    let runPolls = 0
    pipeline.on(GetPipelineExecutionCommand).callsFake(async () => {
      runPolls++
      if (runPolls === 2) {
        await putLogs(resources.logGroup, `herogate/build/${BUILD_ID.split(':')[1]}`, [{timestamp: ctx.clock.now().getTime(), message: 'Step 1/3 : FROM node:20'}])
      }

      if (runPolls === 3 && end.afterMs) (ctx.clock as ReturnType<typeof fakeClock>).advance(end.afterMs)
      if (runPolls === 3 && end.release) {
        version = (await recordRelease('demo', record({phase: 'rollout'}))).version
      }

      if (!finished && runPolls >= 4) {
        finished = true
        if (!end.release) return {pipelineExecution: {pipelineExecutionId: 'exec-1', status: end.status, artifactRevisions: [{revisionId: HEAD}]}}
        const current = (await store.get('demo', version))!
        const ended: ReleaseRecord = {...current, status: end.release, ...(end.failure ? {failure: end.failure} : {}), ...(end.failureOutput ? {failureOutput: end.failureOutput} : {})}
        delete ended.phase
        await endRelease('demo', ended)
      }

      return {pipelineExecution: {pipelineExecutionId: 'exec-1', status: finished ? end.status : 'InProgress', artifactRevisions: [{revisionId: HEAD}]}}
    })
    pipeline.on(ListActionExecutionsCommand).callsFake(async () => ({
      actionExecutionDetails: [
        {stageName: 'Source', actionName: 'Source', status: 'Succeeded', startTime: new Date(1), output: {executionResult: {externalExecutionId: HEAD}}},
        {stageName: 'Build', actionName: 'Build', status: finished && end.status === 'Failed' ? 'Failed' : 'InProgress', startTime: new Date(2), output: {executionResult: {externalExecutionId: BUILD_ID}}},
      ],
    }))
    codebuild.on(BatchGetBuildsCommand).callsFake(async () => ({
      builds: [{
        id: BUILD_ID,
        buildStatus: finished ? end.build : 'IN_PROGRESS',
        phases: [
          {phaseType: 'INSTALL', phaseStatus: 'SUCCEEDED'},
          {phaseType: 'BUILD', ...(finished ? {phaseStatus: end.build, ...(end.build === 'FAILED' ? {contexts: [{statusCode: 'COMMAND_EXECUTION_ERROR', message: 'Error while executing command: herogate internal:release. Reason: exit status 1'}]} : {})} : {})},
        ],
        logs: {groupName: resources.logGroup, streamName: `herogate/build/${BUILD_ID.split(':')[1]}`},
      }],
    }))
  }

  beforeEach(async () => {
    resources = await makeResources('demo')
    ctx = makeContext(resources, {clock: fakeClock()})
    const pipelineClient = new CodePipelineClient({region: REGION})
    const buildClient = new CodeBuildClient({region: REGION})
    pipeline = mockClient(pipelineClient)
    codebuild = mockClient(buildClient)
    ctx.clients.set('codepipeline', pipelineClient)
    ctx.clients.set('codebuild', buildClient)
    pipeline.on(GetPipelineCommand).resolves({
      pipeline: {name: 'herogate-demo', roleArn: 'r', stages: [{name: 'Source', actions: [{name: 'Source', actionTypeId: {category: 'Source', owner: 'AWS', provider: 'CodeCommit', version: '1'}, configuration: {BranchName: 'main', RepositoryName: 'herogate-demo'}}]}]},
    })
    store = new ReleaseStore(new SSMClient({region: REGION}))
    cwd = mkdtempSync(join(tmpdir(), 'hg-deploy-'))
    pushed = []
    events = []
  })
  afterEach(() => rmSync(cwd, {recursive: true, force: true}))

  const run = (upToDate = false) => deploy(ctx, 'demo', {cwd, onProgress: (e) => events.push(e)}, {push: push({upToDate}), head: async () => HEAD})

  it('pushes HEAD to the app\'s branch and follows the pipeline until the release is live', async () => {
    playRun({status: 'Succeeded', build: 'SUCCEEDED', release: 'succeeded'})
    const release = await run()
    expect(release).to.include({version: 1, status: 'succeeded', current: true, commit: HEAD, description: 'Deploy 1a2b3c4'})
    // No "herogate" remote in this directory: the push goes to the app's URL.
    expect(pushed).to.deep.equal([{remote: resources.gitUrl, branch: 'main'}])
    expect(events.filter((e) => e.kind === 'output').map((e) => (e as {line: string}).line)).to.deep.equal([
      'To https://git-codecommit.us-east-1.amazonaws.com/v1/repos/herogate-demo',
      '   0000000..1a2b3c4  HEAD -> main',
      'Step 1/3 : FROM node:20',
    ])
    expect(events.filter((e) => e.kind === 'step').map((e) => `${(e as {id: string}).id} ${(e as {status: string}).status}`)).to.deep.equal([
      'push start', 'push done', 'pipeline start', 'pipeline done', 'build start', 'build done', 'release:rollout start', 'release:rollout done', 'live done',
    ])
  })

  it('follows a slow release to its end while the build may still be running (its timeout holds every budget)', async () => {
    // 80 minutes: within the build project's timeout, so the release can still succeed.
    playRun({status: 'Succeeded', build: 'SUCCEEDED', release: 'succeeded', afterMs: Math.min(80 * 60_000, BUILD_TIMEOUT_MINUTES * 60_000 - 60_000)})
    const release = await run()
    expect(release).to.include({version: 1, status: 'succeeded'})
  })

  it('fails with the release\'s own reason when the release fails', async () => {
    playRun({status: 'Failed', build: 'FAILED', release: 'failed', failure: '2 new processes failed (web: crashed with exit code 1)'})
    const error = await run().catch((e) => e)
    expect(error).to.be.instanceOf(HerogateError)
    expect(error.message).to.equal('Deploy of 1a2b3c4 to demo failed: 2 new processes failed (web: crashed with exit code 1).')
    expect(error.suggestions).to.deep.equal(['herogate logs --source herogate -a demo', 'herogate releases:info v1 -a demo'])
    expect(events).to.deep.include({kind: 'step', id: 'release:rollout', message: 'Rolling out v1', status: 'failed'})
  })

  it('shows the last lines the release recorded of the task that crashed, and points to its logs (issue 11, finding 1)', async () => {
    const failureOutput = {process: 'web.4f2a9c1', lines: ['booting', 'Error: connect ECONNREFUSED [DATABASE_URL]'], more: 'herogate logs -a demo --task web.4f2a9c1'}
    playRun({status: 'Failed', build: 'FAILED', release: 'failed', failure: '2 new processes failed (web: crashed with exit code 1 (2 times))', failureOutput})
    const error: HerogateError = await run().catch((e) => e)
    expect({message: error.message, details: error.details, suggestions: error.suggestions}).to.deep.equal({
      message: 'Deploy of 1a2b3c4 to demo failed: 2 new processes failed (web: crashed with exit code 1 (2 times)).',
      details: ['Last lines of web.4f2a9c1:', '  booting', '  Error: connect ECONNREFUSED [DATABASE_URL]'],
      suggestions: ['herogate logs -a demo --task web.4f2a9c1', 'herogate releases:info v1 -a demo'],
    })
  })

  it('pushes through the "herogate" remote only when it is this app\'s (issue 11, finding 5)', async () => {
    execFileSync('git', ['init', '--quiet', cwd])
    execFileSync('git', ['remote', 'add', 'herogate', 'https://git-codecommit.us-east-1.amazonaws.com/v1/repos/herogate-other'], {cwd})
    playRun({status: 'Succeeded', build: 'SUCCEEDED', release: 'succeeded'})
    await run()
    execFileSync('git', ['remote', 'set-url', 'herogate', resources.gitUrl], {cwd})
    playRun({status: 'Succeeded', build: 'SUCCEEDED', release: 'succeeded'})
    await run(true).catch(() => undefined)
    expect(pushed.map((p) => p.remote)).to.deep.equal([resources.gitUrl, 'herogate'])
  })

  it('fails with CodeBuild\'s reason when the build fails before any release', async () => {
    playRun({status: 'Failed', build: 'FAILED'})
    const error = await run().catch((e) => e)
    expect(error.message).to.equal('Deploy of 1a2b3c4 to demo failed: the BUILD phase of the build ended FAILED (Error while executing command: herogate internal:release. Reason: exit status 1).')
    expect(events).to.deep.include({kind: 'step', id: 'build', message: 'Building', status: 'failed'})
  })

  it('says Everything up-to-date with the live release when HEAD is already deployed', async () => {
    await recordRelease('demo', record({status: 'succeeded'}))
    const error = await run(true).catch((e: unknown) => e)
    expect(error).to.be.instanceOf(UpToDate)
    expect((error as UpToDate).message).to.equal('Everything up-to-date: 1a2b3c4 is live as v1.')
    expect((error as UpToDate).release).to.include({version: 1, current: true})
    expect(pipeline.commandCalls(ListPipelineExecutionsCommand)).to.have.length(0)
  })

  it('starts the pipeline itself when the push changed nothing but HEAD is not live', async () => {
    await recordRelease('demo', record({status: 'failed'}))
    pipeline.on(ListPipelineExecutionsCommand).resolves({pipelineExecutionSummaries: []})
    pipeline.on(StartPipelineExecutionCommand).resolves({pipelineExecutionId: 'exec-2'})
    pipeline.on(GetPipelineExecutionCommand).resolves({pipelineExecution: {pipelineExecutionId: 'exec-2', status: 'Succeeded'}})
    pipeline.on(ListActionExecutionsCommand).resolves({actionExecutionDetails: []})
    let polls = 0
    pipeline.on(GetPipelineExecutionCommand).callsFake(async () => {
      if (++polls === 2) await recordRelease('demo', record({status: 'succeeded'}))
      return {pipelineExecution: {pipelineExecutionId: 'exec-2', status: polls >= 2 ? 'Succeeded' : 'InProgress'}}
    })
    const release = await run(true)
    expect(pipeline.commandCalls(StartPipelineExecutionCommand)).to.have.length(1)
    expect(release).to.include({version: 2, status: 'succeeded'})
  })

  it('stops following on Ctrl-C, saying the deploy goes on', async () => {
    playRun({status: 'Succeeded', build: 'SUCCEEDED', release: 'succeeded'})
    const controller = new AbortController()
    pipeline.on(ListActionExecutionsCommand).callsFake(async () => {
      controller.abort(new Error('interrupted'))
      return {actionExecutionDetails: []}
    })
    const error = await deploy(ctx, 'demo', {cwd, signal: controller.signal}, {push: push({upToDate: false}), head: async () => HEAD}).catch((e) => e)
    expect(error).to.be.instanceOf(Interrupted)
    expect(error.exitCode).to.equal(130)
    expect(error.message).to.equal('Interrupted: stopped following the deploy of 1a2b3c4; it goes on in AWS (herogate releases -a demo shows how it ends).')
  })

  it('gives up when the push never starts the pipeline', async () => {
    pipeline.on(ListPipelineExecutionsCommand).resolves({pipelineExecutionSummaries: [{pipelineExecutionId: 'old', status: 'Succeeded', sourceRevisions: [{actionName: 'Source', revisionId: 'f'.repeat(40)}]}]})
    const error = await run().catch((e) => e)
    expect(error.message).to.equal('The push of 1a2b3c4 did not start the pipeline within 3 minutes.')
    expect(error.suggestions).to.deep.equal(['herogate info -a demo (is the app stack healthy?)', 'herogate deploy -a demo (to start it again)'])
  })
})

describe('gitPush', () => {
  let dir: string
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'hg-push-'))
  })
  afterEach(() => rmSync(dir, {recursive: true, force: true}))

  const git = (cwd: string, ...args: string[]) => execFileSync('git', args, {cwd, encoding: 'utf8', env: {...process.env, GIT_AUTHOR_NAME: 'a', GIT_AUTHOR_EMAIL: 'a@example.com', GIT_COMMITTER_NAME: 'a', GIT_COMMITTER_EMAIL: 'a@example.com'}}).trim()

  it('pushes HEAD to the branch, passing git\'s lines on, and tells an up-to-date push apart', async () => {
    const remote = join(dir, 'remote.git')
    const work = join(dir, 'work')
    execFileSync('git', ['init', '--bare', '--quiet', remote])
    execFileSync('git', ['init', '--quiet', '-b', 'feature', work])
    writeFileSync(join(work, 'Procfile'), 'web: node server.js\n')
    git(work, 'add', '.')
    git(work, 'commit', '--quiet', '-m', 'first')
    const lines: string[] = []
    expect(await gitPush(work, remote, 'main', (line) => lines.push(line))).to.deep.equal({upToDate: false})
    expect(git(remote, 'rev-parse', 'refs/heads/main')).to.equal(git(work, 'rev-parse', 'HEAD'))
    expect(lines.some((line) => line.includes('HEAD -> main'))).to.equal(true)
    expect(await gitPush(work, remote, 'main', () => {})).to.deep.equal({upToDate: true})
  })

  it('fails with git\'s last line when the push is refused', async () => {
    const work = join(dir, 'work')
    execFileSync('git', ['init', '--quiet', work])
    writeFileSync(join(work, 'a'), 'a')
    git(work, 'add', '.')
    git(work, 'commit', '--quiet', '-m', 'first')
    const error = await gitPush(work, join(dir, 'missing.git'), 'main', () => {}).catch((e) => e)
    expect(error).to.be.instanceOf(HerogateError)
    expect(error.message).to.match(/^git push failed: fatal: '.*missing\.git' does not appear to be a git repository$/)
  })
})
