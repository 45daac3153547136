import type {AwsClients} from '../../../src/aws/clients.js'

/** What the mocked create and destroy tests share: a region, a buildspec and a platform's outputs. */
export const REGION = 'eu-west-1'
export const BUILDSPEC = 'version: 0.2\n'
export const PLATFORM_OUTPUTS = {
  VpcId: 'vpc-1', Subnets: 'subnet-a,subnet-b', Cluster: 'herogate-cluster', TaskSecurityGroup: 'sg-tasks',
  LoadBalancerArn: 'arn:lb', LoadBalancerDnsName: 'lb.example.com', HttpListenerArn: 'arn:listener/80', ArtifactBucket: 'artifacts',
}

/** Puts a client in place of the one `clients` would make, returning it for mockClient. */
export function installer(clients: AwsClients) {
  return <T>(name: string, client: T): T => {
    clients.set(name, client)
    return client
  }
}
