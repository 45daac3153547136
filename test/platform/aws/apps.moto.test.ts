import {expect} from 'chai'
import {execFileSync} from 'node:child_process'
import {existsSync, mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {AwsClients} from '../../../src/aws/clients.js'
import {AppExists, AppNotFound, HerogateError} from '../../../src/lib/errors.js'
import {codeCommitUrl, names} from '../../../src/lib/naming.js'
import * as apps from '../../../src/platform/aws/apps.js'
import type {AwsContext} from '../../../src/platform/aws/context.js'
import {AwsPlatform} from '../../../src/platform/aws/index.js'
import {appResourcesFrom, loadAppResources, publishedResources, stacksOf} from '../../../src/platform/aws/resources.js'
import type {ProgressEvent} from '../../../src/platform/types.js'
import {useMoto} from '../../helpers/moto.js'

const BUILDSPEC = existsSync(new URL('../../../templates/buildspec.yml', import.meta.url))
  ? undefined
  : 'version: 0.2\nphases:\n  build:\n    commands:\n      - echo build\n'
const zeroClock = {now: () => new Date('2026-11-21T10:00:00Z'), sleep: async () => {}}

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, {cwd, encoding: 'utf8'}).trim()
}

/**
 * The AWS app lifecycle against moto. moto ignores CodeCommit, CodeBuild and CodePipeline
 * resources in stacks (the repo, build project, pipeline and push rule's target are not
 * made): those are covered by the templates' cfn-lint test and apps.test.ts with mocks.
 */
describe('AWS apps against moto', function () {
  this.timeout(60_000)
  useMoto()
  let repo: string
  let ctx: AwsContext

  beforeEach(() => {
    repo = mkdtempSync(join(tmpdir(), 'herogate-apps-'))
    git(repo, 'init', '-q', '-b', 'main')
    ctx = {region: 'us-east-1', clients: new AwsClients({region: 'us-east-1'}), clock: zeroClock}
  })

  afterEach(() => rmSync(repo, {recursive: true, force: true}))

  it('creates the platform once, then the app; lists, describes and destroys it', async () => {
    const events: ProgressEvent[] = []
    const created = await apps.createApp(ctx, {name: 'demo', cwd: repo, onProgress: (e) => events.push(e)}, {buildSpec: BUILDSPEC, cliPath: '/opt/herogate/bin/run.js'})
    expect(created.name).to.equal('demo')
    expect(created.platformCreated).to.equal(true)
    expect(created.status).to.equal('idle')
    expect(created.gitUrl).to.equal(codeCommitUrl('us-east-1', 'demo'))
    expect(created.webUrl).to.match(/^http:\/\/.+\.elb\.amazonaws\.com:10000$/)
    expect(created.formation).to.deep.equal([{type: 'web', quantity: 0, size: 'standard-1x'}])
    expect(created.remoteNote).to.equal(undefined)
    const rows = events.filter((e) => e.kind === 'resource')
    expect(rows.map((e) => e.kind === 'resource' && e.stack)).to.include.members(['herogate-platform', 'herogate-demo'])
    expect(rows.some((e) => e.kind === 'resource' && e.status === 'CREATE_COMPLETE' && e.description === 'app demo')).to.equal(true)

    // The remote and its credential helper.
    expect(git(repo, 'remote', 'get-url', 'herogate')).to.equal(created.gitUrl)
    // An empty helper first resets helpers from global config, then herogate's own.
    const helpers = execFileSync('git', ['config', '--get-all', `credential.${created.gitUrl}.helper`], {cwd: repo, encoding: 'utf8'})
    expect(helpers).to.equal(`\n!'${process.execPath}' '/opt/herogate/bin/run.js' git:credentials\n`)
    expect(git(repo, 'config', '--get', `credential.${created.gitUrl}.usehttppath`)).to.equal('true')

    // Outputs resolve into everything the driver needs.
    const resources = await loadAppResources(ctx, 'demo')
    expect(resources.stackName).to.equal('herogate-demo')
    expect(resources.subnets).to.have.length(2)
    expect(resources.cluster).to.match(/Cluster/)
    expect(resources.securityGroup).to.match(/^sg-/)
    expect(resources.executionRoleArn).to.match(/^arn:aws:iam::\d+:role\//)
    expect(resources.taskRoleArn).to.match(/^arn:aws:iam::\d+:role\//)
    expect(resources.logGroup).to.equal('/herogate/demo')
    expect(resources.ecrRepositoryUri).to.match(/\.dkr\.ecr\.us-east-1\.amazonaws\.com\/herogate\/demo$/)
    expect(resources.targetGroupArn).to.match(/targetgroup\/hg-demo\//)
    expect(resources.artifactBucket).to.match(/^herogate-platform-artifactbucket/)
    expect(resources.pipeline).to.equal('herogate-demo')
    expect(resources.codeBuildProject).to.equal('herogate-demo')
    // They come from the parameter the stack publishes (one read); the stacks say the same.
    const ssmSdk = await import('@aws-sdk/client-ssm')
    const published = await new ssmSdk.SSMClient({region: 'us-east-1'}).send(new ssmSdk.GetParameterCommand({Name: names.appResourcesParameter('demo')}))
    expect(publishedResources(ctx, 'demo', published.Parameter)).to.deep.equal(resources)
    const stacks = await stacksOf(ctx)
    expect(appResourcesFrom(ctx, 'demo', (await stacks.describe('herogate-demo'))!, await stacks.describe('herogate-platform'))).to.deep.equal(resources)

    const {CloudFormationClient, DescribeStacksCommand} = await import('@aws-sdk/client-cloudformation')
    const described = await new CloudFormationClient({region: 'us-east-1'}).send(new DescribeStacksCommand({StackName: 'herogate-demo'}))
    const packageUri = described.Stacks![0].Parameters!.find((p) => p.ParameterKey === 'HerogatePackage')!.ParameterValue
    expect(packageUri).to.match(new RegExp(`^s3://${resources.artifactBucket}/herogate/demo/release-code/herogate-.+\\.tgz$`))

    // A second app reuses the platform and takes the next port.
    const second = await apps.createApp(ctx, {name: 'other', cwd: join(repo, '..')}, {buildSpec: BUILDSPEC})
    expect(second.platformCreated).to.equal(false)
    expect(second.webUrl).to.match(/:10001$/)

    const listed = await apps.listApps(ctx)
    expect(listed.map((a) => [a.name, a.status, a.region])).to.deep.equal([['demo', 'idle', 'us-east-1'], ['other', 'idle', 'us-east-1']])

    const info = await new AwsPlatform(ctx).appInfo('demo')
    expect(info).to.include({name: 'demo', platform: 'aws', region: 'us-east-1', stack: 'herogate-demo', status: 'idle'})
    expect(info.release).to.equal(undefined)

    // Config, a release record and the lock live under the app's path; destroy takes them all.
    const {SSMClient, PutParameterCommand, GetParametersByPathCommand} = await import('@aws-sdk/client-ssm')
    const ssm = new SSMClient({region: 'us-east-1'})
    await ssm.send(new PutParameterCommand({Name: names.configParameter('demo', 'SECRET'), Value: 's3cr3t', Type: 'SecureString'}))
    await ssm.send(new PutParameterCommand({Name: names.releaseParameter('demo', 1), Value: '{}', Type: 'String'}))
    await ssm.send(new PutParameterCommand({Name: names.configParameter('other', 'KEEP'), Value: 'x', Type: 'SecureString'}))

    // A worker service made outside the stack (as ps:scale does) and a pushed image.
    const {ECSClient, CreateServiceCommand, DescribeServicesCommand} = await import('@aws-sdk/client-ecs')
    const ecs = new ECSClient({region: 'us-east-1'})
    await ecs.send(new CreateServiceCommand({
      cluster: resources.cluster, serviceName: names.service('demo', 'worker'), taskDefinition: names.taskFamily('demo', 'web'), desiredCount: 1, launchType: 'FARGATE',
      networkConfiguration: {awsvpcConfiguration: {subnets: resources.subnets, securityGroups: [resources.securityGroup]}},
    }))
    const {ECRClient, PutImageCommand} = await import('@aws-sdk/client-ecr')
    const manifest = JSON.stringify({schemaVersion: 2, mediaType: 'application/vnd.docker.distribution.manifest.v2+json', config: {mediaType: 'application/vnd.docker.container.image.v1+json', size: 1, digest: 'sha256:' + '1'.repeat(64)}, layers: []})
    await new ECRClient({region: 'us-east-1'}).send(new PutImageCommand({repositoryName: names.ecrRepo('demo'), imageManifest: manifest, imageTag: 'v1'}))

    const destroyed = await apps.destroyApp(ctx, 'demo', {cwd: repo})
    expect(destroyed.removed).to.include('ECS service demo--worker')
    expect(destroyed.removed).to.include('1 image in ECR repository herogate/demo')
    const worker = await ecs.send(new DescribeServicesCommand({cluster: resources.cluster, services: [names.service('demo', 'worker')]}))
    expect(worker.services?.[0]?.status ?? 'gone').to.not.equal('ACTIVE')
    expect(destroyed.name).to.equal('demo')
    expect(destroyed.removed).to.include('2 parameters under /herogate/demo/ (config, releases)')
    expect(destroyed.removed.some((r) => r.startsWith('stack herogate-demo'))).to.equal(true)
    expect(destroyed.removed).to.include('git remote herogate')
    expect(destroyed.removed).to.include(`1 artifact in s3://${resources.artifactBucket}/`)
    expect(git(repo, 'remote')).to.equal('')
    expect(() => git(repo, 'config', '--get-all', `credential.${created.gitUrl}.helper`)).to.throw()
    const left = await ssm.send(new GetParametersByPathCommand({Path: '/herogate/', Recursive: true}))
    // demo's parameters are gone (its stack deleted its resources parameter); the other app keeps its own.
    expect(left.Parameters?.map((p) => p.Name).sort()).to.deep.equal([names.configParameter('other', 'KEEP'), names.appResourcesParameter('other')])

    expect((await apps.listApps(ctx)).map((a) => a.name)).to.deep.equal(['other'])
    try {
      await apps.appInfo(ctx, 'demo')
      expect.fail('expected AppNotFound')
    } catch (error) {
      expect(error).to.be.instanceOf(AppNotFound)
      expect((error as AppNotFound).message).to.equal('App demo not found in us-east-1.')
      expect((error as AppNotFound).suggestions).to.deep.equal(['herogate apps --region us-east-1'])
    }
  })

  it('refuses a name that is taken, and says how to add the remote outside a git repo', async () => {
    const outside = mkdtempSync(join(tmpdir(), 'herogate-nogit-'))
    try {
      const created = await apps.createApp(ctx, {name: 'demo', cwd: outside}, {buildSpec: BUILDSPEC})
      expect(created.remoteNote).to.equal(`Not in a git repository, so no remote was added. In your app's repo run: git remote add herogate ${created.gitUrl}`)
      try {
        await apps.createApp(ctx, {name: 'demo', cwd: outside}, {buildSpec: BUILDSPEC})
        expect.fail('expected AppExists')
      } catch (error) {
        expect(error).to.be.instanceOf(AppExists)
      }
    } finally {
      rmSync(outside, {recursive: true, force: true})
    }
  })

  it('gives a random valid name when none is given', async () => {
    const created = await apps.createApp(ctx, {cwd: repo}, {buildSpec: BUILDSPEC})
    expect(created.name).to.match(/^[a-z]+-[a-z]+-\d{4}$/)
    expect(git(repo, 'remote', 'get-url', 'herogate')).to.equal(codeCommitUrl('us-east-1', created.name))
  })

  it('destroys the platform only when no app uses it', async () => {
    await apps.createApp(ctx, {name: 'demo', cwd: repo}, {buildSpec: BUILDSPEC})
    try {
      await apps.destroyPlatform(ctx)
      expect.fail('expected a refusal')
    } catch (error) {
      expect(error).to.be.instanceOf(HerogateError)
      expect((error as HerogateError).message).to.equal('The herogate platform in us-east-1 is still used by 1 app: demo.')
      expect((error as HerogateError).suggestions).to.deep.equal(['herogate destroy -a demo --confirm demo --region us-east-1'])
    }
  })

  it('reports an unknown app with its region', async () => {
    for (const call of [() => apps.appInfo(ctx, 'nope'), () => apps.destroyApp(ctx, 'nope', {cwd: repo}), () => loadAppResources(ctx, 'nope')]) {
      try {
        await call()
        expect.fail('expected AppNotFound')
      } catch (error) {
        expect(error).to.be.instanceOf(AppNotFound)
        expect((error as Error).message).to.equal('App nope not found in us-east-1.')
      }
    }
  })
})
