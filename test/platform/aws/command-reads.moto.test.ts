import {CloudFormationClient, DescribeStacksCommand, type DescribeStacksCommandInput} from '@aws-sdk/client-cloudformation'
import {DescribeLoadBalancersCommand, ElasticLoadBalancingV2Client} from '@aws-sdk/client-elastic-load-balancing-v2'
import {PutParameterCommand, SSMClient} from '@aws-sdk/client-ssm'
import {mockClient} from 'aws-sdk-client-mock'
import {expect} from 'chai'
import {execFileSync} from 'node:child_process'
import {existsSync, mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {AwsClients} from '../../../src/aws/clients.js'
import {names} from '../../../src/lib/naming.js'
import * as apps from '../../../src/platform/aws/apps.js'
import type {AwsContext} from '../../../src/platform/aws/context.js'
import {AwsPlatform} from '../../../src/platform/aws/index.js'
import {useMoto} from '../../helpers/moto.js'
import {type AwsCall, Recorder} from '../../iam/record.js'
import {AddonCloud} from './addons.fixture.js'
import {deployProcesses, makeResources, recordDeploy} from './formation.fixture.js'

const REGION = 'us-east-1'
const zeroClock = {now: () => new Date('2026-11-21T10:00:00Z'), sleep: async () => {}}
const BUILDSPEC = existsSync(new URL('../../../templates/buildspec.yml', import.meta.url)) ? undefined : 'version: 0.2\n'

/** A context whose every AWS call is recorded (the IAM contract's recorder), as one CLI command's. */
async function recorded(clients = new AwsClients({region: REGION})): Promise<{ctx: AwsContext; calls: AwsCall[]}> {
  const recorder = new Recorder()
  await recorder.attach(clients, 'user')
  return {ctx: {region: REGION, clients, clock: zeroClock}, calls: recorder.calls}
}

/** SSM reads of the app's resources parameter on its own (the lock's read names it with the head and the config: not counted). */
function resourcesReads(calls: AwsCall[], app: string): number {
  return calls.filter((c) => c.service === 'ssm' && c.operation === 'GetParameters' && c.input.Names?.length === 1 && c.input.Names[0] === names.appResourcesParameter(app)).length
}

/**
 * How often one driver call (one CLI command) reads the app's resources and the stacks they come
 * from, counted on the AWS calls it makes: each is read once, however many parts of the
 * command need them.
 */
describe('AWS commands read the app\'s resources and stacks once (moto)', function () {
  this.timeout(60_000)
  useMoto()

  it('info describes the app and platform stacks once and reads the resources no other way (current release, maintenance, autoscaling use what it read)', async () => {
    const repo = mkdtempSync(join(tmpdir(), 'herogate-reads-'))
    try {
      execFileSync('git', ['init', '-q', '-b', 'main'], {cwd: repo})
      await apps.createApp({region: REGION, clients: new AwsClients({region: REGION}), clock: zeroClock}, {name: 'demo', cwd: repo}, {buildSpec: BUILDSPEC, uploadReleaseCode: async () => ''})
      const {ctx, calls} = await recorded()
      const info = await new AwsPlatform(ctx).appInfo('demo')
      // What info shows is all there: the formation with its (absent) autoscaling, maintenance mode, no release yet.
      expect(info).to.deep.include({name: 'demo', status: 'idle', formation: [{type: 'web', quantity: 0, size: 'standard-1x'}], maintenance: false, stack: 'herogate-demo'})
      expect(info.release).to.equal(undefined)
      const described = calls.filter((c) => c.service === 'cloudformation' && c.operation === 'DescribeStacks').map((c) => c.input.StackName)
      expect(described.sort()).to.deep.equal(['herogate-demo', 'herogate-platform'])
      expect(resourcesReads(calls, 'demo'), 'reads of the resources parameter').to.equal(0)
    } finally {
      rmSync(repo, {recursive: true, force: true})
    }
  })

  it('ps as the CLI runs it (the driver opened for the command; processes and their autoscaling side by side) reads the resources once', async () => {
    const resources = await makeResources('demo')
    await recordDeploy('demo', await deployProcesses(resources, {web: {count: 1}, worker: {count: 1}}))
    // What the app stack publishes (ResourcesParameter in templates/app.yml).
    await new SSMClient({region: REGION}).send(new PutParameterCommand({Name: names.appResourcesParameter('demo'), Value: JSON.stringify({...resources, subnets: resources.subnets.join(',')}), Type: 'String'}))
    const platform = AwsPlatform.open({region: REGION})
    const {calls} = await recorded(platform.ctx.clients)
    const [processes, autoscaled] = await Promise.all([platform.ps('demo'), platform.autoscaling('demo')])
    // moto's services start no tasks, and nothing is autoscaled: what counts is what was read to say so.
    expect([processes, autoscaled]).to.deep.equal([[], []])
    expect(calls.filter((c) => c.operation === 'ListTasks').length).to.be.greaterThan(0)
    expect(resourcesReads(calls, 'demo'), 'reads of the resources parameter').to.equal(1)
  })

  describe('addons:create', () => {
    let cloud: AddonCloud

    beforeEach(() => {
      cloud = new AddonCloud()
    })

    afterEach(() => cloud.cfn.restore())

    async function platform(): Promise<{platform: AwsPlatform; calls: AwsCall[]}> {
      const clients = new AwsClients({region: REGION})
      clients.set('cloudformation', new CloudFormationClient({region: REGION}))
      const {ctx, calls} = await recorded(clients)
      return {platform: new AwsPlatform(ctx), calls}
    }

    /** The stacks DescribeStacks was asked for, by name or id, in call order (the stand-in answers CloudFormation). */
    function described(): string[] {
      return cloud.cfn.commandCalls(DescribeStacksCommand).map((call) => (call.args[0].input as DescribeStacksCommandInput).StackName ?? '(all)')
    }

    it('describes the platform stack once, and reads the app\'s resources once, for the create and the config release that attaches the add-on', async () => {
      cloud.putApp('demo')
      const {platform: driver, calls} = await platform()
      const created = await driver.createAddon('demo', {service: 'postgres', wait: true})
      expect(created.addon).to.include({name: 'postgres-1', state: 'available', configVar: 'DATABASE_URL'})
      expect(created.config?.release?.description).to.equal('Set DATABASE_URL config vars')
      const create = cloud.calls.find((c) => c.command === 'CreateStack')!.input as {Parameters: Array<{ParameterKey: string; ParameterValue: string}>}
      expect(create.Parameters.find((p) => p.ParameterKey === 'TaskSecurityGroup')?.ParameterValue).to.equal('sg-own-demo')

      expect(described().filter((name) => name === names.platformStack()), 'DescribeStacks of the platform').to.have.length(1)
      expect(described().filter((name) => name === names.appStack('demo')), 'DescribeStacks of the app').to.have.length(1)
      expect(resourcesReads(calls, 'demo'), 'reads of the resources parameter').to.equal(1)
    })

    it('reads the app\'s resources again after upgrading its stack: the release that attaches the add-on runs in the app\'s new group', async () => {
      cloud.putOldApp('old')
      const elb = mockClient(ElasticLoadBalancingV2Client)
      elb.on(DescribeLoadBalancersCommand).resolves({LoadBalancers: [{LoadBalancerArn: 'arn:lb', SecurityGroups: ['sg-lb']}]})
      try {
        const {platform: driver} = await platform()
        const created = await driver.createAddon('old', {service: 'redis', wait: true})
        expect(created.notes).to.include('Upgraded old: its processes now run in a security group of their own, the only one redis-1 admits; they move into it with the release that attaches REDIS_URL.')
        const calls = cloud.cfn.calls().map((call) => {
          const command = call.args[0] as {constructor: {name: string}; input: {StackName?: string}}
          return `${command.constructor.name.replace(/Command$/, '')} ${command.input.StackName ?? ''}`.trim()
        })
        const upgrade = calls.findIndex((call) => call.startsWith('UpdateStack'))
        expect(upgrade).to.be.greaterThan(-1)
        // Before the upgrade the app's resources named the shared group; the release reads them anew from the upgraded stack.
        expect(calls.slice(0, upgrade)).to.include(`DescribeStacks ${names.appStack('old')}`)
        expect(calls.slice(upgrade)).to.include(`DescribeStacks ${names.appStack('old')}`)
      } finally {
        elb.restore()
      }
    })
  })
})
