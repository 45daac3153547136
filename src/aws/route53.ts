import type {Route53Client} from '@aws-sdk/client-route-53'

import {awsFailure, isAwsError} from './errors.js'

/** A public hosted zone of the account. */
export interface HostedZone {
  /** Z123... (without /hostedzone/) */
  id: string
  /** example.com (without the trailing dot) */
  name: string
}

/** A record herogate makes: a CNAME, or an alias A record to a load balancer (what a zone's apex allows). */
export type ZoneRecord =
  | {type: 'CNAME'; name: string; value: string}
  | {type: 'ALIAS'; name: string; value: string; targetZoneId: string}

/** Route 53 in herogate's words: the account's zone of a host name, and the records herogate makes in it. */
export class Dns {
  constructor(private readonly client: Route53Client) {}

  /**
   * The account's public zone that holds `hostname`: the longest of its suffixes that is a
   * zone (www.shop.example.com: shop.example.com, then example.com). Route 53 lists zones
   * by name from the one asked for, so each suffix is asked about on its own.
   */
  async zoneFor(hostname: string): Promise<HostedZone | undefined> {
    const {ListHostedZonesByNameCommand} = await import('@aws-sdk/client-route-53')
    const labels = hostname.split('.')
    for (let i = 0; i < labels.length - 1; i++) {
      const name = labels.slice(i).join('.')
      let zones
      try {
        zones = (await this.client.send(new ListHostedZonesByNameCommand({DNSName: name, MaxItems: 5}))).HostedZones ?? []
      } catch (error) {
        throw awsFailure(error, `looking for a Route 53 zone of ${hostname}`)
      }

      const zone = zones.find((z) => z.Name?.replace(/\.$/, '') === name && !z.Config?.PrivateZone)
      if (zone?.Id) return {id: zone.Id.replace(/^\/hostedzone\//, ''), name}
    }

    return undefined
  }

  /** Creates the records, or sets them to these values where they exist. */
  async upsert(zoneId: string, records: ZoneRecord[]): Promise<void> {
    await this.change(zoneId, 'UPSERT', records, 'creating DNS records in Route 53')
  }

  /** Deletes the records; those already gone (or changed by someone since) are left as they are. */
  async delete(zoneId: string, records: ZoneRecord[]): Promise<void> {
    for (const record of records) {
      try {
        await this.change(zoneId, 'DELETE', [record], 'deleting DNS records in Route 53')
      } catch (error) {
        if (!isAwsError((error as {cause?: unknown}).cause, 'InvalidChangeBatch')) throw error
      }
    }
  }

  private async change(zoneId: string, action: 'UPSERT' | 'DELETE', records: ZoneRecord[], doing: string): Promise<void> {
    const {ChangeResourceRecordSetsCommand} = await import('@aws-sdk/client-route-53')
    try {
      await this.client.send(new ChangeResourceRecordSetsCommand({
        HostedZoneId: zoneId,
        ChangeBatch: {
          Comment: 'herogate domains',
          Changes: records.map((record) => ({
            Action: action,
            ResourceRecordSet: record.type === 'CNAME'
              ? {Name: record.name, Type: 'CNAME', TTL: 300, ResourceRecords: [{Value: record.value}]}
              : {Name: record.name, Type: 'A', AliasTarget: {HostedZoneId: record.targetZoneId, DNSName: record.value, EvaluateTargetHealth: false}},
          })),
        },
      }))
    } catch (error) {
      throw awsFailure(error, doing)
    }
  }
}
