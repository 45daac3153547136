import {DeleteServiceCommand, DescribeServicesCommand, DescribeTaskDefinitionCommand, type ECSClient} from '@aws-sdk/client-ecs'
import {CloudWatchLogsClient, GetLogEventsCommand} from '@aws-sdk/client-cloudwatch-logs'
import {GetParameterCommand, PutParameterCommand, SSMClient} from '@aws-sdk/client-ssm'
import {expect} from 'chai'

import {type NewRelease, ReleaseStore} from '../../../src/aws/release-store.js'
import {ConfigStore} from '../../../src/aws/ssm.js'
import {HerogateError, LockHeld} from '../../../src/lib/errors.js'
import {names} from '../../../src/lib/naming.js'
import type {AwsContext} from '../../../src/platform/aws/context.js'
import {setConfig as setConfigOf} from '../../../src/platform/aws/config.js'
import {withAppLock} from '../../../src/platform/aws/lock.js'
import {releaseImage} from '../../../src/platform/aws/release-image.js'
import {releaseInfo, releases} from '../../../src/platform/aws/releases.js'
import {rollback} from '../../../src/platform/aws/rollback.js'
import type {AppResources} from '../../../src/platform/aws/resources.js'
import type {ProgressEvent} from '../../../src/platform/types.js'
import type {EcsModel} from '../../helpers/ecs-model.js'
import {useMoto} from '../../helpers/moto.js'
import {REGION} from './formation.fixture.js'
import {CRASHING, FAILING_RELEASE, GOOD, GOOD2, setUpApp} from './releases.fixture.js'

describe('AWS releases (moto for config and releases, the ECS model for ECS)', function () {
  useMoto()
  this.timeout(60_000)
  let resources: AppResources
  let ctx: AwsContext
  let ssm: SSMClient
  let ecs: ECSClient
  let model: EcsModel
  const app = 'demo'

  beforeEach(async () => {
    ;({resources, ctx, ecs, model} = await setUpApp(app))
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
    releaseImage(ctx, app, built, {processTypes, author: 'dev@example.com', resources, onProgress: (e) => events?.push(e), lockOptions: {holder: 'codebuild'}})

  /** config:set as the CLI makes it (the author is moto's caller identity, "moto"). */
  const setConfig = (vars: Record<string, string>) => setConfigOf(ctx, app, vars).then((change) => change.release!)
  const slot = (version: number) => new ReleaseStore(ssm).slot(app, version)
  const plan = (description: string) => (): NewRelease => ({kind: 'config', description, status: 'pending', author: 'dev', createdAt: ctx.clock.now().toISOString()})

  describe('lock', () => {
    it('is the claim on the next release number, held while the operation runs and removed after when it made no release', async () => {
      const seen = await withAppLock(ctx, app, 'ps:scale', async (lock) => ({version: lock.version, slot: await slot(lock.version)}), {holder: 'alice'})
      expect(seen.version).to.equal(1)
      expect(seen.slot!.lock).to.include({holder: 'alice', operation: 'ps:scale'})
      expect(await slot(1)).to.equal(undefined)
      const failing = withAppLock(ctx, app, 'rollback', async () => {
        throw new HerogateError('boom')
      }, {holder: 'alice', plan: plan('Rollback to v0')})
      expect(await failing.catch((error: Error) => error.message)).to.equal('boom')
      // The release never started: its claim is removed and its number is free again.
      expect(await slot(1)).to.equal(undefined)
      expect(await releases(ctx, app, {num: 10})).to.deep.equal([])
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

    it('serialises concurrent changes: each gets the next number once the one before it has ended', async () => {
      const made = await Promise.all(['A', 'B', 'C'].map((key) => setConfig({[key]: key.toLowerCase()})))
      expect(made.map((r) => r.version).sort()).to.deep.equal([1, 2, 3])
      expect(await new ConfigStore(ssm).get(app)).to.deep.equal({A: 'a', B: 'b', C: 'c'})
      const listed = await releases(ctx, app, {num: 10})
      expect(listed.map((r) => `v${r.version} ${r.status}`)).to.deep.equal(['v3 succeeded', 'v2 succeeded', 'v1 succeeded'])
    })

    it('takes over a claim left behind by a crashed run once it has expired, recording its release as interrupted', async () => {
      await setConfig({A: '1'})
      // Written without how v1 ended (as a herogate from before claims would): the claim after it keeps that.
      const crashed = {
        version: 2, record: {version: 2, kind: 'config', description: 'Set B config vars', status: 'pending', author: 'crashed', createdAt: '2026-11-21T09:00:00.000Z'},
        lock: {holder: 'crashed', operation: 'config:set', since: '2026-11-21T09:00:00.000Z', expiresAt: '2026-11-21T09:15:00.000Z', token: 'old'},
      }
      await ssm.send(new PutParameterCommand({Name: names.releaseParameter(app, 2), Value: JSON.stringify(crashed), Type: 'String'}))
      const v3 = await setConfig({A: '2'})
      expect(v3.version).to.equal(3)
      const listed = await releases(ctx, app, {num: 10})
      expect(listed.map((r) => `v${r.version} ${r.status}${r.failure ? ` (${r.failure})` : ''}`)).to.deep.equal([
        'v3 succeeded', 'v2 failed (the run making it stopped before it ended)', 'v1 succeeded',
      ])
      // A claim still within its time is waited for, then refused.
      const live = {...crashed, version: 4, record: {...crashed.record, version: 4}, lock: {...crashed.lock, expiresAt: '2026-11-21T11:00:00.000Z'}}
      await ssm.send(new PutParameterCommand({Name: names.releaseParameter(app, 4), Value: JSON.stringify(live), Type: 'String'}))
      const error = await withAppLock(ctx, app, 'rollback', async () => 'ran', {holder: 'bob', waitMs: 0}).catch((e) => e)
      expect(error).to.be.instanceOf(LockHeld)
      expect(error.message).to.equal('App demo is busy: config:set by crashed since 2026-11-21T09:00:00.000Z.')
    })

    it('reads the head and the caller\'s parameters in one call, and claims with one more', async () => {
      await setConfig({A: '1'})
      const calls: string[] = []
      ssm.middlewareStack.add((next, context) => async (args) => {
        calls.push(context.commandName!)
        return next(args)
      }, {step: 'initialize', name: 'count'})
      ctx.clients.set('ssm', ssm)
      const found = await withAppLock(ctx, app, 'config:set', async (lock) => [...lock.state.found.keys()], {read: [names.configParameter(app, 'A')], plan: plan('Set A config vars')}).catch((e) => e)
      // The release was never started, so its claim was removed: read, claim, delete.
      expect(calls).to.deep.equal(['GetParametersCommand', 'PutParameterCommand', 'DeleteParametersCommand'])
      expect(found).to.include.members([names.releaseHeadParameter(app), names.configParameter(app, 'A')])
    })
  })

  it('records config changes before the first deploy as releases with no code', async () => {
    const release = await setConfig({FOO: 'one'})
    expect(release).to.include({version: 1, description: 'Set FOO config vars', status: 'succeeded', author: 'moto', current: true})
    expect(release.taskDefinitions).to.equal(undefined)
  })

  it('deploys, changes config, and rolls back code and config', async () => {
    await setConfig({FOO: 'one'})
    const events: ProgressEvent[] = []
    const v2 = await deploy({image: GOOD, commit: 'a1b2c3d4e5f6'}, {web: 'node server.js', worker: 'node worker.js', release: 'node release.js'}, events)
    expect(v2).to.include({version: 2, description: 'Deploy a1b2c3d', status: 'succeeded', current: true, image: GOOD, commit: 'a1b2c3d4e5f6', author: 'dev@example.com'})
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
    expect(v3).to.include({version: 3, description: 'Set FOO, BAR config vars', status: 'succeeded', image: GOOD})
    const v3web = await container(v3.taskDefinitions!.web)
    expect(v3web.secrets!.map((s) => s.name)).to.deep.equal(['BAR', 'FOO'])
    expect(v3web.image).to.equal(GOOD)
    expect((await service('web'))?.taskDefinition).to.equal(v3.taskDefinitions!.web)

    const v4 = await rollback(ctx, app, undefined, {author: 'dev'})
    expect(v4).to.include({version: 4, description: 'Rollback to v2', status: 'succeeded', image: GOOD, current: true})
    expect(await new ConfigStore(ssm).get(app)).to.deep.equal({FOO: 'one'})
    const v4web = await container(v4.taskDefinitions!.web)
    expect(v4web.secrets!.map((s) => s.name)).to.deep.equal(['FOO'])
    expect(v4web.environment).to.deep.include({name: 'HEROGATE_RELEASE', value: 'v4'})
    expect((await service('web'))?.taskDefinition).to.equal(v4.taskDefinitions!.web)

    // What the rollback did is in the app's log group, for `logs --source herogate`.
    const journal = await new CloudWatchLogsClient({region: REGION}).send(new GetLogEventsCommand({logGroupName: resources.logGroup, logStreamName: 'herogate/deploy', startFromHead: true}))
    const all = journal.events!.map((e) => e.message!)
    expect(all).to.include.members(['v1: Set FOO config vars by moto', 'v1 succeeded', 'v3: Set FOO, BAR config vars by moto', 'v3 succeeded'])
    const lines = all.slice(all.indexOf('v4: Rollback to v2 by dev'))
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
    expect(error.message).to.match(/^Release v3 of demo failed: 2 new processes failed \(web: crashed with exit code 1 \(2 times\)\)\. v2 keeps serving\.$/)
    expect(model.describe({service: 'demo--web'}).filter((t) => t.stopCode === 'EssentialContainerExited')).to.have.length(2)
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

  it('keeps the newest release and the current one in the head, and steps over a release recorded without it', async () => {
    await setConfig({FOO: 'one'})
    const v2 = await deploy({image: GOOD, commit: 'a1b2c3d4e5f6'}, {web: 'node server.js'})
    const head = async () => JSON.parse((await ssm.send(new GetParameterCommand({Name: names.releaseHeadParameter(app)}))).Parameter!.Value!)
    expect((await head()).latest).to.include({version: 2, status: 'succeeded', image: GOOD})
    expect((await head()).current).to.equal(undefined)
    // A herogate from before claims records v3 as a whole record and leaves the head at v2.
    const old = {version: 3, kind: 'deploy', description: 'Deploy fffffff', status: 'succeeded', author: 'old', createdAt: '2026-11-21T10:00:00.000Z', image: GOOD2, commit: 'fffffff', taskDefinitions: v2.taskDefinitions}
    await ssm.send(new PutParameterCommand({Name: names.releaseParameter(app, 3), Value: JSON.stringify(old), Type: 'String'}))
    const v4 = await setConfig({FOO: 'two'})
    expect(v4).to.include({version: 4, image: GOOD2, commit: 'fffffff', status: 'succeeded'})
    expect((await head()).latest.version).to.equal(4)
    expect((await releases(ctx, app, {num: 10})).map((r) => `v${r.version} ${r.status}`)).to.deep.equal(['v4 succeeded', 'v3 succeeded', 'v2 succeeded', 'v1 succeeded'])
    // A failed release keeps the current one in the head beside it.
    await deploy({image: CRASHING, commit: 'bbbbbbb2'}, {web: 'node server.js'}).catch(() => undefined)
    expect((await head()).latest).to.include({version: 5, status: 'failed'})
    expect((await head()).current).to.include({version: 4})
  })

  it('restores values by parameter version on rollback, unset vars included, and leaves vars no release touched', async () => {
    await setConfig({FOO: 'one', GONE: 'soon'})
    const v2 = await deploy({image: GOOD, commit: 'a1b2c3d4e5f6'}, {web: 'node server.js'})
    await setConfigOf(ctx, app, {FOO: 'two', NEW: 'n'})
    const {unsetConfig} = await import('../../../src/platform/aws/config.js')
    await unsetConfig(ctx, app, ['GONE'])
    // Set outside herogate: no release knows it, so no rollback touches it.
    await ssm.send(new PutParameterCommand({Name: names.configParameter(app, 'OUTSIDE'), Value: 'x', Type: 'SecureString'}))
    const rolled = await rollback(ctx, app, v2.version, {author: 'dev'})
    expect(rolled).to.include({version: 5, description: 'Rollback to v2', status: 'succeeded'})
    expect(await new ConfigStore(ssm).get(app)).to.deep.equal({FOO: 'one', GONE: 'soon', OUTSIDE: 'x'})
    expect((await container(rolled.taskDefinitions!.web)).secrets!.map((s) => s.name)).to.deep.equal(['FOO', 'GONE', 'OUTSIDE'])
    // The rollback is itself a change that can be rolled back.
    await rollback(ctx, app, 4, {author: 'dev'})
    expect(await new ConfigStore(ssm).get(app)).to.deep.equal({FOO: 'two', NEW: 'n', OUTSIDE: 'x'})
  })

  it('refuses a rollback with nothing to roll back to', async () => {
    await setConfig({FOO: 'one'})
    const error = await rollback(ctx, app, undefined, {author: 'dev'}).catch((e) => e)
    expect(error).to.be.instanceOf(HerogateError)
    expect(error.message).to.equal('demo has no earlier release to roll back to.')
  })
})
