import {expect} from 'chai'

import {names} from '../../../src/lib/naming.js'
import {getConfig, setConfig, unsetConfig} from '../../../src/platform/aws/config.js'
import type {AwsContext} from '../../../src/platform/aws/context.js'
import {releaseImage} from '../../../src/platform/aws/release-image.js'
import {releases} from '../../../src/platform/aws/releases.js'
import {rollback} from '../../../src/platform/aws/rollback.js'
import type {AppResources} from '../../../src/platform/aws/resources.js'
import {useMoto} from '../../helpers/moto.js'
import {SsmStandIn, validation} from '../../helpers/ssm-standin.js'
import {GOOD, setUpApp} from './releases.fixture.js'

const BIG = 'b'.repeat(5000)
const BIGGER = 'c'.repeat(6000)

/**
 * Finding 9: a config var that once held more than 4 KB is an Advanced parameter for good (SSM
 * refuses to move it back). Every later write of it must still work: a smaller value, an empty
 * one, the unset marker, a rollback's restore and the put-back after a failed release. ECS runs
 * on the ECS model (test/helpers/ecs-model.ts); SSM is the stand-in that refuses downgrades as AWS does.
 */
describe('config vars that went over 4 KB (Advanced tier, SSM stand-in)', function () {
  const {moto} = useMoto()
  this.timeout(60_000)
  const app = 'demo'
  let ctx: AwsContext
  let resources: AppResources
  let ssm: SsmStandIn
  let failWeb: boolean

  const parameter = (key: string) => names.configParameter(app, key)
  const set = async (vars: Record<string, string>) => (await setConfig(ctx, app, vars)).release!

  beforeEach(async () => {
    await moto()
    const setUp = await setUpApp(app)
    ;({resources, ctx} = setUp)
    ssm = new SsmStandIn()
    ctx.clients.set('ssm', ssm.client)
    failWeb = false
    // While failWeb is set, the web service's new tasks crash a second after they start.
    const serving = setUp.model.behaviour
    setUp.model.behaviour = (context) => (failWeb && context.family === names.taskFamily(app, 'web') ? {exitAfterMs: 1000, exitCode: 1} : serving(context))
    await releaseImage(ctx, app, {image: GOOD, commit: 'a1b2c3d4'}, {processTypes: {web: 'node server.js'}, author: 'dev', resources, lockOptions: {holder: 'codebuild'}})
  })

  it('takes a smaller value, an empty value and an unset after a value over 4 KB', async () => {
    await set({CERT: BIG})
    expect(ssm.tierOf(parameter('CERT'))).to.equal('Advanced')
    await set({CERT: 'small'})
    expect(await getConfig(ctx, app)).to.deep.equal({CERT: 'small'})
    await set({CERT: ''})
    expect(await getConfig(ctx, app)).to.deep.equal({CERT: ''})
    await set({CERT: BIGGER})
    await unsetConfig(ctx, app, ['CERT'])
    expect(await getConfig(ctx, app)).to.deep.equal({})
    await set({CERT: 'back'})
    expect(await getConfig(ctx, app)).to.deep.equal({CERT: 'back'})
    // The parameter never left the Advanced tier and kept its whole history.
    expect(ssm.tierOf(parameter('CERT'))).to.equal('Advanced')
    expect(ssm.versionsOf(parameter('CERT'))).to.deep.equal([1, 2, 3, 4, 5, 6])
    expect((await releases(ctx, app, {num: 10})).map((r) => `v${r.version} ${r.status}`)).to.deep.equal([
      'v7 succeeded', 'v6 succeeded', 'v5 succeeded', 'v4 succeeded', 'v3 succeeded', 'v2 succeeded', 'v1 succeeded',
    ])
  })

  it('rolls back to a release whose value was small', async () => {
    const small = await set({CERT: 'small'})
    await set({CERT: BIG})
    const rolled = await rollback(ctx, app, small.version, {author: 'dev'})
    expect(rolled).to.include({status: 'succeeded', description: `Rollback to v${small.version}`})
    expect(await getConfig(ctx, app)).to.deep.equal({CERT: 'small'})
    // And back again, to the big value: the rollback of a rollback.
    await rollback(ctx, app, small.version + 1, {author: 'dev'})
    expect(await getConfig(ctx, app)).to.deep.equal({CERT: BIG})
  })

  it('rolls back to a release before the var existed (the unset marker goes into the Advanced parameter)', async () => {
    const before = await set({OTHER: '1'})
    await set({CERT: BIG})
    await rollback(ctx, app, before.version, {author: 'dev'})
    expect(await getConfig(ctx, app)).to.deep.equal({OTHER: '1'})
  })

  it('puts the old small value back when the release that made it big fails', async () => {
    await set({CERT: 'small'})
    failWeb = true
    const error = await setConfig(ctx, app, {CERT: BIG}).catch((e: unknown) => e)
    expect((error as Error).message).to.equal('Release v3 of demo failed: 2 new processes failed (web: crashed with exit code 1 (2 times)). v2 keeps serving.')
    expect(await getConfig(ctx, app)).to.deep.equal({CERT: 'small'})
    expect(ssm.tierOf(parameter('CERT'))).to.equal('Advanced')
  })

  it('puts a new var over 4 KB back to unset when its release (new task definitions) fails', async () => {
    await set({OTHER: '1'})
    failWeb = true
    const error = await setConfig(ctx, app, {CERT: BIG}).catch((e: unknown) => e)
    expect((error as Error).message).to.equal('Release v3 of demo failed: 2 new processes failed (web: crashed with exit code 1 (2 times)). v2 keeps serving.')
    expect(await getConfig(ctx, app)).to.deep.equal({OTHER: '1'})
    // The unset marker went into the parameter, which stays Advanced.
    expect(ssm.tierOf(parameter('CERT'))).to.equal('Advanced')
    failWeb = false
    await set({CERT: 'now small'})
    expect(await getConfig(ctx, app)).to.deep.equal({CERT: 'now small', OTHER: '1'})
  })

  it('puts vars already written back when a later write of the same change fails', async () => {
    await set({CERT: 'small'})
    // A refusal that no tier lifts (the writer's second try, as Advanced, gets it too).
    ssm.failNext('PutParameter', {name: parameter('ZZZ'), times: 2, error: () => validation('Parameter name: can\'t be prefixed with "ssm" (case-insensitive).')})
    const error = await setConfig(ctx, app, {CERT: BIG, NEW: BIGGER, ZZZ: '1'}).catch((e: unknown) => e)
    expect((error as Error).message).to.equal('AWS failed setting ZZZ: ValidationException. Nothing was changed (CERT, NEW put back as before).')
    expect(await getConfig(ctx, app)).to.deep.equal({CERT: 'small'})
  })
})
