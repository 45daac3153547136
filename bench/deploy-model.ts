/**
 * The deploy's critical path, modeled from settings rather than timed on AWS (no machine here
 * reaches AWS): herogate's (read from templates/app.yml and the rollout watcher's code) against
 * the original Herogate's (wata727/herogate, settings quoted below with where they come from).
 *
 *     npx tsx bench/deploy-model.ts
 *
 * Both sides get the same image build (not counted: both reuse layers) and the same Fargate
 * start times. Goals: push-to-live at most half of Herogate's; a crashing release detected and
 * rolled back in under 90 s.
 */
import {readFileSync} from 'node:fs'
import {pathToFileURL} from 'node:url'
import {parse, type Tags} from 'yaml'

import {DEPLOY_POLL_MS} from '../src/platform/aws/deploy.js'
import {ROLLOUT_SETTINGS} from '../src/platform/aws/rollout.js'

/** Typical figures of the platform, the same for both sides (seconds). */
const TYPICAL = {
  /** Fargate: place the task, attach its ENI, pull a small cached image, start the container. */
  fargateStart: 35,
  /** The app process starts listening. */
  appBoot: 5,
  /** A crashing app exits this long after its container starts. */
  crashAfter: 2,
  /** ECS starts a replacement for a failed task of a service (first retries are not throttled). */
  replaceDelay: 5,
  /** EventBridge delivers a CodeCommit push event to CodePipeline. */
  eventDelivery: 2,
  /** CodePipeline V1 polling of CodeCommit (Herogate's source action): half its ~1 min period on average. */
  pollingDelay: 30,
  /** A CodePipeline stage transition (Herogate has one more stage: the CloudFormation deploy). */
  stageTransition: 10,
  /** CloudFormation starts the stack update of the service (change evaluation, UpdateService). */
  stackUpdateStart: 15,
  /** CloudFormation notices the ECS service is stable: half its polling interval on average. */
  stackStablePoll: 15,
  /** Installing herogate's pinned package in CodeBuild (npm install of the shrinkwrapped tree). */
  herogateInstall: 15,
  /** Herogate downloads its own binary with wget. */
  herogateDownload: 2,
  /** RegisterTaskDefinition + UpdateService per process type. */
  apiCalls: 2,
  /** CloudFormation's wait for a service that never stabilises before it rolls the stack back. */
  stackStabilizeTimeout: 3 * 3600,
}

/** wata727/herogate: its ECS service and ALB target group (api/assets/platform.yaml @18bf4ac). */
const HEROGATE = {
  source: 'wata727/herogate api/assets/platform.yaml @18bf4acacba9e2fcf0db461432ad20e81a29c265',
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
  trigger: 'polling' as const,
  circuitBreaker: false,
}

type Cfn = {Resources: Record<string, {Type: string; Properties?: Record<string, any>}>}

/** CloudFormation's short intrinsic tags, read as plain values: only literal settings matter here. */
const CFN_TAGS: Tags = ['Ref', 'Sub', 'GetAtt', 'If', 'Equals', 'Not', 'And', 'Or', 'Select', 'Split', 'Join', 'FindInMap', 'ImportValue', 'Base64', 'Cidr', 'GetAZs', 'Condition']
  .flatMap((name) => (['scalar', 'seq', 'map'] as const).map((kind) => ({tag: `!${name}`, ...(kind === 'scalar' ? {} : {collection: kind}), resolve: (value: unknown) => ({[name]: value})}))) as Tags

export function ourSettings(templatePath = new URL('../templates/app.yml', import.meta.url)) {
  const template = parse(readFileSync(templatePath, 'utf8'), {customTags: CFN_TAGS}) as Cfn
  const resources = Object.values(template.Resources)
  const targetGroup = resources.find((r) => r.Type === 'AWS::ElasticLoadBalancingV2::TargetGroup')?.Properties ?? {}
  const service = resources.find((r) => r.Type === 'AWS::ECS::Service')?.Properties ?? {}
  const pipeline = resources.find((r) => r.Type === 'AWS::CodePipeline::Pipeline')?.Properties ?? {}
  const attribute = (key: string) => (targetGroup.TargetGroupAttributes as Array<{Key: string; Value: string}> | undefined)?.find((a) => a.Key === key)?.Value
  const number = (value: unknown, fallback: number) => (value === undefined ? fallback : Number(value))
  const eventRule = resources.some((r) => r.Type === 'AWS::Events::Rule')
  const polls = JSON.stringify(pipeline).includes('"PollForSourceChanges":true')
  return {
    source: 'templates/app.yml',
    minimumHealthyPercent: number(service.DeploymentConfiguration?.MinimumHealthyPercent, 100),
    maximumPercent: number(service.DeploymentConfiguration?.MaximumPercent, 200),
    healthCheckInterval: number(targetGroup.HealthCheckIntervalSeconds, 30),
    healthyThreshold: number(targetGroup.HealthyThresholdCount, 5),
    unhealthyThreshold: number(targetGroup.UnhealthyThresholdCount, 2),
    healthCheckTimeout: number(targetGroup.HealthCheckTimeoutSeconds, 5),
    deregistrationDelay: number(attribute('deregistration_delay.timeout_seconds'), 300),
    gracePeriod: number(service.HealthCheckGracePeriodSeconds, 0),
    trigger: eventRule && !polls ? ('event' as const) : ('polling' as const),
    circuitBreaker: Boolean(service.DeploymentConfiguration?.DeploymentCircuitBreaker?.Enable),
    failFast: ROLLOUT_SETTINGS.failFast,
    watcherPoll: ROLLOUT_SETTINGS.pollMs / 1000,
    deployPoll: DEPLOY_POLL_MS / 1000,
  }
}

type Step = [string, number]
const total = (steps: Step[]) => steps.reduce((sum, [, s]) => sum + s, 0)

/** Push to the new release serving alone (rollout complete), one web process. */
export function pushToLive() {
  const ours = ourSettings()
  const t = TYPICAL
  const healthy = (s: {healthyThreshold: number; healthCheckInterval: number}) => s.healthyThreshold * s.healthCheckInterval
  const herogate: Step[] = [
    ['source trigger (CodePipeline polls CodeCommit)', t.pollingDelay],
    ['release code (wget of its binary)', t.herogateDownload],
    ['stage transition to the CloudFormation deploy', t.stageTransition],
    ['stack update reaches the service', t.stackUpdateStart],
    ['new task starts', t.fargateStart + t.appBoot],
    [`ALB marks it healthy (${HEROGATE.healthyThreshold} x ${HEROGATE.healthCheckInterval} s)`, healthy(HEROGATE)],
    [`old task drains (deregistration delay ${HEROGATE.deregistrationDelay} s)`, HEROGATE.deregistrationDelay],
    ['CloudFormation sees the service stable', t.stackStablePoll],
  ]
  const herogateNow: Step[] = [
    [`source trigger (${ours.trigger === 'event' ? 'EventBridge push event' : 'polling'})`, ours.trigger === 'event' ? t.eventDelivery : t.pollingDelay],
    ['release code (npm install of the pinned package)', t.herogateInstall],
    ['new task definitions, UpdateService', t.apiCalls],
    ['new task starts', t.fargateStart + t.appBoot],
    [`ALB marks it healthy (${ours.healthyThreshold} x ${ours.healthCheckInterval} s)`, healthy(ours)],
    [`old task drains (deregistration delay ${ours.deregistrationDelay} s)`, ours.deregistrationDelay],
    [`watcher sees the rollout complete (polls every ${ours.watcherPoll} s)`, ours.watcherPoll / 2],
  ]
  return {ours, herogate, herogateNow}
}

/** A release whose process exits at once: from the rollout's start to the previous release restored. */
export function crashRollback() {
  const ours = ourSettings()
  const t = TYPICAL
  // One web process: ECS replaces one new task at a time, so the failures come one after another.
  const attempts = (what: string, seconds: number): Step[] =>
    Array.from({length: ours.failFast}, (_, i): Step[] => [
      ...(i > 0 ? [['ECS starts a replacement', t.replaceDelay] as Step] : []),
      [`new task ${i + 1} ${what}`, seconds],
    ]).flat()
  const tail: Step[] = [
    [`watcher sees ${ours.failFast} failed tasks (polls every ${ours.watcherPoll} s)`, ours.watcherPoll],
    ['UpdateService back to the previous task definitions (old tasks never stopped)', t.apiCalls],
  ]
  const crashAttempt = t.fargateStart + t.crashAfter
  const unhealthyAttempt = t.fargateStart + t.appBoot + Math.max(ours.gracePeriod, ours.unhealthyThreshold * ours.healthCheckInterval)
  return {
    crash: [...attempts('starts and crashes', crashAttempt), ...tail],
    unhealthy: [...attempts('starts, never passes health checks, is stopped by ECS', unhealthyAttempt), ...tail],
    // Two or more processes: ECS starts that many new tasks together (maximum 200%).
    parallel: crashAttempt + ours.watcherPoll + t.apiCalls,
  }
}

function show(title: string, steps: Step[]): void {
  console.log(`  ${title}`)
  for (const [name, seconds] of steps) console.log(`    ${seconds.toFixed(1).padStart(6)} s  ${name}`)
  console.log(`    ${total(steps).toFixed(1).padStart(6)} s  total`)
}

function main(): void {
  const {ours, herogate, herogateNow} = pushToLive()
  console.log('Deploy critical path model (seconds; the image build is the same on both sides and not counted)')
  console.log(`  typical Fargate start ${TYPICAL.fargateStart} s + app boot ${TYPICAL.appBoot} s, the same for both\n`)
  console.log(`herogate (${ours.source}): min ${ours.minimumHealthyPercent}% / max ${ours.maximumPercent}%, health check ${ours.healthCheckInterval} s x ${ours.healthyThreshold} healthy / ${ours.unhealthyThreshold} unhealthy, deregistration ${ours.deregistrationDelay} s, trigger ${ours.trigger}, circuit breaker ${ours.circuitBreaker ? 'on' : 'off'}, fail fast after ${ours.failFast} failed tasks`)
  console.log(`Herogate (${HEROGATE.source}): min ${HEROGATE.minimumHealthyPercent}% / max ${HEROGATE.maximumPercent}%, health check ${HEROGATE.healthCheckInterval} s x ${HEROGATE.healthyThreshold} healthy / ${HEROGATE.unhealthyThreshold} unhealthy, deregistration ${HEROGATE.deregistrationDelay} s, trigger ${HEROGATE.trigger}, no circuit breaker\n`)
  show('herogate: push to live', herogateNow)
  show('Herogate: push to live', herogate)
  const ratio = total(herogateNow) / total(herogate)
  console.log(`\npush-to-live: herogate ${total(herogateNow).toFixed(0)} s vs Herogate ${total(herogate).toFixed(0)} s: ratio ${ratio.toFixed(2)} (goal <= 0.50: ${ratio <= 0.5 ? 'met' : 'NOT met'})`)
  const herogate300 = total(herogate) - HEROGATE.deregistrationDelay + 300
  console.log(`  (with the 300 s draining of Herogate's first template: ${herogate300.toFixed(0)} s, ratio ${(total(herogateNow) / herogate300).toFixed(2)})\n`)

  const {crash, unhealthy, parallel} = crashRollback()
  show('herogate: crashing release (one web process) detected and rolled back', crash)
  console.log(`    with 2+ web processes ECS starts the new tasks together: ${parallel.toFixed(0)} s`)
  show('herogate: release that never passes health checks', unhealthy)
  console.log(`\ncrash rollback: ${total(crash).toFixed(0)} s (goal < 90 s: ${total(crash) < 90 ? 'met' : 'NOT met'}); ECS's own circuit breaker would wait for 10 failed tasks (~${(10 * (TYPICAL.fargateStart + TYPICAL.crashAfter + TYPICAL.replaceDelay)).toFixed(0)} s)`)
  console.log(`Herogate: no circuit breaker and no watcher; CloudFormation waits up to ${TYPICAL.stackStabilizeTimeout / 3600} h for the service to stabilise before rolling the stack back, and with min ${HEROGATE.minimumHealthyPercent}% of one task ECS may stop the old task first (downtime).`)
}

// Run as a script (npx tsx bench/deploy-model.ts); importing it only gives the model.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main()
