import {GetCallerIdentityCommand, STSClient} from '@aws-sdk/client-sts'
import {mockClient} from 'aws-sdk-client-mock'
import {expect} from 'chai'

import {callerIdentity} from '../../src/aws/identity.js'
import {HerogateError, NoCredentials} from '../../src/lib/errors.js'

describe('callerIdentity', () => {
  const client = new STSClient({region: 'us-east-1'})
  const sts = mockClient(client)
  beforeEach(() => sts.reset())

  it('returns the account and ARN', async () => {
    sts.on(GetCallerIdentityCommand).resolves({Account: '123456789012', Arn: 'arn:aws:iam::123456789012:user/me'})
    expect(await callerIdentity(client)).to.deep.equal({account: '123456789012', arn: 'arn:aws:iam::123456789012:user/me'})
  })

  it('turns missing credentials into NoCredentials', async () => {
    sts.on(GetCallerIdentityCommand).rejects(Object.assign(new Error('Could not load credentials from any providers'), {name: 'CredentialsProviderError'}))
    try {
      await callerIdentity(client)
      expect.fail('expected NoCredentials')
    } catch (error) {
      expect(error).to.be.instanceOf(NoCredentials)
      expect((error as Error).message).to.equal('No AWS credentials found.')
    }
  })

  it('says when AWS rejects the credentials, without echoing them', async () => {
    sts.on(GetCallerIdentityCommand).rejects(Object.assign(new Error('The security token included in the request is expired'), {name: 'ExpiredToken'}))
    try {
      await callerIdentity(client)
      expect.fail('expected HerogateError')
    } catch (error) {
      expect(error).to.be.instanceOf(HerogateError)
      expect(error).to.not.be.instanceOf(NoCredentials)
      expect((error as Error).message).to.equal('AWS rejected the credentials (ExpiredToken).')
      expect((error as HerogateError).suggestions[0]).to.contain('aws sso login')
    }
  })
})
