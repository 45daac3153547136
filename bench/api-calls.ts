/**
 * Counts the AWS API calls each everyday command's driver method makes, for a typical app
 * (3 process types, 20 config vars), against a moto server this script starts and stops.
 *
 *     npx tsx bench/api-calls.ts [--json]
 *
 * Exits 1 when a command misses its goal (single digits for config:set of one key and for
 * scaling one type), as the other benches do. config:set misses it for 3 process types: the
 * printed note gives the floor and why (also in the README, "How many AWS calls").
 * Every command gets a fresh context, as every CLI run does (so the caller identity is counted).
 * The app's infrastructure is given to the driver directly (ctx.appResources), so the figures
 * leave out reading the two stacks (loadAppResources: 2 DescribeStacks), which every command
 * but `logs` and `config` (reading) adds; the table shows both.
 */
import {Writable} from 'node:stream'

import {SSMClient} from '@aws-sdk/client-ssm'

import {ReleaseStore} from '../src/aws/release-store.js'
import {ConfigStore} from '../src/aws/ssm.js'
import {getConfig, setConfig, unsetConfig} from '../src/platform/aws/config.js'
import type {AwsContext} from '../src/platform/aws/context.js'
import {formation, ps, restart, scale} from '../src/platform/aws/formation.js'
import {logs} from '../src/platform/aws/logs.js'
import {run} from '../src/platform/aws/run.js'
import {startMoto, stopMoto} from '../test/helpers/moto.js'
import {deployProcesses, fakeClock, makeContext, makeResources, putLogs, recordDeploy, REGION} from '../test/platform/aws/formation.fixture.js'

/** Reading the app's two stacks, which the figures below leave out (see above). */
const LOAD_RESOURCES_CALLS = 2

interface Row {
  command: string
  calls: Record<string, number>
  goal?: number
  stacks: boolean
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

async function measureOn(command: string, operation: () => Promise<unknown>, options: {goal?: number; stacks?: boolean} = {}): Promise<Row> {
  for (const key of Object.keys(counts)) delete counts[key]
  await operation()
  return {command, calls: {...counts}, goal: options.goal, stacks: options.stacks ?? true}
}

async function main(): Promise<void> {
  const moto = await startMoto()
  Object.assign(process.env, {AWS_ENDPOINT_URL: moto.endpoint, AWS_ACCESS_KEY_ID: 'bench', AWS_SECRET_ACCESS_KEY: 'bench', AWS_REGION: REGION})
  delete process.env.AWS_SESSION_TOKEN
  try {
    await moto.immediateTasks()
    const resources = await makeResources('bench')
    await recordDeploy('bench', await deployProcesses(resources, {web: {count: 2}, worker: {count: 1}, clock: {count: 1}}))
    // The head a deploy by this herogate leaves (recordDeploy writes the record alone).
    const releaseStore = new ReleaseStore(new SSMClient({region: REGION}))
    await releaseStore.writeHead('bench', {latest: 1, current: (await releaseStore.get('bench', 1))!})
    const vars = Object.fromEntries(Array.from({length: 20}, (_, i) => [`VAR_${i}`, `value-${i}`]))
    await new ConfigStore(new SSMClient({region: REGION})).set('bench', vars)
    const now = Date.now()
    for (const type of ['web', 'worker', 'clock']) {
      await putLogs(resources.logGroup, `${type}/${type}/${type}0000000000000000000000000000`, Array.from({length: 50}, (_, i) => ({timestamp: now - 60_000 + i * 100, message: `${type} line ${i}`})))
    }

    const clock = fakeClock(now)
    let ctx: AwsContext = makeContext(resources, {clock})
    const fresh = async () => {
      ctx = makeContext(resources, {clock})
      for (const service of ['ssm', 'ecs', 'logs', 'sts'] as const) count(await ctx.clients[service](), service)
    }

    const measure = async (command: string, operation: () => Promise<unknown>, options: {goal?: number; stacks?: boolean} = {}): Promise<Row> => {
      await fresh()
      return measureOn(command, operation, options)
    }

    const sink = new Writable({write: (_c, _e, done) => done()})
    const drain = async (lines: AsyncIterable<unknown>) => {
      for await (const _ of lines);
    }

    const rows: Row[] = [
      await measure('config', () => getConfig(ctx, 'bench'), {stacks: false}),
      await measure('config:set ONE=1', () => setConfig(ctx, 'bench', {ONE: '1'}), {goal: 9}),
      await measure('config:set (existing key)', () => setConfig(ctx, 'bench', {ONE: '2'}), {goal: 9}),
      await measure('config:unset ONE', () => unsetConfig(ctx, 'bench', ['ONE'])),
      await measure('formation', () => formation(ctx, 'bench')),
      await measure('scale web=3', () => scale(ctx, 'bench', [{type: 'web', quantity: 3}]), {goal: 9}),
      await measure('scale web=3:standard-2x', () => scale(ctx, 'bench', [{type: 'web', quantity: 3, size: 'standard-2x'}]), {goal: 9}),
      await measure('ps', () => ps(ctx, 'bench')),
      await measure('ps:restart', () => restart(ctx, 'bench')),
      await measure('run --detached', () => run(ctx, 'bench', {command: ['true'], env: {}, detached: true, tty: false, stdout: sink, stderr: sink})),
      await measure('logs -n 100', () => drain(logs(ctx, 'bench', {num: 100, tail: false})), {stacks: false}),
    ]

    const total = (row: Row) => Object.values(row.calls).reduce((a, b) => a + b, 0)
    const missed = rows.filter((row) => row.goal !== undefined && total(row) > row.goal)
    process.exitCode = missed.length > 0 ? 1 : 0
    if (process.argv.includes('--json')) {
      console.log(JSON.stringify(rows.map((row) => ({...row, total: total(row), withStacks: total(row) + (row.stacks ? LOAD_RESOURCES_CALLS : 0)})), null, 2))
      return
    }

    const header = ['command', 'calls', '+stacks', 'goal', 'breakdown']
    const lines = rows.map((row) => [
      row.command,
      String(total(row)),
      String(total(row) + (row.stacks ? LOAD_RESOURCES_CALLS : 0)),
      row.goal === undefined ? '' : `<= ${row.goal} ${total(row) <= row.goal ? 'met' : 'MISSED'}`,
      Object.entries(row.calls).map(([name, n]) => `${name}×${n}`).join(' '),
    ])
    const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)))
    const render = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()
    console.log('AWS API calls per command: an app with 3 process types and 20 config vars (moto)')
    console.log(render(header))
    console.log(render(widths.map((w) => '-'.repeat(w))))
    for (const line of lines) console.log(render(line))
    console.log(`\n+stacks: with reading the app and platform stacks (${LOAD_RESOURCES_CALLS} DescribeStacks), as the CLI does.`)
    console.log(`
config:set / config:unset make a release, and a release has a floor of 18 calls here, so the goal
of single digits is out of reach for 3 process types (it is met by scale). The floor, per call:
  caller identity: the release's author (asked once a change is made)  sts:GetCallerIdentity  1
  take and give back the app lock                                      ssm:PutParameter + ssm:DeleteParameter  2
  read the config: old values, and the new snapshot (10 vars a call)   ssm:GetParametersByPath  ceil(vars/10) = 3
  write the var (SecureString)                                         ssm:PutParameter  1
  read the head (newest release, current release, newest snapshot)     ssm:GetParameter  1
  snapshot the config (what a rollback restores; 4 KB a chunk)         ssm:PutParameter  1
  record the release, pending then ended, and move the head            ssm:PutParameter  3
  start a new deployment per process type                              ecs:UpdateService  3
  watch the rollout: one DescribeServices a poll for all services      ecs:DescribeServices  >= 1
  write what the release did to the app's log (logs --source herogate) logs:CreateLogStream + PutLogEvents  2
A change that adds or removes keys (or empties one) also reads and registers a task definition per type
(2 per type) and describes the services once. Stopped tasks are only listed when a deployment reports
failed tasks. The figures leave out the polls a real rollout takes (one DescribeServices each, 3 s apart).`)
  } finally {
    stopMoto()
  }
}

await main()
