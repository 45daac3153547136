import {CloudFormationClient} from '@aws-sdk/client-cloudformation'
import {CreateDBSnapshotCommand, DescribeDBClusterSnapshotsCommand, DescribeDBInstancesCommand, DescribeDBSnapshotsCommand, RDSClient} from '@aws-sdk/client-rds'
import {DescribeLoadBalancersCommand, ElasticLoadBalancingV2Client} from '@aws-sdk/client-elastic-load-balancing-v2'
import {mockClient} from 'aws-sdk-client-mock'
import {expect} from 'chai'

import {AwsClients} from '../../../src/aws/clients.js'
import {StackFailed} from '../../../src/aws/cloudformation.js'
import {HerogateError, InvalidInput} from '../../../src/lib/errors.js'
import {names} from '../../../src/lib/naming.js'
import * as addons from '../../../src/platform/aws/addons.js'
import {getConfig, setConfig} from '../../../src/platform/aws/config.js'
import type {AwsContext} from '../../../src/platform/aws/context.js'
import type {ProgressEvent} from '../../../src/platform/types.js'
import {useMoto} from '../../helpers/moto.js'
import {AddonCloud, PLATFORM_V2_OUTPUTS, resourcesOf} from './addons.fixture.js'

const zeroClock = {now: () => new Date('2026-11-21T10:00:00Z'), sleep: async () => {}}

async function refusal(promise: Promise<unknown>): Promise<HerogateError> {
  try {
    await promise
  } catch (error) {
    expect(error).to.be.instanceOf(HerogateError)
    return error as HerogateError
  }

  return expect.fail('expected a refusal')
}

/**
 * AWS add-ons with SSM (config, releases, the lock) and RDS (databases, snapshots) in moto, and
 * CloudFormation as AddonCloud: moto cannot make the add-on stacks' resources (see its comment).
 */
describe('AWS add-ons (moto: SSM, RDS)', function () {
  this.timeout(60_000)
  useMoto()
  let cloud: AddonCloud
  let ctx: AwsContext
  let rds: RDSClient

  beforeEach(() => {
    rds = new RDSClient({region: 'us-east-1'})
    cloud = new AddonCloud(rds)
    const clients = new AwsClients({region: 'us-east-1'})
    clients.set('cloudformation', new CloudFormationClient({region: 'us-east-1'}))
    ctx = {region: 'us-east-1', clients, clock: zeroClock, appResources: async (_ctx, app) => resourcesOf(app)}
  })

  afterEach(() => cloud.cfn.restore())

  it('creates a Postgres add-on and attaches DATABASE_URL as a config release; the password is kept nowhere else', async () => {
    const events: ProgressEvent[] = []
    const created = await addons.createAddon(ctx, 'demo', {service: 'postgres', wait: true, onProgress: (e) => events.push(e)})
    expect(created.addon).to.include({name: 'postgres-1', service: 'postgres', plan: 'essential-0', state: 'available', configVar: 'DATABASE_URL'})
    expect(created.config?.keys).to.deep.equal(['DATABASE_URL'])
    expect(created.config?.release?.version).to.equal(1)
    expect(created.config?.release?.description).to.equal('Set DATABASE_URL config vars')
    expect(created.notes[0]).to.equal('Plan essential-0: about $13.98 a month on demand in us-east-1 (RDS for PostgreSQL 17, db.t4g.micro (2 vCPU burstable, 1 GiB), 20 GB gp3, one availability zone).')

    const base = names.addonDatabaseBase('demo', 'postgres-1')
    const secret = cloud.secretOf(names.addonStack('demo', 'postgres-1'))!
    expect(secret).to.match(/^[0-9a-f]{48}$/)
    const config = await getConfig(ctx, 'demo')
    expect(config.DATABASE_URL).to.equal(`postgres://herogate:${secret}@${base}.abc123.us-east-1.rds.amazonaws.com:5432/app?sslmode=require`)
    // Templates, tags and every other parameter never hold it; nor does what herogate shows or reports.
    expect(cloud.everythingGiven()).to.not.include(secret)
    expect(JSON.stringify(created)).to.not.include(secret)
    expect(JSON.stringify(events)).to.not.include(secret)

    const create = cloud.calls.find((c) => c.command === 'CreateStack')!.input as {StackName: string; Tags: Array<{Key: string; Value: string}>; Parameters: Array<{ParameterKey: string; ParameterValue: string}>}
    expect(create.StackName).to.equal('herogate-demo--addon-postgres-1')
    expect(Object.fromEntries(create.Tags.map((t) => [t.Key, t.Value]))).to.deep.equal({'herogate:app': 'demo', 'herogate:addon': 'postgres-1', 'herogate:service': 'postgres', 'herogate:config-var': 'DATABASE_URL'})
    expect(Object.fromEntries(create.Parameters.map((p) => [p.ParameterKey, p.ParameterValue]))).to.include({
      DatabaseSubnetGroup: 'herogate-data', InstanceClass: 'db.t4g.micro', AllocatedStorage: '20', MultiAZ: 'false', DatabaseIdentifier: base,
    })
    // The database admits the app's own task group, not the platform's shared one every app's tasks are in.
    expect(create.Parameters.find((p) => p.ParameterKey === 'TaskSecurityGroup')?.ParameterValue).to.equal('sg-demo').and.not.equal(PLATFORM_V2_OUTPUTS.TaskSecurityGroup)
    expect(cloud.calls.filter((c) => c.command === 'UpdateStack')).to.deep.equal([])

    const listed = await addons.addons(ctx, 'demo')
    expect(listed.map((a) => [a.name, a.service, a.plan, a.state, a.configVar])).to.deep.equal([['postgres-1', 'postgres', 'essential-0', 'available', 'DATABASE_URL']])
    const info = await addons.addonInfo(ctx, 'demo', 'postgres-1')
    expect(Object.fromEntries(info.details)).to.include({
      Engine: 'RDS for PostgreSQL 17 (db.t4g.micro)', Host: `${base}.abc123.us-east-1.rds.amazonaws.com:5432`, Storage: '20 GB gp3', Encryption: 'at rest (KMS) and in transit (sslmode=require)',
    })
    expect(JSON.stringify(info)).to.not.include(secret)
  })

  it('gives an app made before apps had a security group of their own one first, and the add-on admits only it', async () => {
    cloud.putOldApp('old')
    const elb = mockClient(ElasticLoadBalancingV2Client)
    elb.on(DescribeLoadBalancersCommand, {LoadBalancerArns: ['arn:lb']}).resolves({LoadBalancers: [{LoadBalancerArn: 'arn:lb', SecurityGroups: ['sg-lb']}]})
    ctx.clients.set('elbv2', new ElasticLoadBalancingV2Client({region: 'us-east-1'}))
    // Its published resources name the shared group, as an old app stack's do.
    ctx.appResources = async (_ctx, app) => ({...resourcesOf(app), securityGroup: PLATFORM_V2_OUTPUTS.TaskSecurityGroup})
    const events: ProgressEvent[] = []
    try {
      const created = await addons.createAddon(ctx, 'old', {service: 'redis', wait: true, onProgress: (e) => events.push(e)})
      const upgrade = cloud.calls.find((c) => c.command === 'UpdateStack')!.input as {StackName: string; TemplateBody: string; Parameters: Array<{ParameterKey: string; ParameterValue: string}>}
      expect(upgrade.StackName).to.match(/stack\/herogate-old\//)
      expect(upgrade.TemplateBody).to.include('AppTaskSecurityGroup:')
      expect(Object.fromEntries(upgrade.Parameters.map((p) => [p.ParameterKey, p.ParameterValue]))).to.deep.equal({AppName: 'old', Cluster: 'herogate-cluster', LoadBalancerSecurityGroup: 'sg-lb'})
      const create = cloud.calls.find((c) => c.command === 'CreateStack')!.input as {Parameters: Array<{ParameterKey: string; ParameterValue: string}>}
      expect(create.Parameters.find((p) => p.ParameterKey === 'TaskSecurityGroup')?.ParameterValue).to.equal('sg-own-old')
      expect(created.notes).to.include('Upgraded old: its processes now run in a security group of their own, the only one redis-1 admits; they move into it with the release that attaches REDIS_URL.')
      expect(events.some((e) => e.kind === 'step' && e.id === 'app-upgrade' && e.status === 'done')).to.equal(true)
    } finally {
      elb.restore()
    }
  })

  it('makes no add-on when the app\'s upgrade fails, and says why and what to run again', async () => {
    cloud.putOldApp('old')
    const elb = mockClient(ElasticLoadBalancingV2Client)
    elb.on(DescribeLoadBalancersCommand).resolves({LoadBalancers: [{LoadBalancerArn: 'arn:lb', SecurityGroups: ['sg-lb']}]})
    ctx.clients.set('elbv2', new ElasticLoadBalancingV2Client({region: 'us-east-1'}))
    ctx.appResources = async (_ctx, app) => ({...resourcesOf(app), securityGroup: PLATFORM_V2_OUTPUTS.TaskSecurityGroup})
    cloud.failAppUpgrade = 'The maximum number of security groups for VPC vpc-1 has been reached.'
    try {
      const failed = await refusal(addons.createAddon(ctx, 'old', {service: 'postgres', as: 'main', wait: true}))
      expect(failed).to.be.instanceOf(StackFailed)
      expect(failed.message).to.equal('Could not give app old a security group of its own: AppTaskSecurityGroup (AWS::EC2::SecurityGroup): The maximum number of security groups for VPC vpc-1 has been reached. CloudFormation put the app back as it was; no add-on was made.')
      expect(failed.suggestions).to.deep.equal(['herogate addons:create postgres --as main -a old (again, after fixing the cause)'])
      expect(cloud.calls.filter((c) => c.command === 'CreateStack')).to.deep.equal([])
    } finally {
      elb.restore()
    }
  })

  it('names a second one of a kind NAME_URL, --as NAME too, and refuses a taken name or a var set by config:set', async () => {
    await addons.createAddon(ctx, 'demo', {service: 'postgres', wait: true})
    const second = await addons.createAddon(ctx, 'demo', {service: 'postgres', wait: true})
    expect([second.addon.name, second.addon.configVar]).to.deep.equal(['postgres-2', 'POSTGRES_2_URL'])
    const named = await addons.createAddon(ctx, 'demo', {service: 'redis', as: 'jobs', wait: true})
    expect([named.addon.name, named.addon.configVar]).to.deep.equal(['jobs', 'JOBS_URL'])

    const taken = await refusal(addons.createAddon(ctx, 'demo', {service: 'postgres', as: 'postgres-1', wait: true}))
    expect(taken).to.be.instanceOf(addons.AddonExists)
    expect(taken.message).to.equal('demo has an add-on named postgres-1 already.')
    const otherService = await refusal(addons.createAddon(ctx, 'demo', {service: 'redis', as: 'postgres-1', wait: true}))
    expect(otherService.message).to.equal('Add-on name postgres-1 is taken by a postgres add-on of demo.')
    // --as NAME whose NAME_URL another add-on holds: the same rule and words as the local platform's.
    const heldVar = await refusal(addons.createAddon(ctx, 'demo', {service: 'postgres', as: 'database', wait: true}))
    expect([heldVar.message, ...heldVar.suggestions]).to.deep.equal(['DATABASE_URL is the config var of add-on postgres-1 already. Nothing was changed.', 'herogate addons:create postgres --as ANOTHER-NAME'])

    await setConfig(ctx, 'demo', {REDIS_URL: 'redis://elsewhere:6379'})
    const creates = cloud.calls.filter((c) => c.command === 'CreateStack').length
    const set = await refusal(addons.createAddon(ctx, 'demo', {service: 'redis', wait: true}))
    expect(set.message).to.equal('REDIS_URL is set already (by config:set), so a new add-on would replace it. Nothing was changed.')
    expect(set.suggestions[0]).to.equal('herogate addons:create redis --as NAME -a demo (sets NAME_URL instead)')
    expect(cloud.calls.filter((c) => c.command === 'CreateStack')).to.have.length(creates)
  })

  it('refuses an unknown plan, listing the plans, and a bad name, before anything is made', async () => {
    const unknown = await refusal(addons.createAddon(ctx, 'demo', {service: 'postgres', plan: 'hobby-dev'}))
    expect(unknown).to.be.instanceOf(InvalidInput)
    expect(unknown.message).to.equal('Unknown postgres plan "hobby-dev". Plans on AWS: essential-0, essential-1, standard-0, serverless-0.')
    expect(unknown.suggestions[0]).to.match(/^herogate addons:create postgres --plan essential-0 \(\$13\.98\/month: /)
    const bad = await refusal(addons.createAddon(ctx, 'demo', {service: 'redis', as: 'Bad_Name'}))
    expect(bad.message).to.match(/^Invalid add-on name "Bad_Name": /)
    expect(cloud.calls).to.deep.equal([])
  })

  it('makes a Redis add-on with REDIS_URL over TLS with its AUTH token', async () => {
    const created = await addons.createAddon(ctx, 'demo', {service: 'redis', wait: true})
    expect(created.addon).to.include({name: 'redis-1', plan: 'mini', state: 'available', configVar: 'REDIS_URL'})
    const secret = cloud.secretOf(names.addonStack('demo', 'redis-1'))!
    const config = await getConfig(ctx, 'demo')
    expect(config.REDIS_URL).to.equal(`rediss://:${secret}@master.${names.addonDatabaseBase('demo', 'redis-1')}.abc123.use1.cache.amazonaws.com:6379`)
    expect(cloud.everythingGiven()).to.not.include(secret)
  })

  it('captures, lists and restores backups; destroy unsets the var as a release, then snapshots and deletes', async () => {
    await addons.createAddon(ctx, 'demo', {service: 'postgres', wait: true})
    const base = names.addonDatabaseBase('demo', 'postgres-1')
    const backup = await addons.captureBackup(ctx, 'demo', undefined)
    expect(backup).to.include({id: `${base}-20261121100000`, addon: 'postgres-1', state: 'completed'})
    expect((await addons.backups(ctx, 'demo')).map((b) => b.id)).to.deep.equal([backup.id])
    expect(Object.fromEntries((await addons.addonInfo(ctx, 'demo', 'postgres-1')).details)['Latest backup']).to.match(new RegExp(`^${backup.id} \\(available`))

    const before = (await getConfig(ctx, 'demo')).DATABASE_URL
    const restored = await addons.restoreBackup(ctx, 'demo', backup.id)
    expect(restored.id).to.equal(backup.id)
    const after = (await getConfig(ctx, 'demo')).DATABASE_URL
    const secret = cloud.secretOf(names.addonStack('demo', 'postgres-1'))!
    expect(after).to.not.equal(before)
    expect(after).to.equal(`postgres://herogate:${secret}@${base}-r2.abc123.us-east-1.rds.amazonaws.com:5432/app?sslmode=require`)
    const instances = await rds.send(new DescribeDBInstancesCommand({}))
    expect(instances.DBInstances?.map((d) => d.DBInstanceIdentifier)).to.deep.equal([`${base}-r2`])
    // Snapshots of the databases a restore replaced still count as the add-on's.
    expect((await addons.backups(ctx, 'demo', 'postgres-1')).map((b) => b.id)).to.deep.equal([backup.id])

    const destroyed = await addons.destroyAddon(ctx, 'demo', 'postgres-1')
    expect(destroyed.config?.keys).to.deep.equal(['DATABASE_URL'])
    expect(destroyed.config?.release?.description).to.equal('Remove DATABASE_URL config vars')
    expect(destroyed.notes).to.deep.equal([
      `Removed DATABASE_URL from demo (release v${destroyed.config?.release?.version}).`,
      `Final snapshot: ${base}-final-20261121100000 (RDS snapshot in us-east-1; kept until you delete it).`,
    ])
    expect(await getConfig(ctx, 'demo')).to.not.have.property('DATABASE_URL')
    const snapshots = await rds.send(new DescribeDBSnapshotsCommand({SnapshotType: 'manual'}))
    expect(snapshots.DBSnapshots?.map((s) => s.DBSnapshotIdentifier).sort()).to.deep.equal([backup.id, `${base}-final-20261121100000`].sort())
    expect((await rds.send(new DescribeDBInstancesCommand({}))).DBInstances).to.deep.equal([])
    expect(await addons.addons(ctx, 'demo')).to.deep.equal([])
  })

  it('destroys without a final snapshot with --no-snapshot', async () => {
    await addons.createAddon(ctx, 'demo', {service: 'postgres', wait: true})
    const destroyed = await addons.destroyAddon(ctx, 'demo', 'postgres-1', {snapshot: false})
    expect(destroyed.notes.at(-1)).to.equal('No final snapshot was taken (--no-snapshot).')
    expect((await rds.send(new DescribeDBSnapshotsCommand({SnapshotType: 'manual'}))).DBSnapshots).to.deep.equal([])
  })

  it('snapshots an Aurora Serverless v2 add-on as a cluster snapshot', async () => {
    await addons.createAddon(ctx, 'demo', {service: 'postgres', plan: 'serverless-0', wait: true})
    const backup = await addons.captureBackup(ctx, 'demo', 'postgres-1')
    const clusters = await rds.send(new DescribeDBClusterSnapshotsCommand({SnapshotType: 'manual'}))
    expect(clusters.DBClusterSnapshots?.map((s) => s.DBClusterSnapshotIdentifier)).to.deep.equal([backup.id])
    expect(Object.fromEntries((await addons.addonInfo(ctx, 'demo', 'postgres-1')).details).Engine).to.equal('Aurora Serverless v2 (PostgreSQL 16)')
  })

  it('refuses to destroy an add-on while a restore changes it', async () => {
    await addons.createAddon(ctx, 'demo', {service: 'postgres', wait: true})
    cloud.stacks.get(names.addonStack('demo', 'postgres-1'))!.stack.StackStatus = 'UPDATE_IN_PROGRESS'
    const busy = await refusal(addons.destroyAddon(ctx, 'demo', 'postgres-1'))
    expect(busy.message).to.equal('Add-on postgres-1 is being changed right now (UPDATE_IN_PROGRESS).')
    expect(Object.keys(await getConfig(ctx, 'demo'))).to.deep.equal(['DATABASE_URL'])
  })

  it('refuses to destroy an add-on whose URL other config holds too', async () => {
    await addons.createAddon(ctx, 'demo', {service: 'postgres', wait: true})
    const url = (await getConfig(ctx, 'demo')).DATABASE_URL
    await setConfig(ctx, 'demo', {READER_URL: url})
    const refused = await refusal(addons.destroyAddon(ctx, 'demo', 'postgres-1'))
    expect(refused.message).to.equal('Config var READER_URL of demo holds the URL of add-on postgres-1 too. Nothing was changed.')
    expect(refused.suggestions).to.deep.equal(['herogate config:unset READER_URL -a demo (then destroy the add-on)'])
    expect(refused.message + refused.suggestions.join()).to.not.include(url)
    expect((await getConfig(ctx, 'demo')).DATABASE_URL).to.equal(url)
    expect(cloud.calls.filter((c) => c.command === 'DeleteStack')).to.deep.equal([])
  })

  it('a create not waited for is attached by addons:wait with a fresh password (herogate never stored the first)', async () => {
    cloud.immediate = false
    const created = await addons.createAddon(ctx, 'demo', {service: 'postgres'})
    expect(created.addon.state).to.equal('creating')
    expect(created.notes.at(-1)).to.equal('herogate addons:wait postgres-1 -a demo (attaches DATABASE_URL once it is made)')
    const first = cloud.secretOf(names.addonStack('demo', 'postgres-1'))
    expect(await getConfig(ctx, 'demo')).to.deep.equal({})

    const waited = await addons.waitAddons(ctx, 'demo', undefined)
    expect(waited.map((a) => [a.name, a.state])).to.deep.equal([['postgres-1', 'available']])
    const secret = cloud.secretOf(names.addonStack('demo', 'postgres-1'))!
    expect(secret).to.not.equal(first)
    expect((await getConfig(ctx, 'demo')).DATABASE_URL).to.include(`herogate:${secret}@`)
    const update = cloud.calls.find((c) => c.command === 'UpdateStack')!.input as {Parameters: Array<{ParameterKey: string; UsePreviousValue?: boolean}>}
    expect(update.Parameters.find((p) => p.ParameterKey === 'DatabaseIdentifier')).to.not.equal(undefined)
    // Waiting for one that is attached already just says so.
    expect((await addons.waitAddons(ctx, 'demo', 'postgres-1')).map((a) => a.state)).to.deep.equal(['available'])
    expect(cloud.calls.filter((c) => c.command === 'UpdateStack')).to.have.length(1)
    // A second create of the same add-on once it is attached is a taken name, not a second database.
    expect((await refusal(addons.createAddon(ctx, 'demo', {service: 'postgres', as: 'postgres-1'}))).message).to.equal('demo has an add-on named postgres-1 already.')
  })

  it('an interrupted create is finished by a second addons:create of it', async () => {
    cloud.immediate = false
    const controller = new AbortController()
    controller.abort()
    const interrupted = await refusal(addons.createAddon(ctx, 'demo', {service: 'postgres', wait: true, signal: controller.signal}))
    expect(interrupted.message).to.equal('Interrupted: add-on postgres-1 keeps being made in AWS. herogate addons:wait postgres-1 -a demo attaches it; herogate addons:destroy postgres-1 -a demo removes it.')
    expect((await addons.addons(ctx, 'demo')).map((a) => a.state)).to.deep.equal(['creating'])
    const again = await addons.createAddon(ctx, 'demo', {service: 'postgres', wait: true})
    expect(again.addon).to.include({name: 'postgres-1', state: 'available'})
    expect(cloud.calls.filter((c) => c.command === 'CreateStack')).to.have.length(1)
    expect(Object.keys(await getConfig(ctx, 'demo'))).to.deep.equal(['DATABASE_URL'])
  })

  it('addons:wait on a create that failed says why', async () => {
    cloud.immediate = false
    cloud.failNext = 'DB instance quota exceeded'
    await addons.createAddon(ctx, 'demo', {service: 'postgres'})
    const failed = await refusal(addons.waitAddons(ctx, 'demo', undefined))
    expect(failed).to.be.instanceOf(StackFailed)
    expect(failed.message).to.equal('Add-on postgres-1 could not be made: Database (AWS::RDS::DBInstance) failed: DB instance quota exceeded.')
    expect(failed.suggestions[0]).to.equal('herogate addons:destroy postgres-1 -a demo --confirm demo (removes what is left)')
    expect((await addons.addons(ctx, 'demo')).map((a) => a.state)).to.deep.equal(['failed'])
    // Destroying it removes the stack; nothing is left.
    await addons.destroyAddon(ctx, 'demo', 'postgres-1')
    expect(await addons.addons(ctx, 'demo')).to.deep.equal([])
  })

  it('a failed create leaves no stack; the next create makes it', async () => {
    cloud.failNext = 'DB instance quota exceeded'
    const failed = await refusal(addons.createAddon(ctx, 'demo', {service: 'postgres', wait: true}))
    expect(failed).to.be.instanceOf(StackFailed)
    expect(failed.message).to.equal('Could not create add-on postgres-1: Database (AWS::RDS::DBInstance) failed: DB instance quota exceeded. Its stack was deleted.')
    expect(await addons.addons(ctx, 'demo')).to.deep.equal([])
    expect(await getConfig(ctx, 'demo')).to.deep.equal({})
    const created = await addons.createAddon(ctx, 'demo', {service: 'postgres', wait: true})
    expect(created.addon.state).to.equal('available')
  })

  it('apps:destroy removes every add-on and says where the final snapshots are', async () => {
    await addons.createAddon(ctx, 'demo', {service: 'postgres', wait: true})
    await addons.createAddon(ctx, 'demo', {service: 'redis', wait: true})
    const removed = await addons.destroyAppAddons(ctx, 'demo', {})
    const base = names.addonDatabaseBase('demo', 'postgres-1')
    expect(removed).to.deep.equal([
      `postgres add-on postgres-1 (stack herogate-demo--addon-postgres-1; Final snapshot: ${base}-final-20261121100000 (RDS snapshot in us-east-1; kept until you delete it).)`,
      'redis add-on redis-1 (stack herogate-demo--addon-redis-1)',
    ])
    expect(await addons.addons(ctx, 'demo')).to.deep.equal([])
  })

  it('pg:* without a Postgres, pg:psql and unknown add-ons say what to run', async () => {
    const none = await refusal(addons.captureBackup(ctx, 'demo', undefined))
    expect(none).to.be.instanceOf(addons.AddonNotFound)
    expect(none.message).to.equal('demo has no Postgres add-on.')
    expect(none.suggestions).to.deep.equal(['herogate addons:create postgres -a demo'])
    expect((await refusal(addons.addonInfo(ctx, 'demo', 'nope'))).message).to.equal('demo has no add-on named nope.')
    await addons.createAddon(ctx, 'demo', {service: 'postgres', wait: true})
    const shell = await refusal(addons.addonShell(ctx, 'demo', 'postgres', undefined, {command: [], cwd: '.'} as never))
    expect(shell.message).to.match(/^pg:psql on AWS is not available: postgres-1 is in private subnets/)
    expect(shell.suggestions[1]).to.equal('herogate config:get DATABASE_URL -a demo (the URL, for a client on a machine inside the VPC)')
  })

  it('refuses add-ons on a platform older than them, pointing to platform:upgrade', async () => {
    const platform = cloud.stacks.get('herogate-platform')!
    platform.stack.Outputs = platform.stack.Outputs!.filter((o) => !['DatabaseSubnetGroup', 'CacheSubnetGroup', 'DataSubnets', 'TemplateVersion'].includes(o.OutputKey!))
    const old = await refusal(addons.createAddon(ctx, 'demo', {service: 'postgres', wait: true}))
    expect(old.message).to.equal('The herogate platform of us-east-1 predates add-ons: it has no private data subnets for databases yet. Nothing was changed.')
    expect(old.suggestions).to.deep.equal(['herogate platform:upgrade --region us-east-1 (adds them; apps keep running)'])
  })
})

describe('AWS add-ons: failures of RDS and of the config release', function () {
  this.timeout(60_000)
  useMoto()
  let cloud: AddonCloud
  let ctx: AwsContext

  beforeEach(() => {
    cloud = new AddonCloud(new RDSClient({region: 'us-east-1'}))
    const clients = new AwsClients({region: 'us-east-1'})
    clients.set('cloudformation', new CloudFormationClient({region: 'us-east-1'}))
    ctx = {region: 'us-east-1', clients, clock: zeroClock, appResources: async (_ctx, app) => resourcesOf(app)}
  })

  afterEach(() => cloud.cfn.restore())

  it('keeps the add-on when its final snapshot fails, and says how to retry or skip it', async () => {
    await addons.createAddon(ctx, 'demo', {service: 'postgres', wait: true})
    // RDS answers the snapshot as AWS does when it fails (the instance's storage is full, say).
    const failing = new RDSClient({region: 'us-east-1'})
    const rdsMock = mockClient(failing)
    rdsMock.on(CreateDBSnapshotCommand).resolves({DBSnapshot: {DBSnapshotIdentifier: 'x', Status: 'creating'}})
    rdsMock.on(DescribeDBSnapshotsCommand).resolves({DBSnapshots: [{DBSnapshotIdentifier: 'x', Status: 'failed'}]})
    ctx.clients.set('rds', failing)
    try {
      const refused = await refusal(addons.destroyAddon(ctx, 'demo', 'postgres-1'))
      const base = names.addonDatabaseBase('demo', 'postgres-1')
      expect(refused.message).to.equal(`Could not take the final snapshot of add-on postgres-1: Snapshot ${base}-final-20261121100000 of postgres-1 ended failed. The add-on is kept.`)
      expect(refused.suggestions).to.deep.equal(['herogate addons:destroy postgres-1 -a demo --confirm demo (to retry)', 'herogate addons:destroy postgres-1 -a demo --confirm demo --no-snapshot (without one)'])
      expect(cloud.calls.filter((c) => c.command === 'DeleteStack')).to.deep.equal([])
      expect((await addons.addons(ctx, 'demo')).map((a) => a.name)).to.deep.equal(['postgres-1'])
    } finally {
      rdsMock.restore()
    }

    // Once RDS can snapshot again, a second destroy finishes (the config var is gone already).
    ctx.clients.set('rds', new RDSClient({region: 'us-east-1'}))
    const destroyed = await addons.destroyAddon(ctx, 'demo', 'postgres-1')
    expect(destroyed.config).to.equal(undefined)
    expect(destroyed.notes[0]).to.match(/^Final snapshot: /)
  })

  it('a config release that cannot be made leaves the add-on made and says addons:wait attaches it', async () => {
    // SSM refuses the config var's write, as it does to credentials without ssm:PutParameter.
    let deny = true
    const ssm = await ctx.clients.ssm()
    ssm.middlewareStack.add((next, context) => async (args) => {
      const input = args.input as {Name?: string}
      if (deny && context.commandName === 'PutParameterCommand' && input.Name === names.configParameter('demo', 'DATABASE_URL')) {
        throw Object.assign(new Error('User is not authorized to perform: ssm:PutParameter'), {name: 'AccessDeniedException', $metadata: {}})
      }

      return next(args)
    }, {step: 'initialize', name: 'denyConfigWrite'})
    const refused = await refusal(addons.createAddon(ctx, 'demo', {service: 'postgres', wait: true}))
    expect(refused.message).to.match(/^Add-on postgres-1 is made, but DATABASE_URL could not be set: AWS denied /)
    expect(refused.suggestions[0]).to.equal('herogate addons:wait postgres-1 -a demo (attaches it)')
    expect(JSON.stringify({message: refused.message, suggestions: refused.suggestions})).to.not.include(cloud.secretOf(names.addonStack('demo', 'postgres-1'))!)
    expect((await addons.addons(ctx, 'demo')).map((a) => [a.name, a.state])).to.deep.equal([['postgres-1', 'creating']])
    deny = false

    const [waited] = await addons.waitAddons(ctx, 'demo', 'postgres-1')
    expect(waited.state).to.equal('available')
    expect((await getConfig(ctx, 'demo')).DATABASE_URL).to.include(cloud.secretOf(names.addonStack('demo', 'postgres-1'))!)
  })
})
