import {expect} from 'chai'

import type {NewRelease} from '../../../src/aws/release-store.js'
import {HerogateError} from '../../../src/lib/errors.js'
import {names} from '../../../src/lib/naming.js'
import {getConfig, setConfig} from '../../../src/platform/aws/config.js'
import type {AwsContext} from '../../../src/platform/aws/context.js'
import {withAppLock} from '../../../src/platform/aws/lock.js'
import {releases} from '../../../src/platform/aws/releases.js'
import type {SsmStandIn} from '../../helpers/ssm-standin.js'
import {concurrentClock, standInContext} from './standin.fixture.js'

/**
 * Finding 10: SSM answers TooManyUpdates to a write of a parameter while another write of it is
 * in flight, and the SDK does not retry that. Runs that race for the same release number, and
 * every other write of the release store, the lock and the config, must wait and try again.
 */
describe('the app lock and the release store under TooManyUpdates (SSM stand-in)', () => {
  const app = 'demo'
  let ctx: AwsContext
  let ssm: SsmStandIn
  let clock: ReturnType<typeof concurrentClock>

  beforeEach(() => {
    clock = concurrentClock()
    ;({ctx, ssm} = standInContext(app, {clock}))
  })

  const plan = (description: string) => (): NewRelease => ({kind: 'config', description, status: 'pending', author: 'alice', createdAt: clock.now().toISOString()})
  const tooManyUpdates = () => ssm.refused.filter((r) => r.error === 'TooManyUpdates')

  it('waits and claims again when its claim of the release number is answered TooManyUpdates', async () => {
    ssm.failNext('PutParameter', {name: names.releaseParameter(app, 1)})
    const version = await withAppLock(ctx, app, 'config:set', async (lock) => lock.version, {holder: 'alice', plan: plan('Set A config vars')})
    expect(version).to.equal(1)
    expect(tooManyUpdates()).to.have.length(1)
    // It waited on the injected clock (no wall time), between half a second and a second.
    expect(clock.sleeps).to.have.length(1)
    expect(clock.sleeps[0]).to.be.within(500, 999)
  })

  it('lets three config changes started at once all land, numbered 1 to 3, none lost', async () => {
    // Three, so that the last one's wait for the two before it (about 3 s each: a 2 s poll, and
    // a moment after each lost claim) stays well within the lock's 20 s.
    const keys = ['A', 'B', 'C']
    const made = await Promise.all(keys.map((key) => setConfig(ctx, app, {[key]: key.toLowerCase()})))
    expect(made.map((change) => change.release!.version).sort()).to.deep.equal([1, 2, 3])
    expect(await getConfig(ctx, app)).to.deep.equal({A: 'a', B: 'b', C: 'c'})
    expect((await releases(ctx, app, {num: 10})).map((r) => `v${r.version} ${r.status}`)).to.deep.equal(['v3 succeeded', 'v2 succeeded', 'v1 succeeded'])
    // They did race: SSM refused the losers' claims (ParameterAlreadyExists, or TooManyUpdates
    // while the winner's write was in flight: most runs see both; the first test makes sure of the latter).
    expect(ssm.refused.filter((r) => r.command === 'PutParameter').length).to.be.greaterThan(0)
    expect(ssm.refused.every((r) => r.error === 'TooManyUpdates' || r.error === 'ParameterAlreadyExists')).to.equal(true)
  })

  it('waits out TooManyUpdates on the config var, the head that ends the release, and the slot it rewrites', async () => {
    ssm.failNext('PutParameter', {name: names.configParameter(app, 'A'), times: 2})
    ssm.failNext('PutParameter', {name: names.releaseHeadParameter(app), times: 3})
    const change = await setConfig(ctx, app, {A: '1'})
    expect(change.release).to.include({version: 1, status: 'succeeded'})
    expect(await getConfig(ctx, app)).to.deep.equal({A: '1'})
    expect(tooManyUpdates()).to.have.length(5)

    await withAppLock(ctx, app, 'deploy', async (lock) => {
      ssm.failNext('PutParameter', {name: names.releaseParameter(app, 2)})
      await lock.update({...lock.record!, phase: 'rollout'})
    }, {holder: 'alice', plan: plan('Deploy 1a2b3c4')})
    expect(tooManyUpdates()).to.have.length(6)
  })

  it('waits out TooManyUpdates when it removes a claim that made no release', async () => {
    // Whichever delete call the store makes.
    for (const command of ['DeleteParameter', 'DeleteParameters']) ssm.failNext(command, {name: names.releaseParameter(app, 1), times: 2})
    await withAppLock(ctx, app, 'ps:scale', async () => undefined, {holder: 'alice'})
    expect(ssm.namesUnder(names.releasesPath(app))).to.deep.equal([])
  })

  it('says the app is busy, naming the number, when its claims are refused for the whole wait', async () => {
    ssm.failNext('PutParameter', {name: names.releaseParameter(app, 1), times: 1000})
    const error = await withAppLock(ctx, app, 'config:set', async () => 'ran', {holder: 'alice', waitMs: 10_000, plan: plan('Set A config vars')}).catch((e: unknown) => e)
    expect(error).to.be.instanceOf(HerogateError)
    expect((error as HerogateError).message).to.equal('App demo is busy: another run is taking release number v1.')
    expect((error as HerogateError).suggestions).to.deep.equal(['wait for it to finish and try again', 'herogate releases -a demo'])
  })
})
