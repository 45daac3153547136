import {
  DeleteParameterCommand, DeleteParametersCommand, GetParametersByPathCommand, GetParametersCommand, PutParameterCommand, SSMClient,
} from '@aws-sdk/client-ssm'
import {mockClient} from 'aws-sdk-client-mock'
import {expect} from 'chai'

import {ConfigStore, EMPTY_MARKER, splitKeys} from '../../src/aws/ssm.js'
import {HerogateError, InvalidInput} from '../../src/lib/errors.js'

const path = (key: string) => `/herogate/demo/config/${key}`

function setup() {
  const client = new SSMClient({region: 'us-east-1', maxAttempts: 1})
  const mock = mockClient(client)
  return {mock, store: new ConfigStore(client)}
}

describe('aws/ssm ConfigStore (mocked)', () => {
  it('reads every page, maps the empty marker to "" and keeps values', async () => {
    const {mock, store} = setup()
    mock.on(GetParametersByPathCommand)
      .resolvesOnce({Parameters: [{Name: path('A'), Type: 'SecureString', Value: '1'}], NextToken: 'n'})
      .resolves({Parameters: [{Name: path('E'), Type: 'String', Value: EMPTY_MARKER}, {Name: path('M'), Type: 'SecureString', Value: EMPTY_MARKER}]})
    expect(await store.get('demo')).to.deep.equal({A: '1', E: '', M: EMPTY_MARKER})
    expect(mock.commandCalls(GetParametersByPathCommand)[1].args[0].input).to.include({Path: '/herogate/demo/config/', WithDecryption: true, NextToken: 'n'})
    expect(splitKeys({A: '1', E: ''})).to.deep.equal({secret: ['A'], empty: ['E']})
  })

  it('writes SecureStrings, the marker for an empty value, and the Advanced tier above 4 KB', async () => {
    const {mock, store} = setup()
    mock.on(GetParametersCommand).resolves({Parameters: []})
    mock.on(PutParameterCommand).resolves({Version: 1})
    expect(await store.set('demo', {A: 'x', E: '', BIG: 'é'.repeat(2049)})).to.deep.equal(['A', 'E', 'BIG'])
    const puts = mock.commandCalls(PutParameterCommand).map((call) => call.args[0].input)
    expect(puts[0]).to.deep.equal({Name: path('A'), Value: 'x', Type: 'SecureString', Overwrite: true})
    expect(puts[1]).to.deep.equal({Name: path('E'), Value: EMPTY_MARKER, Type: 'String', Overwrite: true})
    expect(puts[2]).to.include({Name: path('BIG'), Type: 'SecureString', Tier: 'Advanced'})
  })

  it('refuses a value over 8 KB naming the limit, before any call', async () => {
    const {mock, store} = setup()
    const error = await store.set('demo', {OK: '1', HUGE: 'x'.repeat(8193)}).catch((e: unknown) => e)
    expect(error).to.be.instanceOf(InvalidInput)
    expect((error as Error).message).to.equal('The value of HUGE is 8193 bytes; SSM Parameter Store holds at most 8192 bytes (8 KB, Advanced tier) per config var.')
    expect(mock.calls()).to.have.length(0)
  })

  it('puts back what a failing multi-key set already wrote, and says so without any value', async () => {
    const {mock, store} = setup()
    mock.on(GetParametersCommand).resolves({Parameters: [{Name: path('OLD'), Type: 'SecureString', Value: 'previous-secret'}]})
    mock.on(PutParameterCommand).resolves({Version: 2})
    mock.on(PutParameterCommand, {Name: path('C')}).rejects(Object.assign(new Error("Value 'third-secret' at 'value' failed to satisfy constraint"), {name: 'ValidationException'}))
    mock.on(DeleteParameterCommand).resolves({})
    const error = await store.set('demo', {OLD: 'new-secret', NEW: 'brand-new', C: 'third-secret'}).catch((e: unknown) => e)
    expect(error).to.be.instanceOf(HerogateError)
    const message = (error as Error).message
    expect(message).to.equal('AWS failed setting C: ValidationException. Nothing was changed (OLD, NEW put back as before).')
    expect(message).not.to.match(/secret|brand/)
    expect((error as HerogateError).cause).to.equal(undefined)
    const puts = mock.commandCalls(PutParameterCommand).map((call) => [call.args[0].input.Name, call.args[0].input.Value])
    expect(puts).to.deep.equal([
      [path('OLD'), 'new-secret'],
      [path('NEW'), 'brand-new'],
      [path('C'), 'third-secret'],
      [path('OLD'), 'previous-secret'],
    ])
    expect(mock.commandCalls(DeleteParameterCommand).map((call) => call.args[0].input.Name)).to.deep.equal([path('NEW')])
  })

  it('names the vars it could not restore', async () => {
    const {mock, store} = setup()
    mock.on(GetParametersCommand).resolves({Parameters: []})
    mock.on(PutParameterCommand, {Name: path('A')}).resolves({Version: 1})
    mock.on(PutParameterCommand, {Name: path('B')}).rejects(Object.assign(new Error('slow down'), {name: 'ThrottlingException'}))
    mock.on(DeleteParameterCommand).rejects(Object.assign(new Error('slow down'), {name: 'ThrottlingException'}))
    const error = await store.set('demo', {A: '1', B: '2'}).catch((e: unknown) => e)
    expect((error as Error).message).to.equal('AWS kept throttling setting B (ThrottlingException), even after retrying. Restoring the vars already written failed for A; they may hold the new value.')
    expect((error as HerogateError).suggestions).to.deep.equal(['wait a minute and try again', 'herogate config -a demo'])
  })

  it('unsets in batches of 10 and reports only keys that existed', async () => {
    const {mock, store} = setup()
    const keys = Array.from({length: 12}, (_, i) => `K${i}`)
    mock.on(DeleteParametersCommand).callsFake((input: {Names: string[]}) => ({DeletedParameters: input.Names.filter((n) => n !== path('K3')), InvalidParameters: [path('K3')]}))
    expect(await store.unset('demo', keys)).to.deep.equal(keys.filter((k) => k !== 'K3'))
    expect(mock.commandCalls(DeleteParametersCommand).map((call) => call.args[0].input.Names!.length)).to.deep.equal([10, 2])
  })

  it('turns access denied into one line with what to check', async () => {
    const {mock, store} = setup()
    mock.on(GetParametersByPathCommand).rejects(Object.assign(new Error('User: arn:aws:iam::1:user/x is not authorized'), {name: 'AccessDeniedException'}))
    const error = await store.get('demo').catch((e: unknown) => e)
    expect((error as Error).message).to.equal('AWS denied reading the config of demo (AccessDeniedException).')
  })
})
