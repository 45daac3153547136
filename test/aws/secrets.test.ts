import {GetSecretValueCommand, SecretsManagerClient} from '@aws-sdk/client-secrets-manager'
import {mockClient} from 'aws-sdk-client-mock'
import {expect} from 'chai'

import {Secrets} from '../../src/aws/secrets.js'
import {HerogateError} from '../../src/lib/errors.js'

describe('Secrets.registryCredentials', () => {
  const client = new SecretsManagerClient({region: 'us-east-1'})
  const mock = mockClient(client)
  const secrets = new Secrets(client)
  const NAME = 'ecr-pullthroughcache/herogate-docker-hub'
  beforeEach(() => mock.reset())
  const error = (name: string, message: string) => Object.assign(new Error(message), {name, $metadata: {}})

  it('reads the form ECR pull-through cache rules read, and "password" too', async () => {
    mock.on(GetSecretValueCommand).resolvesOnce({SecretString: '{"username":"ada","accessToken":"dckr_pat_1"}'}).resolvesOnce({SecretString: '{"username":"ada","password":"pw"}'})
    expect(await secrets.registryCredentials(NAME)).to.deep.equal({username: 'ada', password: 'dckr_pat_1'})
    expect(await secrets.registryCredentials(NAME)).to.deep.equal({username: 'ada', password: 'pw'})
    expect(mock.commandCalls(GetSecretValueCommand)[0].args[0].input).to.deep.equal({SecretId: NAME})
  })

  it('is undefined when there is no such secret', async () => {
    mock.on(GetSecretValueCommand).rejects(error('ResourceNotFoundException', "Secrets Manager can't find the specified secret."))
    expect(await secrets.registryCredentials(NAME)).to.equal(undefined)
  })

  it('never puts the value or AWS\'s message in an error', async () => {
    mock.on(GetSecretValueCommand).resolvesOnce({SecretString: 'dckr_pat_not_json'}).rejectsOnce(error('AccessDeniedException', 'not authorized: dckr_pat_x'))
    const malformed = await secrets.registryCredentials(NAME).catch((e: HerogateError) => e)
    expect((malformed as Error).message).to.equal(`The secret ${NAME} is not of the form {"username": "...", "accessToken": "..."}.`)
    const denied = await secrets.registryCredentials(NAME).catch((e: HerogateError) => e)
    expect((denied as Error).message).to.equal(`Could not read the secret ${NAME} (AccessDeniedException).`)
    expect((denied as HerogateError).suggestions).to.deep.equal(["allow the app's build role secretsmanager:GetSecretValue on it"])
    expect(JSON.stringify([malformed, denied, (denied as Error).cause])).not.to.include('dckr_pat')
  })
})
