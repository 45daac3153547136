/**
 * Writes docs/iam/herogate-user-policy.json from the calls every command makes against a
 * moto server this script starts and stops (the same recording the IAM contract test makes).
 *
 *     npm run iam:user-policy
 */
import {writeFileSync} from 'node:fs'

import {startMoto, stopMoto} from '../helpers/moto.js'
import {analyse} from './analysis.js'
import {recordEverything} from './scenario.js'
import {USER_POLICY_FILE, userPolicy} from './user-policy.js'

const moto = await startMoto()
Object.assign(process.env, {AWS_ENDPOINT_URL: moto.endpoint, AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', AWS_REGION: 'us-east-1'})
delete process.env.AWS_SESSION_TOKEN
try {
  await moto.immediateTasks()
  const analysis = analyse(await recordEverything())
  if (analysis.unmapped.length > 0) throw new Error(`Calls without an IAM mapping (test/iam/requests.ts):\n${analysis.unmapped.join('\n')}`)
  const policy = userPolicy(analysis.user)
  writeFileSync(USER_POLICY_FILE, `${JSON.stringify(policy, null, 2)}\n`)
  console.log(`Wrote ${USER_POLICY_FILE}: ${policy.Statement.length} statements, ${new Set(policy.Statement.flatMap((s) => s.Action)).size} actions.`)
} finally {
  stopMoto()
}
