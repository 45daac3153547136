import {CloudFormationClient, CreateStackCommand, DescribeStacksCommand, ListStackResourcesCommand, type Parameter} from '@aws-sdk/client-cloudformation'
import {DeleteListenerCommand, ElasticLoadBalancingV2Client} from '@aws-sdk/client-elastic-load-balancing-v2'
import {CreateHostedZoneCommand, Route53Client} from '@aws-sdk/client-route-53'
import {CreateRepositoryCommand, ECRClient} from '@aws-sdk/client-ecr'
import {ECSClient, type Task} from '@aws-sdk/client-ecs'
import {CreateScheduleGroupCommand, SchedulerClient} from '@aws-sdk/client-scheduler'
import {CreateSecretCommand, SecretsManagerClient} from '@aws-sdk/client-secrets-manager'
import {existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {Writable} from 'node:stream'
import {execFileSync} from 'node:child_process'

import {AwsClients} from '../../src/aws/clients.js'
import {COMPACT_EVERY} from '../../src/aws/release-store.js'
import {names} from '../../src/lib/naming.js'
import type {AwsContext} from '../../src/platform/aws/context.js'
import {deploy} from '../../src/platform/aws/deploy.js'
import {AwsPlatform} from '../../src/platform/aws/index.js'
import {runRelease} from '../../src/release/index.js'
import type {Runner} from '../../src/release/build.js'
import {validatingAcm} from '../helpers/acm-standin.js'
import {appTemplateBeforeAppGroups} from '../platform/aws/app-upgrade.fixture.js'
import {completingRollouts, enableDnsHostnames, fakeClock} from '../platform/aws/formation.fixture.js'
import type {StackResource} from './provisioning.js'
import {type CommandRun, Recorder} from './record.js'
import {AddonStandIn} from './addon-stand-in.js'
import {ecrRepository, imageUse, inImageCache} from './requests.js'
import {standIns, type PipelineState} from './stand-ins.js'
import {loadTemplate, resolver, type StackValues} from './template.js'

/**
 * Every command a herogate user runs on AWS, in a user's order, against moto: create (the
 * platform and the app), config, two deploys whose pushes run the build's `internal:release`
 * under the build role (a Dockerfile whose FROM comes through the platform's image cache,
 * then buildpacks with the account's Docker Hub secret), scale, ps, settings, run, stop,
 * restart, logs, releases (releases:output too), rollback, info, apps, domains (add, wait, list, certs,
 * remove), destroy and platform:destroy. The calls are
 * recorded per principal, and the stacks are read (unrecorded) so the template's policies
 * can be resolved for this very app.
 */

export const REGION = 'us-east-1'
export const APP = 'demo'
const LEGACY_APP = 'legacy'
export const COMMIT = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678'
const BUILDPACKS_COMMIT = 'b2c3d4e5f60718293a4b5c6d7e8f9012345678a1'
const DIGEST = `sha256:${'d'.repeat(64)}`
const ACCOUNT = '123456789012'

export interface StackSnapshot {
  file: string
  name: string
  values: StackValues
  resources: StackResource[]
}

export interface Recording {
  recorder: Recorder
  account: string
  platform: StackSnapshot
  app: StackSnapshot
  /** Add-on stacks (answered by AddonStandIn), resolved from their templates. */
  addons: StackSnapshot[]
  /** App stacks made before apps had a security group of their own, as their upgrade left them. */
  upgraded: StackSnapshot[]
}

/** An app made from the app template before app security groups (unrecorded: it stands for an older herogate's create). */
async function createAppBeforeAppGroups(app: string, like: StackSnapshot): Promise<void> {
  const cfn = new CloudFormationClient({region: REGION})
  const platform = (await cfn.send(new DescribeStacksCommand({StackName: names.platformStack()}))).Stacks![0]
  const subnets = platform.Outputs!.find((o) => o.OutputKey === 'Subnets')!.OutputValue!
  const parameters: Record<string, string> = {...like.values.parameters, AppName: app, Subnets: subnets, ListenerPort: '10001', RulePriority: '2', PipelineArtifactPrefix: `herogate-${app}`}
  delete parameters.LoadBalancerSecurityGroup
  await cfn.send(new CreateStackCommand({
    StackName: names.appStack(app), TemplateBody: appTemplateBeforeAppGroups(), Capabilities: ['CAPABILITY_IAM'], Tags: [{Key: names.appTag(), Value: app}],
    Parameters: Object.entries(parameters).map(([ParameterKey, ParameterValue]) => ({ParameterKey, ParameterValue})),
  }))
}

/** A stack as CloudFormation left it: its parameters and its resources' physical names. */
export async function snapshot(file: string, stackName: string, account: string): Promise<StackSnapshot> {
  const cfn = new CloudFormationClient({region: REGION})
  const stack = (await cfn.send(new DescribeStacksCommand({StackName: stackName}))).Stacks![0]
  const listed = (await cfn.send(new ListStackResourcesCommand({StackName: stackName}))).StackResourceSummaries ?? []
  const physical = Object.fromEntries(listed.map((r) => [r.LogicalResourceId!, r.PhysicalResourceId!]))
  const {body} = loadTemplate(file)
  const parameters: Record<string, string> = {}
  for (const [key, spec] of Object.entries((body.Parameters ?? {}) as Record<string, {Default?: unknown}>)) {
    if (spec.Default !== undefined) parameters[key] = String(spec.Default)
  }

  for (const p of stack.Parameters ?? []) parameters[p.ParameterKey!] = p.ParameterValue!
  const values: StackValues = {partition: 'aws', region: REGION, account, stackName, stackId: stack.StackId!, parameters, refs: {}, attributes: {}}
  const resources = body.Resources as Record<string, {Type: string; Condition?: string; Properties?: Record<string, unknown>}>
  for (const [id, resource] of Object.entries(resources)) {
    // moto makes no CodeCommit, CodeBuild or CodePipeline resources: those are named by their Name properties.
    const name = physical[id] ?? `${stackName}-${id}`
    values.refs[id] = name
    for (const [attribute, value] of Object.entries(attributesOf(resource.Type, name, values))) values.attributes[`${id}.${attribute}`] = value
  }

  const resolve = resolver(body, values, {loose: true})
  const live = Object.entries(resources).filter(([, r]) => !r.Condition || resolve({fn: 'Condition', arg: r.Condition}))
  return {
    file,
    name: stackName,
    values,
    resources: live.map(([id, r]) => ({id, type: r.Type, physicalId: physical[id] ?? '', properties: resolve(r.Properties ?? {}) as Record<string, any>})),
  }
}

function attributesOf(type: string, name: string, v: StackValues): Record<string, string> {
  switch (type) {
    case 'AWS::IAM::Role': return {Arn: `arn:${v.partition}:iam::${v.account}:role/${name}`}
    case 'AWS::ECR::Repository': return {Arn: `arn:${v.partition}:ecr:${v.region}:${v.account}:repository/${name}`, RepositoryUri: `${v.account}.dkr.ecr.${v.region}.amazonaws.com/${name}`}
    case 'AWS::Logs::LogGroup': return {Arn: `arn:${v.partition}:logs:${v.region}:${v.account}:log-group:${name}:*`}
    case 'AWS::S3::Bucket': return {Arn: `arn:${v.partition}:s3:::${name}`}
    default: return {}
  }
}

/**
 * Records what the build runs, with the Dockerfile buildx reads. It stands in for the tools:
 * buildx "pushes" by writing the digest where herogate reads it, pack prints it, and a pull
 * through the platform's image cache makes the cache's repository as ECR does.
 */
function recordingRunner(recorder: Recorder): Runner {
  const ecr = new ECRClient({region: REGION})
  return async (argv) => {
    const run: CommandRun = {principal: 'build', argv, step: recorder.step}
    const dockerfile = join(argv.at(-1) ?? '', 'Dockerfile')
    if (argv[1] === 'buildx' && argv[2] === 'build' && existsSync(dockerfile)) run.files = {Dockerfile: readFileSync(dockerfile, 'utf8')}
    recorder.commands.push(run)
    for (const image of imageUse(run)?.pull ?? []) {
      const repository = ecrRepository(image)?.repository
      if (repository && inImageCache(repository)) await ecr.send(new CreateRepositoryCommand({repositoryName: repository})).catch((error: Error) => {
        if (error.name !== 'RepositoryAlreadyExistsException') throw error
      })
    }

    const metadata = argv.indexOf('--metadata-file')
    if (metadata > 0) writeFileSync(argv[metadata + 1], JSON.stringify({'containerimage.digest': DIGEST}))
    return argv[0].endsWith('/pack') ? `*** Digest: ${DIGEST}\n` : ''
  }
}

/** moto reports no exit code for a task that ran to its end: here it exited 0, as the release command and run do. */
function exitingTasks(client: ECSClient): ECSClient {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args)
      if (context.commandName === 'DescribeTasksCommand') {
        for (const task of (result.output as {tasks?: Task[]}).tasks ?? []) {
          if (task.lastStatus !== 'STOPPED') continue
          for (const container of task.containers ?? []) container.exitCode ??= 0
        }
      }

      return result
    },
    {step: 'initialize', name: 'exitingTasks'},
  )
  return client
}

/**
 * moto updates a resource whose condition turned false instead of deleting it (and fails on
 * the HTTPS listener's empty certificate): an update that clears the platform's CertificateArn
 * is answered as AWS carries it out, the listener deleted. The call is recorded all the same.
 */
function removingHttpsListener(client: CloudFormationClient): CloudFormationClient {
  const elb = new ElasticLoadBalancingV2Client({region: REGION})
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as {StackName?: string; Parameters?: Parameter[]}
      const clearing = context.commandName === 'UpdateStackCommand' && input.Parameters?.some((p) => p.ParameterKey === 'CertificateArn' && p.ParameterValue === '')
      if (!clearing) return next(args)
      const [stack] = (await client.send(new DescribeStacksCommand({StackName: input.StackName}))).Stacks!
      const listener = stack.Outputs?.find((o) => o.OutputKey === 'HttpsListenerArn')?.OutputValue
      if (listener) await elb.send(new DeleteListenerCommand({ListenerArn: listener}))
      return {output: {StackId: stack.StackId, $metadata: {}}, response: {}}
    },
    {step: 'initialize', name: 'removingHttpsListener'},
  )
  return client
}

async function context(recorder: Recorder, principal: 'user' | 'build', pipeline: PipelineState, clock: ReturnType<typeof fakeClock>, addons?: AddonStandIn): Promise<AwsContext> {
  const clients = new AwsClients({region: REGION})
  // ACM issues a certificate once its validation record is in DNS (here: the account's Route 53 zone).
  clients.set('acm', validatingAcm(REGION))
  clients.set('cloudformation', removingHttpsListener(new CloudFormationClient({region: REGION})))
  // Deployments complete as ECS reports them; one-off tasks exit 0.
  clients.set('ecs', exitingTasks(completingRollouts(new ECSClient({region: REGION}))))
  await standIns(clients, pipeline)
  await addons?.install(clients)
  await recorder.attach(clients, principal)
  return {region: REGION, clients, clock}
}

const sink = new Writable({write: (_chunk, _encoding, done) => done()})

export async function recordEverything(): Promise<Recording> {
  const recorder = new Recorder()
  const clock = fakeClock()
  const pipeline: PipelineState = {buildId: `${names.codeBuildProject(APP)}:0b1c2d3e-0000-4000-8000-000000000001`, author: {name: 'Dev', email: 'dev@example.com'}, logGroup: names.logGroup(APP), account: ACCOUNT}
  const addonStacks = new AddonStandIn(REGION, ACCOUNT)
  const user = await context(recorder, 'user', pipeline, clock, addonStacks)
  const build = await context(recorder, 'build', pipeline, clock)
  const platform = new AwsPlatform(user)
  const scratch = mkdtempSync(join(tmpdir(), 'hg-iam-'))
  const [repo, source, buildpacksSource, scratchHome, buildTmp] = ['repo', 'source', 'buildpacks', 'home', 'tmp'].map((dir) => join(scratch, dir))
  for (const dir of [repo, source, buildpacksSource, scratchHome, join(buildTmp, 'herogate-build')]) mkdirSync(dir, {recursive: true})
  const saved = {home: process.env.HEROGATE_HOME, tmp: process.env.TMPDIR}
  process.env.HEROGATE_HOME = scratchHome
  // The build's scratch directory (os.tmpdir()/herogate-build) lies in this run's own directory.
  process.env.TMPDIR = buildTmp
  try {
    execFileSync('git', ['init', '-q', '-b', 'main', repo])
    const procfile = 'web: node server.js\nworker: node worker.js\nrelease: node migrate.js\n'
    // The README's way around Docker Hub's pull limit: FROM through the platform's cache of ECR Public.
    writeFileSync(join(source, 'Dockerfile'), 'ARG HEROGATE_IMAGE_CACHE=public.ecr.aws\nFROM ${HEROGATE_IMAGE_CACHE}/docker/library/node:20-slim AS base\nFROM base\n')
    writeFileSync(join(source, 'Procfile'), procfile)
    writeFileSync(join(buildpacksSource, 'Procfile'), procfile)
    // The second deploy brings a scheduled job in app.json: the build role schedules it; the rollback removes it.
    writeFileSync(join(buildpacksSource, 'app.json'), JSON.stringify({cron: [{command: 'node nightly.js', schedule: '@daily'}]}))
    // The pinned pack CLI is in place, so the build downloads nothing (the runner stands in for it).
    writeFileSync(join(buildTmp, 'herogate-build', 'pack'), '')
    const step = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
      recorder.at(name)
      return work()
    }

    await step('create', () => platform.createApp({name: APP, cwd: repo}))
    const platformStack = await snapshot('platform.yml', names.platformStack(), ACCOUNT)
    const appStack = await snapshot('app.yml', names.appStack(APP), ACCOUNT)
    // moto's CloudFormation leaves DNS host names off, which its RunTask needs.
    await enableDnsHostnames(platformStack.values.refs.Vpc)
    // Nor does it make the app's schedule group (AWS::Scheduler::ScheduleGroup), as AWS does.
    await new SchedulerClient({region: REGION}).send(new CreateScheduleGroupCommand({Name: names.scheduleGroup(APP)}))

    await step('apps', () => platform.listApps())
    await step('info', () => platform.appInfo(APP))
    await step('config:set', () => platform.setConfig(APP, {DATABASE_URL: 'postgres://db/demo', EMPTY: ''}))
    await step('config', () => platform.getConfig(APP))
    // The push starts the pipeline, whose build runs `herogate internal:release` with the build role.
    const push = (commit: string, from: string) => deploy(user, APP, {cwd: repo}, {
      head: async () => commit,
      push: async () => {
        pipeline.commit = commit
        pipeline.startedAt = clock.now()
        const pushing = recorder.step
        recorder.at(`internal:release (${pushing})`)
        await runRelease({app: APP, source: from, commit, buildId: pipeline.buildId, ctx: build, runner: recordingRunner(recorder), onProgress: () => {}})
        recorder.at(pushing)
        return {upToDate: false}
      },
    })
    // Releases up to v19, so that the push's release is v20: the build role's run compacts the
    // history, archiving v1 to v10 and deleting their parameters.
    const firstDeploy = 2 * COMPACT_EVERY
    for (let i = 2; i < firstDeploy; i++) await step('config:set (more releases)', () => platform.setConfig(APP, {[`VAR_${i}`]: String(i)}))
    // No Docker Hub secret yet: the build looks for it and pulls anonymously.
    await step('deploy', () => push(COMMIT, source))
    // The user keeps Docker Hub credentials for the builds (README: Docker Hub), with the AWS CLI.
    await new SecretsManagerClient({region: REGION}).send(new CreateSecretCommand({Name: names.dockerHubSecret(), SecretString: JSON.stringify({username: 'dev', accessToken: 'dckr_pat_example'})}))
    await step('deploy (buildpacks)', () => push(BUILDPACKS_COMMIT, buildpacksSource))
    await step('scheduler:add', () => platform.addScheduledJob(APP, {schedule: 'rate(1 hour)', command: 'node report.js', size: 'standard-2x'}))
    await step('scheduler', () => platform.scheduledJobs(APP))
    await step('ps:scale', () => platform.scale(APP, [{type: 'worker', quantity: 1}]))
    await step('ps:scale (size)', () => platform.scale(APP, [{type: 'web', quantity: 2, size: 'standard-2x'}]))
    await step('ps', () => platform.ps(APP))
    await step('apps:settings', () => platform.settings(APP))
    await step('apps:settings:set', () => platform.setSettings(APP, {'boot-timeout': 90, 'health-check-path': '/up'}))
    await step('apps:settings:unset', () => platform.unsetSettings(APP, ['boot-timeout', 'health-check-path']))
    await step('maintenance:on', () => platform.setMaintenance(APP, true))
    await step('maintenance', () => platform.maintenance(APP))
    await step('maintenance:off', () => platform.setMaintenance(APP, false))
    await step('ps:autoscale', () => platform.autoscale(APP, {type: 'web', min: 1, max: 3, metric: 'requests-per-process', target: 1000}))
    await step('ps:autoscale (cpu)', () => platform.autoscale(APP, {type: 'worker', min: 1, max: 2, metric: 'cpu', target: 60}))
    await step('ps (autoscaled)', () => platform.formation(APP))
    await step('ps:autoscale:disable', () => platform.disableAutoscale(APP, 'worker'))
    await step('releases', () => platform.releases(APP, {num: 10}))
    await step('releases:info', () => platform.releaseInfo(APP, 1))
    // The first deploy names its build: its output is the build's log stream in the app's log group.
    await step('releases:output', () => platform.releaseOutput(APP, firstDeploy))
    const detached = await step('run --detached', () => platform.run(APP, {command: ['sleep', '60'], env: {}, detached: true, tty: false, stdout: sink, stderr: sink}))
    await step('ps:stop', () => platform.stop(APP, detached.id))
    await step('run', () => platform.run(APP, {command: ['rake', 'db:migrate'], env: {VERBOSE: '1'}, detached: false, tty: false, stdout: sink, stderr: sink}))
    await step('ps:restart', () => platform.restart(APP))
    await step('logs', async () => {
      for await (const _ of platform.logs(APP, {num: 20, tail: false}));
    })
    await step('logs --tail', async () => {
      const stop = new AbortController()
      const lines = platform.logs(APP, {num: 1, tail: true, signal: stop.signal})[Symbol.asyncIterator]()
      // The session starts and the history (the releases' own log lines) is read before the first line; then Ctrl-C.
      await lines.next()
      stop.abort()
      await lines.return?.()
    })
    await step('config:unset', () => platform.unsetConfig(APP, ['EMPTY']))
    await step('config:edit', () => platform.editConfig(APP, {set: {EDITED: '1'}, unset: ['DATABASE_URL']}))
    // Add-ons (issue 12): the platform is current, so platform:upgrade only reads it.
    await step('platform:upgrade', () => platform.upgradePlatform())
    await step('addons:create postgres --wait', () => platform.createAddon(APP, {service: 'postgres', wait: true}))
    await step('addons:create redis', () => platform.createAddon(APP, {service: 'redis'}))
    // Attaching an add-on whose create was not waited for gives it a fresh secret (a stack update).
    await step('addons:wait', () => platform.waitAddons(APP, undefined))
    await step('addons', () => platform.addons(APP))
    await step('addons:info', () => platform.addonInfo(APP, 'postgres-1'))
    const backup = await step('pg:backups:capture', () => platform.captureBackup(APP, undefined))
    await step('pg:backups', () => platform.backups(APP))
    await step('pg:backups:restore', () => platform.restoreBackup(APP, backup.id))
    await step('addons:destroy', () => platform.destroyAddon(APP, 'redis-1'))
    // Aurora Serverless v2: cluster snapshots, and a destroy without a final one.
    await step('addons:create postgres --plan serverless-0', () => platform.createAddon(APP, {service: 'postgres', plan: 'serverless-0', as: 'analytics', wait: true}))
    await step('pg:backups:capture analytics', () => platform.captureBackup(APP, 'analytics'))
    await step('pg:backups analytics', () => platform.backups(APP, 'analytics'))
    await step('addons:destroy --no-snapshot', () => platform.destroyAddon(APP, 'analytics', {snapshot: false}))
    // An app made before apps had a security group of their own: its first add-on updates its stack (app-upgrade.ts).
    await createAppBeforeAppGroups(LEGACY_APP, appStack)
    await step('addons:create (an app made before app security groups)', () => platform.createAddon(LEGACY_APP, {service: 'postgres'}))
    const upgraded = await snapshot('app.yml', names.appStack(LEGACY_APP), ACCOUNT)
    // Gone again, so that platform:destroy below finds no app but the first.
    await step('destroy (the upgraded app)', () => platform.destroyApp(LEGACY_APP, {cwd: repo}))
    await step('git:remote', () => platform.gitRemote(APP, {cwd: repo}))
    // Refused on AWS after it has looked the app up: the lookup's calls are the user's too.
    await step('apps:rename', () => platform.renameApp(APP, 'renamed').catch(() => undefined))
    // Back to the first deploy (the buildpacks deploy came after it).
    await step('rollback', () => platform.rollback(APP, firstDeploy))
    // git push and fetch are signed by herogate's credential helper (git:credentials) and
    // authorized by CodeCommit as GitPush and GitPull: no SDK call shows them.
    for (const operation of ['GitPull', 'GitPush']) {
      recorder.calls.push({principal: 'user', service: 'codecommit', operation, input: {repositoryName: names.codeCommitRepo(APP)}, step: 'git push herogate main'})
    }

    await step('scheduler:remove', async () => platform.removeScheduledJob(APP, (await platform.scheduledJobs(APP)).find((job) => job.source === 'cli')!.id))
    // Custom domains, in a zone of the account's Route 53 (herogate makes the records): the first
    // one gives the platform its HTTPS listener, the others are added to it; removing one of
    // those takes it off the listener, removing the first hands the listener's default
    // certificate to another, and destroy removes the last one with the listener.
    await new Route53Client({region: REGION}).send(new CreateHostedZoneCommand({Name: 'example.com', CallerReference: 'iam-scenario'}))
    await step('domains:add', () => platform.addDomain(APP, 'www.example.com'))
    await step('domains:wait', () => platform.waitDomain(APP, 'www.example.com'))
    for (const host of ['api.example.com', 'shop.example.com']) await step('domains:add (more)', () => platform.addDomain(APP, host))
    await step('domains', () => platform.domains(APP))
    await step('certs', () => platform.certs(APP))
    await step('domains:remove', () => platform.removeDomain(APP, 'api.example.com'))
    await step('domains:remove (the default certificate)', () => platform.removeDomain(APP, 'www.example.com'))
    await step('destroy', () => platform.destroyApp(APP, {cwd: repo}))
    // moto cannot delete a stack with a route table (MOTO-NOTES.md): the calls up to the failure are what count.
    await step('platform:destroy', () => platform.destroyPlatform().catch(() => undefined))
    return {recorder, account: ACCOUNT, platform: platformStack, app: appStack, addons: addonStacks.snapshots(), upgraded: [upgraded]}
  } finally {
    for (const [key, value] of [['HEROGATE_HOME', saved.home], ['TMPDIR', saved.tmp]] as const) {
      if (value === undefined) delete process.env[key]
      else process.env[key] = value
    }

    rmSync(scratch, {recursive: true, force: true})
  }
}
