import {runSimulation} from '@cloud-copilot/iam-simulate'

import type {IamRequest} from './requests.js'

/** A principal and the identity policies IAM evaluates its requests against. */
export interface Identity {
  principal: string
  account: string
  policies: Array<{name: string; policy: unknown}>
}

export type Decision = 'Allowed' | 'ImplicitlyDenied' | 'ExplicitlyDenied'

/** IAM's decision on one request, by the policy simulator; a request it cannot evaluate throws with the reason. */
export async function decide(identity: Identity, request: IamRequest): Promise<Decision> {
  const result = await runSimulation({
    request: {
      principal: identity.principal,
      action: request.action,
      resource: {resource: request.resource, accountId: identity.account},
      contextVariables: request.context,
    },
    identityPolicies: identity.policies,
    serviceControlPolicies: [],
    resourceControlPolicies: [],
  }, {})
  if (result.resultType === 'error') throw new Error(`The simulator cannot evaluate ${request.source}: ${JSON.stringify(result.errors)}`)
  return result.overallResult as Decision
}

/** Requests that differ only in what made them are decided once. */
export function distinct(requests: IamRequest[]): IamRequest[] {
  const seen = new Map<string, IamRequest>()
  for (const request of requests) {
    const key = JSON.stringify([request.action, request.resource, Object.entries(request.context).sort()])
    if (!seen.has(key)) seen.set(key, request)
  }

  return [...seen.values()]
}

/** The requests IAM would refuse, each with what made it. */
export async function denied(identity: Identity, requests: IamRequest[]): Promise<string[]> {
  const refused: string[] = []
  for (const request of distinct(requests)) {
    const decision = await decide(identity, request)
    if (decision !== 'Allowed') refused.push(`${request.source} (${JSON.stringify(request.context)}): ${decision}`)
  }

  return refused
}
