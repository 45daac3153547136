/**
 * The whole push-to-live path of a deploy on AWS, modeled step by step (no machine here reaches
 * AWS), for herogate and for the original Herogate (wata727/herogate) with the same app:
 * trigger, pipeline source stage, CodeBuild queue and provisioning, release code install, image
 * build (cold, and with the layer cache), push, release phase, rollout and draining.
 *
 *     npx tsx bench/deploy-model.ts            # the table, both sides, and the ratios
 *     npx tsx bench/deploy-model.ts --json     # the same figures as JSON
 *
 * Where a figure comes from is said beside it: SETTING figures are read from our templates and
 * code (or quoted from Herogate's template, with its commit); ASSUMED figures are typical
 * timings of AWS and of a small Node app, the same on both sides unless the two do different
 * work. The ratio depends on the assumptions much less than the totals do: most of the gap is
 * settings (event trigger vs polling, health checks, draining, the layer cache, no
 * CloudFormation stage). Goals: push-to-live with a warm cache at most half of Herogate's; a
 * crashing release detected and rolled back in under 90 s with a grace period real apps survive.
 */
import {readFileSync} from 'node:fs'
import {pathToFileURL} from 'node:url'
import {parse, type Tags} from 'yaml'

import {DEPLOY_POLL_MS} from '../src/platform/aws/deploy.js'
import {ROLLOUT_SETTINGS} from '../src/platform/aws/rollout.js'

/** Typical timings (seconds), assumptions both sides share unless a step says otherwise. */
export const ASSUMED = {
  /** EventBridge delivers a CodeCommit push event to CodePipeline. */
  eventDelivery: 2,
  /** CodePipeline V1 polling of CodeCommit (Herogate's source action): half its ~1 min period on average. */
  pollingDelay: 30,
  /** The CodeCommit source action zips the commit into the artifact bucket. */
  sourceAction: 5,
  /** CodePipeline moves an artifact from one stage to the next. */
  stageTransition: 5,
  /** CodeBuild: queued, then a build container provisioned from a curated image (cached on its hosts). */
  codebuildQueue: 3,
  codebuildProvisioning: 30,
  /** CodeBuild downloads the source artifact. */
  downloadSource: 3,
  /** The install phase's runtime-versions switch (nodejs: 20). */
  runtimeVersions: 2,
  /** herogate's pinned release code: npm install -g of the shrinkwrapped tarball from the artifact bucket. */
  herogateInstall: 15,
  /** Herogate downloads its own binary with wget. */
  herogateDownload: 2,
  /** docker login to ECR. */
  ecrLogin: 2,
  /** docker buildx create --bootstrap: starts BuildKit, its image pulled from the platform's ECR (in region). */
  buildkitBootstrap: 6,
  /** A small Node app built from nothing: base image pull, npm ci, COPY, layers written. */
  coldBuild: 60,
  /** With the layer cache: only the layers after COPY . are rebuilt (dependencies unchanged). */
  changedLayers: 6,
  /** BuildKit reads the registry cache's manifest (no layer is downloaded unless a step needs it). */
  cacheImport: 2,
  /** BuildKit writes the changed layers of the cache (mode=max) back to ECR. */
  cacheExport: 3,
  /** The previous image (about 250 MB) pulled and extracted whole, as `docker pull` before `--cache-from` does. */
  fullImagePull: 12,
  /** Pushing the changed layers and the manifest to ECR (in region). */
  push: 4,
  /** Herogate pushes a second tag (latest): manifest only. */
  secondTag: 1,
  /** CodeBuild uploads the artifacts (Herogate's generated template) and finalizes. */
  uploadArtifacts: 3,
  /** Fargate: place the task, attach its ENI, pull the image, start the container. */
  fargateStart: 35,
  /** The app process starts listening. */
  appBoot: 5,
  /** A crashing app exits this long after its container starts. */
  crashAfter: 2,
  /** ECS starts a replacement for a failed task of a service (first retries are not throttled). */
  replaceDelay: 5,
  /** RegisterTaskDefinition + UpdateService per process type. */
  apiCalls: 2,
  /** CloudFormation starts the stack update of the service (change evaluation, UpdateService). */
  stackUpdateStart: 15,
  /** CloudFormation notices the ECS service is stable: half its polling interval on average. */
  stackStablePoll: 15,
  /** CloudFormation's wait for a service that never stabilises before it rolls the stack back. */
  stackStabilizeTimeout: 3 * 3600,
  /** A slow framework (Rails, Django, Spring on 0.5 vCPU) until it listens: the grace must cover it. */
  slowAppBoot: 45,
}

/** wata727/herogate's settings: its pipeline, build and service (api/assets/platform.yaml). */
export const HEROGATE = {
  source: 'wata727/herogate api/assets/platform.yaml @18bf4acacba9e2fcf0db461432ad20e81a29c265',
  // Source (CodeCommit, polling), Builder (CodeBuild), Deployer (CloudFormation CREATE_UPDATE).
  stages: 3,
  trigger: 'polling' as const,
  // Its buildspec: docker pull "$REPOSITORY_URI" || true, then docker build --cache-from "$REPOSITORY_URI".
  cache: 'whole previous image pulled',
  minimumHealthyPercent: 50,
  maximumPercent: 200,
  // No HealthCheck* properties on the target group: the ALB defaults for an HTTP ip target group.
  healthCheckInterval: 30,
  healthyThreshold: 5,
  unhealthyThreshold: 2,
  healthCheckTimeout: 5,
  // That template sets deregistration_delay.timeout_seconds 50; its first template
  // (platform.yaml @bc1d0c5) left the 300 s default. The faster one is the baseline here.
  deregistrationDelay: 50,
  gracePeriod: 0,
  circuitBreaker: false,
}

type Template = {
  Parameters?: Record<string, {Default?: unknown}>
  Resources: Record<string, {Type: string; Properties?: Record<string, any>}>
}

/** CloudFormation's short intrinsic tags, read as {Name: value}: only literal settings and parameter defaults matter here. */
const CFN_TAGS: Tags = ['Ref', 'Sub', 'GetAtt', 'If', 'Equals', 'Not', 'And', 'Or', 'Select', 'Split', 'Join', 'FindInMap', 'ImportValue', 'Base64', 'Cidr', 'GetAZs', 'Condition']
  .flatMap((name) => (['scalar', 'seq', 'map'] as const).map((kind) => ({tag: `!${name}`, ...(kind === 'scalar' ? {} : {collection: kind}), resolve: (value: unknown) => ({[name]: value})}))) as Tags

/** herogate's settings, read from templates/app.yml (parameter defaults where a setting is a parameter) and the watcher's code. */
export function ourSettings(templatePath = new URL('../templates/app.yml', import.meta.url)) {
  const template = parse(readFileSync(templatePath, 'utf8'), {customTags: CFN_TAGS}) as Template
  const resources = Object.values(template.Resources)
  const of = (type: string) => resources.find((r) => r.Type === type)?.Properties ?? {}
  const targetGroup = of('AWS::ElasticLoadBalancingV2::TargetGroup')
  const service = of('AWS::ECS::Service')
  const pipeline = of('AWS::CodePipeline::Pipeline')
  const project = of('AWS::CodeBuild::Project')
  const value = (setting: unknown): unknown => {
    const ref = (setting as {Ref?: string} | undefined)?.Ref
    return ref ? template.Parameters?.[ref]?.Default : setting
  }

  const number = (setting: unknown, fallback: number) => {
    const v = value(setting)
    return v === undefined ? fallback : Number(v)
  }

  const attribute = (key: string) => (targetGroup.TargetGroupAttributes as Array<{Key: string; Value: string}> | undefined)?.find((a) => a.Key === key)?.Value
  const eventRule = resources.some((r) => r.Type === 'AWS::Events::Rule')
  const polls = JSON.stringify(pipeline).includes('"PollForSourceChanges":true')
  const triggers = JSON.stringify(pipeline).includes('"Triggers"')
  return {
    source: 'templates/app.yml',
    stages: Array.isArray(pipeline.Stages) ? pipeline.Stages.length : 2,
    trigger: (eventRule || triggers) && !polls ? ('event' as const) : ('polling' as const),
    cache: 'BuildKit registry cache in ECR',
    computeType: String(value(project.Environment?.ComputeType) ?? 'unknown'),
    buildTimeoutMinutes: number(project.TimeoutInMinutes, 60),
    minimumHealthyPercent: number(service.DeploymentConfiguration?.MinimumHealthyPercent, 100),
    maximumPercent: number(service.DeploymentConfiguration?.MaximumPercent, 200),
    healthCheckInterval: number(targetGroup.HealthCheckIntervalSeconds, 30),
    healthyThreshold: number(targetGroup.HealthyThresholdCount, 5),
    unhealthyThreshold: number(targetGroup.UnhealthyThresholdCount, 2),
    healthCheckTimeout: number(targetGroup.HealthCheckTimeoutSeconds, 5),
    deregistrationDelay: number(attribute('deregistration_delay.timeout_seconds'), 300),
    gracePeriod: number(service.HealthCheckGracePeriodSeconds, 0),
    circuitBreaker: Boolean(service.DeploymentConfiguration?.DeploymentCircuitBreaker?.Enable),
    failFast: ROLLOUT_SETTINGS.failFast,
    watcherPoll: ROLLOUT_SETTINGS.pollMs / 1000,
    deployPoll: DEPLOY_POLL_MS / 1000,
  }
}

/** A step: what happens, seconds, and whether the figure is a setting or an assumption. */
export type Step = {step: string; seconds: number; from: 'setting' | 'assumed'}
const step = (name: string, seconds: number, from: Step['from'] = 'assumed'): Step => ({step: name, seconds, from})
export const total = (steps: Step[]) => steps.reduce((sum, s) => sum + s.seconds, 0)

type HealthSettings = {healthyThreshold: number; healthCheckInterval: number; deregistrationDelay: number}

/** The rollout of one web process once its new task definition is in place. */
function rollout(s: HealthSettings): Step[] {
  const a = ASSUMED
  return [
    step('new task starts (Fargate) and the app listens', a.fargateStart + a.appBoot),
    step(`load balancer marks it healthy (${s.healthyThreshold} x ${s.healthCheckInterval} s)`, s.healthyThreshold * s.healthCheckInterval, 'setting'),
    step(`old task drains (deregistration delay ${s.deregistrationDelay} s)`, s.deregistrationDelay, 'setting'),
  ]
}

/** Push to the new release serving alone, one web process, no release command (Herogate has no release phase). */
export function pushToLive(cache: 'cold' | 'warm') {
  const ours = ourSettings()
  const a = ASSUMED
  const warm = cache === 'warm'
  const herogate: Step[] = [
    step('source trigger (CodePipeline polls CodeCommit)', a.pollingDelay, 'setting'),
    step('source action (commit zipped to S3)', a.sourceAction),
    step('stage transition to CodeBuild', a.stageTransition),
    step('CodeBuild queue and provisioning', a.codebuildQueue + a.codebuildProvisioning),
    step('download source', a.downloadSource),
    step('ECR login', a.ecrLogin),
    ...(warm ? [step('docker pull of the whole previous image (for --cache-from)', a.fullImagePull)] : []),
    step('release code (wget of its binary)', a.herogateDownload),
    step(warm ? 'image build: changed layers only' : 'image build from nothing', warm ? a.changedLayers : a.coldBuild),
    step('push (two tags)', a.push + a.secondTag),
    step('generate the template, upload artifacts', a.uploadArtifacts),
    step('stage transition to the CloudFormation deploy', a.stageTransition),
    step('stack update reaches the service', a.stackUpdateStart),
    ...rollout(HEROGATE),
    step('CloudFormation sees the service stable', a.stackStablePoll),
  ]
  const herogateNow: Step[] = [
    step(`source trigger (${ours.trigger === 'event' ? 'push event' : 'polling'})`, ours.trigger === 'event' ? a.eventDelivery : a.pollingDelay, 'setting'),
    step('source action (commit zipped to S3)', a.sourceAction),
    step('stage transition to CodeBuild', a.stageTransition),
    step(`CodeBuild queue and provisioning (${ours.computeType})`, a.codebuildQueue + a.codebuildProvisioning),
    step('download source, runtime-versions', a.downloadSource + a.runtimeVersions),
    step('release code (npm install of the pinned package)', a.herogateInstall),
    step('ECR login', a.ecrLogin),
    step('BuildKit builder starts (image from the platform\'s ECR)', a.buildkitBootstrap),
    ...(warm
      ? [step('image build: cache manifest read, changed layers only, cache written', a.cacheImport + a.changedLayers + a.cacheExport)]
      : [step('image build from nothing, cache written', a.coldBuild + a.cacheExport)]),
    step('push', a.push),
    step('new task definitions, UpdateService', a.apiCalls),
    ...rollout(ours),
    step(`watcher sees the rollout complete (polls every ${ours.watcherPoll} s)`, ours.watcherPoll / 2, 'setting'),
  ]
  return {ours, herogate, herogateNow}
}

/** A release whose process exits at once: from the rollout's start to the previous release restored. */
export function crashRollback() {
  const ours = ourSettings()
  const a = ASSUMED
  // One web process: ECS replaces one new task at a time, so the failures come one after another.
  const attempts = (what: string, seconds: number): Step[] =>
    Array.from({length: ours.failFast}, (_, i): Step[] => [
      ...(i > 0 ? [step('ECS starts a replacement', a.replaceDelay)] : []),
      step(`new task ${i + 1} ${what}`, seconds),
    ]).flat()
  const tail: Step[] = [
    step(`watcher sees ${ours.failFast} failed tasks (polls every ${ours.watcherPoll} s)`, ours.watcherPoll, 'setting'),
    step('UpdateService back to the previous task definitions (old tasks never stopped)', a.apiCalls),
  ]
  // A crash is a crash inside the grace period too; health checks only count once it is over.
  const crashAttempt = a.fargateStart + a.crashAfter
  const unhealthyAttempt = a.fargateStart + Math.max(ours.gracePeriod, a.appBoot + ours.unhealthyThreshold * ours.healthCheckInterval)
  return {
    crash: [...attempts('starts and crashes', crashAttempt), ...tail],
    unhealthy: [...attempts(`starts, never passes health checks, is stopped after its ${ours.gracePeriod} s grace`, unhealthyAttempt), ...tail],
    // Two or more processes: ECS starts that many new tasks together (maximum 200%).
    parallel: crashAttempt + ours.watcherPoll + a.apiCalls,
    // Whether an app that needs slowAppBoot seconds to listen survives its first health checks.
    slowAppSurvives: ours.gracePeriod >= a.slowAppBoot,
  }
}

function show(title: string, steps: Step[]): void {
  console.log(`  ${title}`)
  for (const s of steps) console.log(`    ${s.seconds.toFixed(1).padStart(6)} s  ${s.step}${s.from === 'assumed' ? '' : '  [setting]'}`)
  console.log(`    ${total(steps).toFixed(1).padStart(6)} s  total`)
}

function figures() {
  const cold = pushToLive('cold')
  const warm = pushToLive('warm')
  const rollback = crashRollback()
  const ratio = (side: {herogate: Step[]; herogateNow: Step[]}) => total(side.herogateNow) / total(side.herogate)
  return {
    ours: warm.ours,
    herogate: HEROGATE,
    assumed: ASSUMED,
    pushToLive: {
      warm: {herogate: total(warm.herogateNow), original: total(warm.herogate), ratio: ratio(warm), goal: 0.5, met: ratio(warm) <= 0.5},
      cold: {herogate: total(cold.herogateNow), original: total(cold.herogate), ratio: ratio(cold)},
    },
    crashRollback: {oneProcess: total(rollback.crash), twoOrMore: rollback.parallel, goal: 90, met: total(rollback.crash) < 90},
    neverHealthy: total(rollback.unhealthy),
    slowApp: {bootSeconds: ASSUMED.slowAppBoot, gracePeriod: warm.ours.gracePeriod, survives: rollback.slowAppSurvives},
    steps: {warm, cold, rollback},
  }
}

function main(): void {
  const f = figures()
  if (process.argv.includes('--json')) {
    console.log(JSON.stringify(f, null, 2))
    return
  }

  const {ours} = f
  console.log('Deploy push-to-live model, build included (seconds; [setting] figures come from the templates and code, the rest are assumptions both sides share)\n')
  console.log(`herogate (${ours.source}): ${ours.stages} pipeline stages, trigger ${ours.trigger}, ${ours.cache}, min ${ours.minimumHealthyPercent}% / max ${ours.maximumPercent}%, health check ${ours.healthCheckInterval} s x ${ours.healthyThreshold} healthy / ${ours.unhealthyThreshold} unhealthy, grace ${ours.gracePeriod} s, deregistration ${ours.deregistrationDelay} s, circuit breaker ${ours.circuitBreaker ? 'on' : 'off'}, fail fast after ${ours.failFast} failed tasks, build timeout ${ours.buildTimeoutMinutes} min`)
  console.log(`Herogate (${HEROGATE.source}): ${HEROGATE.stages} pipeline stages, trigger ${HEROGATE.trigger}, cache: ${HEROGATE.cache}, min ${HEROGATE.minimumHealthyPercent}% / max ${HEROGATE.maximumPercent}%, health check ${HEROGATE.healthCheckInterval} s x ${HEROGATE.healthyThreshold} healthy / ${HEROGATE.unhealthyThreshold} unhealthy, deregistration ${HEROGATE.deregistrationDelay} s, no circuit breaker\n`)
  show('herogate: push to live, warm layer cache', f.steps.warm.herogateNow)
  show('Herogate: push to live, warm layer cache', f.steps.warm.herogate)
  const {warm, cold} = f.pushToLive
  console.log(`\npush-to-live, warm cache: herogate ${warm.herogate.toFixed(0)} s vs Herogate ${warm.original.toFixed(0)} s: ratio ${warm.ratio.toFixed(2)} (goal <= ${warm.goal.toFixed(2)}: ${warm.met ? 'met' : 'NOT met'})`)
  console.log(`push-to-live, cold build: herogate ${cold.herogate.toFixed(0)} s vs Herogate ${cold.original.toFixed(0)} s: ratio ${cold.ratio.toFixed(2)}`)
  const herogate300 = warm.original - HEROGATE.deregistrationDelay + 300
  console.log(`  (with the 300 s draining of Herogate's first template: ${herogate300.toFixed(0)} s, ratio ${(warm.herogate / herogate300).toFixed(2)})`)
  console.log('  a release command adds, on herogate only, one Fargate task start and the command itself (Herogate has no release phase)\n')

  const {crash, unhealthy} = f.steps.rollback
  show('herogate: crashing release (one web process) detected and rolled back', crash)
  console.log(`    with 2+ web processes ECS starts the new tasks together: ${f.crashRollback.twoOrMore.toFixed(0)} s`)
  show('herogate: release that never passes health checks', unhealthy)
  console.log(`\ncrash rollback: ${f.crashRollback.oneProcess.toFixed(0)} s (goal < ${f.crashRollback.goal} s: ${f.crashRollback.met ? 'met' : 'NOT met'}) with a ${ours.gracePeriod} s grace period; ECS's own circuit breaker would wait for 10 failed tasks (~${(10 * (ASSUMED.fargateStart + ASSUMED.crashAfter + ASSUMED.replaceDelay)).toFixed(0)} s)`)
  console.log(`an app that needs ${ASSUMED.slowAppBoot} s to listen ${f.slowApp.survives ? 'survives' : 'is killed by'} the ${ours.gracePeriod} s grace period (settable: herogate apps:settings:set boot-timeout=SECONDS)`)
  console.log(`Herogate: no circuit breaker and no watcher; CloudFormation waits up to ${ASSUMED.stackStabilizeTimeout / 3600} h for the service to stabilise before rolling the stack back, and with min ${HEROGATE.minimumHealthyPercent}% of one task ECS may stop the old task first (downtime).`)
}

// Run as a script (npx tsx bench/deploy-model.ts); importing it only gives the model.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main()
