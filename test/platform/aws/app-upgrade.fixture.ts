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

/**
 * templates/app.yml as it was before scheduled jobs too: no schedule group, no scheduler role
 * (nor the build role's PassRole of it), nothing published of it.
 */
export function appTemplateBeforeScheduledJobs(): string {
  const published = ',"schedulerRoleArn":"${SchedulerRole.Arn}"'
  const before = appTemplateBeforeAppGroups()
  const lines = before.split('\n')
  // The build role's statement that passes the scheduler role: from its "- Effect" line to the next statement.
  const resource = lines.findIndex((line) => line.trim() === 'Resource: !GetAtt SchedulerRole.Arn')
  const start = lines.slice(0, resource).findLastIndex((line) => line.trim() === '- Effect: Allow')
  const indent = lines[start].indexOf('-')
  let end = resource + 1
  while (end < lines.length && lines[end].search(/\S/) > indent) end++
  if (!before.includes(published) || resource < 0 || start < 0) throw new Error('templates/app.yml no longer has the scheduler role as this fixture expects: update it')
  lines.splice(start, end - start)
  const doc = parseDocument(lines.join('\n').replace(published, ''))
  doc.deleteIn(['Resources', 'ScheduleGroup'])
  doc.deleteIn(['Resources', 'SchedulerRole'])
  doc.deleteIn(['Outputs', 'SchedulerRoleArn'])
  const text = doc.toString()
  if (text.includes('SchedulerRole')) throw new Error('templates/app.yml names SchedulerRole elsewhere: update this fixture')
  return text
}
