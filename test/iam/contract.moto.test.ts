import {expect} from 'chai'
import {readFileSync} from 'node:fs'

import {useMoto} from '../helpers/moto.js'
import {type Analysis, analyse, APP_BLIND, forOtherApp, roleIdentity, sharedByDesign, userIdentity} from './analysis.js'
import {APP, type Recording, recordEverything} from './scenario.js'
import {decide, denied, distinct} from './simulate.js'
import {REGENERATE, USER_POLICY_FILE, userPolicy} from './user-policy.js'

/**
 * The IAM contract: every AWS call herogate makes, recorded against moto for every command
 * (the user) and for the build's `internal:release` (the app's build role), plus what AWS
 * services do with the app's other roles, is evaluated by an IAM policy simulator against
 * the policies it would meet: the app template's roles, resolved for this app, and the
 * user policy herogate ships. Every request must be allowed; a grant no request uses must
 * be removed or explained beside it; no role of one app may reach another app's resources.
 */
describe('IAM contract (moto)', function () {
  const {moto} = useMoto()
  this.timeout(300_000)
  let recording: Recording
  let analysis: Analysis

  before(async function () {
    // Before-all hooks run ahead of useMoto's reset: start from an empty account here.
    await moto().reset()
    await moto().immediateTasks()
    recording = await recordEverything()
    analysis = analyse(recording)
  })

  it('knows the IAM actions of every call herogate made', () => {
    expect(analysis.unmapped, 'calls without an IAM mapping (test/iam/requests.ts)').to.deep.equal([])
    expect(analysis.user.length).to.be.greaterThan(50)
    expect(analysis.roles.BuildRole.length).to.be.greaterThan(20)
  })

  for (const role of ['BuildRole', 'ExecutionRole', 'PipelineRole', 'EventsRole', 'SchedulerRole']) {
    it(`allows every request made with the app's ${role}`, async () => {
      expect(analysis.roles[role].length, `no request of ${role} was recorded`).to.be.greaterThan(0)
      expect(await denied(roleIdentity(analysis, recording, role), analysis.roles[role])).to.deep.equal([])
    })
  }

  it('uses every grant of the app roles, or says beside it why it is there', () => {
    const unused: string[] = []
    for (const policy of analysis.policies) {
      const used = new Set(analysis.roles[policy.role].map((r) => r.action))
      for (const action of policy.document.Statement.flatMap((s) => s.Action)) {
        if (!used.has(action) && !policy.commented.has(action)) unused.push(`${policy.role}: ${action}`)
      }
    }

    expect(unused, 'grants no recorded request uses (remove them, or explain them in a comment beside them in templates/app.yml)').to.deep.equal([])
  })

  it(`lets no role of ${APP} reach another app's tasks, services, task definitions, parameters, logs, images or objects`, async () => {
    const reached: string[] = []
    for (const [role, requests] of Object.entries(analysis.roles)) {
      const identity = roleIdentity(analysis, recording, role)
      for (const other of ['demo-2', 'demo-web']) {
        for (const request of distinct(forOtherApp(requests, APP, other))) {
          if (APP_BLIND[request.action] || sharedByDesign(request.resource)) continue
          if ((await decide(identity, request)) === 'Allowed') reached.push(request.source)
        }
      }
    }

    expect(reached).to.deep.equal([])
    // Each kind of resource was tried for the other app.
    const tried = Object.values(analysis.roles).flat().map((r) => r.resource)
    for (const kind of [':task/', ':service/', ':task-definition/', ':parameter/', ':log-group:', ':repository/', 's3:::']) {
      expect(tried.some((arn) => arn.includes(kind)), kind).to.equal(true)
    }
  })

  it('ships a user policy that allows every call of every command', async () => {
    const shipped = JSON.parse(readFileSync(USER_POLICY_FILE, 'utf8'))
    const refused = await denied(userIdentity(recording, shipped), analysis.user)
    expect(refused, `the shipped policy refuses these (regenerate it: ${REGENERATE})`).to.deep.equal([])
  })

  it('ships a user policy that grants nothing no command needs', () => {
    const shipped = JSON.parse(readFileSync(USER_POLICY_FILE, 'utf8'))
    expect(shipped, `docs/iam/herogate-user-policy.json differs from what the recorded calls need (regenerate it: ${REGENERATE})`).to.deep.equal(userPolicy(analysis.user))
  })
})
