import {UpdateServiceCommand} from '@aws-sdk/client-ecs'
import {expect} from 'chai'

import type {HerogateError} from '../../../src/lib/errors.js'
import {names} from '../../../src/lib/naming.js'
import {releaseImage} from '../../../src/platform/aws/release-image.js'
import {rollback} from '../../../src/platform/aws/rollback.js'
import type {ProgressEvent} from '../../../src/platform/types.js'
import {useMoto} from '../../helpers/moto.js'
import type {ModelApp} from './ecs-model.fixture.js'
import {CRASHING, GOOD, GOOD2, image, setUpApp} from './releases.fixture.js'

/**
 * Issue 9, finding 7: ECS keeps a deleted service DRAINING until its tasks have stopped and
 * refuses to create a service of that name meanwhile. Every way a release brings a process
 * type's service back right after one removed it must wait for that, not fail.
 */
describe('AWS releases re-creating a service ECS still drains (ECS model, moto for releases)', function () {
  useMoto()
  this.timeout(60_000)
  const app = 'demo'
  const worker = names.service(app, 'worker')
  let setUp: ModelApp

  beforeEach(async () => {
    setUp = await setUpApp(app)
  })

  const deploy = (built: string, processTypes: Record<string, string>, events?: ProgressEvent[]) =>
    releaseImage(setUp.ctx, app, {image: built, commit: built.slice(-12)}, {processTypes, author: 'dev', resources: setUp.resources, lockOptions: {holder: 'codebuild'}, onProgress: (e) => events?.push(e)})

  /** Scales the worker up and lets its process start, so that deleting its service leaves it draining. */
  async function runWorker(): Promise<void> {
    await setUp.ecs.send(new UpdateServiceCommand({cluster: setUp.resources.cluster, service: worker, desiredCount: 1}))
    setUp.clock.advance(60_000)
    expect(setUp.model.service(worker)).to.include({status: 'ACTIVE', runningCount: 1})
  }

  function expectWaited(events: ProgressEvent[]): void {
    expect(events).to.deep.include({kind: 'step', id: 'drain:worker', message: 'Waiting for ECS to finish draining the removed worker service', status: 'start'})
    expect(events).to.deep.include({kind: 'step', id: 'drain:worker', message: 'Waiting for ECS to finish draining the removed worker service', status: 'done'})
  }

  it('brings back a process type the previous release removed', async () => {
    await deploy(GOOD, {web: 'node server.js', worker: 'node worker.js'})
    await runWorker()
    await deploy(GOOD2, {web: 'node server.js'})
    expect(setUp.model.service(worker)).to.include({status: 'DRAINING'})
    const events: ProgressEvent[] = []
    const v3 = await deploy(image('good3'), {web: 'node server.js', worker: 'node worker.js'}, events)
    expect(v3).to.include({version: 3, status: 'succeeded'})
    expect(setUp.model.service(worker)).to.include({status: 'ACTIVE', taskDefinition: v3.taskDefinitions!.worker, desiredCount: 0})
    expectWaited(events)
  })

  it('rolls back to a release that had a process type removed since', async () => {
    const v1 = await deploy(GOOD, {web: 'node server.js', worker: 'node worker.js'})
    await runWorker()
    await deploy(GOOD2, {web: 'node server.js'})
    const events: ProgressEvent[] = []
    const v3 = await rollback(setUp.ctx, app, v1.version, {author: 'dev', onProgress: (e) => events.push(e)})
    expect(v3).to.include({version: 3, description: 'Rollback to v1', status: 'succeeded'})
    expect(setUp.model.service(worker)).to.include({status: 'ACTIVE', taskDefinition: v3.taskDefinitions!.worker})
    expectWaited(events)
  })

  it('deploys again a new process type that the put-back of a failed release removed', async () => {
    await deploy(GOOD, {web: 'node server.js'})
    // The release adding the worker crashes on web; putting v1 back deletes the worker service it made.
    const failed = await deploy(CRASHING, {web: 'node server.js', worker: 'node worker.js'}).catch((error: Error) => error)
    expect(failed).to.be.instanceOf(Error)
    expect((failed as Error).message).to.match(/^Release v2 of demo failed: 2 new processes failed/)
    expect(setUp.model.service(worker)).to.include({status: 'DRAINING'})
    const events: ProgressEvent[] = []
    const v3 = await deploy(GOOD2, {web: 'node server.js', worker: 'node worker.js'}, events)
    expect(v3).to.include({version: 3, status: 'succeeded'})
    expect(setUp.model.service(worker)).to.include({status: 'ACTIVE', taskDefinition: v3.taskDefinitions!.worker})
    expectWaited(events)
  })

  it('gives up with a clear error when the old service is still draining after the deadline', async () => {
    await deploy(GOOD, {web: 'node server.js', worker: 'node worker.js'})
    await runWorker()
    // ECS takes its time: the deleted service stays DRAINING for an hour.
    setUp.model.timings.drainMinMs = 60 * 60_000
    await deploy(GOOD2, {web: 'node server.js'})
    const error = await deploy(image('good3'), {web: 'node server.js', worker: 'node worker.js'}).catch((e: Error) => e)
    expect(error).to.be.instanceOf(Error)
    expect((error as Error).message).to.equal('ECS is still draining the removed worker service of demo after 10 minutes, so it cannot be created again yet.')
    // A herogate command, not the AWS CLI's (which herogate does not need).
    expect((error as HerogateError).suggestions).to.deep.equal(['deploy again in a few minutes, once ECS has drained it: herogate deploy -a demo (in the app\'s git repo)'])
    expect(setUp.model.service(worker)).to.include({status: 'DRAINING'})
  })
})
