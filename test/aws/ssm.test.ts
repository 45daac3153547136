import {GetParametersByPathCommand, GetParametersCommand, PutParameterCommand, SSMClient} from '@aws-sdk/client-ssm'
import {mockClient} from 'aws-sdk-client-mock'
import {expect} from 'chai'

import {ConfigStore, EMPTY_MARKER, ParameterWriter, splitKeys, UNSET_MARKER} from '../../src/aws/ssm.js'
import {HerogateError} from '../../src/lib/errors.js'
import {SsmStandIn} from '../helpers/ssm-standin.js'

const path = (key: string) => `/herogate/demo/config/${key}`
const DOWNGRADE = 'This parameter uses the advanced-parameter tier. You can\'t downgrade a parameter from the advanced-parameter tier to the standard-parameter tier.'

function setup() {
  const client = new SSMClient({region: 'us-east-1', maxAttempts: 1})
  const mock = mockClient(client)
  return {mock, store: new ConfigStore(client)}
}

describe('aws/ssm ConfigStore (mocked)', () => {
  it('reads every page, maps the empty marker to "", leaves unset vars out and keeps values', async () => {
    const {mock, store} = setup()
    mock.on(GetParametersByPathCommand)
      .resolvesOnce({Parameters: [{Name: path('A'), Type: 'SecureString', Value: '1'}], NextToken: 'n'})
      .resolves({Parameters: [{Name: path('E'), Type: 'String', Value: EMPTY_MARKER}, {Name: path('M'), Type: 'SecureString', Value: EMPTY_MARKER}, {Name: path('U'), Type: 'String', Value: UNSET_MARKER}]})
    expect(await store.get('demo')).to.deep.equal({A: '1', E: '', M: EMPTY_MARKER})
    expect(mock.commandCalls(GetParametersByPathCommand)[1].args[0].input).to.include({Path: '/herogate/demo/config/', WithDecryption: true, NextToken: 'n'})
    expect(splitKeys({A: '1', E: ''})).to.deep.equal({secret: ['A'], empty: ['E']})
  })

  it('writes SecureStrings, the marker for an empty value, and the Advanced tier above 4 KB, returning each version', async () => {
    const {mock, store} = setup()
    mock.on(GetParametersCommand).resolves({Parameters: [{Name: path('A'), Type: 'SecureString', Value: 'old', Version: 4}]})
    mock.on(PutParameterCommand).resolves({Version: 5})
    mock.on(PutParameterCommand, {Name: path('E')}).resolves({Version: 1})
    expect(await store.set('demo', {A: 'x', E: '', BIG: 'é'.repeat(2049)})).to.deep.equal({A: [4, 5], E: [0, 1], BIG: [0, 5]})
    const puts = mock.commandCalls(PutParameterCommand).map((call) => call.args[0].input)
    expect(puts[0]).to.deep.equal({Name: path('A'), Value: 'x', Type: 'SecureString', Overwrite: true, Tier: 'Standard'})
    expect(puts[1]).to.deep.equal({Name: path('E'), Value: EMPTY_MARKER, Type: 'String', Overwrite: true, Tier: 'Standard'})
    expect(puts[2]).to.include({Name: path('BIG'), Type: 'SecureString', Tier: 'Advanced'})
  })

  it('puts back what a failing multi-key set already wrote, and says so without any value', async () => {
    const {mock, store} = setup()
    mock.on(GetParametersCommand).resolves({Parameters: [{Name: path('OLD'), Type: 'SecureString', Value: 'previous-secret', Version: 1}]})
    mock.on(PutParameterCommand).resolves({Version: 2})
    mock.on(PutParameterCommand, {Name: path('C')}).rejects(Object.assign(new Error("Value 'third-secret' at 'value' failed to satisfy constraint"), {name: 'ValidationException'}))
    const error = await store.set('demo', {OLD: 'new-secret', NEW: 'brand-new', C: 'third-secret'}).catch((e: unknown) => e)
    expect(error).to.be.instanceOf(HerogateError)
    const message = (error as Error).message
    expect(message).to.equal('AWS failed setting C: ValidationException. Nothing was changed (OLD, NEW put back as before).')
    expect(message).not.to.match(/secret|brand/)
    expect((error as HerogateError).cause).to.equal(undefined)
    const puts = mock.commandCalls(PutParameterCommand).map((call) => [call.args[0].input.Name, call.args[0].input.Value, call.args[0].input.Type])
    // A var that was not set before goes back to unset: the marker, so its history stays.
    expect(puts).to.deep.equal([
      [path('OLD'), 'new-secret', 'SecureString'],
      [path('NEW'), 'brand-new', 'SecureString'],
      [path('C'), 'third-secret', 'SecureString'],
      // A ValidationException may be SSM refusing to move an Advanced parameter back: tried once more as Advanced.
      [path('C'), 'third-secret', 'SecureString'],
      [path('OLD'), 'previous-secret', 'SecureString'],
      [path('NEW'), UNSET_MARKER, 'String'],
    ])
  })

  it('names the vars it could not restore', async () => {
    const {mock, store} = setup()
    mock.on(GetParametersCommand).resolves({Parameters: []})
    mock.on(PutParameterCommand, {Name: path('A')}).resolvesOnce({Version: 1}).rejects(Object.assign(new Error('slow down'), {name: 'ThrottlingException'}))
    mock.on(PutParameterCommand, {Name: path('B')}).rejects(Object.assign(new Error('slow down'), {name: 'ThrottlingException'}))
    const error = await store.set('demo', {A: '1', B: '2'}).catch((e: unknown) => e)
    expect((error as Error).message).to.equal('AWS kept throttling setting B (ThrottlingException), even after retrying. Restoring the vars already written failed for A; they may hold the new value.')
    expect((error as HerogateError).suggestions).to.deep.equal(['wait a minute and try again', 'herogate config -a demo'])
  })

  it('unsets by writing the marker (the history stays for rollbacks), only keys that are set, read 10 a call', async () => {
    const {mock, store} = setup()
    const keys = Array.from({length: 12}, (_, i) => `K${i}`)
    mock.on(GetParametersCommand).callsFake((input: {Names: string[]}) => ({
      Parameters: input.Names.filter((n) => n !== path('K3') && n !== path('K4')).map((n) => ({Name: n, Type: 'SecureString', Value: 'v', Version: 2}))
        .concat(input.Names.includes(path('K4')) ? [{Name: path('K4'), Type: 'String', Value: UNSET_MARKER, Version: 3}] : []),
    }))
    mock.on(PutParameterCommand).resolves({Version: 3})
    const delta = await store.unset('demo', keys)
    expect(Object.keys(delta)).to.deep.equal(keys.filter((k) => k !== 'K3' && k !== 'K4'))
    expect(delta.K0).to.deep.equal([2, 0])
    expect(mock.commandCalls(GetParametersCommand).map((call) => call.args[0].input.Names!.length)).to.deep.equal([10, 2])
    expect(mock.commandCalls(PutParameterCommand).every((call) => call.args[0].input.Value === UNSET_MARKER && call.args[0].input.Type === 'String')).to.equal(true)
  })

  it('restores values by parameter version, reading AWS\'s selector answers, and refuses versions SSM no longer has', async () => {
    const {mock, store} = setup()
    mock.on(GetParametersCommand).resolves({
      Parameters: [
        {Name: path('A'), Type: 'SecureString', Value: 'now', Version: 5},
        {Name: path('A'), Selector: ':3', Type: 'SecureString', Value: 'then', Version: 3},
        {Name: path('B'), Type: 'String', Value: UNSET_MARKER, Version: 2},
        {Name: path('B'), Selector: ':1', Type: 'SecureString', Value: 'b', Version: 1},
        {Name: path('C'), Type: 'SecureString', Value: 'c', Version: 1},
      ],
    })
    mock.on(PutParameterCommand).resolves({Version: 9})
    expect(await store.restoreVersions('demo', {A: 3, B: 1, C: 0})).to.deep.equal({A: [5, 9], B: [0, 9], C: [1, 0]})
    const names = mock.commandCalls(GetParametersCommand)[0].args[0].input.Names
    expect(names).to.deep.equal([path('A'), path('B'), path('C'), `${path('A')}:3`, `${path('B')}:1`])
    expect(mock.commandCalls(PutParameterCommand).map((call) => [call.args[0].input.Name, call.args[0].input.Value])).to.deep.equal([
      [path('A'), 'then'], [path('B'), 'b'], [path('C'), UNSET_MARKER],
    ])

    mock.reset()
    mock.on(GetParametersCommand).resolves({Parameters: [{Name: path('A'), Type: 'SecureString', Value: 'now', Version: 150}], InvalidParameters: [`${path('A')}:3`]})
    const error = await store.restoreVersions('demo', {A: 3}).catch((e: unknown) => e)
    expect((error as Error).message).to.equal('The config of that release can no longer be restored: SSM no longer holds the old value of A (it keeps a parameter\'s last 100 versions).')
    expect(mock.commandCalls(PutParameterCommand)).to.have.length(0)
  })

  it('learns that a parameter is Advanced from SSM\'s refusal, and writes it so in one call after', async () => {
    const client = new SSMClient({region: 'us-east-1', maxAttempts: 1})
    const mock = mockClient(client)
    const writer = new ParameterWriter(client, async () => {})
    mock.on(PutParameterCommand, {Tier: 'Standard'}).rejects(Object.assign(new Error(DOWNGRADE), {name: 'ValidationException'}))
    mock.on(PutParameterCommand, {Tier: 'Advanced'}).resolves({Version: 7, Tier: 'Advanced'})
    expect(await writer.put({name: '/p', value: 'small', type: 'SecureString', overwrite: true})).to.equal(7)
    expect(await writer.put({name: '/p', value: 'smaller', type: 'SecureString', overwrite: true})).to.equal(7)
    expect(mock.commandCalls(PutParameterCommand).map((call) => call.args[0].input.Tier)).to.deep.equal(['Standard', 'Advanced', 'Advanced'])
    // A create (no Overwrite) is never retried as Advanced: there is no tier to keep.
    const refused = await writer.put({name: '/new', value: 'x', type: 'String', overwrite: false}).catch((e: Error) => e)
    expect(refused).to.include({name: 'ValidationException'})
  })

  it('waits out TooManyUpdates on the clock it is given, five tries at most', async () => {
    const client = new SSMClient({region: 'us-east-1', maxAttempts: 1})
    const mock = mockClient(client)
    const waits: number[] = []
    const writer = new ParameterWriter(client, async (ms) => {
      waits.push(ms)
    })
    const busy = () => Object.assign(new Error('There are concurrent updates for a resource that supports one update at a time.'), {name: 'TooManyUpdates'})
    mock.on(PutParameterCommand).rejectsOnce(busy()).rejectsOnce(busy()).resolves({Version: 3, Tier: 'Standard'})
    expect(await writer.put({name: '/p', value: 'v', type: 'String', overwrite: true})).to.equal(3)
    expect(waits).to.have.length(2)
    expect(waits[1]).to.be.greaterThan(waits[0])
    mock.reset()
    mock.on(PutParameterCommand).rejects(busy())
    expect(await writer.put({name: '/p', value: 'v', type: 'String', overwrite: true}).catch((e: Error) => e)).to.include({name: 'TooManyUpdates'})
    expect(mock.commandCalls(PutParameterCommand)).to.have.length(5)
    expect(await writer.put({name: '/p', value: 'v', type: 'String', overwrite: true, tries: 1}).catch((e: Error) => e)).to.include({name: 'TooManyUpdates'})
    expect(mock.commandCalls(PutParameterCommand)).to.have.length(6)
  })

  it('turns access denied into one line with what to check', async () => {
    const {mock, store} = setup()
    mock.on(GetParametersByPathCommand).rejects(Object.assign(new Error('User: arn:aws:iam::1:user/x is not authorized'), {name: 'AccessDeniedException'}))
    const error = await store.get('demo').catch((e: unknown) => e)
    expect((error as Error).message).to.equal('AWS denied reading the config of demo (AccessDeniedException).')
  })

  it('against the stand-in: restores a version SSM still keeps, and refuses one past the newest 100 before writing anything', async () => {
    const ssm = new SsmStandIn()
    const store = new ConfigStore(ssm.client, async () => {})
    for (let i = 1; i <= 105; i++) await store.set('demo', {A: `v${i}`, ...(i === 1 ? {B: 'b'} : {})})
    expect(await store.restoreVersions('demo', {A: 50})).to.deep.equal({A: [105, 106]})
    expect(await store.get('demo')).to.deep.equal({A: 'v50', B: 'b'})
    const writes = ssm.callsOf('PutParameter').length
    const error = await store.restoreVersions('demo', {A: 5, B: 0}).catch((e: Error) => e)
    expect((error as Error).message).to.equal('The config of that release can no longer be restored: SSM no longer holds the old value of A (it keeps a parameter\'s last 100 versions).')
    expect(ssm.callsOf('PutParameter').length).to.equal(writes)
  })
})

