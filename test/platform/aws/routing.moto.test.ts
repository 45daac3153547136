import {CloudFormationClient, CreateStackCommand, DescribeStacksCommand} from '@aws-sdk/client-cloudformation'
import {DescribeSecurityGroupsCommand, EC2Client} from '@aws-sdk/client-ec2'
import {IAMClient, UploadServerCertificateCommand} from '@aws-sdk/client-iam'
import {DescribeLoadBalancersCommand, DescribeRulesCommand, ElasticLoadBalancingV2Client} from '@aws-sdk/client-elastic-load-balancing-v2'
import {expect} from 'chai'
import {readFileSync} from 'node:fs'

import {names} from '../../../src/lib/naming.js'
import {BUILD_TIMEOUT_MINUTES} from '../../../src/release/budget.js'
import {useMoto} from '../../helpers/moto.js'

const REGION = 'us-east-1'
const template = (file: string) => readFileSync(new URL(`../../../templates/${file}`, import.meta.url), 'utf8')

/**
 * What the platform opens to the world and how apps are routed, on stacks moto creates from the
 * real templates (conditions and all).
 */
describe('routing and firewall of the templates (moto)', function () {
  this.timeout(60_000)
  useMoto()
  const cfn = new CloudFormationClient({region: REGION})
  const elb = new ElasticLoadBalancingV2Client({region: REGION})
  // moto's reset leaves stacks behind: each test's stacks get names of their own.
  let run = 0
  beforeEach(() => {
    run++
  })

  async function stack(name: string, body: string, parameters: Record<string, string>): Promise<Record<string, string>> {
    const {StackId} = await cfn.send(new CreateStackCommand({
      StackName: name, TemplateBody: body, Capabilities: ['CAPABILITY_IAM'],
      Parameters: Object.entries(parameters).map(([ParameterKey, ParameterValue]) => ({ParameterKey, ParameterValue})),
    }))
    const [created] = (await cfn.send(new DescribeStacksCommand({StackName: StackId}))).Stacks!
    expect(created.StackStatus, created.StackStatusReason).to.equal('CREATE_COMPLETE')
    return Object.fromEntries((created.Outputs ?? []).map((o) => [o.OutputKey!, o.OutputValue!]))
  }

  const platform = (parameters: Record<string, string> = {}) =>
    stack(`${names.platformStack()}-${run}`, template('platform.yml'), {PublicImageCachePrefix: `${names.publicImageCache()}-${run}`, ...parameters})

  /** The port ranges the load balancer's security group opens to the world. */
  async function openPorts(loadBalancerArn: string): Promise<Array<[number, number]>> {
    const [balancer] = (await elb.send(new DescribeLoadBalancersCommand({LoadBalancerArns: [loadBalancerArn]}))).LoadBalancers!
    const groups = await new EC2Client({region: REGION}).send(new DescribeSecurityGroupsCommand({GroupIds: balancer.SecurityGroups}))
    return groups.SecurityGroups![0].IpPermissions!.filter((p) => p.IpRanges?.some((r) => r.CidrIp === '0.0.0.0/0')).map((p) => [p.FromPort!, p.ToPort!])
  }

  const app = async (p: Record<string, string>) =>
    stack(`${names.appStack('demo')}-${run}`, template('app.yml'), {
      AppName: `demo${run}`, Cluster: p.Cluster, VpcId: p.VpcId, Subnets: p.Subnets, TaskSecurityGroup: p.TaskSecurityGroup,
      LoadBalancerSecurityGroup: (await elb.send(new DescribeLoadBalancersCommand({LoadBalancerArns: [p.LoadBalancerArn]}))).LoadBalancers![0].SecurityGroups![0],
      LoadBalancerArn: p.LoadBalancerArn, LoadBalancerDnsName: p.LoadBalancerDnsName, HttpListenerArn: p.HttpListenerArn, HttpsListenerArn: p.HttpsListenerArn ?? '',
      Domain: p.Domain, RulePriority: '1', ArtifactBucket: p.ArtifactBucket, PipelineArtifactPrefix: `herogate-demo${run}`, BuildSpec: 'version: 0.2',
      BuildTimeoutMinutes: String(BUILD_TIMEOUT_MINUTES),
    })
  /** The action of each app rule of a listener. */
  const actions = async (listener: string) => (await elb.send(new DescribeRulesCommand({ListenerArn: listener}))).Rules!.filter((r) => !r.IsDefault).map((r) => r.Actions![0])

  it('opens the app ports 10000-10999 only on a platform without a domain', async () => {
    const p = await platform()
    expect(await openPorts(p.LoadBalancerArn)).to.have.deep.members([[80, 80], [443, 443], [10_000, 10_999]])
  })

  it("publishes the load balancer's security group, the one apps admit, as the load balancer has it", async () => {
    const p = await platform()
    const [balancer] = (await elb.send(new DescribeLoadBalancersCommand({LoadBalancerArns: [p.LoadBalancerArn]}))).LoadBalancers!
    expect(p.LoadBalancerSecurityGroup).to.match(/^sg-/).and.equal(balancer.SecurityGroups![0])
    // LoadBalancerCanonicalHostedZoneId (!GetAtt LoadBalancer.CanonicalHostedZoneID) is not checked: moto 5.2.1 leaves that GetAtt unresolved in outputs.
    expect(p).to.have.property('LoadBalancerCanonicalHostedZoneId')
  })

  it('keeps them closed on a platform with a domain', async () => {
    const p = await platform({Domain: 'apps.example.com'})
    expect(await openPorts(p.LoadBalancerArn)).to.have.deep.members([[80, 80], [443, 443]])
  })

  it('with a certificate, redirects the app\'s HTTP to HTTPS and forwards HTTPS to the app', async () => {
    // moto's HTTPS listener wants a certificate it knows; an IAM server certificate is the one this test can make.
    const {ServerCertificateMetadata: certificate} = await new IAMClient({region: REGION}).send(new UploadServerCertificateCommand({
      ServerCertificateName: `apps-${run}`, CertificateBody: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----', PrivateKey: '-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----',
    }))
    const p = await platform({Domain: 'apps.example.com', CertificateArn: certificate!.Arn!})
    await app(p)
    const [http] = await actions(p.HttpListenerArn)
    expect(http.Type).to.equal('redirect')
    expect(http.RedirectConfig).to.include({Protocol: 'HTTPS', Port: '443', StatusCode: 'HTTP_301'})
    const [https] = await actions(p.HttpsListenerArn)
    expect(https.Type).to.equal('forward')
  })

  it('without a certificate, forwards the app\'s HTTP to the app', async () => {
    const p = await platform({Domain: 'apps.example.com'})
    await app(p)
    expect((await actions(p.HttpListenerArn)).map((a) => a.Type)).to.deep.equal(['forward'])
  })
})
