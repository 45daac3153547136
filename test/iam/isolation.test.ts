import {expect} from 'chai'

import {names} from '../../src/lib/naming.js'
import {pipelineArtifactPrefix} from '../../src/platform/aws/apps.js'
import type {IamRequest} from './requests.js'
import {decide, type Identity} from './simulate.js'
import {rolePolicies, type StackValues} from './template.js'

/**
 * The app template's roles, resolved for app demo, against what each role does for an app:
 * allowed on demo's own services, task definitions, tasks, parameters, logs, images and
 * objects, refused on those of demo-2 and demo-web (names that share demo's prefix). Runs
 * without moto; test/iam/contract.moto.test.ts checks the same for every recorded call.
 */

const ACCOUNT = '123456789012'
const CLUSTER = 'herogate-platform-Cluster-1A2B3C4D5E6F'
const BUCKET = 'herogate-platform-artifactbucket-1a2b3c4d5e6f'
const arn = (service: string, resource: string) => `arn:aws:${service}:us-east-1:${ACCOUNT}:${resource}`
const role = (app: string, id: string) => `arn:aws:iam::${ACCOUNT}:role/${names.appStack(app)}-${id}-ABCDEF123456`

function values(app: string): StackValues {
  return {
    partition: 'aws', region: 'us-east-1', account: ACCOUNT, stackName: names.appStack(app), stackId: arn('cloudformation', `stack/${names.appStack(app)}/0`),
    parameters: {AppName: app, Cluster: CLUSTER, ArtifactBucket: BUCKET, PipelineArtifactPrefix: pipelineArtifactPrefix(app)},
    refs: {LogGroup: names.logGroup(app)},
    attributes: {
      'ImageRepository.Arn': arn('ecr', `repository/${names.ecrRepo(app)}`),
      'LogGroup.Arn': `${arn('logs', `log-group:${names.logGroup(app)}`)}:*`,
      'ExecutionRole.Arn': role(app, 'ExecutionRole'),
      'TaskRole.Arn': role(app, 'TaskRole'),
      'SchedulerRole.Arn': role(app, 'SchedulerRole'),
    },
  }
}

const request = (action: string, resource: string, context: Record<string, string> = {}): IamRequest => ({action, resource, context, source: `${action} on ${resource} ${JSON.stringify(context)}`})

/** What each role asks IAM for, for app `app`, one request per kind of resource. */
function work(app: string): Record<string, IamRequest[]> {
  const cluster = {'ecs:cluster': arn('ecs', `cluster/${CLUSTER}`)}
  const tagged = {...cluster, 'aws:ResourceTag/herogate:app': app}
  const stream = `${arn('logs', `log-group:${names.logGroup(app)}`)}:log-stream:web/web/0123456789abcdef`
  const config = arn('ssm', `parameter${names.configParameter(app, 'DATABASE_URL')}`)
  const repository = arn('ecr', `repository/${names.ecrRepo(app)}`)
  const artifact = `arn:aws:s3:::${BUCKET}/${pipelineArtifactPrefix(app)}/Source/AbCdEf1`
  return {
    BuildRole: [
      request('ecs:UpdateService', arn('ecs', `service/${CLUSTER}/${names.service(app, 'web')}`), {...cluster, 'ecs:task-definition': arn('ecs', `task-definition/${names.taskFamily(app, 'web')}:3`)}),
      request('ecs:DeleteService', arn('ecs', `service/${CLUSTER}/${names.service(app, 'worker')}`), cluster),
      request('ecs:RegisterTaskDefinition', arn('ecs', `task-definition/${names.taskFamily(app, 'worker')}:3`), {'aws:RequestTag/herogate:app': app}),
      request('ecs:TagResource', arn('ecs', `task/${CLUSTER}/0123456789abcdef`), {'ecs:CreateAction': 'RunTask', 'aws:RequestTag/herogate:app': app}),
      request('ecs:RunTask', arn('ecs', `task-definition/${names.taskFamily(app, 'release')}:1`), cluster),
      request('ecs:DescribeTasks', arn('ecs', `task/${CLUSTER}/0123456789abcdef`), tagged),
      // The release phase's task, stopped when the release gives it up.
      request('ecs:StopTask', arn('ecs', `task/${CLUSTER}/0123456789abcdef`), tagged),
      request('iam:PassRole', role(app, 'ExecutionRole'), {'iam:PassedToService': 'ecs-tasks.amazonaws.com'}),
      request('ssm:GetParametersByPath', arn('ssm', `parameter${names.configPath(app)}`)),
      request('ssm:PutParameter', arn('ssm', `parameter${names.releaseHeadParameter(app)}`)),
      request('logs:GetLogEvents', stream),
      request('ecr:PutImage', repository),
      request('s3:GetObject', `arn:aws:s3:::${BUCKET}/${names.artifactPrefix(app)}release-code/herogate-0.1.0.tgz`),
      request('s3:GetObject', artifact),
      // Scheduled jobs moved to the new release.
      request('scheduler:UpdateSchedule', arn('scheduler', `schedule/${names.scheduleGroup(app)}/4a22e3e`)),
      request('iam:PassRole', role(app, 'SchedulerRole'), {'iam:PassedToService': 'scheduler.amazonaws.com'}),
    ],
    SchedulerRole: [
      request('ecs:RunTask', arn('ecs', `task-definition/${names.taskFamily(app, 'scheduler')}:7`), cluster),
      request('ecs:TagResource', arn('ecs', `task/${CLUSTER}/0123456789abcdef`), {'ecs:CreateAction': 'RunTask', 'aws:RequestTag/herogate:app': app}),
      request('iam:PassRole', role(app, 'TaskRole'), {'iam:PassedToService': 'ecs-tasks.amazonaws.com'}),
    ],
    ExecutionRole: [request('ssm:GetParameters', config), request('logs:PutLogEvents', stream), request('ecr:BatchGetImage', repository)],
    PipelineRole: [
      request('s3:PutObject', artifact),
      request('codecommit:UploadArchive', arn('codecommit', names.codeCommitRepo(app))),
      request('codebuild:StartBuild', arn('codebuild', `project/${names.codeBuildProject(app)}`)),
    ],
    EventsRole: [request('codepipeline:StartPipelineExecution', arn('codepipeline', names.pipeline(app)))],
  }
}

describe('app roles stay within their app', () => {
  const policies = rolePolicies('app.yml', values('demo'))
  const identity = (id: string): Identity => ({
    principal: role('demo', id), account: ACCOUNT,
    policies: policies.filter((p) => p.role === id).map((p) => ({name: p.name, policy: p.document})),
  })

  for (const [id, own] of Object.entries(work('demo'))) {
    it(`grants demo's ${id} demo's own resources and none of demo-2's or demo-web's`, async () => {
      for (const r of own) expect(await decide(identity(id), r), r.source).to.equal('Allowed')
      for (const other of ['demo-2', 'demo-web']) {
        for (const r of work(other)[id]) expect(await decide(identity(id), r), r.source).to.not.equal('Allowed')
      }
    })
  }

  it('refuses a task of another app in the shared cluster, and one without the tag', async () => {
    const task = arn('ecs', `task/${CLUSTER}/0123456789abcdef`)
    const cluster = {'ecs:cluster': arn('ecs', `cluster/${CLUSTER}`)}
    expect(await decide(identity('BuildRole'), request('ecs:DescribeTasks', task, {...cluster, 'aws:ResourceTag/herogate:app': 'demo-2'}))).to.equal('ImplicitlyDenied')
    expect(await decide(identity('BuildRole'), request('ecs:DescribeTasks', task, cluster))).to.equal('ImplicitlyDenied')
    // Re-tagging an existing resource into the app is not possible: tags only on create, only the app's.
    expect(await decide(identity('BuildRole'), request('ecs:TagResource', task, {'aws:RequestTag/herogate:app': 'demo'}))).to.equal('ImplicitlyDenied')
    expect(await decide(identity('BuildRole'), request('ecs:StopTask', task, {...cluster, 'aws:ResourceTag/herogate:app': 'demo-2'}))).to.equal('ImplicitlyDenied')
  })

  it("shares by design only the platform's image cache (to pull through, never to push) and the Docker Hub secret", async () => {
    const build = identity('BuildRole')
    const decision = async (action: string, resource: string) => decide(build, request(action, resource))
    const cached = arn('ecr', 'repository/herogate-public/vend/moby/buildkit')
    for (const action of ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchImportUpstreamImage', 'ecr:CreateRepository']) {
      expect(await decision(action, cached), action).to.equal('Allowed')
    }

    // What every app's build pulls stays what ECR Public serves: no app can write it.
    for (const action of ['ecr:PutImage', 'ecr:InitiateLayerUpload', 'ecr:BatchDeleteImage', 'ecr:DeleteRepository', 'ecr:SetRepositoryPolicy']) {
      expect(await decision(action, cached), action).to.not.equal('Allowed')
    }

    // The cache's import and repository creation reach no other repository.
    for (const repository of [`herogate/demo-2`, 'herogate-publicity/x', 'other/app']) {
      for (const action of ['ecr:BatchImportUpstreamImage', 'ecr:CreateRepository']) expect(await decision(action, arn('ecr', `repository/${repository}`)), `${action} ${repository}`).to.not.equal('Allowed')
    }

    const secret = (name: string) => arn('secretsmanager', `secret:${name}`)
    expect(await decision('secretsmanager:GetSecretValue', secret('ecr-pullthroughcache/herogate-docker-hub-AbCdEf'))).to.equal('Allowed')
    // Asked for while there is no such secret: answered "not found", not "denied".
    expect(await decision('secretsmanager:GetSecretValue', secret('ecr-pullthroughcache/herogate-docker-hub'))).to.equal('Allowed')
    for (const other of ['ecr-pullthroughcache/herogate-docker-hub-other-AbCdEf', 'ecr-pullthroughcache/herogate-docker-hubs-AbCdEf', 'prod/database-AbCdEf']) {
      expect(await decision('secretsmanager:GetSecretValue', secret(other)), other).to.not.equal('Allowed')
    }
  })

  it('lets EventBridge Scheduler start only the app\'s scheduler family, only in the platform\'s cluster', async () => {
    const cluster = {'ecs:cluster': arn('ecs', `cluster/${CLUSTER}`)}
    const runTask = (family: string, context: Record<string, string>) => decide(identity('SchedulerRole'), request('ecs:RunTask', arn('ecs', `task-definition/${family}:1`), context))
    expect(await runTask(names.taskFamily('demo', 'scheduler'), cluster)).to.equal('Allowed')
    expect(await runTask(names.taskFamily('demo', 'web'), cluster)).to.equal('ImplicitlyDenied')
    expect(await runTask(names.taskFamily('demo', 'scheduler'), {'ecs:cluster': arn('ecs', 'cluster/other')})).to.equal('ImplicitlyDenied')
  })

  it('lets no service of the app run another app\'s task definition', async () => {
    const service = arn('ecs', `service/${CLUSTER}/${names.service('demo', 'web')}`)
    const cluster = {'ecs:cluster': arn('ecs', `cluster/${CLUSTER}`)}
    expect(await decide(identity('BuildRole'), request('ecs:UpdateService', service, {...cluster, 'ecs:task-definition': arn('ecs', `task-definition/${names.taskFamily('demo-2', 'web')}:1`)}))).to.equal('ImplicitlyDenied')
    // A scale (no task definition named) is allowed.
    expect(await decide(identity('BuildRole'), request('ecs:UpdateService', service, cluster))).to.equal('Allowed')
  })
})
