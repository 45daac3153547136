import {expect} from 'chai'
import {readFileSync} from 'node:fs'
import {parse} from 'yaml'

import {buildEnvironment} from '../../src/release/index.js'

const COMMIT = '0123456789abcdef0123456789abcdef01234567'

describe("the build's own facts: commit, build id, start and timeout", () => {
  it('takes the commit from the pipeline\'s source action, even without CODEBUILD_RESOLVED_SOURCE_VERSION', () => {
    expect(buildEnvironment({HEROGATE_COMMIT: COMMIT})).to.deep.equal({commit: COMMIT})
    expect(buildEnvironment({HEROGATE_COMMIT: COMMIT, CODEBUILD_RESOLVED_SOURCE_VERSION: 'f'.repeat(40)}).commit).to.equal(COMMIT)
    // Without the variable (a build started by hand), CodeBuild's own is the fallback.
    expect(buildEnvironment({CODEBUILD_RESOLVED_SOURCE_VERSION: 'f'.repeat(40)}).commit).to.equal('f'.repeat(40))
    // An unresolved pipeline variable is no commit.
    expect(buildEnvironment({HEROGATE_COMMIT: '#{SourceVariables.CommitId}'})).to.deep.equal({})
  })

  it('reads the build id, start time and timeout CodeBuild and the app stack set', () => {
    expect(buildEnvironment({CODEBUILD_BUILD_ID: 'herogate-demo:1', CODEBUILD_START_TIME: '1585485347003', HEROGATE_BUILD_TIMEOUT_MINUTES: '90'})).to.deep.equal({
      buildId: 'herogate-demo:1', startedAt: 1_585_485_347_003, timeoutMinutes: 90,
    })
  })

  it('is what the pipeline hands the build action: the source action\'s commit, in the build\'s environment', () => {
    const template = parse(readFileSync(new URL('../../templates/app.yml', import.meta.url), 'utf8'), {logLevel: 'silent'}) as {Resources: Record<string, {Properties: Record<string, any>}>}
    const [source, build] = template.Resources.Pipeline.Properties.Stages.map((stage: {Actions: unknown[]}) => stage.Actions[0])
    expect(source.Namespace).to.equal('SourceVariables')
    expect(JSON.parse(build.Configuration.EnvironmentVariables)).to.deep.equal([{name: 'HEROGATE_COMMIT', value: '#{SourceVariables.CommitId}', type: 'PLAINTEXT'}])
    const project = template.Resources.BuildProject.Properties
    expect(project.TimeoutInMinutes).to.equal('BuildTimeoutMinutes')
    expect(project.Environment.EnvironmentVariables).to.deep.include({Name: 'HEROGATE_BUILD_TIMEOUT_MINUTES', Value: 'BuildTimeoutMinutes'})
  })
})
