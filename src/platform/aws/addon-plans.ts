import {InvalidInput} from '../../lib/errors.js'
import type {AddonPlan, AddonService} from '../addons.js'

/**
 * The AWS plans of add-ons, with what each costs per month on demand in us-east-1 (730 hours,
 * storage included). The README's table is rendered from this list. Figures:
 * - RDS for PostgreSQL, Single-AZ: db.t4g.micro $0.016/h, db.t4g.small $0.032/h; Multi-AZ is twice
 *   the instance rate and bills the storage twice; gp3 storage $0.115 per GB-month (AWS RDS pricing
 *   page as quoted by infratally.com "AWS RDS pricing explained 2026" and usage.ai's RDS pricing guide).
 * - Aurora Serverless v2: $0.12 per ACU-hour, storage $0.10 per GB-month; at 0 ACU (paused) only
 *   storage is billed (c3x.dev "Aurora Serverless v2 cost", usage.ai's Aurora Serverless v2 guide).
 *   The figure is the plan running at its 0.5 ACU floor all month, storage aside.
 * - ElastiCache for Valkey, node-based: Redis OSS cache.t4g.micro $0.016/h and cache.t4g.small
 *   $0.032/h (AWS's ElastiCache pricing page), Valkey 20% lower on the same node type (AWS's
 *   Valkey launch, October 2024; help.nops.io's "Upgrade ElastiCache Redis OSS to Valkey" confirms
 *   the lower list price, not the figure): the least sure figures here; check them on
 *   aws.amazon.com/elasticache/pricing.
 */
export interface AwsPlan extends AddonPlan {
  /** The add-on template's parameters for this plan. */
  parameters: Record<string, string>
}

const HOURS = 730

function round(usd: number): number {
  return Math.round(usd * 100) / 100
}

export const AWS_PLANS: readonly AwsPlan[] = [
  {
    service: 'postgres', name: 'essential-0', default: true,
    description: 'RDS for PostgreSQL 17, db.t4g.micro (2 vCPU burstable, 1 GiB), 20 GB gp3, one availability zone',
    monthlyUsd: round(0.016 * HOURS + 20 * 0.115),
    parameters: {InstanceClass: 'db.t4g.micro', AllocatedStorage: '20', MultiAZ: 'false', Serverless: 'false'},
  },
  {
    service: 'postgres', name: 'essential-1',
    description: 'RDS for PostgreSQL 17, db.t4g.small (2 vCPU burstable, 2 GiB), 20 GB gp3, one availability zone',
    monthlyUsd: round(0.032 * HOURS + 20 * 0.115),
    parameters: {InstanceClass: 'db.t4g.small', AllocatedStorage: '20', MultiAZ: 'false', Serverless: 'false'},
  },
  {
    service: 'postgres', name: 'standard-0',
    description: 'RDS for PostgreSQL 17, db.t4g.small, 20 GB gp3, Multi-AZ (a standby in a second zone takes over on failure)',
    monthlyUsd: round(2 * 0.032 * HOURS + 2 * 20 * 0.115),
    parameters: {InstanceClass: 'db.t4g.small', AllocatedStorage: '20', MultiAZ: 'true', Serverless: 'false'},
  },
  {
    service: 'postgres', name: 'serverless-0',
    description: 'Aurora Serverless v2 (PostgreSQL 16), 0 to 2 ACU: pauses after 5 idle minutes (storage only, $0.10/GB-month), resumes on connect; cost at 0.5 ACU all month',
    monthlyUsd: round(0.5 * 0.12 * HOURS),
    parameters: {Serverless: 'true', MaxCapacity: '2'},
  },
  {
    service: 'redis', name: 'mini', default: true,
    description: 'ElastiCache for Valkey 8, cache.t4g.micro (0.5 GiB), one node',
    monthlyUsd: round(0.016 * 0.8 * HOURS),
    parameters: {NodeType: 'cache.t4g.micro', Nodes: '1'},
  },
  {
    service: 'redis', name: 'premium-0',
    description: 'ElastiCache for Valkey 8, cache.t4g.small (1.4 GiB), a replica in a second zone with automatic failover',
    monthlyUsd: round(2 * 0.032 * 0.8 * HOURS),
    parameters: {NodeType: 'cache.t4g.small', Nodes: '2'},
  },
]

/** Plans as the contract gives them (no template parameters), default first. */
export function addonPlans(service?: AddonService): AddonPlan[] {
  return AWS_PLANS.filter((plan) => !service || plan.service === service)
    .sort((a, b) => Number(Boolean(b.default)) - Number(Boolean(a.default)))
    .map(({parameters: _parameters, ...plan}) => plan)
}

/** The plan addons:create asked for (default: the service's default); an unknown one is refused with the plans listed. */
export function planFor(service: AddonService, name?: string): AwsPlan {
  const plans = AWS_PLANS.filter((plan) => plan.service === service)
  const plan = name ? plans.find((p) => p.name === name) : plans.find((p) => p.default)
  if (!plan) {
    throw new InvalidInput(`Unknown ${service} plan ${JSON.stringify(name)}. Plans on AWS: ${plans.map((p) => p.name).join(', ')}.`, {
      suggestions: plans.map((p) => `herogate addons:create ${service} --plan ${p.name} ($${p.monthlyUsd!.toFixed(2)}/month: ${p.description})`),
    })
  }

  return plan
}

/** The README's table of AWS plans (test/platform/aws/addon-plans.test.ts keeps the README's copy true to it). */
export function addonPlansTable(): string {
  const rows = AWS_PLANS.map((plan) => `| \`${plan.service}\` | \`${plan.name}\`${plan.default ? ' (default)' : ''} | ${plan.description} | $${plan.monthlyUsd!.toFixed(2)} |`)
  return ['| Service | Plan | What it is | USD/month (us-east-1) |', '|---|---|---|---:|', ...rows].join('\n')
}
