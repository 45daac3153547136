import {DescribeServicesCommand, DescribeTaskDefinitionCommand, ECSClient} from '@aws-sdk/client-ecs'
import {DescribeParametersCommand, GetParametersByPathCommand, SSMClient} from '@aws-sdk/client-ssm'
import {expect} from 'chai'

import {ReleaseStore} from '../../../src/aws/release-store.js'
import {EMPTY_MARKER, UNSET_MARKER} from '../../../src/aws/ssm.js'
import {AppNotFound, ConfigUnchanged, InvalidInput, NoChanges} from '../../../src/lib/errors.js'
import {names} from '../../../src/lib/naming.js'
import {editConfig, getConfig, setConfig, unsetConfig} from '../../../src/platform/aws/config.js'
import type {AwsContext} from '../../../src/platform/aws/context.js'
import type {AppResources} from '../../../src/platform/aws/resources.js'
import {useMoto} from '../../helpers/moto.js'
import {deployProcesses, makeContext, makeResources, recordDeploy, REGION} from './formation.fixture.js'

async function container(resources: AppResources, type: string) {
  const ecs = new ECSClient({region: REGION})
  const service = (await ecs.send(new DescribeServicesCommand({cluster: resources.cluster, services: [names.service(resources.app, type)]}))).services![0]
  const definition = (await ecs.send(new DescribeTaskDefinitionCommand({taskDefinition: service.taskDefinition}))).taskDefinition!
  return definition.containerDefinitions![0]
}

async function stored(app: string) {
  const response = await new SSMClient({region: REGION}).send(new GetParametersByPathCommand({Path: names.configPath(app), WithDecryption: true}))
  return Object.fromEntries((response.Parameters ?? []).map((p) => [p.Name!.split('/').pop(), {type: p.Type, value: p.Value}]))
}

describe('aws driver: config (moto)', () => {
  useMoto()
  let resources: AppResources
  let ctx: AwsContext

  beforeEach(async () => {
    resources = await makeResources('demo')
    await recordDeploy('demo', await deployProcesses(resources, {web: {}, worker: {}, clock: {count: 0}}))
    ctx = makeContext(resources)
  })

  it('sets vars as SecureStrings, returns only the keys, and rolls every process type with them as secrets', async () => {
    const change = await setConfig(ctx, 'demo', {A: '1', B: 'two words'})
    expect(change.keys).to.deep.equal(['A', 'B'])
    expect(change.release).to.deep.include({version: 2, status: 'succeeded', description: 'Set A, B config vars'})
    expect(JSON.stringify(change)).not.to.include('two words')
    expect(await getConfig(ctx, 'demo')).to.deep.equal({A: '1', B: 'two words'})
    expect(await stored('demo')).to.deep.equal({A: {type: 'SecureString', value: '1'}, B: {type: 'SecureString', value: 'two words'}})
    for (const type of ['web', 'worker', 'clock']) {
      const c = await container(resources, type)
      expect(c.secrets).to.deep.equal([
        {name: 'A', valueFrom: names.configParameter('demo', 'A')},
        {name: 'B', valueFrom: names.configParameter('demo', 'B')},
      ])
      expect((c.environment ?? []).map((e) => e.value)).not.to.include('two words')
    }

    const removed = await unsetConfig(ctx, 'demo', ['A'])
    expect(removed.keys).to.deep.equal(['A'])
    expect(await getConfig(ctx, 'demo')).to.deep.equal({B: 'two words'})
    for (const type of ['web', 'worker', 'clock']) expect((await container(resources, type)).secrets!.map((s) => s.name)).to.deep.equal(['B'])
    // The parameter keeps its history for a rollback: its newest version is the unset marker, a plain String.
    expect((await stored('demo')).A).to.deep.equal({type: 'String', value: UNSET_MARKER})
    expect(await unsetConfig(ctx, 'demo', ['A']).catch((e: unknown) => e)).to.be.instanceOf(NoChanges)
    await setConfig(ctx, 'demo', {A: 'back'})
    expect(await getConfig(ctx, 'demo')).to.deep.equal({A: 'back', B: 'two words'})
  })

  it('keeps values with =, spaces, newlines and unicode exactly', async () => {
    const vars = {URL: 'postgres://u:p@h/db?sslmode=require&x=1', MULTI: 'line one\nline two\n', UNI: 'héllo wörld ✓ 日本', SPACES: '  padded  '}
    await setConfig(ctx, 'demo', vars)
    expect(await getConfig(ctx, 'demo')).to.deep.equal(vars)
  })

  it('stores an empty value as a marked String and gives it to the app as a plain empty environment entry', async () => {
    await setConfig(ctx, 'demo', {EMPTY: '', FULL: 'x'})
    expect(await getConfig(ctx, 'demo')).to.deep.equal({EMPTY: '', FULL: 'x'})
    expect((await stored('demo')).EMPTY).to.deep.equal({type: 'String', value: EMPTY_MARKER})
    const c = await container(resources, 'worker')
    expect(c.secrets!.map((s) => s.name)).to.deep.equal(['FULL'])
    expect(c.environment).to.deep.include({name: 'EMPTY', value: ''})
    // Becoming non-empty moves it back to the secrets.
    await setConfig(ctx, 'demo', {EMPTY: 'now set'})
    const after = await container(resources, 'worker')
    expect(after.secrets!.map((s) => s.name)).to.deep.equal(['EMPTY', 'FULL'])
    expect((after.environment ?? []).map((e) => e.name)).not.to.include('EMPTY')
    expect((await stored('demo')).EMPTY).to.deep.equal({type: 'SecureString', value: 'now set'})
  })

  it('puts values over 4 KB in the Advanced tier and refuses values over 8 KB before writing anything', async () => {
    await setConfig(ctx, 'demo', {BIG: 'x'.repeat(5000)})
    const described = await new SSMClient({region: REGION}).send(new DescribeParametersCommand({}))
    expect(described.Parameters!.find((p) => p.Name === names.configParameter('demo', 'BIG'))!.Tier).to.equal('Advanced')
    const error = await setConfig(ctx, 'demo', {OK: '1', HUGE: 'y'.repeat(8193)}).catch((e: unknown) => e)
    expect(error).to.be.instanceOf(InvalidInput)
    expect((error as Error).message).to.include('8192 bytes').and.not.include('yyyy')
    expect(Object.keys(await getConfig(ctx, 'demo'))).to.deep.equal(['BIG'])
  })

  it('says ConfigUnchanged (the commands exit 0 with its note) when nothing would change, and for unsetting keys that are not set', async () => {
    await setConfig(ctx, 'demo', {A: '1'})
    const before = (await container(resources, 'web')).secrets
    const same = await setConfig(ctx, 'demo', {A: '1'}).catch((e: unknown) => e)
    expect(same).to.be.instanceOf(ConfigUnchanged)
    expect((same as Error).message).to.equal('A already has that value: no new release.')
    const unset = await unsetConfig(ctx, 'demo', ['NOPE']).catch((e: unknown) => e)
    expect(unset).to.be.instanceOf(ConfigUnchanged)
    expect((unset as Error).message).to.equal('NOPE is not set: no new release.')
    expect((await container(resources, 'web')).secrets).to.deep.equal(before)
  })

  it('config:edit sets, changes and removes vars as one release; unchanged keys are left out', async () => {
    await setConfig(ctx, 'demo', {KEEP: 'same', OLD: 'x', CHANGE: '1'})
    const store = new ReleaseStore(new SSMClient({region: REGION}))
    const versionsBefore = (await store.all('demo')).length
    const change = await editConfig(ctx, 'demo', {set: {KEEP: 'same', CHANGE: '2', NEW: 'two words'}, unset: ['OLD']})
    expect(change.keys).to.deep.equal(['CHANGE', 'NEW', 'OLD'])
    expect(change.release).to.deep.include({status: 'succeeded', description: 'Set CHANGE, NEW and remove OLD config vars'})
    expect((await store.all('demo')).length).to.equal(versionsBefore + 1)
    expect(await getConfig(ctx, 'demo')).to.deep.equal({KEEP: 'same', CHANGE: '2', NEW: 'two words'})
    expect((await container(resources, 'web')).secrets!.map((s) => s.name).sort()).to.deep.equal(['CHANGE', 'KEEP', 'NEW'])
    expect(JSON.stringify(change)).not.to.include('two words')
    const same = await editConfig(ctx, 'demo', {set: {KEEP: 'same'}, unset: ['OLD']}).catch((e: unknown) => e)
    expect(same).to.be.instanceOf(ConfigUnchanged)
  })

  it('only rewrites changed keys and reports only those', async () => {
    await setConfig(ctx, 'demo', {A: '1', B: '2'})
    const change = await setConfig(ctx, 'demo', {A: '1', B: '3'})
    expect(change.keys).to.deep.equal(['B'])
  })

  it('changes values of existing keys without new task definitions: every service starts a new deployment of what it runs', async () => {
    const first = await setConfig(ctx, 'demo', {A: '1', B: '2'})
    const ecs = await ctx.clients.ecs()
    const calls: Array<{command: string; input: Record<string, unknown>}> = []
    ecs.middlewareStack.add((next, context) => async (args) => {
      calls.push({command: context.commandName ?? '', input: args.input as Record<string, unknown>})
      return next(args)
    }, {step: 'initialize', name: 'recordCalls'})

    const change = await setConfig(ctx, 'demo', {B: '3'})
    expect(change.release!).to.deep.include({version: 3, status: 'succeeded', taskDefinitions: first.release!.taskDefinitions})
    // The release records the var it changed by parameter version (what a rollback restores), never its value.
    expect((await new ReleaseStore(await ctx.clients.ssm()).get('demo', 3))!.config).to.deep.equal({B: [1, 2]})
    expect(calls.filter((c) => c.command === 'RegisterTaskDefinitionCommand' || c.command === 'DescribeTaskDefinitionCommand')).to.deep.equal([])
    expect(calls.filter((c) => c.command === 'UpdateServiceCommand').map((c) => [c.input.service, c.input.forceNewDeployment]).sort()).to.deep.equal(
      ['clock', 'web', 'worker'].map((type) => [names.service('demo', type), true]),
    )
    // One DescribeServices covers the services watched (clock runs no process, so there is nothing to watch).
    expect(calls.filter((c) => c.command === 'DescribeServicesCommand').map((c) => c.input.services)).to.deep.equal([['web', 'worker'].map((type) => names.service('demo', type))])
    expect(await getConfig(ctx, 'demo')).to.deep.equal({A: '1', B: '3'})

    // A value becoming empty moves the key from secrets to environment: new task definitions.
    calls.length = 0
    const emptied = await setConfig(ctx, 'demo', {B: ''})
    expect(emptied.release!.taskDefinitions!.web).not.to.equal(first.release!.taskDefinitions!.web)
    expect((await container(resources, 'web')).secrets!.map((s) => s.name)).to.deep.equal(['A'])
  })

  it('puts the old value back when the new deployments of an existing-key change fail', async () => {
    await setConfig(ctx, 'demo', {A: '1'})
    const ecs = await ctx.clients.ecs()
    const updates: Array<Record<string, unknown>> = []
    ecs.middlewareStack.add((next, context) => async (args) => {
      if (context.commandName === 'UpdateServiceCommand') updates.push(args.input as Record<string, unknown>)
      const result = await next(args)
      // ECS gives up on the new web deployment (its circuit breaker).
      if (context.commandName === 'DescribeServicesCommand') {
        for (const service of (result.output as {services?: Array<{serviceName?: string; deployments?: Array<Record<string, unknown>>}>}).services ?? []) {
          if (service.serviceName === names.service('demo', 'web')) service.deployments = [{...service.deployments![0], rolloutState: 'FAILED', rolloutStateReason: 'tasks failed to start'}]
        }
      }

      return result
    }, {step: 'initialize', name: 'failWeb', priority: 'high'})

    const error = await setConfig(ctx, 'demo', {A: '2'}).catch((e: unknown) => e)
    expect((error as Error).message).to.equal('Release v3 of demo failed: ECS stopped the web rollout: tasks failed to start. v2 keeps serving.')
    expect(await getConfig(ctx, 'demo')).to.deep.equal({A: '1'})
    // Each service started a deployment with the new value, then one with the old value back.
    expect(updates.map((u) => [u.service, u.forceNewDeployment])).to.have.length(6)
    expect(updates.every((u) => u.forceNewDeployment === true && u.taskDefinition === undefined)).to.equal(true)
  })

  it('refuses an unknown app', async () => {
    expect(await getConfig(ctx, 'nope').catch((e: unknown) => e)).to.be.instanceOf(AppNotFound)
    expect(await setConfig(ctx, 'nope', {A: '1'}).catch((e: unknown) => e)).to.be.instanceOf(AppNotFound)
  })
})
