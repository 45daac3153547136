import {CloudWatchLogsClient, CreateLogGroupCommand} from '@aws-sdk/client-cloudwatch-logs'

import {names} from '../../../src/lib/naming.js'
import {modelApp, type ModelApp} from './ecs-model.fixture.js'
import {REGION} from './formation.fixture.js'

export const REPO = '123456789012.dkr.ecr.us-east-1.amazonaws.com/herogate/demo'
export const image = (name: string) => `${REPO}@sha256:${Buffer.from(name).toString('hex').padEnd(64, '0').slice(0, 64)}`
export const GOOD = image('good')
export const GOOD2 = image('good2')
export const CRASHING = image('crash')
export const FAILING_RELEASE = image('badmigrate')

/**
 * An app as its stack leaves it before the first deploy, with ECS played by the ECS model
 * (test/helpers/ecs-model.ts) and everything else by moto (config, releases, logs). In the
 * model GOOD images serve, CRASHING ones exit 2 s after they start, and the release command
 * of FAILING_RELEASE exits 1.
 */
export async function setUpApp(app = 'demo', options: Parameters<typeof modelApp>[1] = {}): Promise<ModelApp> {
  // moto holds the log group the release journal is written to.
  await new CloudWatchLogsClient({region: REGION}).send(new CreateLogGroupCommand({logGroupName: names.logGroup(app)}))
  const setUp = await modelApp(app, options)
  setUp.model.images.set(CRASHING, {listensAfterMs: 1000, exitAfterMs: 2000})
  setUp.model.images.set(FAILING_RELEASE, {exitAfterMs: 5000, exitCode: 1})
  return setUp
}
