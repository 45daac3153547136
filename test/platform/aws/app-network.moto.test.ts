import {DescribeServicesCommand} from '@aws-sdk/client-ecs'
import {expect} from 'chai'

import {names} from '../../../src/lib/naming.js'
import {setConfig} from '../../../src/platform/aws/config.js'
import {restart} from '../../../src/platform/aws/formation.js'
import {releaseImage} from '../../../src/platform/aws/release-image.js'
import {useMoto} from '../../helpers/moto.js'
import type {ModelApp} from './ecs-model.fixture.js'
import {GOOD, GOOD2, setUpApp} from './releases.fixture.js'

/**
 * Every task of an app runs in the app's own security group (the one its add-ons admit): the web
 * service the app stack made in the platform's shared group moves into it with the first release,
 * and the services of an app made before app groups move with the release after its upgrade.
 */
describe('AWS app tasks in the app\'s own security group (ECS model, moto for releases)', function () {
  useMoto()
  this.timeout(60_000)
  const app = 'demo'
  const SHARED = 'sg-tasks'
  const OWN = 'sg-demo-own'
  let setUp: ModelApp

  beforeEach(async () => {
    // The app stack made the web service in the shared group (modelResources names it).
    setUp = await setUpApp(app)
    expect(await groupsOf('web')).to.deep.equal([SHARED])
  })

  async function groupsOf(type: string): Promise<string[] | undefined> {
    const found = await setUp.ecs.send(new DescribeServicesCommand({cluster: setUp.resources.cluster, services: [names.service(app, type)]}))
    return found.services?.find((s) => s.status === 'ACTIVE')?.networkConfiguration?.awsvpcConfiguration?.securityGroups
  }

  const runTaskGroups = () => setUp.model.calls.filter((c) => c.command === 'RunTask').map((c) => c.input.networkConfiguration.awsvpcConfiguration.securityGroups)
  const deploy = (image: string, processTypes: Record<string, string>) =>
    releaseImage(setUp.ctx, app, {image, commit: image.slice(-12)}, {processTypes, author: 'dev', resources: setUp.resources, lockOptions: {holder: 'codebuild'}})

  it('the first release moves the web service into the app\'s group; new services and the release phase start in it', async () => {
    setUp.resources.securityGroup = OWN
    await deploy(GOOD, {web: 'node server.js', worker: 'node worker.js', release: 'node migrate.js'})
    expect(await groupsOf('web')).to.deep.equal([OWN])
    expect(await groupsOf('worker')).to.deep.equal([OWN])
    expect(runTaskGroups()).to.deep.equal([[OWN]])
  })

  it('an app upgraded to a group of its own moves every service into it with its next config release (the add-on\'s)', async () => {
    await deploy(GOOD, {web: 'node server.js', worker: 'node worker.js'})
    expect([await groupsOf('web'), await groupsOf('worker')]).to.deep.equal([[SHARED], [SHARED]])
    // What the app stack publishes once app-upgrade.ts has given it its group.
    setUp.resources.securityGroup = OWN
    await setConfig(setUp.ctx, app, {DATABASE_URL: 'postgres://db.internal:5432/app'})
    expect([await groupsOf('web'), await groupsOf('worker')]).to.deep.equal([[OWN], [OWN]])
    // And a deploy after it keeps them there.
    await deploy(GOOD2, {web: 'node server.js', worker: 'node worker.js'})
    expect([await groupsOf('web'), await groupsOf('worker')]).to.deep.equal([[OWN], [OWN]])
  })

  it('ps:restart of an upgraded app restarts its processes in the app\'s group', async () => {
    await deploy(GOOD, {web: 'node server.js', worker: 'node worker.js'})
    setUp.resources.securityGroup = OWN
    await restart(setUp.ctx, app)
    expect([await groupsOf('web'), await groupsOf('worker')]).to.deep.equal([[OWN], [OWN]])
  })
})
