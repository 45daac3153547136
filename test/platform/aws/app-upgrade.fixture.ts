import {readFileSync} from 'node:fs'
import {parseDocument} from 'yaml'

/**
 * templates/app.yml as it was before each app had a security group of its own: no
 * LoadBalancerSecurityGroup parameter, no AppTaskSecurityGroup, no TaskSecurityGroup output,
 * and the platform's shared group published as the app's (what app-upgrade.ts upgrades).
 */
export function appTemplateBeforeAppGroups(): string {
  const current = readFileSync(new URL('../../../templates/app.yml', import.meta.url), 'utf8')
  const published = '"securityGroup":"${AppTaskSecurityGroup.GroupId}"'
  if (!current.includes(published)) throw new Error(`templates/app.yml no longer publishes ${published}: update this fixture`)
  const doc = parseDocument(current.replace(published, '"securityGroup":"${TaskSecurityGroup}"'))
  doc.deleteIn(['Parameters', 'LoadBalancerSecurityGroup'])
  doc.deleteIn(['Resources', 'AppTaskSecurityGroup'])
  doc.deleteIn(['Outputs', 'TaskSecurityGroup'])
  const text = doc.toString()
  if (text.includes('AppTaskSecurityGroup')) throw new Error('templates/app.yml names AppTaskSecurityGroup elsewhere: update this fixture')
  return text
}
