import {
  DeleteParameterCommand, GetParameterCommand, GetParametersByPathCommand, GetParametersCommand, PutParameterCommand, TooManyUpdates,
} from '@aws-sdk/client-ssm'
import {expect} from 'chai'

import {DOWNGRADE_MESSAGE, SsmStandIn, STANDARD_SIZE_MESSAGE, TOO_MANY_UPDATES_MESSAGE} from './ssm-standin.js'

/** The stand-in's own contract: what AWS documents, which the production tests lean on. */
describe('SSM stand-in', () => {
  const error = (promise: Promise<unknown>) => promise.then(() => undefined, (e: Error & {$fault?: string}) => e)

  it('moves a parameter up to Advanced but refuses to move it back, as AWS does', async () => {
    const ssm = new SsmStandIn()
    const put = (value: string, Tier?: 'Standard' | 'Advanced' | 'Intelligent-Tiering') =>
      ssm.client.send(new PutParameterCommand({Name: '/p', Value: value, Type: 'SecureString', Overwrite: true, ...(Tier ? {Tier} : {})}))
    expect(await put('small')).to.include({Version: 1, Tier: 'Standard'})
    const big = await error(put('x'.repeat(4097)))
    expect(big).to.include({name: 'ValidationException', message: STANDARD_SIZE_MESSAGE})
    expect(await put('x'.repeat(4097), 'Advanced')).to.include({Version: 2, Tier: 'Advanced'})
    for (const tier of [undefined, 'Standard', 'Intelligent-Tiering'] as const) {
      expect(await error(put('small again', tier))).to.include({name: 'ValidationException', message: DOWNGRADE_MESSAGE})
    }

    expect(await put('small again', 'Advanced')).to.include({Version: 3, Tier: 'Advanced'})
    expect(ssm.tierOf('/p')).to.equal('Advanced')
    expect(await error(put('y'.repeat(8193), 'Advanced'))).to.include({name: 'ValidationException'})
    // The other reading of Intelligent-Tiering, for code that wants to know it works under both.
    const lenient = new SsmStandIn({intelligentTieringKeepsAdvanced: true})
    await lenient.client.send(new PutParameterCommand({Name: '/q', Value: 'z'.repeat(5000), Type: 'String', Tier: 'Intelligent-Tiering'}))
    expect(await lenient.client.send(new PutParameterCommand({Name: '/q', Value: 'z', Type: 'String', Overwrite: true, Tier: 'Intelligent-Tiering'}))).to.include({Tier: 'Advanced'})
  })

  it('keeps the newest 100 versions, reads them by selector, and refuses to overwrite without Overwrite', async () => {
    const ssm = new SsmStandIn()
    for (let i = 1; i <= 105; i++) await ssm.client.send(new PutParameterCommand({Name: '/v', Value: `v${i}`, Type: 'String', Overwrite: true}))
    expect(ssm.versionsOf('/v')).to.have.length(100)
    expect(ssm.versionsOf('/v')[0]).to.equal(6)
    const read = await ssm.client.send(new GetParametersCommand({Names: ['/v:5', '/v:6', '/v']}))
    expect(read.InvalidParameters).to.deep.equal(['/v:5'])
    expect(read.Parameters!.map((p) => [p.Name, p.Selector, p.Value])).to.deep.equal([['/v', ':6', 'v6'], ['/v', undefined, 'v105']])
    expect(await error(ssm.client.send(new PutParameterCommand({Name: '/v', Value: 'x', Type: 'String'})))).to.include({name: 'ParameterAlreadyExists'})
    expect(await error(ssm.client.send(new GetParameterCommand({Name: '/nope'})))).to.include({name: 'ParameterNotFound'})
  })

  it('answers TooManyUpdates to a second write of a parameter while the first is in flight; the SDK does not retry it', async () => {
    const ssm = new SsmStandIn()
    const write = (value: string) => ssm.client.send(new PutParameterCommand({Name: '/c', Value: value, Type: 'String', Overwrite: true}))
    const results = await Promise.allSettled([write('a'), write('b'), ssm.client.send(new DeleteParameterCommand({Name: '/c'}))])
    expect(results.map((r) => r.status)).to.deep.equal(['fulfilled', 'rejected', 'rejected'])
    const refused = (results[1] as PromiseRejectedResult).reason
    expect(refused).to.be.instanceOf(TooManyUpdates)
    expect(refused.message).to.equal(TOO_MANY_UPDATES_MESSAGE)
    expect(ssm.callsOf('PutParameter')).to.have.length(2)
    // One after the other, both go through.
    await write('c')
    expect(ssm.valueOf('/c')).to.equal('c')
    ssm.failNext('PutParameter', {name: '/c'})
    expect(await error(write('d'))).to.be.instanceOf(TooManyUpdates)
    expect(ssm.valueOf('/c')).to.equal('c')
  })

  it('pages by 10, lists one level unless recursive, and hides SecureString values without decryption', async () => {
    const ssm = new SsmStandIn()
    for (let i = 0; i < 12; i++) await ssm.client.send(new PutParameterCommand({Name: `/app/k${String(i).padStart(2, '0')}`, Value: 's', Type: 'SecureString'}))
    await ssm.client.send(new PutParameterCommand({Name: '/app/deep/x', Value: 'x', Type: 'String'}))
    const first = await ssm.client.send(new GetParametersByPathCommand({Path: '/app/', MaxResults: 10}))
    expect(first.Parameters).to.have.length(10)
    expect(first.Parameters![0].Value).to.not.equal('s')
    const second = await ssm.client.send(new GetParametersByPathCommand({Path: '/app/', MaxResults: 10, NextToken: first.NextToken, WithDecryption: true}))
    expect(second.Parameters!.map((p) => p.Value)).to.deep.equal(['s', 's'])
    expect(second.NextToken).to.equal(undefined)
    expect(await error(ssm.client.send(new GetParametersCommand({Names: Array.from({length: 11}, (_, i) => `/app/k${i}`)})))).to.include({name: 'ValidationException'})
    expect(ssm.namesUnder('/app/')).to.have.length(13)
  })

  it('holds at most the account\'s Standard parameters', async () => {
    const ssm = new SsmStandIn({standardLimit: 2})
    await ssm.client.send(new PutParameterCommand({Name: '/1', Value: '1', Type: 'String'}))
    await ssm.client.send(new PutParameterCommand({Name: '/2', Value: '2', Type: 'String'}))
    expect(await error(ssm.client.send(new PutParameterCommand({Name: '/3', Value: '3', Type: 'String'})))).to.include({name: 'ParameterLimitExceeded'})
  })
})
