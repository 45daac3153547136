import {CreateDBSnapshotCommand, DescribeDBClusterSnapshotsCommand, DescribeDBSnapshotsCommand, RDSClient} from '@aws-sdk/client-rds'
import {mockClient} from 'aws-sdk-client-mock'
import {expect} from 'chai'

import {DatabaseNotFound, Rds, SnapshotNotFound} from '../../src/aws/rds.js'

const awsError = (name: string, message: string) => Object.assign(new Error(message), {name, $metadata: {}})

describe('RDS wrapper', () => {
  const client = new RDSClient({region: 'us-east-1'})
  const mock = mockClient(client)
  const rds = new Rds(client)

  beforeEach(() => mock.reset())
  after(() => mock.restore())

  it('lists an add-on\'s snapshots across pages by prefix, oldest first', async () => {
    mock.on(DescribeDBSnapshotsCommand)
      .resolvesOnce({DBSnapshots: [{DBSnapshotIdentifier: 'hg-a-1-2', DBInstanceIdentifier: 'hg-a-1', SnapshotCreateTime: new Date('2026-01-02'), Status: 'available', AllocatedStorage: 20}, {DBSnapshotIdentifier: 'other-1', Status: 'available'}], Marker: 'm'})
      .resolvesOnce({DBSnapshots: [{DBSnapshotIdentifier: 'hg-a-1-1', DBInstanceIdentifier: 'hg-a-1', SnapshotCreateTime: new Date('2026-01-01'), Status: 'creating'}]})
    const found = await rds.snapshots('instance', {prefix: 'hg-a-1-'})
    expect(found.map((s) => [s.id, s.status, s.sizeGb])).to.deep.equal([['hg-a-1-1', 'creating', undefined], ['hg-a-1-2', 'available', 20]])
    expect(mock.commandCalls(DescribeDBSnapshotsCommand).map((c) => c.args[0].input)).to.deep.equal([{SnapshotType: 'manual', Marker: undefined}, {SnapshotType: 'manual', Marker: 'm'}])
  })

  it('turns a missing database or snapshot into typed errors', async () => {
    mock.on(CreateDBSnapshotCommand).rejects(awsError('DBInstanceNotFoundFault', 'DBInstance hg-a-1 not found.'))
    try {
      await rds.createSnapshot('instance', 'hg-a-1', 'hg-a-1-x', {})
      expect.fail('expected DatabaseNotFound')
    } catch (error) {
      expect(error).to.be.instanceOf(DatabaseNotFound)
    }

    mock.on(DescribeDBClusterSnapshotsCommand).rejects(awsError('DBClusterSnapshotNotFoundFault', 'not found'))
    try {
      await rds.snapshot('cluster', 'nope')
      expect.fail('expected SnapshotNotFound')
    } catch (error) {
      expect(error).to.be.instanceOf(SnapshotNotFound)
      expect((error as Error).message).to.equal('There is no snapshot nope.')
    }
  })
})
