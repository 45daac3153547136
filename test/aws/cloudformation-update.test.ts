import {CloudFormationClient, UpdateStackCommand} from '@aws-sdk/client-cloudformation'
import {mockClient} from 'aws-sdk-client-mock'
import {expect} from 'chai'

import {CloudFormation} from '../../src/aws/cloudformation.js'
import {HerogateError, StackBusy} from '../../src/lib/errors.js'

const awsError = (name: string, message: string) => Object.assign(new Error(message), {name, $metadata: {}})

describe('CloudFormation wrapper: update', () => {
  const client = new CloudFormationClient({region: 'us-east-1'})
  const mock = mockClient(client)
  const stacks = new CloudFormation(client, async () => {})

  beforeEach(() => mock.reset())
  after(() => mock.restore())

  it('keeps previous values by name and passes the rest', async () => {
    mock.on(UpdateStackCommand).resolves({StackId: 'id'})
    expect(await stacks.update({id: 'id', templateBody: 'T', parameters: {Plan: 'mini'}, previous: ['AuthToken']})).to.equal(true)
    expect(mock.commandCalls(UpdateStackCommand)[0].args[0].input.Parameters).to.deep.equal([{ParameterKey: 'Plan', ParameterValue: 'mini'}, {ParameterKey: 'AuthToken', UsePreviousValue: true}])
  })

  it('says false when there is nothing to update, StackBusy while the stack changes', async () => {
    mock.on(UpdateStackCommand).rejectsOnce(awsError('ValidationError', 'No updates are to be performed.'))
    expect(await stacks.update({id: 'id', templateBody: 'T', parameters: {}})).to.equal(false)
    mock.reset()
    mock.on(UpdateStackCommand).rejects(awsError('ValidationError', 'Stack:id is in UPDATE_IN_PROGRESS state and can not be updated.'))
    try {
      await stacks.update({id: 'id', templateBody: 'T', parameters: {}})
      expect.fail('expected StackBusy')
    } catch (error) {
      expect(error).to.be.instanceOf(StackBusy)
    }
  })

  it('leaves AWS\'s message out of other failures: a validation error may quote a parameter', async () => {
    mock.on(UpdateStackCommand).rejects(awsError('ValidationError', 'Parameter MasterPassword failed to satisfy constraint: s3cr3t'))
    try {
      await stacks.update({id: 'id', templateBody: 'T', parameters: {MasterPassword: 's3cr3t'}})
      expect.fail('expected a failure')
    } catch (error) {
      expect(error).to.be.instanceOf(HerogateError)
      expect((error as Error).message).to.equal('AWS failed updating stack id: ValidationError.')
      expect((error as Error).cause).to.equal(undefined)
    }
  })
})
