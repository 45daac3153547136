/**
 * Counts the AWS API calls each everyday command's driver method makes, for a typical app
 * (3 process types, 20 config vars), against a moto server this script starts and stops.
 *
 *     npx tsx bench/api-calls.ts [--json]
 *
 * Exits 1 when a command misses its goal (single digits for changing one config var's value and
 * for scaling one type), as the other benches do. The printed note gives every call and why
 * adding or removing a var costs more (also in the README, "How many AWS calls").
 * Every command gets a fresh context, as every CLI run does; the caller identity, which herogate
 * remembers in HEROGATE_HOME, is asked once (the "first run" row).
 * The app's resources come as the CLI finds them: from the parameter its stack publishes
 * (which the script writes as the stack would), so every figure is what a CLI run makes.
 *
 * Then the same app's history grows to 10, 100 and 1,000 releases (made as every run makes
 * them: claim, then head), and the commands that read it are counted at each size: it exits 1
 * too when one costs more at 1,000 releases than at 100, or a compacting release over its goal.
 */
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {Writable} from 'node:stream'

import {GetParametersByPathCommand, PutParameterCommand, SSMClient} from '@aws-sdk/client-ssm'

import {HISTORY_KEPT, ReleaseStore} from '../src/aws/release-store.js'
import {ConfigStore} from '../src/aws/ssm.js'
import {names} from '../src/lib/naming.js'
import {getConfig, setConfig, unsetConfig} from '../src/platform/aws/config.js'
import type {AwsContext} from '../src/platform/aws/context.js'
import {AwsPlatform} from '../src/platform/aws/index.js'
import {ps, restart} from '../src/platform/aws/formation.js'
import {logs} from '../src/platform/aws/logs.js'
import {releaseInfo, releases} from '../src/platform/aws/releases.js'
import {commandContext} from '../src/platform/aws/resources.js'
import {rollback} from '../src/platform/aws/rollback.js'
import {run} from '../src/platform/aws/run.js'
import {startMoto, stopMoto} from '../test/helpers/moto.js'
import {deployProcesses, fakeClock, makeContext, makeResources, putLogs, recordDeploy, REGION} from '../test/platform/aws/formation.fixture.js'
import {makeReleases} from '../test/platform/aws/standin.fixture.js'

interface Row {
  command: string
  calls: Record<string, number>
  goal?: number
}

const counts: Record<string, number> = {}

function count(client: {middlewareStack: {add: (...args: any[]) => void}}, service: string): void {
  client.middlewareStack.add(
    (next: (args: unknown) => Promise<unknown>, context: {commandName?: string}) => async (args: unknown) => {
      const name = `${service}:${(context.commandName ?? '?').replace(/Command$/, '')}`
      counts[name] = (counts[name] ?? 0) + 1
      return next(args)
    },
    {step: 'initialize', name: 'countCalls', priority: 'high'},
  )
}

async function measureOn(command: string, operation: () => Promise<unknown>, options: {goal?: number} = {}): Promise<Row> {
  for (const key of Object.keys(counts)) delete counts[key]
  await operation()
  return {command, calls: {...counts}, goal: options.goal}
}

async function main(): Promise<void> {
  const moto = await startMoto()
  // A home of its own: the caller identity herogate remembers starts unknown, as on a new machine.
  process.env.HEROGATE_HOME = mkdtempSync(join(tmpdir(), 'herogate-bench-'))
  Object.assign(process.env, {AWS_ENDPOINT_URL: moto.endpoint, AWS_ACCESS_KEY_ID: 'bench', AWS_SECRET_ACCESS_KEY: 'bench', AWS_REGION: REGION})
  delete process.env.AWS_SESSION_TOKEN
  try {
    await moto.immediateTasks()
    const resources = await makeResources('bench')
    await recordDeploy('bench', await deployProcesses(resources, {web: {count: 2}, worker: {count: 1}, clock: {count: 1}}))
    const vars = Object.fromEntries(Array.from({length: 20}, (_, i) => [`VAR_${i}`, `value-${i}`]))
    await new ConfigStore(new SSMClient({region: REGION})).set('bench', vars)
    // The app stack makes the stream releases append to (ReleaseLogStream in templates/app.yml).
    await putLogs(resources.logGroup, names.releaseLogStream(), [{timestamp: Date.now() - 120_000, message: 'v1: Deploy 1a2b3c4 by dev'}])
    const now = Date.now()
    for (const type of ['web', 'worker', 'clock']) {
      await putLogs(resources.logGroup, `${type}/${type}/${type}0000000000000000000000000000`, Array.from({length: 50}, (_, i) => ({timestamp: now - 60_000 + i * 100, message: `${type} line ${i}`})))
    }

    // What the app stack publishes (ResourcesParameter in templates/app.yml): commands read it instead of the stacks.
    const published = {...resources, subnets: resources.subnets.join(',')}
    await new SSMClient({region: REGION}).send(new PutParameterCommand({Name: names.appResourcesParameter('bench'), Value: JSON.stringify(published), Type: 'String'}))
    const clock = fakeClock(now)
    // A command's context, as the CLI opens the driver with (AwsPlatform.open): its calls share one read of the resources.
    const context = (): AwsContext => commandContext({...makeContext(resources, {clock}), appResources: undefined})
    let ctx = context()
    const fresh = async () => {
      ctx = context()
      for (const service of ['ssm', 'ecs', 'logs', 'sts', 'applicationAutoScaling'] as const) count(await ctx.clients[service](), service)
    }

    const measure = async (command: string, operation: () => Promise<unknown>, options: {goal?: number} = {}): Promise<Row> => {
      await fresh()
      return measureOn(command, operation, options)
    }

    const sink = new Writable({write: (_c, _e, done) => done()})
    const drain = async (lines: AsyncIterable<unknown>) => {
      for await (const _ of lines);
    }

    const rows: Row[] = [
      await measure('config', () => getConfig(ctx, 'bench')),
      // The first change made with an access key asks STS who it is (the release's author); later runs remember it.
      await measure('config:set VAR_0=x (first run)', () => setConfig(ctx, 'bench', {VAR_0: 'x'})),
      await measure('config:set VAR_0=y', () => setConfig(ctx, 'bench', {VAR_0: 'y'}), {goal: 9}),
      await measure('config:set ONE=1 (new var)', () => setConfig(ctx, 'bench', {ONE: '1'})),
      await measure('config:unset ONE', () => unsetConfig(ctx, 'bench', ['ONE'])),
      // Through the driver, as the CLI runs them: formation and scale also read which types are autoscaled, and ps asks it beside.
      await measure('formation', () => new AwsPlatform(ctx).formation('bench')),
      await measure('scale web=3', () => new AwsPlatform(ctx).scale('bench', [{type: 'web', quantity: 3}]), {goal: 9}),
      await measure('scale web=3:standard-2x', () => new AwsPlatform(ctx).scale('bench', [{type: 'web', quantity: 3, size: 'standard-2x'}]), {goal: 9}),
      await measure('ps', () => Promise.all([ps(ctx, 'bench'), new AwsPlatform(ctx).autoscaling('bench')])),
      await measure('ps:autoscale worker --min 1 --max 3', () => new AwsPlatform(ctx).autoscale('bench', {type: 'worker', min: 1, max: 3, metric: 'cpu', target: 60})),
      await measure('scale web=2 (worker autoscaled)', () => new AwsPlatform(ctx).scale('bench', [{type: 'web', quantity: 2}]), {goal: 9}),
      await measure('ps:autoscale:disable worker', () => new AwsPlatform(ctx).disableAutoscale('bench', 'worker')),
      await measure('ps:restart', () => restart(ctx, 'bench')),
      await measure('run --detached', () => run(ctx, 'bench', {command: ['true'], env: {}, detached: true, tty: false, stdout: sink, stderr: sink})),
      await measure('logs -n 100', () => drain(logs(ctx, 'bench', {num: 100, tail: false}))),
    ]

    const total = (row: Row) => Object.values(row.calls).reduce((a, b) => a + b, 0)

    // The same app as its history grows: every command must cost the same at 10 as at 1,000 releases.
    const ssm = new SSMClient({region: REGION})
    const code = (await new ReleaseStore(ssm).current('bench'))!
    const inherited = {image: code.image, processTypes: code.processTypes, taskDefinitions: code.taskDefinitions}
    const seed = async (upTo: number) => {
      ctx = context()
      await makeReleases(ctx, 'bench', upTo - (await new ReleaseStore(ssm).latestVersion('bench')), inherited)
    }

    const historyParameters = async () => {
      let count = 0
      for (const path of [names.releasesPath('bench'), names.releaseArchivePath('bench')]) {
        let NextToken: string | undefined
        do {
          const page = await ssm.send(new GetParametersByPathCommand({Path: path, MaxResults: 10, NextToken}))
          count += page.Parameters?.length ?? 0
          NextToken = page.NextToken
        } while (NextToken)
      }

      return count + 1
    }

    const growth: Array<{releases: number; rows: Row[]; parameters: number}> = []
    for (const size of [10, 100, 1000]) {
      await seed(size - 1)
      // Listing slots (2-3) and archive (1), one archive parameter, deleting 10 slots and the archive parameter that fell out of the kept history (1-2).
      const compacting = await measure('config:set, a 10th release (compacts)', () => setConfig(ctx, 'bench', {VAR_0: `c${size}`}), {goal: 9 + 7})
      const listed = await releases(ctx, 'bench', {num: 1000})
      const oldest = listed.at(-1)!.version
      const latest = listed[0].version
      growth.push({
        releases: size,
        parameters: await historyParameters(),
        rows: [
          await measure('releases (-n 15)', () => releases(ctx, 'bench', {num: 15})),
          await measure('releases:info (newest)', () => releaseInfo(ctx, 'bench')),
          await measure('releases:info (oldest kept)', () => releaseInfo(ctx, 'bench', oldest)),
          await measure('config:set VAR_0=y', () => setConfig(ctx, 'bench', {VAR_0: `y${size}`})),
          compacting,
          await measure('rollback (to the one before)', () => rollback(ctx, 'bench')),
          await measure('deploy: a 3 s poll (release records)', async () => new ReleaseStore(await ctx.clients.ssm()).window('bench', latest + 1, 3)),
        ],
      })
    }

    const missed = rows.filter((row) => row.goal !== undefined && total(row) > row.goal)
    // Bounded: nothing costs more at 1,000 releases than at 100 (at 10 there is no archive yet to read), or than its goal.
    const grew = growth[1].rows.filter((row, i) => (row.goal === undefined ? total(growth[2].rows[i]) > total(row) : growth.some((g) => total(g.rows[i]) > row.goal!)))
    process.exitCode = missed.length > 0 || grew.length > 0 ? 1 : 0
    if (process.argv.includes('--json')) {
      console.log(JSON.stringify({
        commands: rows.map((row) => ({...row, total: total(row)})),
        releaseGrowth: growth.map((g) => ({releases: g.releases, historyParameters: g.parameters, commands: g.rows.map((row) => ({...row, total: total(row)}))})),
      }, null, 2))
      return
    }

    const header = ['command', 'calls', 'goal', 'breakdown']
    const lines = rows.map((row) => [
      row.command,
      String(total(row)),
      row.goal === undefined ? '' : `<= ${row.goal} ${total(row) <= row.goal ? 'met' : 'MISSED'}`,
      Object.entries(row.calls).map(([name, n]) => `${name}×${n}`).join(' '),
    ])
    const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)))
    const render = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()
    console.log('AWS API calls per command: an app with 3 process types and 20 config vars (moto)')
    console.log(render(header))
    console.log(render(widths.map((w) => '-'.repeat(w))))
    for (const line of lines) console.log(render(line))
    console.log(`\nEvery command but config and logs first reads where the app's resources are (ssm:GetParameters 1;
config:set and config:unset read it in the call that takes the lock). An app made before the stack
published them is read from its two stacks instead (cloudformation:DescribeStacks 2).`)
    console.log(`
Changing a var's value is the goal's case: 9 calls. Adding or removing a var also changes every
process type's task definition (its secrets list the vars), which ECS takes one call each to read,
register and roll out; with 3 process types that is 16. Per call, for VAR_0=y:
  take the lock: read the head, the app's resources and the var in one  ssm:GetParameters  1
  claim the release's number (create-only; this is the lock)            ssm:PutParameter  1
  write the var (SecureString; its new parameter version is recorded)   ssm:PutParameter  1
  start a new deployment per process type                               ecs:UpdateService  3
  watch the rollout: one DescribeServices a poll for all services       ecs:DescribeServices  >= 1
  record how the release ended in the head, which frees the lock        ssm:PutParameter  1
  append what the release did to herogate/deploy (logs --source herogate) logs:PutLogEvents  1
A new or removed var adds: the services' task definitions (ecs:DescribeServices 1), then per process
type ecs:DescribeTaskDefinition + ecs:RegisterTaskDefinition (2 each), the UpdateService now naming the
new revision. The first change made with an access key adds sts:GetCallerIdentity (the release's
author), remembered in HEROGATE_HOME after. The figures leave out the polls a real rollout takes (3 s
apart: one DescribeServices, and per service still rolling out one ListTasks of its stopped tasks).`)

    const sizes = growth.map((g) => g.releases.toLocaleString('en'))
    const growthHeader = ['calls per command, at N releases', ...sizes.map((n) => `N=${n}`), 'bounded']
    const growthLines = [
      ...growth[1].rows.map((row, i) => [row.command, ...growth.map((g) => String(total(g.rows[i]))), `${grew.includes(row) ? 'MISSED' : 'met'}${row.goal === undefined ? '' : ` (<= ${row.goal})`}`]),
      ['SSM parameters of the history', ...growth.map((g) => String(g.parameters)), ''],
    ]
    const growthWidths = growthHeader.map((h, i) => Math.max(h.length, ...growthLines.map((l) => l[i].length)))
    const renderGrowth = (cells: string[]) => cells.map((c, i) => c.padEnd(growthWidths[i])).join('  ').trimEnd()
    console.log(`\nAs the app's release history grows (moto; the same app, releases made as every run makes them)`)
    console.log(renderGrowth(growthHeader))
    console.log(renderGrowth(growthWidths.map((w) => '-'.repeat(w))))
    for (const line of growthLines) console.log(renderGrowth(line))
    console.log(`
Every command reads the head and the release slots (at most about 20: older releases are moved to
compressed archive parameters by the run that ends every 10th release), and the archive only when
it needs older releases; the history keeps the newest ${HISTORY_KEPT} releases, so it stays a few dozen
parameters (the account's limit is 10,000 Standard parameters). A deploy's poll reads the head and
three slots in one call. Every 10th release also compacts: it lists the slots and the archive,
writes one archive parameter, and deletes the slots it archived (10 a call) and, past 100 releases,
the archive parameter that fell out of the history. 'bounded': no more calls at 1,000 releases than
at 100, and the compaction within its goal.`)
  } finally {
    stopMoto()
  }
}

await main()
