import {BatchGetBuildsCommand, CodeBuildClient} from '@aws-sdk/client-codebuild'
import {
  CodePipelineClient, GetPipelineCommand, GetPipelineExecutionCommand, ListActionExecutionsCommand, ListPipelineExecutionsCommand,
} from '@aws-sdk/client-codepipeline'
import {expect} from 'chai'
import {mockClient} from 'aws-sdk-client-mock'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {AwsClients} from '../../../src/aws/clients.js'
import {HISTORY_KEPT, type ReleaseRecord} from '../../../src/aws/release-store.js'
import {names} from '../../../src/lib/naming.js'
import type {AwsContext} from '../../../src/platform/aws/context.js'
import {deploy} from '../../../src/platform/aws/deploy.js'
import {getConfig, setConfig} from '../../../src/platform/aws/config.js'
import {withAppLock} from '../../../src/platform/aws/lock.js'
import {releaseImage} from '../../../src/platform/aws/release-image.js'
import {releaseInfo, releases} from '../../../src/platform/aws/releases.js'
import {rollback} from '../../../src/platform/aws/rollback.js'
import type {ProgressEvent} from '../../../src/platform/types.js'
import {useMoto} from '../../helpers/moto.js'
import {SsmStandIn} from '../../helpers/ssm-standin.js'
import {GOOD, setUpApp} from './releases.fixture.js'
import {makeReleases, standInContext} from './standin.fixture.js'

const HEAD = '1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d'

/**
 * Finding 11: an app's release history stays a bounded number of SSM parameters however many
 * releases it makes, and what every command reads of it costs the same at 10 releases as at
 * 1,000. Releases are made the way every run makes them (claim, then the head that ends it),
 * against the SSM stand-in.
 */
describe('release history: bounded, and the same cost however long (SSM stand-in)', function () {
  // Hundreds of releases made in memory: seconds, more on a busy machine.
  this.timeout(120_000)
  const app = 'demo'

  const fresh = () => standInContext(app)

  /** SSM calls `operation` makes (sorted: some are made side by side). */
  async function callsOf(ssm: SsmStandIn, operation: () => Promise<unknown>): Promise<string[]> {
    const before = ssm.calls.length
    await operation()
    return ssm.calls.slice(before).map((call) => call.command).sort()
  }

  const versions = (listed: Array<{version: number}>) => listed.map((r) => r.version)

  it('keeps at most 20 release slots and a few archive parameters, whatever the number of releases', async () => {
    const {ctx, ssm} = fresh()
    for (const count of [10, 100, 250]) {
      await makeReleases(ctx, app, count - (ssm.namesUnder(names.releasesPath(app)).length > 0 ? versions(await releases(ctx, app, {num: 1}))[0] : 0))
      const slots = ssm.namesUnder(names.releasesPath(app))
      const archive = ssm.namesUnder(names.releaseArchivePath(app))
      expect(slots.length, `slots at ${count}`).to.be.within(10, 20)
      expect(archive.length, `archive parameters at ${count}`).to.be.at.most(12)
      // Every one Standard: the archive packs records into 4 KB.
      for (const name of [...slots, ...archive, names.releaseHeadParameter(app)]) expect(ssm.tierOf(name)).to.equal('Standard')
    }

    const listed = await releases(ctx, app, {num: 1000})
    // The newest 100 (and the rest of their archive parameter), newest first, none twice, none missing.
    expect(listed[0]).to.include({version: 250, current: true, status: 'succeeded', description: 'Set V250 config vars'})
    expect(listed.length).to.be.within(HISTORY_KEPT, HISTORY_KEPT + 10)
    expect(versions(listed)).to.deep.equal(Array.from({length: listed.length}, (_, i) => 250 - i))
  })

  it('shows an archived release, and says when one is older than the history keeps', async () => {
    const {ctx} = fresh()
    await makeReleases(ctx, app, 130)
    expect(await releaseInfo(ctx, app, 100)).to.deep.include({version: 100, description: 'Set V100 config vars', status: 'succeeded', current: false})
    expect(await releaseInfo(ctx, app)).to.deep.include({version: 130, current: true})
    const gone = await releaseInfo(ctx, app, 5).catch((e: Error) => e)
    expect((gone as Error).message).to.equal('Release v5 of demo is no longer kept: herogate keeps the newest 100 releases of an app.')
    const never = await releaseInfo(ctx, app, 999).catch((e: Error) => e)
    expect((never as Error).message).to.equal('Release v999 of demo not found.')
  })

  it('costs the same calls per command at 25 and at 505 releases', async () => {
    const costs: Array<Record<string, string[]>> = []
    for (const count of [25, 505]) {
      const {ctx, ssm} = fresh()
      await makeReleases(ctx, app, count)
      costs.push({
        'releases': await callsOf(ssm, () => releases(ctx, app, {num: 15})),
        'releases:info': await callsOf(ssm, () => releaseInfo(ctx, app)),
        'releases:info (archived)': await callsOf(ssm, () => releaseInfo(ctx, app, count - 20)),
        'a release': await callsOf(ssm, () => makeReleases(ctx, app, 1)),
      })
    }

    expect(costs[1]).to.deep.equal(costs[0])
    expect(costs[0]['a release']).to.deep.equal(['GetParameters', 'PutParameter', 'PutParameter'])
    expect(costs[0]['releases:info (archived)']).to.include('GetParametersByPath')
  })

  it('finishes a compaction that stopped halfway, listing no release twice and losing none', async () => {
    const {ctx, ssm} = fresh()
    await makeReleases(ctx, app, 19)
    // v20's compaction writes the archive, then cannot delete the slots it archived.
    ssm.failNext('DeleteParameters', {times: 5})
    const warnings: string[] = []
    await withAppLock(ctx, app, 'config:set', async (lock) => {
      await lock.end({latest: {...lock.record!, status: 'succeeded'}})
    }, {holder: 'alice', onProgress: (e: ProgressEvent) => e.kind === 'warning' && warnings.push(e.message), plan: () => ({kind: 'config', description: 'Set V20 config vars', status: 'pending', author: 'alice', createdAt: ctx.clock.now().toISOString()})})
    expect(warnings).to.deep.equal(['Could not compact the release history of demo (AWS kept throttling compacting the release history of demo (TooManyUpdates), even after retrying.); a later release will.'])
    expect(ssm.namesUnder(names.releasesPath(app))).to.have.length(20)
    expect(ssm.namesUnder(names.releaseArchivePath(app))).to.have.length(1)
    expect(versions(await releases(ctx, app, {num: 100}))).to.deep.equal(Array.from({length: 20}, (_, i) => 20 - i))
    await makeReleases(ctx, app, 10)
    expect(ssm.namesUnder(names.releasesPath(app))).to.have.length(10)
    expect(versions(await releases(ctx, app, {num: 100}))).to.deep.equal(Array.from({length: 30}, (_, i) => 30 - i))
  })

  describe('records over 4 KB (SSM tiers)', () => {
    /** A command SSM cannot compress much: random text. */
    const noise = (bytes: number) => Array.from({length: bytes}, () => 'abcdefghijklmnopqrstuvwxyz0123456789'[Math.floor(Math.random() * 36)]).join('')

    it('keeps the head writable after it held more than 4 KB, in one write, and archives big records', async () => {
      const {ctx, ssm} = fresh()
      const big = {processTypes: {web: noise(1700), worker: noise(1700)}}
      await makeReleases(ctx, app, 1, big)
      // A failed release beside the current one: the head holds two big records, over 4 KB.
      await withAppLock(ctx, app, 'deploy', async (lock) => {
        await lock.end({latest: {...lock.record!, status: 'failed', failure: 'crashed'}, current: lock.state.current})
      }, {holder: 'alice', plan: () => ({kind: 'deploy', description: 'Deploy 2', status: 'pending', author: 'alice', createdAt: ctx.clock.now().toISOString(), ...big})})
      expect(ssm.tierOf(names.releaseHeadParameter(app))).to.equal('Advanced')
      // A small release after it: the head is written as Advanced at once (it says so itself), never refused.
      const writes = ssm.callsOf('PutParameter').length
      await makeReleases(ctx, app, 1)
      expect(ssm.callsOf('PutParameter').length - writes).to.equal(2)
      expect(ssm.refused).to.deep.equal([])
      expect((await releases(ctx, app, {num: 5})).map((r) => `v${r.version} ${r.status}`)).to.deep.equal(['v3 succeeded', 'v2 failed', 'v1 succeeded'])

      // Big records are archived too.
      await makeReleases(ctx, app, 27, big)
      expect(ssm.namesUnder(names.releaseArchivePath(app))).to.deep.equal([names.releaseArchiveParameter(app, 1), names.releaseArchiveParameter(app, 11)])
      const listed = await releases(ctx, app, {num: 100})
      expect(versions(listed)).to.deep.equal(Array.from({length: 30}, (_, i) => 30 - i))
      expect((await releaseInfo(ctx, app, 4)).processTypes!.web).to.have.length(1700)
    })
  })

  describe('deploy', () => {
    let cwd: string
    beforeEach(() => {
      cwd = mkdtempSync(join(tmpdir(), 'hg-history-'))
    })
    afterEach(() => rmSync(cwd, {recursive: true, force: true}))

    /** Follows a pipeline run that builds for a few polls while the release code records the push's release; returns the SSM calls of each poll. */
    async function follow(history: number): Promise<string[][]> {
      const {ctx, ssm, clients} = fresh()
      await makeReleases(ctx, app, history)
      const pipelineClient = new CodePipelineClient({region: 'us-east-1'})
      const pipeline = mockClient(pipelineClient)
      const buildClient = new CodeBuildClient({region: 'us-east-1'})
      mockClient(buildClient).on(BatchGetBuildsCommand).resolves({builds: [{id: 'herogate-demo:1', buildStatus: 'IN_PROGRESS'}]})
      clients.set('codepipeline', pipelineClient)
      clients.set('codebuild', buildClient)
      pipeline.on(GetPipelineCommand).resolves({pipeline: {name: 'herogate-demo', roleArn: 'r', stages: []}})
      pipeline.on(ListPipelineExecutionsCommand).resolves({pipelineExecutionSummaries: [{pipelineExecutionId: 'exec-1', status: 'InProgress', startTime: ctx.clock.now(), sourceRevisions: [{actionName: 'Source', revisionId: HEAD}]}]})
      pipeline.on(ListActionExecutionsCommand).resolves({actionExecutionDetails: []})
      // The release code runs elsewhere (CodeBuild): its own client of the same account.
      const build: AwsContext = {...ctx, clients: new AwsClients({region: 'us-east-1'})}
      build.clients.set('ssm', ssm.newClient('build'))
      const polls: string[][] = []
      let mark = 0
      let ended: (() => void) | undefined
      pipeline.on(GetPipelineExecutionCommand).callsFake(async () => {
        polls.push(ssm.calls.slice(mark).filter((call) => call.client === 'main').map((call) => call.command))
        mark = ssm.calls.length
        const n = polls.length
        // The release code (in CodeBuild) takes the lock on the 3rd poll and ends the release on the 6th.
        if (n === 3) {
          const release = new Promise<void>((resolve) => {
            ended = resolve
          })
          void withAppLock(build, app, 'deploy', async (lock) => {
            await release
            const final: ReleaseRecord = {...lock.record!, status: 'succeeded', finishedAt: ctx.clock.now().toISOString()}
            await lock.end({latest: final})
          }, {holder: 'codebuild', plan: () => ({kind: 'deploy', description: 'Deploy 1a2b3c4', status: 'pending', author: 'dev', createdAt: ctx.clock.now().toISOString(), commit: HEAD, phase: 'rollout'})})
        }

        if (n === 6) ended!()
        return {pipelineExecution: {pipelineExecutionId: 'exec-1', status: n >= 7 ? 'Succeeded' : 'InProgress'}}
      })
      const release = await deploy(ctx, app, {cwd}, {push: async () => ({upToDate: false}), head: async () => HEAD})
      expect(release).to.include({version: history + 1, status: 'succeeded', current: true})
      return polls.slice(1)
    }

    it('reads one SSM parameter set per poll, the same at 10 as at 500 releases', async () => {
      const few = await follow(10)
      const many = await follow(500)
      // Each poll: one GetParameters (the head and a few slots), never a listing of the history.
      expect(many.flat().every((command) => command === 'GetParameters')).to.equal(true)
      expect(many.map((poll) => poll.length)).to.deep.equal(few.map((poll) => poll.length))
      expect(Math.max(...many.map((poll) => poll.length))).to.equal(1)
    })
  })

  describe('rollback (moto for ECS)', function () {
    const {moto} = useMoto()
    this.timeout(60_000)

    it('rolls back to an archived release, code and config, and refuses one older than the history keeps', async () => {
      await moto().immediateTasks()
      const {resources, ctx} = await setUpApp(app)
      const ssm = new SsmStandIn()
      ctx.clients.set('ssm', ssm.client)
      const v1 = await releaseImage(ctx, app, {image: GOOD, commit: 'a1b2c3d4'}, {processTypes: {web: 'node server.js'}, author: 'dev', resources, lockOptions: {holder: 'codebuild'}})
      await setConfig(ctx, app, {FOO: 'one'})
      await setConfig(ctx, app, {FOO: 'two'})
      for (let i = 4; i <= 21; i++) await setConfig(ctx, app, {BAR: String(i)})
      // v2 is in the archive now: its slot is gone.
      expect(ssm.namesUnder(names.releasesPath(app))).not.to.include(names.releaseParameter(app, 2))
      const rolled = await rollback(ctx, app, 2, {author: 'dev'})
      expect(rolled).to.include({version: 22, description: 'Rollback to v2', status: 'succeeded', image: GOOD})
      expect(await getConfig(ctx, app)).to.deep.equal({FOO: 'one'})
      expect(Object.keys(rolled.taskDefinitions!)).to.deep.equal(Object.keys(v1.taskDefinitions!))

      // A hundred more releases (the same code) push v2 out of the history.
      await makeReleases(ctx, app, HISTORY_KEPT, {image: GOOD, taskDefinitions: rolled.taskDefinitions, processTypes: {web: 'node server.js'}})
      const error = await rollback(ctx, app, 2, {author: 'dev'}).catch((e: Error) => e)
      expect((error as Error).message).to.equal('Release v2 of demo is no longer kept: herogate keeps the newest 100 releases of an app.')
    })
  })
})

