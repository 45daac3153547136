import {CodeCommitClient, GetCommitCommand} from '@aws-sdk/client-codecommit'
import {
  CodePipelineClient, GetPipelineCommand, ListActionExecutionsCommand, ListPipelineExecutionsCommand, PipelineNotFoundException,
} from '@aws-sdk/client-codepipeline'
import {expect} from 'chai'
import {mockClient} from 'aws-sdk-client-mock'

import {commitAuthor, PipelineService} from '../../src/aws/codepipeline.js'
import {HerogateError} from '../../src/lib/errors.js'

describe('PipelineService', () => {
  const client = new CodePipelineClient({region: 'us-east-1'})
  const mock = mockClient(client)
  const pipelines = new PipelineService(client)
  beforeEach(() => mock.reset())

  it('reads the branch of the CodeCommit source action', async () => {
    mock.on(GetPipelineCommand).resolves({pipeline: {name: 'p', roleArn: 'r', stages: [
      {name: 'Source', actions: [{name: 'Source', actionTypeId: {category: 'Source', owner: 'AWS', provider: 'CodeCommit', version: '1'}, configuration: {BranchName: 'master'}}]},
      {name: 'Build', actions: [{name: 'Build', actionTypeId: {category: 'Build', owner: 'AWS', provider: 'CodeBuild', version: '1'}, configuration: {ProjectName: 'x'}}]},
    ]}})
    expect(await pipelines.sourceBranch('p')).to.equal('master')
  })

  it('lists runs with the commit each builds', async () => {
    const start = new Date('2026-11-21T10:00:00Z')
    mock.on(ListPipelineExecutionsCommand).resolves({pipelineExecutionSummaries: [
      {pipelineExecutionId: 'e2', status: 'InProgress', startTime: start, sourceRevisions: [{actionName: 'Source', revisionId: 'abc'}]},
      {pipelineExecutionId: 'e1', status: 'Failed', statusSummary: 'Build failed'},
    ]})
    expect(await pipelines.runs('p')).to.deep.equal([
      {id: 'e2', status: 'InProgress', startTime: start, commit: 'abc', summary: undefined},
      {id: 'e1', status: 'Failed', startTime: undefined, commit: undefined, summary: 'Build failed'},
    ])
  })

  it('leaves out the run CodePipeline starts on its own when the app is created, on the empty repository', async () => {
    mock.on(ListPipelineExecutionsCommand).resolves({pipelineExecutionSummaries: [
      {pipelineExecutionId: 'e2', status: 'Succeeded', sourceRevisions: [{actionName: 'Source', revisionId: 'abc'}], trigger: {triggerType: 'CloudWatchEvent'}},
      {pipelineExecutionId: 'e1', status: 'Failed', statusSummary: 'The action failed because no branch named main was found in the selected AWS CodeCommit repository herogate-demo.', trigger: {triggerType: 'CreatePipeline'}},
    ]})
    expect((await pipelines.runs('p')).map((run) => run.id)).to.deep.equal(['e2'])
  })

  it('orders a run\'s actions and gives the build id and error', async () => {
    mock.on(ListActionExecutionsCommand).resolves({actionExecutionDetails: [
      {stageName: 'Build', actionName: 'Build', status: 'Failed', startTime: new Date(2), output: {executionResult: {externalExecutionId: 'proj:1', errorDetails: {code: 'JobFailed', message: 'Build terminated with state: FAILED'}}}},
      {stageName: 'Source', actionName: 'Source', status: 'Succeeded', startTime: new Date(1)},
    ]})
    expect(await pipelines.actions('p', 'e1')).to.deep.equal([
      {stage: 'Source', action: 'Source', status: 'Succeeded', externalId: undefined, error: undefined},
      {stage: 'Build', action: 'Build', status: 'Failed', externalId: 'proj:1', error: 'Build terminated with state: FAILED'},
    ])
    expect(mock.commandCalls(ListActionExecutionsCommand)[0].args[0].input).to.deep.equal({pipelineName: 'p', filter: {pipelineExecutionId: 'e1'}})
  })

  it('says the pipeline is missing in herogate\'s words', async () => {
    mock.on(ListPipelineExecutionsCommand).rejects(new PipelineNotFoundException({message: 'not found', $metadata: {}}))
    const error = await pipelines.runs('p').catch((e) => e)
    expect(error).to.be.instanceOf(HerogateError)
    expect(error.message).to.equal('The app\'s pipeline is missing (listing the runs of pipeline p).')
  })
})

describe('commitAuthor', () => {
  const client = new CodeCommitClient({region: 'us-east-1'})
  const mock = mockClient(client)
  beforeEach(() => mock.reset())

  it('is the commit author\'s email, else the name, else undefined', async () => {
    mock.on(GetCommitCommand).resolvesOnce({commit: {author: {name: 'Ada', email: 'ada@example.com'}}}).resolvesOnce({commit: {author: {name: 'Ada'}}}).rejectsOnce(new Error('AccessDenied'))
    expect(await commitAuthor(client, 'herogate-demo', 'abc')).to.equal('ada@example.com')
    expect(await commitAuthor(client, 'herogate-demo', 'abc')).to.equal('Ada')
    expect(await commitAuthor(client, 'herogate-demo', 'abc')).to.equal(undefined)
  })
})
