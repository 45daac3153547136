import {CloudWatchLogsClient, GetLogEventsCommand} from '@aws-sdk/client-cloudwatch-logs'
import {SSMClient} from '@aws-sdk/client-ssm'
import {expect} from 'chai'

import {ReleaseStore} from '../../../src/aws/release-store.js'
import {HerogateError} from '../../../src/lib/errors.js'
import {names} from '../../../src/lib/naming.js'
import {setConfig} from '../../../src/platform/aws/config.js'
import {releaseImage} from '../../../src/platform/aws/release-image.js'
import {releaseInfo, releaseOutput} from '../../../src/platform/aws/releases.js'
import type {ProgressEvent} from '../../../src/platform/types.js'
import {useMoto} from '../../helpers/moto.js'
import type {ModelApp} from './ecs-model.fixture.js'
import {putLogs, REGION} from './formation.fixture.js'
import {CRASHING, FAILING_RELEASE, GOOD, setUpApp} from './releases.fixture.js'

const SECRET = 'postgres://app:s3cret-pw@db.internal:5432/app'
const BUILD = 'herogate-demo:0b1c2d3e-0000-4000-8000-00000000cafe'

/**
 * Issue 11, findings 1 and 2 on AWS: a release that fails records why in its tasks' own words
 * (their awslogs streams, in moto's CloudWatch Logs, written by the ECS model as the tasks
 * exit), config values hidden, and says it; releases:output reads the build's log.
 */
describe('AWS: a failed release says why, from its tasks\' log streams (ECS model, moto)', function () {
  useMoto()
  this.timeout(60_000)
  const app = 'demo'
  let setUp: ModelApp
  let events: ProgressEvent[]

  beforeEach(async () => {
    setUp = await setUpApp(app)
    setUp.model.logSink = (group, stream, lines) => putLogs(group, stream, lines)
    // Both fail as their apps would, naming the database they could not reach (a config value).
    setUp.model.images.set(CRASHING, {listensAfterMs: 1000, exitAfterMs: 2000, output: ['booting', `Error: connect ECONNREFUSED ${SECRET}`]})
    setUp.model.images.set(FAILING_RELEASE, {exitAfterMs: 5000, exitCode: 1, output: [`migrating ${SECRET}`, 'migration 0042 failed: relation "users" already exists']})
    events = []
  })

  const deploy = (image: string, processTypes: Record<string, string>, buildId?: string) =>
    releaseImage(setUp.ctx, app, {image, commit: image.slice(-12)}, {processTypes, author: 'dev', resources: setUp.resources, lockOptions: {holder: 'codebuild'}, onProgress: (e) => events.push(e), buildId})

  async function failing(image: string, processTypes: Record<string, string>): Promise<HerogateError> {
    await deploy(GOOD, {web: 'node server.js'})
    await setConfig(setUp.ctx, app, {DATABASE_URL: SECRET})
    const error = await deploy(image, processTypes).catch((e: unknown) => e)
    expect(error).to.be.instanceOf(HerogateError)
    return error as HerogateError
  }

  it('a crashing rollout: the first failed task\'s last lines, config values hidden, in the error and the release record', async () => {
    const error = await failing(CRASHING, {web: 'node server.js'})
    const [task] = setUp.model.describe({service: names.service(app, 'web')}).filter((t) => t.stopCode === 'EssentialContainerExited')
    const name = `web.${task.taskArn!.split('/').pop()!.slice(0, 7)}`
    const failureOutput = {process: name, lines: ['booting', 'Error: connect ECONNREFUSED [DATABASE_URL]'], more: `herogate logs -a demo --task ${name}`}
    expect({message: error.message, details: error.details, suggestions: error.suggestions}).to.deep.equal({
      message: 'Release v3 of demo failed: 2 new processes failed (web: crashed with exit code 1 (2 times)). v2 keeps serving.',
      details: [`Last lines of ${name}:`, '  booting', '  Error: connect ECONNREFUSED [DATABASE_URL]'],
      suggestions: [`herogate logs -a demo --task ${name}`, 'herogate releases:info v3 -a demo'],
    })
    expect(await releaseInfo(setUp.ctx, app, 3)).to.deep.include({status: 'failed', failure: '2 new processes failed (web: crashed with exit code 1 (2 times))', failureOutput})
    expect(JSON.stringify(await new ReleaseStore(new SSMClient({region: REGION})).get(app, 3))).to.not.include('s3cret')
  })

  it('a failing release command: its last lines in the error and the record; its output copied with config values hidden', async () => {
    const error = await failing(FAILING_RELEASE, {web: 'node server.js', release: 'node migrate.js'})
    const failureOutput = {process: 'the release command', lines: ['migrating [DATABASE_URL]', 'migration 0042 failed: relation "users" already exists'], more: 'herogate releases:output v3 -a demo'}
    expect({message: error.message, details: error.details, suggestions: error.suggestions}).to.deep.equal({
      message: 'Release phase of v3 failed: the release command exited with 1. v2 keeps serving.',
      details: ['Last lines of the release command:', '  migrating [DATABASE_URL]', '  migration 0042 failed: relation "users" already exists'],
      suggestions: ['herogate releases:output v3 -a demo', 'herogate run -a demo -- <the release command> (to try it by hand)'],
    })
    expect(await releaseInfo(setUp.ctx, app, 3)).to.deep.include({failureOutput})
    const copied = events.filter((e) => e.kind === 'output' && e.stream === 'release').map((e) => (e as {line: string}).line)
    expect(copied.slice(1)).to.deep.equal(['migrating [DATABASE_URL]', 'migration 0042 failed: relation "users" already exists'])
    expect(copied[0]).to.match(/^Release command running as task [0-9a-f]{32} \(log stream release\/release\/[0-9a-f]{32}\)$/)
  })

  it('releases:output prints the log of the build that made a deploy; config changes and older deploys say why they have none', async () => {
    await deploy(GOOD, {web: 'node server.js'}, BUILD)
    const stream = names.buildLogStream(BUILD)
    expect(stream).to.equal('herogate/build/0b1c2d3e-0000-4000-8000-00000000cafe')
    const lines = Array.from({length: 12_000}, (_, i) => `build line ${i + 1}`)
    // More than one GetLogEvents page (10,000 events at most): read to the stream's end.
    for (let i = 0; i < lines.length; i += 5000) await putLogs(setUp.resources.logGroup, stream, lines.slice(i, i + 5000).map((message, j) => ({timestamp: Date.parse('2026-11-21T10:00:00Z') + i + j, message: `${message}\n`})))
    const page = await new CloudWatchLogsClient({region: REGION}).send(new GetLogEventsCommand({logGroupName: setUp.resources.logGroup, logStreamName: stream, startFromHead: true}))
    expect(page.events!.length).to.be.below(lines.length)
    expect(await releaseOutput(setUp.ctx, app, 1)).to.deep.equal({version: 1, lines})

    await setConfig(setUp.ctx, app, {A: '1'})
    expect(await releaseOutput(setUp.ctx, app)).to.deep.equal({version: 2, lines: [], note: 'v2 has no output: a config change builds nothing and runs no release command.'})
    await deploy(GOOD, {web: 'node server.js'})
    expect(await releaseOutput(setUp.ctx, app, 3)).to.deep.equal({
      version: 3, lines: [], note: 'v3 does not name its build (it was made by an older herogate): its output is in herogate logs --source herogate -a demo.',
    })
  })
})
