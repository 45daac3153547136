import {GetCallerIdentityCommand, STSClient} from '@aws-sdk/client-sts'
import {mockClient} from 'aws-sdk-client-mock'
import {expect} from 'chai'
import {readFileSync, statSync} from 'node:fs'
import {join} from 'node:path'

import {AwsClients} from '../../../src/aws/clients.js'
import {authorName} from '../../../src/platform/aws/author.js'
import type {AwsContext} from '../../../src/platform/aws/context.js'
import {fakeClock} from './formation.fixture.js'

describe('aws driver: the release author', () => {
  function context(accessKeyId: string | undefined, arn: string) {
    const client = new STSClient({
      region: 'us-east-1',
      credentials: async () => {
        if (!accessKeyId) throw Object.assign(new Error('Could not load credentials from any providers'), {name: 'CredentialsProviderError'})
        return {accessKeyId, secretAccessKey: 'secret'}
      },
    })
    const sts = mockClient(client)
    sts.on(GetCallerIdentityCommand).resolves({Account: '123456789012', Arn: arn})
    const clients = new AwsClients({region: 'us-east-1'})
    clients.set('sts', client)
    const ctx: AwsContext = {region: 'us-east-1', clients, clock: fakeClock()}
    return {ctx, sts}
  }

  it('asks STS once per access key and remembers the name in HEROGATE_HOME, never the key', async () => {
    const first = context('AKIAALICE', 'arn:aws:sts::123456789012:assumed-role/Admin/alice@example.com')
    expect(await authorName(first.ctx)).to.equal('alice@example.com')
    expect(await authorName(first.ctx)).to.equal('alice@example.com')
    expect(first.sts.commandCalls(GetCallerIdentityCommand)).to.have.length(1)

    // A later run with the same key asks nothing.
    const again = context('AKIAALICE', 'arn:aws:iam::123456789012:user/someone-else')
    expect(await authorName(again.ctx)).to.equal('alice@example.com')
    expect(again.sts.commandCalls(GetCallerIdentityCommand)).to.have.length(0)

    // Another key is another identity.
    const bob = context('AKIABOB', 'arn:aws:iam::123456789012:user/bob')
    expect(await authorName(bob.ctx)).to.equal('bob')
    expect(bob.sts.commandCalls(GetCallerIdentityCommand)).to.have.length(1)

    const file = join(process.env.HEROGATE_HOME!, 'aws-identities.json')
    expect(readFileSync(file, 'utf8')).not.to.match(/AKIA/)
    expect(Object.values(JSON.parse(readFileSync(file, 'utf8')))).to.deep.equal(['alice@example.com', 'bob'])
    expect(statSync(file).mode & 0o777).to.equal(0o600)
  })

  it('leaves credentials it cannot resolve to STS, which says what is wrong', async () => {
    const {ctx, sts} = context(undefined, 'arn:aws:iam::123456789012:user/carol')
    expect(await authorName(ctx)).to.equal('carol')
    expect(sts.commandCalls(GetCallerIdentityCommand)).to.have.length(1)
  })
})
