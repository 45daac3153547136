import {CreateDBClusterCommand, CreateDBInstanceCommand, DeleteDBClusterCommand, DeleteDBInstanceCommand, RDSClient, RestoreDBInstanceFromDBSnapshotCommand} from '@aws-sdk/client-rds'

import type {AwsClients} from '../../src/aws/clients.js'
import type {StackSnapshot} from './scenario.js'
import {loadTemplate, resolver, type StackValues} from './template.js'

/**
 * Add-on stacks for the recorded scenario: moto cannot make them (its RDS stack resource takes
 * no subnet group by name; ElastiCache resources are not emulated), so their CloudFormation
 * calls are answered here, as AWS answers them, after the recorder (outermost) has seen them.
 * The databases they stand for are made in moto with an unrecorded RDS client, so that the
 * snapshot calls herogate makes are real. `snapshots()` gives each stack's resources resolved
 * from its template, for the IAM mapping of CreateStack, UpdateStack and DeleteStack.
 */

type MiddlewareClient = {middlewareStack: {add: (middleware: any, options: Record<string, unknown>) => void}}

interface AddonStack {
  name: string
  id: string
  file: string
  status: string
  parameters: Record<string, string>
  tags: Array<{Key: string; Value: string}>
  outputs: Record<string, string>
  createdAt: Date
}

const answer = (output: Record<string, unknown>) => ({output: {$metadata: {}, ...output}, response: {}})
const NO_ECHO = new Set(['MasterPassword', 'AuthToken'])

export class AddonStandIn {
  private readonly stacks = new Map<string, AddonStack>()
  private readonly rds: RDSClient
  private sequence = 0

  constructor(private readonly region: string, private readonly account: string) {
    this.rds = new RDSClient({region})
  }

  async install(clients: AwsClients): Promise<void> {
    const client = (await clients.cloudFormation()) as unknown as MiddlewareClient
    client.middlewareStack.add(
      (next: (args: unknown) => Promise<{output: Record<string, any>}>, context: {commandName?: string}) => async (args: {input: Record<string, any>}) => {
        const operation = (context.commandName ?? '').replace(/Command$/, '')
        const stack = args.input.StackName ? this.find(String(args.input.StackName)) : undefined
        const mine = stack || (operation === 'CreateStack' && String(args.input.StackName).includes('--addon-'))
        if (operation === 'DescribeStacks' && !args.input.StackName) {
          const result = await next(args)
          result.output.Stacks = [...(result.output.Stacks ?? []), ...[...this.stacks.values()].filter((s) => s.status !== 'DELETE_COMPLETE').map((s) => this.view(s))]
          return result
        }

        if (!mine) return next(args)
        return answer(await this.reply(operation, args.input, stack))
      },
      {step: 'initialize', name: 'addonStackStandIn', priority: 'low'},
    )
  }

  /** Every add-on stack the scenario made, as CloudFormation would have made its resources. */
  snapshots(): StackSnapshot[] {
    return [...this.stacks.values()].map((stack) => {
      const {body} = loadTemplate(stack.file)
      const parameters: Record<string, string> = {}
      for (const [key, spec] of Object.entries((body.Parameters ?? {}) as Record<string, {Default?: unknown}>)) if (spec.Default !== undefined) parameters[key] = String(spec.Default)
      Object.assign(parameters, stack.parameters)
      // moto's Ref of the platform's AWS::RDS::DBSubnetGroup is the Python object's repr; AWS's is the name it generates.
      if (parameters.DatabaseSubnetGroup?.startsWith('<moto')) parameters.DatabaseSubnetGroup = 'herogate-platform-databasesubnetgroup-1a2b3c4d5e6f'
      const database = parameters.DatabaseIdentifier ?? parameters.CacheIdentifier
      const values: StackValues = {
        partition: 'aws', region: this.region, account: this.account, stackName: stack.name, stackId: stack.id, parameters,
        refs: {SecurityGroup: `sg-${stack.name.length.toString(16).padStart(8, '0')}`, Database: database, Cluster: database, Cache: database, ClusterInstance: `${database}-instance`, ClusterParameters: `${stack.name}-clusterparameters-1a2b3c4d5e6f`.toLowerCase()},
        attributes: {},
      }
      const resolve = resolver(body, values, {loose: true})
      const resources = body.Resources as Record<string, {Type: string; Condition?: string; Properties?: Record<string, unknown>}>
      const live = Object.entries(resources).filter(([, r]) => !r.Condition || resolve({fn: 'Condition', arg: r.Condition}))
      return {file: stack.file, name: stack.name, values, resources: live.map(([id, r]) => ({id, type: r.Type, physicalId: values.refs[id], properties: resolve(r.Properties ?? {}) as Record<string, any>}))}
    })
  }

  private find(nameOrId: string): AddonStack | undefined {
    return this.stacks.get(nameOrId) ?? [...this.stacks.values()].find((s) => s.id === nameOrId)
  }

  private view(stack: AddonStack) {
    return {
      StackName: stack.name, StackId: stack.id, StackStatus: stack.status, CreationTime: stack.createdAt, Tags: stack.tags,
      Parameters: Object.entries(stack.parameters).map(([ParameterKey, ParameterValue]) => ({ParameterKey, ParameterValue: NO_ECHO.has(ParameterKey) ? '****' : ParameterValue})),
      Outputs: Object.entries(stack.outputs).map(([OutputKey, OutputValue]) => ({OutputKey, OutputValue})),
    }
  }

  private async reply(operation: string, input: Record<string, any>, stack: AddonStack | undefined): Promise<Record<string, unknown>> {
    const parameters = (list?: Array<{ParameterKey: string; ParameterValue?: string; UsePreviousValue?: boolean}>) =>
      Object.fromEntries((list ?? []).map((p) => [p.ParameterKey, p.UsePreviousValue ? stack!.parameters[p.ParameterKey] : p.ParameterValue!]))
    switch (operation) {
      case 'CreateStack': {
        const name = String(input.StackName)
        const created: AddonStack = {
          name, id: `arn:aws:cloudformation:${this.region}:${this.account}:stack/${name}/00000000-0000-4000-8000-${String(++this.sequence).padStart(12, '0')}`,
          file: name.includes('--addon-redis') || input.Tags?.some((t: {Key: string; Value: string}) => t.Key === 'herogate:service' && t.Value === 'redis') ? 'addon-redis.yml' : 'addon-postgres.yml',
          status: 'CREATE_COMPLETE', parameters: parameters(input.Parameters), tags: input.Tags ?? [], outputs: {}, createdAt: new Date(),
        }
        await this.make(created, undefined)
        this.stacks.set(name, created)
        return {StackId: created.id}
      }

      case 'UpdateStack': {
        const before = stack!.parameters.DatabaseIdentifier
        stack!.parameters = parameters(input.Parameters)
        await this.make(stack!, before)
        stack!.status = 'UPDATE_COMPLETE'
        return {StackId: stack!.id}
      }

      case 'DeleteStack':
        if (stack!.parameters.Serverless === 'true') await this.rds.send(new DeleteDBClusterCommand({DBClusterIdentifier: stack!.parameters.DatabaseIdentifier, SkipFinalSnapshot: true}))
        else if (stack!.parameters.DatabaseIdentifier) await this.rds.send(new DeleteDBInstanceCommand({DBInstanceIdentifier: stack!.parameters.DatabaseIdentifier, SkipFinalSnapshot: true}))
        stack!.status = 'DELETE_COMPLETE'
        return {}
      case 'DescribeStacks': return {Stacks: [this.view(stack!)]}
      case 'DescribeStackEvents': return {StackEvents: [{EventId: `${stack!.name}-${stack!.status}`, StackId: stack!.id, StackName: stack!.name, LogicalResourceId: stack!.name, ResourceStatus: stack!.status, Timestamp: new Date()}]}
      default: throw new Error(`The add-on stand-in does not answer cloudformation:${operation}`)
    }
  }

  private async make(stack: AddonStack, previous: string | undefined): Promise<void> {
    const id = stack.parameters.DatabaseIdentifier
    if (id) {
      const cluster = stack.parameters.Serverless === 'true'
      if (id !== previous && cluster) {
        await this.rds.send(new CreateDBClusterCommand({DBClusterIdentifier: id, Engine: 'aurora-postgresql', MasterUsername: 'herogate', MasterUserPassword: 'x'.repeat(16)}))
      } else if (id !== previous) {
        if (stack.parameters.SnapshotIdentifier) await this.rds.send(new RestoreDBInstanceFromDBSnapshotCommand({DBInstanceIdentifier: id, DBSnapshotIdentifier: stack.parameters.SnapshotIdentifier}))
        else await this.rds.send(new CreateDBInstanceCommand({DBInstanceIdentifier: id, Engine: 'postgres', DBInstanceClass: stack.parameters.InstanceClass, AllocatedStorage: 20, MasterUsername: 'herogate', MasterUserPassword: 'x'.repeat(16)}))
        if (previous) await this.rds.send(new DeleteDBInstanceCommand({DBInstanceIdentifier: previous, SkipFinalSnapshot: true}))
      }

      stack.outputs = {Host: `${id}.c0ffee.${this.region}.rds.amazonaws.com`, Port: '5432', DatabaseIdentifier: id, Kind: cluster ? 'cluster' : 'instance', Plan: stack.parameters.Plan}
    } else {
      stack.outputs = {Host: `master.${stack.parameters.CacheIdentifier}.c0ffee.use1.cache.amazonaws.com`, Port: '6379', CacheIdentifier: stack.parameters.CacheIdentifier, Plan: stack.parameters.Plan}
    }
  }
}
