import {DescribeServicesCommand, type ECSClient, ListTasksCommand} from '@aws-sdk/client-ecs'
import {expect} from 'chai'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {names} from '../../src/lib/naming.js'
import type {AwsContext} from '../../src/platform/aws/context.js'
import {releases} from '../../src/platform/aws/releases.js'
import {BUDGET_MS, BUILD_TIMEOUT_MINUTES, BuildOutOfTime, deadlineClock, lockWaitMs, releaseDeadline} from '../../src/release/budget.js'
import {runRelease} from '../../src/release/index.js'
import {useMoto} from '../helpers/moto.js'
import {fakeClock} from '../platform/aws/formation.fixture.js'
import type {ModelApp} from '../platform/aws/ecs-model.fixture.js'
import {GOOD, image, setUpApp} from '../platform/aws/releases.fixture.js'

/** Its web tasks run but answer no health check for hours, and nothing crashes. */
const STUCK = image('stuck')
/** Its release command never ends. */
const ENDLESS_RELEASE = image('endless')

describe('a release inside the build\'s time (moto, injected clock)', function () {
  const {moto} = useMoto()
  this.timeout(60_000)
  let source: string
  let ctx: AwsContext
  let ecs: ECSClient
  let clock: ModelApp['clock']

  beforeEach(async () => {
    await moto()
    source = mkdtempSync(join(tmpdir(), 'hg-source-'))
    // A grace period of an hour: ECS ignores the STUCK tasks' failing health checks and stops
    // none of them, so the rollout stays IN_PROGRESS with nothing failed, as a slow app's does.
    const setUp = await setUpApp('demo', {gracePeriodSeconds: 3600})
    ;({ctx, ecs, clock} = setUp)
    setUp.model.images.set(STUCK, {listensAfterMs: 2 * 3_600_000})
    setUp.model.images.set(ENDLESS_RELEASE, {})
  })
  afterEach(() => rmSync(source, {recursive: true, force: true}))

  /** A build started long enough ago that 10 minutes are left before its deadline. */
  const lateBuild = () => clock.now().getTime() - (BUILD_TIMEOUT_MINUTES * 60_000 - BUDGET_MS.margin - 10 * 60_000)
  const webTaskDefinition = async () => {
    const {cluster} = await ctx.appResources!(ctx, 'demo')
    const {services} = await ecs.send(new DescribeServicesCommand({cluster, services: [names.service('demo', 'web')]}))
    return services!.find((s) => s.status === 'ACTIVE')!.taskDefinition
  }

  it('puts every service back and records the release failed when the rollout would outlast the build', async () => {
    writeFileSync(join(source, 'Procfile'), 'web: node server.js\n')
    const first = await runRelease({app: 'demo', source, image: GOOD, author: 'a', ctx, onProgress: () => {}})
    const startedAt = lateBuild()
    const deadline = releaseDeadline(startedAt)
    const error = await runRelease({app: 'demo', source, image: STUCK, author: 'a', ctx, onProgress: () => {}, buildStartedAt: startedAt}).catch((e: Error) => e)
    expect(error).to.be.instanceOf(BuildOutOfTime)
    expect((error as Error).message).to.equal(`The build stopped the release 5 minutes before its ${BUILD_TIMEOUT_MINUTES}-minute timeout: release v2 of demo was rolled back; v1 keeps serving`)
    // It stopped at the deadline, before CodeBuild's timeout would have killed it mid-rollout.
    expect(clock.now().getTime()).to.equal(deadline)
    expect(clock.now().getTime()).to.be.below(startedAt + BUILD_TIMEOUT_MINUTES * 60_000)
    const [latest] = await releases(ctx, 'demo', {num: 1})
    expect(latest).to.include({version: 2, status: 'failed'})
    expect(await webTaskDefinition()).to.equal(first.taskDefinitions!.web)
  })

  it('records the release failed when its release command would outlast the build, changing no service', async () => {
    writeFileSync(join(source, 'Procfile'), 'web: node server.js\nrelease: node migrate.js\n')
    const first = await runRelease({app: 'demo', source, image: GOOD, author: 'a', ctx, onProgress: () => {}})
    const startedAt = lateBuild()
    const error = await runRelease({app: 'demo', source, image: ENDLESS_RELEASE, author: 'a', ctx, onProgress: () => {}, buildStartedAt: startedAt}).catch((e: Error) => e)
    expect(error).to.be.instanceOf(BuildOutOfTime)
    expect(clock.now().getTime()).to.equal(releaseDeadline(startedAt))
    const [latest] = await releases(ctx, 'demo', {num: 1})
    expect(latest).to.include({version: 2, status: 'failed'})
    expect(latest.failure).to.match(/^The build stopped the release 5 minutes before its \d+-minute timeout/)
    expect(await webTaskDefinition()).to.equal(first.taskDefinitions!.web)
    // The release command it gave up is stopped, not left running (and billed) until destroy.
    const {cluster} = await ctx.appResources!(ctx, 'demo')
    const releaseTasks = async (desiredStatus: 'RUNNING' | 'STOPPED') => (await ecs.send(new ListTasksCommand({cluster, startedBy: 'herogate-release-v2', desiredStatus}))).taskArns
    expect(await releaseTasks('RUNNING')).to.deep.equal([])
    expect(await releaseTasks('STOPPED')).to.have.length(1)
  })

  it('does not start a release the image build left no time for', async () => {
    const startedAt = clock.now().getTime() - (BUILD_TIMEOUT_MINUTES * 60_000 - BUDGET_MS.margin - 60_000)
    const error = await runRelease({app: 'demo', source, image: GOOD, author: 'a', ctx, onProgress: () => {}, buildStartedAt: startedAt}).catch((e: Error) => e)
    expect(error).to.be.instanceOf(BuildOutOfTime)
    expect((error as Error).message).to.match(/the image build left too little time to release .*; nothing was changed$/)
    expect(await releases(ctx, 'demo', {num: 1})).to.deep.equal([])
  })
})

describe('build budgets', () => {
  it('fit inside the build project\'s timeout with margin, which CloudFormation allows', () => {
    const {margin, ...parts} = BUDGET_MS
    const used = Object.values(parts).reduce((sum, ms) => sum + ms, 0)
    expect(used + margin).to.be.at.most(BUILD_TIMEOUT_MINUTES * 60_000)
    expect(margin).to.be.at.least(60_000)
    expect(BUILD_TIMEOUT_MINUTES).to.be.within(5, 480)
  })

  it('shorten the wait for the lock first when the image build was slow', () => {
    const deadline = releaseDeadline(0)
    expect(lockWaitMs(deadline, 0)).to.equal(BUDGET_MS.lockWait)
    expect(lockWaitMs(deadline, deadline - BUDGET_MS.rollout - 60_000)).to.equal(60_000)
    expect(lockWaitMs(deadline, deadline - 60_000)).to.equal(0)
  })

  it('end sleeps at the deadline and abort the signal there, with an injected clock', async () => {
    const clock = fakeClock(0)
    const limit = deadlineClock(clock, 10_000, () => new BuildOutOfTime(90))
    await limit.clock.sleep(3000)
    expect([clock.now().getTime(), limit.signal.aborted]).to.deep.equal([3000, false])
    const error = await limit.clock.sleep(60_000).catch((e: Error) => e)
    expect(error).to.be.instanceOf(BuildOutOfTime)
    expect([clock.now().getTime(), limit.signal.aborted, limit.signal.reason]).to.deep.equal([10_000, true, error])
    expect(await limit.clock.sleep(1).catch((e: Error) => e)).to.equal(error)
  })
})
