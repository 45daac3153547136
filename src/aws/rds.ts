import type {DBClusterSnapshot, DBSnapshot, RDSClient} from '@aws-sdk/client-rds'

import {HerogateError} from '../lib/errors.js'
import {awsFailure, isAwsError} from './errors.js'

/** An RDS instance (RDS for PostgreSQL) or an Aurora cluster: their snapshots are different calls. */
export type DatabaseKind = 'instance' | 'cluster'

/** A manual snapshot as herogate shows it. */
export interface Snapshot {
  id: string
  database: string
  createdAt?: Date
  status: string
  /** Allocated storage in GiB, where RDS says it. */
  sizeGb?: number
}

/** The database a snapshot was asked of does not exist (any more). */
export class DatabaseNotFound extends HerogateError {}
/** No snapshot of that name. */
export class SnapshotNotFound extends HerogateError {}

/** RDS in herogate's words: manual snapshots of an add-on's database, by kind. */
export class Rds {
  constructor(private readonly client: RDSClient) {}

  private async sdk() {
    return import('@aws-sdk/client-rds')
  }

  async createSnapshot(kind: DatabaseKind, database: string, snapshot: string, tags: Record<string, string>): Promise<Snapshot> {
    const sdk = await this.sdk()
    const Tags = Object.entries(tags).map(([Key, Value]) => ({Key, Value}))
    try {
      if (kind === 'cluster') {
        const response = await this.client.send(new sdk.CreateDBClusterSnapshotCommand({DBClusterIdentifier: database, DBClusterSnapshotIdentifier: snapshot, Tags}))
        return clusterSnapshot(response.DBClusterSnapshot ?? {DBClusterSnapshotIdentifier: snapshot, DBClusterIdentifier: database, Status: 'creating'})
      }

      const response = await this.client.send(new sdk.CreateDBSnapshotCommand({DBInstanceIdentifier: database, DBSnapshotIdentifier: snapshot, Tags}))
      return instanceSnapshot(response.DBSnapshot ?? {DBSnapshotIdentifier: snapshot, DBInstanceIdentifier: database, Status: 'creating'})
    } catch (error) {
      if (isAwsError(error, 'DBInstanceNotFound', 'DBInstanceNotFoundFault', 'DBClusterNotFoundFault')) {
        throw new DatabaseNotFound(`Database ${database} does not exist, so no snapshot of it can be taken.`, {cause: error})
      }

      throw awsFailure(error, `taking snapshot ${snapshot} of ${database}`)
    }
  }

  /** Manual snapshots whose identifiers start with `prefix` (an add-on's, across the databases a restore made), oldest first. */
  async snapshots(kind: DatabaseKind, {prefix}: {prefix: string}): Promise<Snapshot[]> {
    const sdk = await this.sdk()
    const found: Snapshot[] = []
    let Marker: string | undefined
    try {
      do {
        if (kind === 'cluster') {
          const response = await this.client.send(new sdk.DescribeDBClusterSnapshotsCommand({SnapshotType: 'manual', Marker}))
          found.push(...(response.DBClusterSnapshots ?? []).map(clusterSnapshot))
          Marker = response.Marker
        } else {
          const response = await this.client.send(new sdk.DescribeDBSnapshotsCommand({SnapshotType: 'manual', Marker}))
          found.push(...(response.DBSnapshots ?? []).map(instanceSnapshot))
          Marker = response.Marker
        }
      } while (Marker)
    } catch (error) {
      throw awsFailure(error, `listing the snapshots ${prefix}*`)
    }

    return found.filter((s) => s.id.startsWith(prefix)).sort((a, b) => (a.createdAt?.getTime() ?? 0) - (b.createdAt?.getTime() ?? 0))
  }

  async snapshot(kind: DatabaseKind, id: string): Promise<Snapshot> {
    const sdk = await this.sdk()
    try {
      if (kind === 'cluster') {
        const response = await this.client.send(new sdk.DescribeDBClusterSnapshotsCommand({DBClusterSnapshotIdentifier: id}))
        const first = response.DBClusterSnapshots?.[0]
        if (first) return clusterSnapshot(first)
      } else {
        const response = await this.client.send(new sdk.DescribeDBSnapshotsCommand({DBSnapshotIdentifier: id}))
        const first = response.DBSnapshots?.[0]
        if (first) return instanceSnapshot(first)
      }
    } catch (error) {
      if (!isAwsError(error, 'DBSnapshotNotFound', 'DBSnapshotNotFoundFault', 'DBClusterSnapshotNotFoundFault')) throw awsFailure(error, `reading snapshot ${id}`)
    }

    throw new SnapshotNotFound(`There is no snapshot ${id}.`)
  }
}

function instanceSnapshot(s: DBSnapshot): Snapshot {
  return {id: s.DBSnapshotIdentifier ?? '', database: s.DBInstanceIdentifier ?? '', createdAt: s.SnapshotCreateTime, status: s.Status ?? 'unknown', ...(s.AllocatedStorage ? {sizeGb: s.AllocatedStorage} : {})}
}

function clusterSnapshot(s: DBClusterSnapshot): Snapshot {
  return {id: s.DBClusterSnapshotIdentifier ?? '', database: s.DBClusterIdentifier ?? '', createdAt: s.SnapshotCreateTime, status: s.Status ?? 'unknown', ...(s.AllocatedStorage ? {sizeGb: s.AllocatedStorage} : {})}
}
