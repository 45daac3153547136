import {DescribeServicesCommand, DescribeTaskDefinitionCommand} from '@aws-sdk/client-ecs'
import {expect} from 'chai'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {ReleaseStore} from '../../src/aws/release-store.js'
import {names} from '../../src/lib/naming.js'
import type {Runner} from '../../src/release/build.js'
import {buildEnvironment, processTypesOf, runRelease} from '../../src/release/index.js'
import type {ProgressEvent} from '../../src/platform/types.js'
import {useMoto} from '../helpers/moto.js'
import {GOOD, setUpApp} from '../platform/aws/releases.fixture.js'

describe('internal:release entry point (moto)', function () {
  const {moto} = useMoto()
  this.timeout(60_000)
  let source: string

  beforeEach(async () => {
    await moto().immediateTasks()
    source = mkdtempSync(join(tmpdir(), 'hg-source-'))
  })
  afterEach(() => rmSync(source, {recursive: true, force: true}))

  it('releases a given image digest with the source\'s Procfile, under the lock', async () => {
    const {ctx, ecs, resources} = await setUpApp('demo')
    writeFileSync(join(source, 'Procfile'), 'web: node server.js\nworker: node worker.js\n')
    const events: ProgressEvent[] = []
    const release = await runRelease({app: 'demo', source, image: GOOD, commit: '0123456789abcdef', author: 'dev@example.com', ctx, onProgress: (e) => events.push(e)})
    expect(release).to.include({version: 1, description: 'Deploy 0123456', status: 'succeeded', image: GOOD, author: 'dev@example.com', current: true})
    expect(release.processTypes).to.deep.equal({web: 'node server.js', worker: 'node worker.js'})
    const services = await ecs.send(new DescribeServicesCommand({cluster: resources.cluster, services: [names.service('demo', 'web'), names.service('demo', 'worker')]}))
    expect(services.services!.map((s) => [s.serviceName, s.desiredCount, s.taskDefinition])).to.deep.equal([
      ['demo--web', 1, release.taskDefinitions!.web],
      ['demo--worker', 0, release.taskDefinitions!.worker],
    ])
    expect(events.filter((e) => e.kind === 'step').map((e) => `${(e as {id: string}).id} ${(e as {status: string}).status}`)).to.deep.equal([
      'rollout:web start', 'rollout:web done',
    ])
  })

  it('records the CodeBuild build that made the release, whose log releases:output reads (issue 11, finding 2)', async () => {
    const {ctx} = await setUpApp('demo')
    const {buildId} = buildEnvironment({CODEBUILD_BUILD_ID: 'herogate-demo:0b1c2d3e-0000-4000-8000-000000000042'})
    await runRelease({app: 'demo', source, image: GOOD, author: 'a', buildId, ctx, onProgress: () => {}})
    expect((await new ReleaseStore(await ctx.clients.ssm()).get('demo', 1))?.build).to.equal('herogate-demo:0b1c2d3e-0000-4000-8000-000000000042')
  })

  it('runs the image\'s default command as web when there is no Procfile', async () => {
    const {ctx, ecs} = await setUpApp('demo')
    expect(await processTypesOf(source)).to.deep.equal({web: ''})
    const release = await runRelease({app: 'demo', source, image: GOOD, author: 'a', ctx, onProgress: () => {}})
    expect(release.description).to.equal(`Deploy ${GOOD.split('sha256:')[1].slice(0, 7)}`)
    const container = (await ecs.send(new DescribeTaskDefinitionCommand({taskDefinition: release.taskDefinitions!.web}))).taskDefinition!.containerDefinitions![0]
    expect(container.command ?? []).to.deep.equal([])
    expect(container.entryPoint ?? []).to.deep.equal([])
  })

  it('runs buildpack images\' process types through the CNB launcher', async () => {
    const {ctx, ecs} = await setUpApp('demo')
    writeFileSync(join(source, 'Procfile'), 'web: npm start\nworker: npm run worker\n')
    const release = await runRelease({app: 'demo', source, image: GOOD, buildpacks: true, author: 'a', ctx, onProgress: () => {}})
    const worker = (await ecs.send(new DescribeTaskDefinitionCommand({taskDefinition: release.taskDefinitions!.worker}))).taskDefinition!.containerDefinitions![0]
    expect(worker.entryPoint).to.deep.equal(['/cnb/process/worker'])
    expect(worker.command ?? []).to.deep.equal([])
  })

  it('tags the image and records the release with the commit the pipeline passed', async () => {
    const {ctx} = await setUpApp('demo')
    writeFileSync(join(source, 'Dockerfile'), 'FROM scratch\n')
    writeFileSync(join(source, 'Procfile'), 'web: ./server\n')
    const tags: string[] = []
    const runner: Runner = async (argv) => {
      const tag = argv.indexOf('--tag')
      if (tag > 0) tags.push(argv[tag + 1])
      const at = argv.indexOf('--metadata-file')
      if (at > 0) writeFileSync(argv[at + 1], JSON.stringify({'containerimage.digest': `sha256:${'c'.repeat(64)}`}))
      return ''
    }

    const COMMIT = '0123456789abcdef0123456789abcdef01234567'
    const {commit} = buildEnvironment({HEROGATE_COMMIT: COMMIT})
    const release = await runRelease({app: 'demo', source, commit, author: 'dev@example.com', ctx, runner, onProgress: () => {}, dockerHub: async () => undefined})
    expect(tags).to.deep.equal([`${(await ctx.appResources!(ctx, 'demo')).ecrRepositoryUri}:${COMMIT}`])
    // deploy matches its push to the release by this commit.
    expect(release).to.include({commit: COMMIT, description: 'Deploy 0123456', status: 'succeeded'})
  })
})
