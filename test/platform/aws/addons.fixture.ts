import {
  CloudFormationClient, CreateStackCommand, type CreateStackCommandInput, DeleteStackCommand, DescribeStackEventsCommand, DescribeStacksCommand, type Parameter, type Stack,
  type StackEvent, UpdateStackCommand, type UpdateStackCommandInput,
} from '@aws-sdk/client-cloudformation'
import {CreateDBClusterCommand, CreateDBInstanceCommand, DeleteDBClusterCommand, DeleteDBInstanceCommand, RDSClient, RestoreDBInstanceFromDBSnapshotCommand} from '@aws-sdk/client-rds'
import {type AwsClientStub, mockClient} from 'aws-sdk-client-mock'
import {parseDocument} from 'yaml'

import {names} from '../../../src/lib/naming.js'
import type {AppResources} from '../../../src/platform/aws/resources.js'

export const PLATFORM_V2_OUTPUTS = {
  VpcId: 'vpc-1', Subnets: 'subnet-a,subnet-b', Cluster: 'herogate-cluster', TaskSecurityGroup: 'sg-tasks', ArtifactBucket: 'artifacts', LoadBalancerArn: 'arn:lb',
  DataSubnets: 'subnet-da,subnet-db', DatabaseSubnetGroup: 'herogate-data', CacheSubnetGroup: 'herogate-cache', TemplateVersion: '2',
}

export function resourcesOf(app: string): AppResources {
  return {
    app, region: 'us-east-1', stackName: names.appStack(app), cluster: 'herogate-cluster', subnets: ['subnet-a', 'subnet-b'], securityGroup: `sg-${app}`,
    executionRoleArn: 'arn:aws:iam::123456789012:role/exec', taskRoleArn: 'arn:aws:iam::123456789012:role/task', logGroup: names.logGroup(app),
    ecrRepositoryUri: 'repo', targetGroupArn: 'arn:tg', webUrl: 'http://lb:10000', gitUrl: 'https://git', artifactBucket: 'artifacts',
    pipeline: names.pipeline(app), codeBuildProject: names.codeBuildProject(app),
  }
}

/**
 * CloudFormation for add-on stacks as AWS behaves, where moto cannot make them (its RDS stack
 * resource takes no subnet group by name, and ElastiCache resources are not emulated): NoEcho
 * parameters read back as "****", a create is CREATE_IN_PROGRESS until `settle()` (or at once
 * with `immediate`), a stack's status can be forced (`failNext`), and the RDS databases the
 * stacks stand for are made in moto through RDS's own API, so snapshots are real calls.
 */
export class AddonCloud {
  readonly cfn: AwsClientStub<CloudFormationClient>
  readonly stacks = new Map<string, {stack: Stack; events: StackEvent[]; noEcho: Set<string>; secret?: string; template: string}>()
  readonly calls: Array<{command: string; input: unknown}> = []
  immediate = true
  failNext?: string
  /** The reason the next update of an app stack fails with (CloudFormation rolls it back). */
  failAppUpgrade?: string
  private sequence = 0

  constructor(readonly rds: RDSClient = new RDSClient({region: 'us-east-1'})) {
    this.cfn = mockClient(CloudFormationClient)
    this.put('herogate-platform', {Outputs: Object.entries(PLATFORM_V2_OUTPUTS).map(([OutputKey, OutputValue]) => ({OutputKey, OutputValue})), Tags: [{Key: 'herogate:platform', Value: 'true'}]}, '')
    this.cfn.on(CreateStackCommand).callsFake((input: CreateStackCommandInput) => this.create(input))
    this.cfn.on(UpdateStackCommand).callsFake((input: UpdateStackCommandInput) => this.update(input))
    this.cfn.on(DeleteStackCommand).callsFake(async (input: {StackName: string}) => this.delete(input.StackName))
    this.cfn.on(DescribeStacksCommand).callsFake(async (input: {StackName?: string}) => {
      if (!input.StackName) return {Stacks: [...this.stacks.values()].filter((s) => s.stack.StackStatus !== 'DELETE_COMPLETE').map((s) => this.view(s))}
      const found = this.find(input.StackName)
      if (!found || (found.stack.StackStatus === 'DELETE_COMPLETE' && !input.StackName.startsWith('arn:'))) {
        throw Object.assign(new Error(`Stack with id ${input.StackName} does not exist`), {name: 'ValidationError', $metadata: {}})
      }

      if (!this.immediate) await this.settle(found.stack.StackName!)
      return {Stacks: [this.view(found)]}
    })
    this.cfn.on(DescribeStackEventsCommand).callsFake((input: {StackName: string}) => ({StackEvents: [...(this.find(input.StackName)?.events ?? [])].reverse()}))
  }

  /** Every parameter value, tag and template CloudFormation was given (what must never hold a secret in the clear). */
  everythingGiven(): string {
    return JSON.stringify(this.calls.map((call) => {
      const input = call.input as {Parameters?: Parameter[]; Tags?: unknown; TemplateBody?: string}
      // NoEcho parameters are masked by AWS in every answer; what matters is the rest.
      return {...input, Parameters: input.Parameters?.filter((p) => !['MasterPassword', 'AuthToken'].includes(p.ParameterKey!))}
    }))
  }

  secretOf(name: string): string | undefined {
    return this.stacks.get(name)?.secret
  }

  /** Moves a stack in progress to where AWS would take it. */
  async settle(name: string): Promise<void> {
    const entry = this.stacks.get(name)
    if (!entry) return
    const status = entry.stack.StackStatus!
    if (status === 'CREATE_IN_PROGRESS') {
      if (this.failNext) {
        this.event(entry, 'Database', 'AWS::RDS::DBInstance', 'CREATE_FAILED', this.failNext)
        this.failNext = undefined
        entry.stack.StackStatus = 'ROLLBACK_COMPLETE'
        return
      }

      await this.make(entry)
      entry.stack.StackStatus = 'CREATE_COMPLETE'
    } else if (status === 'UPDATE_IN_PROGRESS' && this.failAppUpgrade && entry.stack.StackName === names.appStack(this.param(entry, 'AppName') ?? '')) {
      this.event(entry, 'AppTaskSecurityGroup', 'AWS::EC2::SecurityGroup', 'CREATE_FAILED', this.failAppUpgrade)
      this.failAppUpgrade = undefined
      entry.stack.StackStatus = 'UPDATE_ROLLBACK_COMPLETE'
    } else if (status === 'UPDATE_IN_PROGRESS') {
      await this.make(entry)
      entry.stack.StackStatus = 'UPDATE_COMPLETE'
    } else if (status === 'DELETE_IN_PROGRESS') {
      await this.unmake(entry)
      entry.stack.StackStatus = 'DELETE_COMPLETE'
    }

    this.event(entry, name, 'AWS::CloudFormation::Stack', entry.stack.StackStatus!)
  }

  private put(name: string, stack: Partial<Stack>, template: string): {stack: Stack; events: StackEvent[]; noEcho: Set<string>; secret?: string; template: string} {
    const id = `arn:aws:cloudformation:us-east-1:123456789012:stack/${name}/${++this.sequence}`
    const entry = {stack: {StackName: name, StackId: id, StackStatus: 'CREATE_COMPLETE', CreationTime: new Date(Date.UTC(2026, 10, 21, 10, this.sequence)), Parameters: [], Outputs: [], Tags: [], ...stack} as Stack, events: [], noEcho: new Set<string>(), template}
    this.stacks.set(name, entry)
    return entry
  }

  /**
   * An app stack made before apps had a security group of their own (no TaskSecurityGroup
   * output); an update to the current template gives it `sg-own-APP`, as templates/app.yml would.
   */
  putOldApp(app: string): void {
    this.put(names.appStack(app), {Parameters: [{ParameterKey: 'AppName', ParameterValue: app}, {ParameterKey: 'Cluster', ParameterValue: 'herogate-cluster'}], Outputs: [{OutputKey: 'AppName', OutputValue: app}], Tags: [{Key: 'herogate:app', Value: app}]}, 'old app template')
  }

  /**
   * An app stack of the current template (its own task group `sg-own-APP`) that publishes no
   * resources parameter (this stand-in makes none): the driver reads the app's resources from
   * the stacks, as for an app made before stacks published them.
   */
  putApp(app: string): void {
    const outputs = {
      AppName: app, TaskSecurityGroup: `sg-own-${app}`, ExecutionRoleArn: 'arn:aws:iam::123456789012:role/exec', TaskRoleArn: 'arn:aws:iam::123456789012:role/task',
      LogGroup: names.logGroup(app), ImageRepositoryUri: 'repo', TargetGroupArn: 'arn:tg', WebUrl: 'http://lb:10000',
    }
    this.put(names.appStack(app), {
      Parameters: [{ParameterKey: 'AppName', ParameterValue: app}, {ParameterKey: 'Cluster', ParameterValue: 'herogate-cluster'}],
      Outputs: Object.entries(outputs).map(([OutputKey, OutputValue]) => ({OutputKey, OutputValue})),
      Tags: [{Key: 'herogate:app', Value: app}],
    }, 'app template')
  }

  private find(nameOrId: string) {
    return [...this.stacks.values()].find((s) => s.stack.StackName === nameOrId || s.stack.StackId === nameOrId)
  }

  private view(entry: {stack: Stack; noEcho: Set<string>}): Stack {
    return {...entry.stack, Parameters: entry.stack.Parameters?.map((p) => (entry.noEcho.has(p.ParameterKey!) ? {...p, ParameterValue: '****'} : p))}
  }

  private event(entry: {events: StackEvent[]; stack: Stack}, logicalId: string, type: string, status: string, reason?: string) {
    entry.events.push({EventId: `e${++this.sequence}`, StackName: entry.stack.StackName, StackId: entry.stack.StackId, LogicalResourceId: logicalId, ResourceType: type, ResourceStatus: status as StackEvent['ResourceStatus'], ResourceStatusReason: reason, Timestamp: new Date()})
  }

  private async create(input: CreateStackCommandInput) {
    this.calls.push({command: 'CreateStack', input})
    const existing = this.stacks.get(input.StackName!)
    if (existing && existing.stack.StackStatus !== 'DELETE_COMPLETE') throw Object.assign(new Error(`Stack [${input.StackName}] already exists`), {name: 'AlreadyExistsException', $metadata: {}})
    const noEcho = noEchoOf(input.TemplateBody!)
    const entry = this.put(input.StackName!, {StackStatus: 'CREATE_IN_PROGRESS', Parameters: input.Parameters, Tags: input.Tags}, input.TemplateBody!)
    for (const key of noEcho) entry.noEcho.add(key)
    entry.secret = input.Parameters?.find((p) => noEcho.has(p.ParameterKey!))?.ParameterValue
    this.event(entry, input.StackName!, 'AWS::CloudFormation::Stack', 'CREATE_IN_PROGRESS')
    if (this.immediate) await this.settle(input.StackName!)
    return {StackId: entry.stack.StackId}
  }

  private async update(input: UpdateStackCommandInput) {
    this.calls.push({command: 'UpdateStack', input})
    const entry = this.find(input.StackName!)!
    if (entry.stack.StackStatus!.endsWith('_IN_PROGRESS')) throw Object.assign(new Error(`Stack ${input.StackName} is in UPDATE_IN_PROGRESS state and can not be updated.`), {name: 'ValidationError', $metadata: {}})
    const before = new Map(entry.stack.Parameters!.map((p) => [p.ParameterKey!, p.ParameterValue!]))
    if (input.TemplateBody) entry.template = input.TemplateBody
    entry.stack.Parameters = input.Parameters!.map((p) => (p.UsePreviousValue ? {ParameterKey: p.ParameterKey, ParameterValue: before.get(p.ParameterKey!)} : p))
    const secret = input.Parameters!.find((p) => entry.noEcho.has(p.ParameterKey!) && !p.UsePreviousValue)?.ParameterValue
    if (secret) entry.secret = secret
    entry.stack.StackStatus = 'UPDATE_IN_PROGRESS'
    this.event(entry, entry.stack.StackName!, 'AWS::CloudFormation::Stack', 'UPDATE_IN_PROGRESS')
    if (this.immediate) await this.settle(entry.stack.StackName!)
    return {StackId: entry.stack.StackId}
  }

  private async delete(nameOrId: string) {
    this.calls.push({command: 'DeleteStack', input: {StackName: nameOrId}})
    const entry = this.find(nameOrId)
    if (!entry || entry.stack.StackStatus === 'DELETE_COMPLETE') return {}
    entry.stack.StackStatus = 'DELETE_IN_PROGRESS'
    if (this.immediate) await this.settle(entry.stack.StackName!)
    return {}
  }

  private param(entry: {stack: Stack}, key: string): string | undefined {
    return entry.stack.Parameters?.find((p) => p.ParameterKey === key)?.ParameterValue
  }

  /** The stack's database or cache, as its template would make it; outputs as the template gives them. */
  private async make(entry: {stack: Stack; template: string}) {
    if (entry.stack.StackName === names.appStack(this.param(entry, 'AppName') ?? '')) {
      if (/AppTaskSecurityGroup:/.test(entry.template)) entry.stack.Outputs = [...entry.stack.Outputs ?? [], {OutputKey: 'TaskSecurityGroup', OutputValue: `sg-own-${this.param(entry, 'AppName')}`}]
      return
    }

    const outputs: Record<string, string> = {Plan: this.param(entry, 'Plan') ?? ''}
    const id = this.param(entry, 'DatabaseIdentifier')
    if (id) {
      const previous = entry.stack.Outputs?.find((o) => o.OutputKey === 'DatabaseIdentifier')?.OutputValue
      const serverless = this.param(entry, 'Serverless') === 'true'
      if (previous !== id) {
        const snapshot = this.param(entry, 'SnapshotIdentifier')
        if (serverless) {
          await this.rds.send(new CreateDBClusterCommand({DBClusterIdentifier: id, Engine: 'aurora-postgresql', MasterUsername: 'herogate', MasterUserPassword: 'x'.repeat(16), StorageEncrypted: true}))
        } else if (snapshot) {
          await this.rds.send(new RestoreDBInstanceFromDBSnapshotCommand({DBInstanceIdentifier: id, DBSnapshotIdentifier: snapshot}))
        } else {
          await this.rds.send(new CreateDBInstanceCommand({DBInstanceIdentifier: id, Engine: 'postgres', DBInstanceClass: this.param(entry, 'InstanceClass'), AllocatedStorage: Number(this.param(entry, 'AllocatedStorage')), MasterUsername: 'herogate', MasterUserPassword: 'x'.repeat(16), StorageEncrypted: true}))
        }

        // UpdateReplacePolicy: Snapshot is CloudFormation's; the replaced database goes.
        if (previous) await this.rds.send(new DeleteDBInstanceCommand({DBInstanceIdentifier: previous, SkipFinalSnapshot: true}))
      }

      Object.assign(outputs, {Host: `${id}.abc123.us-east-1.rds.amazonaws.com`, Port: '5432', DatabaseIdentifier: id, Kind: serverless ? 'cluster' : 'instance'})
    } else {
      Object.assign(outputs, {Host: `master.${this.param(entry, 'CacheIdentifier')}.abc123.use1.cache.amazonaws.com`, Port: '6379', CacheIdentifier: this.param(entry, 'CacheIdentifier')!})
    }

    entry.stack.Outputs = Object.entries(outputs).map(([OutputKey, OutputValue]) => ({OutputKey, OutputValue}))
  }

  private async unmake(entry: {stack: Stack}) {
    const id = entry.stack.Outputs?.find((o) => o.OutputKey === 'DatabaseIdentifier')?.OutputValue
    if (!id) return
    if (this.param(entry, 'Serverless') === 'true') await this.rds.send(new DeleteDBClusterCommand({DBClusterIdentifier: id, SkipFinalSnapshot: true}))
    else await this.rds.send(new DeleteDBInstanceCommand({DBInstanceIdentifier: id, SkipFinalSnapshot: true}))
  }
}

function noEchoOf(templateBody: string): Set<string> {
  const template = parseDocument(templateBody, {logLevel: 'silent'}).toJS() as {Parameters?: Record<string, {NoEcho?: boolean}>}
  return new Set(Object.entries(template.Parameters ?? {}).filter(([, p]) => p.NoEcho).map(([key]) => key))
}
