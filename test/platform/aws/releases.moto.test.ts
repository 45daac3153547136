import {DeleteServiceCommand, DescribeServicesCommand, DescribeTaskDefinitionCommand, type ECSClient} from '@aws-sdk/client-ecs'
import {CloudWatchLogsClient, GetLogEventsCommand} from '@aws-sdk/client-cloudwatch-logs'
import {GetParameterCommand, PutParameterCommand, SSMClient} from '@aws-sdk/client-ssm'
import {expect} from 'chai'

import {ConfigVersionStore, fitRecord, LockStore, type ReleaseRecord, ReleaseStore} from '../../../src/aws/release-store.js'
import {ConfigStore} from '../../../src/aws/ssm.js'
import {HerogateError, LockHeld} from '../../../src/lib/errors.js'
import {names} from '../../../src/lib/naming.js'
import type {AwsContext} from '../../../src/platform/aws/context.js'
import {releaseConfigChange, releaseImage, releaseInfo, releases, rollback, withAppLock} from '../../../src/platform/aws/releases.js'
import type {AppResources} from '../../../src/platform/aws/resources.js'
import type {ProgressEvent} from '../../../src/platform/types.js'
import {useMoto} from '../../helpers/moto.js'
import {REGION} from './formation.fixture.js'
import {CRASHING, FAILING_RELEASE, GOOD, GOOD2, setUpApp} from './releases.fixture.js'

describe('AWS releases (moto)', function () {
  const {moto} = useMoto()
  this.timeout(60_000)
  let resources: AppResources
  let ctx: AwsContext
  let ssm: SSMClient
  let ecs: ECSClient & {crashedTasks: number}
  const app = 'demo'

  beforeEach(async () => {
    await moto().immediateTasks()
    ;({resources, ctx, ecs} = await setUpApp(app))
    ssm = new SSMClient({region: REGION})
  })

  async function service(type: string) {
    const result = await ecs.send(new DescribeServicesCommand({cluster: resources.cluster, services: [names.service(app, type)]}))
    return result.services?.find((s) => s.status === 'ACTIVE')
  }

  async function container(arn: string) {
    return (await ecs.send(new DescribeTaskDefinitionCommand({taskDefinition: arn}))).taskDefinition!.containerDefinitions![0]
  }

  const deploy = (built: {image: string; commit: string}, processTypes: Record<string, string>, events?: ProgressEvent[]) =>
    withAppLock(ctx, app, 'deploy', (lock) => releaseImage(ctx, app, built, {lock, processTypes, author: 'dev@example.com', resources, onProgress: (e) => events?.push(e)}), {holder: 'codebuild'})

  const setConfig = (vars: Record<string, string>) =>
    withAppLock(ctx, app, 'config:set', async (lock) => {
      const changed = await new ConfigStore(ssm).set(app, vars)
      return releaseConfigChange(ctx, app, {set: changed}, {lock, author: 'dev'})
    })

  describe('lock', () => {
    it('is held while the operation runs and released after, even when it fails', async () => {
      const store = new LockStore(ssm)
      const seen = await withAppLock(ctx, app, 'deploy', async () => store.read(app), {holder: 'alice'})
      expect(seen).to.include({holder: 'alice', operation: 'deploy'})
      expect(await store.read(app)).to.equal(undefined)
      const failing = withAppLock(ctx, app, 'rollback', async () => {
        throw new HerogateError('boom')
      }, {holder: 'alice'})
      expect(await failing.catch((error: Error) => error.message)).to.equal('boom')
      expect(await store.read(app)).to.equal(undefined)
    })

    it('makes a second operation fail with LockHeld naming the holder once its wait is over', async () => {
      let inner: unknown
      await withAppLock(ctx, app, 'deploy', async () => {
        inner = await withAppLock(ctx, app, 'config:set', async () => 'ran', {holder: 'bob', waitMs: 6000}).catch((error) => error)
      }, {holder: 'alice'})
      expect(inner).to.be.instanceOf(LockHeld)
      expect((inner as LockHeld).message).to.equal('App demo is busy: deploy by alice since 2026-11-21T10:00:00.000Z.')
      // It polled for the wait (the fake clock moved on) before giving up.
      expect(ctx.clock.now().getTime()).to.be.at.least(Date.parse('2026-11-21T10:00:06.000Z'))
    })

    it('takes over a lock left behind by a crashed run once it has expired', async () => {
      const stale = {holder: 'crashed', operation: 'deploy', since: '2026-11-21T09:00:00.000Z', expiresAt: '2026-11-21T09:15:00.000Z', token: 'old'}
      await ssm.send(new PutParameterCommand({Name: names.lockParameter(app), Value: JSON.stringify(stale), Type: 'String'}))
      expect(await withAppLock(ctx, app, 'rollback', async () => 'ran', {holder: 'bob', waitMs: 0})).to.equal('ran')
      const fresh = {...stale, expiresAt: '2026-11-21T10:14:00.000Z'}
      await ssm.send(new PutParameterCommand({Name: names.lockParameter(app), Value: JSON.stringify(fresh), Type: 'String', Overwrite: true}))
      const error = await withAppLock(ctx, app, 'rollback', async () => 'ran', {holder: 'bob', waitMs: 0}).catch((e) => e)
      expect(error).to.be.instanceOf(LockHeld)
    })
  })

  describe('release store', () => {
    it('gives concurrent creators distinct versions and lists newest first', async () => {
      const store = new ReleaseStore(ssm)
      const base = {kind: 'config' as const, status: 'succeeded' as const, author: 'a', createdAt: '2026-11-21T10:00:00.000Z'}
      const made = await Promise.all([1, 2, 3, 4].map((n) => new ReleaseStore(new SSMClient({region: REGION})).create(app, {...base, description: `r${n}`})))
      expect(made.map((r) => r.version).sort()).to.deep.equal([1, 2, 3, 4])
      await store.create(app, {...base, status: 'failed', description: 'bad'})
      expect((await store.list(app, 3)).map((r) => r.version)).to.deep.equal([5, 4, 3])
      expect((await store.latest(app))?.version).to.equal(4)
      const stored = await ssm.send(new GetParameterCommand({Name: names.releaseParameter(app, 5)}))
      expect(stored.Parameter?.Type).to.equal('String')
    })

    it('keeps a record within the 4 KB parameter limit by shortening long commands', () => {
      const long = 'x'.repeat(1500)
      const record: ReleaseRecord = {version: 1, kind: 'deploy', description: 'Deploy 1a2b3c4', status: 'pending', author: 'a', createdAt: 'now', processTypes: {web: long, worker: long, clock: long}}
      const text = fitRecord(record)
      expect(Buffer.byteLength(text)).to.be.at.most(4096)
      expect(JSON.parse(text).processTypes.web).to.match(/^x+…$/)
      expect(JSON.parse(fitRecord({...record, processTypes: {web: 'npm start'}})).processTypes).to.deep.equal({web: 'npm start'})
    })

    it('snapshots config larger than one parameter as numbered SecureString chunks', async () => {
      const versions = new ConfigVersionStore(ssm)
      const values = {BIG: 'é'.repeat(3000) + 'z'.repeat(3000), SMALL: 'v', EMPTY: ''}
      expect(await versions.write(app, values)).to.equal(1)
      expect(await versions.write(app, {A: '1'})).to.equal(2)
      expect(await versions.latestVersion(app)).to.equal(2)
      expect(await versions.read(app, 1)).to.deep.equal(values)
      const chunk = await ssm.send(new GetParameterCommand({Name: names.configVersionParameter(app, 1, 1)}))
      expect(chunk.Parameter?.Type).to.equal('SecureString')
    })
  })

  it('records config changes before the first deploy as releases with no code', async () => {
    const release = await setConfig({FOO: 'one'})
    expect(release).to.include({version: 1, description: 'Set FOO config vars', status: 'succeeded', author: 'dev', current: true, configVersion: 1})
    expect(release.taskDefinitions).to.equal(undefined)
  })

  it('deploys, changes config, and rolls back code and config', async () => {
    await setConfig({FOO: 'one'})
    const events: ProgressEvent[] = []
    const v2 = await deploy({image: GOOD, commit: 'a1b2c3d4e5f6'}, {web: 'node server.js', worker: 'node worker.js', release: 'node release.js'}, events)
    expect(v2).to.include({version: 2, description: 'Deploy a1b2c3d', status: 'succeeded', current: true, image: GOOD, commit: 'a1b2c3d4e5f6', author: 'dev@example.com', configVersion: 1})
    expect(Object.keys(v2.taskDefinitions!).sort()).to.deep.equal(['web', 'worker'])
    expect(events).to.deep.include({kind: 'step', id: 'release-phase', message: 'Running the release command', status: 'done'})
    expect(events).to.deep.include({kind: 'output', stream: 'release', line: 'New process type worker: start it with herogate scale worker=1 -a demo'})

    const web = await service('web')
    expect(web).to.include({desiredCount: 1, taskDefinition: v2.taskDefinitions!.web})
    expect(await service('worker')).to.include({desiredCount: 0, taskDefinition: v2.taskDefinitions!.worker})
    const webContainer = await container(v2.taskDefinitions!.web)
    expect(webContainer.image).to.equal(GOOD)
    expect(webContainer.command).to.deep.equal(['/bin/sh', '-c', 'node server.js'])
    expect(webContainer.secrets).to.deep.equal([{name: 'FOO', valueFrom: names.configParameter(app, 'FOO')}])
    expect(webContainer.environment).to.deep.include({name: 'HEROGATE_RELEASE', value: 'v2'})

    const v3 = await setConfig({FOO: 'two', BAR: 'b'})
    expect(v3).to.include({version: 3, description: 'Set FOO, BAR config vars', status: 'succeeded', image: GOOD, configVersion: 2})
    const v3web = await container(v3.taskDefinitions!.web)
    expect(v3web.secrets!.map((s) => s.name)).to.deep.equal(['BAR', 'FOO'])
    expect(v3web.image).to.equal(GOOD)
    expect((await service('web'))?.taskDefinition).to.equal(v3.taskDefinitions!.web)

    const v4 = await rollback(ctx, app, undefined, {author: 'dev'})
    expect(v4).to.include({version: 4, description: 'Rollback to v2', status: 'succeeded', image: GOOD, configVersion: 1, current: true})
    expect(await new ConfigStore(ssm).get(app)).to.deep.equal({FOO: 'one'})
    const v4web = await container(v4.taskDefinitions!.web)
    expect(v4web.secrets!.map((s) => s.name)).to.deep.equal(['FOO'])
    expect(v4web.environment).to.deep.include({name: 'HEROGATE_RELEASE', value: 'v4'})
    expect((await service('web'))?.taskDefinition).to.equal(v4.taskDefinitions!.web)

    // What the rollback did is in the app's log group, for `logs --source herogate`.
    const journal = await new CloudWatchLogsClient({region: REGION}).send(new GetLogEventsCommand({logGroupName: resources.logGroup, logStreamName: 'herogate/deploy/v4', startFromHead: true}))
    const lines = journal.events!.map((e) => e.message)
    expect(lines[0]).to.equal('v4: Rollback to v2 by dev')
    expect(lines).to.include.members(['Restoring the config of v2: done', 'Rolling out web: done'])
    expect(lines.at(-1)).to.equal('v4 succeeded')
    expect(lines.join('\n')).not.to.match(/\bone\b|\btwo\b/)

    const listed = await releases(ctx, app, {num: 10})
    expect(listed.map((r) => `v${r.version} ${r.description} ${r.current ? '*' : ''}`.trim())).to.deep.equal([
      'v4 Rollback to v2 *', 'v3 Set FOO, BAR config vars', 'v2 Deploy a1b2c3d', 'v1 Set FOO config vars',
    ])
    expect(await releaseInfo(ctx, app, 3)).to.include({version: 3, current: false})
  })

  it('rolls a crashing release back to the previous one at once, config included', async () => {
    await setConfig({FOO: 'one'})
    const v2 = await deploy({image: GOOD, commit: 'aaaaaaa1'}, {web: 'node server.js', worker: 'node worker.js'})
    const error = await deploy({image: CRASHING, commit: 'bbbbbbb2'}, {web: 'node server.js'}).catch((e) => e)
    expect(error).to.be.instanceOf(HerogateError)
    expect(error.message).to.match(/^Release v3 of demo failed: 2 new processes failed \(web: crashed with exit code 1; web: crashed with exit code 1\)\. v2 keeps serving\.$/)
    expect(ecs.crashedTasks).to.equal(2)
    expect((await service('web'))?.taskDefinition).to.equal(v2.taskDefinitions!.web)
    // The worker type is only removed once a release without it succeeds.
    expect(await service('worker')).to.include({taskDefinition: v2.taskDefinitions!.worker})
    const v3 = await releaseInfo(ctx, app, 3)
    expect(v3).to.include({status: 'failed', current: false})
    expect((await releaseInfo(ctx, app)).version).to.equal(3)
    expect((await releases(ctx, app, {num: 1}))[0].current).to.equal(false)

    const v4 = await deploy({image: GOOD2, commit: 'ccccccc3'}, {web: 'node server.js'})
    expect(v4).to.include({version: 4, status: 'succeeded'})
    expect(await service('worker')).to.equal(undefined)
  })

  it('stops a deploy whose release command fails before any service changes', async () => {
    const v1 = await deploy({image: GOOD, commit: 'aaaaaaa1'}, {web: 'node server.js'})
    const error = await deploy({image: FAILING_RELEASE, commit: 'ddddddd4'}, {web: 'node server.js', release: 'node migrate.js'}).catch((e) => e)
    expect(error).to.be.instanceOf(HerogateError)
    expect(error.message).to.equal('Release phase of v2 failed: the release command exited with 1. v1 keeps serving.')
    expect((await service('web'))?.taskDefinition).to.equal(v1.taskDefinitions!.web)
    expect(await releaseInfo(ctx, app, 2)).to.include({status: 'failed', description: 'Deploy ddddddd', failure: 'the release command exited with 1'})
  })

  it('marks a release failed, not pending, when it stops on an unexpected error', async () => {
    await ecs.send(new DeleteServiceCommand({cluster: resources.cluster, service: names.service(app, 'web'), force: true}))
    const error = await deploy({image: GOOD, commit: 'eeeeeee5'}, {web: 'node server.js'}).catch((e) => e)
    expect(error.message).to.equal('The web service of demo is missing from its stack.')
    expect(await releaseInfo(ctx, app, 1)).to.include({status: 'failed'})
    expect((await new ReleaseStore(ssm).get(app, 1))?.failure).to.equal('The web service of demo is missing from its stack.')
  })

  it('finds the current release from the head, and by listing when a release was made without updating it', async () => {
    await setConfig({FOO: 'one'})
    const v2 = await deploy({image: GOOD, commit: 'a1b2c3d4e5f6'}, {web: 'node server.js'})
    const head = JSON.parse((await ssm.send(new GetParameterCommand({Name: names.releaseHeadParameter(app)}))).Parameter!.Value!)
    expect(head).to.deep.include({latest: 2, configVersion: 1})
    expect(head.current).to.include({version: 2, image: GOOD})
    // An older herogate (or a crashed run) records v3 and leaves the head at v2.
    await new ReleaseStore(ssm).create(app, {kind: 'deploy', description: 'Deploy fffffff', status: 'succeeded', author: 'old', createdAt: '2026-11-21T10:00:00.000Z', image: GOOD2, commit: 'fffffff', taskDefinitions: v2.taskDefinitions})
    const v4 = await setConfig({FOO: 'two'})
    expect(v4).to.include({version: 4, image: GOOD2, commit: 'fffffff', status: 'succeeded', configVersion: 2})
    const after = JSON.parse((await ssm.send(new GetParameterCommand({Name: names.releaseHeadParameter(app)}))).Parameter!.Value!)
    expect(after).to.deep.include({latest: 4, configVersion: 2})
    expect(after.current.version).to.equal(4)
  })

  it('refuses a rollback with nothing to roll back to', async () => {
    await setConfig({FOO: 'one'})
    const error = await rollback(ctx, app, undefined, {author: 'dev'}).catch((e) => e)
    expect(error).to.be.instanceOf(HerogateError)
    expect(error.message).to.equal('demo has no earlier release to roll back to.')
  })
})
