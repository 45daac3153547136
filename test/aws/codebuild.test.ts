import {BatchGetBuildsCommand, CodeBuildClient} from '@aws-sdk/client-codebuild'
import {expect} from 'chai'
import {mockClient} from 'aws-sdk-client-mock'

import {type BuildInfo, buildFailure, BuildService} from '../../src/aws/codebuild.js'

describe('BuildService', () => {
  const client = new CodeBuildClient({region: 'us-east-1'})
  const mock = mockClient(client)
  beforeEach(() => mock.reset())

  it('reads a build\'s status, phases and log location', async () => {
    mock.on(BatchGetBuildsCommand).resolves({builds: [{
      id: 'p:1', buildStatus: 'FAILED', currentPhase: 'COMPLETED',
      phases: [{phaseType: 'INSTALL', phaseStatus: 'SUCCEEDED'}, {phaseType: 'BUILD', phaseStatus: 'FAILED', contexts: [{statusCode: 'COMMAND_EXECUTION_ERROR', message: 'exit status 1'}]}],
      logs: {groupName: '/herogate/demo', streamName: 'herogate/build/1'},
    }]})
    expect(await new BuildService(client).build('p:1')).to.deep.equal({
      id: 'p:1', status: 'FAILED', currentPhase: 'COMPLETED',
      phases: [{type: 'INSTALL', status: 'SUCCEEDED', message: undefined}, {type: 'BUILD', status: 'FAILED', message: 'exit status 1'}],
      logGroup: '/herogate/demo', logStream: 'herogate/build/1',
    })
  })

  it('is undefined for an unknown build', async () => {
    mock.on(BatchGetBuildsCommand).resolves({builds: [], buildsNotFound: ['p:2']})
    expect(await new BuildService(client).build('p:2')).to.equal(undefined)
  })
})

describe('buildFailure', () => {
  const build = (phases: BuildInfo['phases'], status = 'FAILED'): BuildInfo => ({id: 'p:1', status, phases})
  const cases: Array<[string, BuildInfo, string | undefined]> = [
    ['a failed phase with CodeBuild\'s message', build([{type: 'INSTALL', status: 'SUCCEEDED'}, {type: 'INSTALL', status: 'FAILED', message: 'Unknown runtime version'}]), 'the INSTALL phase of the build ended FAILED (Unknown runtime version)'],
    ['a timed out phase', build([{type: 'BUILD', status: 'TIMED_OUT'}]), 'the BUILD phase of the build ended TIMED_OUT'],
    ['a stopped build with no failed phase', build([{type: 'BUILD', status: 'SUCCEEDED'}], 'STOPPED'), 'the build ended STOPPED'],
    ['a build still running', build([{type: 'BUILD', status: 'IN_PROGRESS'}], 'IN_PROGRESS'), undefined],
    ['a build that succeeded', build([{type: 'BUILD', status: 'SUCCEEDED'}], 'SUCCEEDED'), undefined],
  ]
  for (const [name, info, expected] of cases) it(name, () => expect(buildFailure(info)).to.equal(expected))
})
