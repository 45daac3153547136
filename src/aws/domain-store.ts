import type {SSMClient} from '@aws-sdk/client-ssm'

import {names} from '../lib/naming.js'
import {awsFailure, isAwsError} from './errors.js'
import type {ZoneRecord} from './route53.js'

/**
 * What herogate made for one custom domain of an app, so that domains:remove and destroy
 * remove exactly that: names.domainParameter(app, HOST), a String parameter under the app's
 * path (destroy deletes the path, after removing the domains).
 */
export interface DomainRecord {
  hostname: string
  createdAt: string
  certificateArn: string
  /** The rule on the HTTP listener: forwards to the app until the certificate is issued, then redirects to HTTPS. */
  httpRuleArn: string
  /** The rule on the HTTPS listener, once the certificate is issued and served. */
  httpsRuleArn?: string
  /** The HTTPS listener the certificate was added to. */
  httpsListenerArn?: string
  /** The Route 53 zone and the records herogate made in it. */
  zone?: {id: string; name: string; records: ZoneRecord[]}
}

export class DomainStore {
  constructor(private readonly client: SSMClient) {}

  async list(app: string): Promise<DomainRecord[]> {
    const {GetParametersByPathCommand} = await import('@aws-sdk/client-ssm')
    const records: DomainRecord[] = []
    let NextToken: string | undefined
    try {
      do {
        const response = await this.client.send(new GetParametersByPathCommand({Path: names.domainsPath(app), NextToken}))
        for (const parameter of response.Parameters ?? []) {
          const record = parse(parameter.Value)
          if (record) records.push(record)
        }

        NextToken = response.NextToken
      } while (NextToken)
    } catch (error) {
      throw awsFailure(error, `reading the domains of ${app}`)
    }

    return records.sort((a, b) => a.hostname.localeCompare(b.hostname))
  }

  async get(app: string, hostname: string): Promise<DomainRecord | undefined> {
    const {GetParameterCommand} = await import('@aws-sdk/client-ssm')
    try {
      const response = await this.client.send(new GetParameterCommand({Name: names.domainParameter(app, hostname)}))
      return parse(response.Parameter?.Value)
    } catch (error) {
      if (isAwsError(error, 'ParameterNotFound')) return undefined
      throw awsFailure(error, `reading the domain ${hostname} of ${app}`)
    }
  }

  async put(app: string, record: DomainRecord): Promise<void> {
    const {PutParameterCommand} = await import('@aws-sdk/client-ssm')
    try {
      await this.client.send(new PutParameterCommand({Name: names.domainParameter(app, record.hostname), Value: JSON.stringify(record), Type: 'String', Overwrite: true}))
    } catch (error) {
      throw awsFailure(error, `saving the domain ${record.hostname} of ${app}`)
    }
  }

  async delete(app: string, hostname: string): Promise<void> {
    const {DeleteParameterCommand} = await import('@aws-sdk/client-ssm')
    try {
      await this.client.send(new DeleteParameterCommand({Name: names.domainParameter(app, hostname)}))
    } catch (error) {
      if (isAwsError(error, 'ParameterNotFound')) return
      throw awsFailure(error, `forgetting the domain ${hostname} of ${app}`)
    }
  }
}

function parse(value: string | undefined): DomainRecord | undefined {
  try {
    const record = JSON.parse(value ?? '') as DomainRecord
    return typeof record?.hostname === 'string' && typeof record.certificateArn === 'string' ? record : undefined
  } catch {
    return undefined
  }
}
