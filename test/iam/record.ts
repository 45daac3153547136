import type {AwsClients} from '../../src/aws/clients.js'

/**
 * Records every AWS call a context's SDK clients make (SDK middleware, outermost, so calls a
 * stand-in answers are recorded too), with the principal that makes it: the CLI's user or
 * the app's build role. Commands the build runs (docker, pack, the AWS CLI) are recorded by
 * the runner the test hands to the build.
 */

export type Principal = 'user' | 'build'

export interface AwsCall {
  principal: Principal
  /** IAM service prefix: ecs, ssm, elasticloadbalancing... */
  service: string
  /** API operation: DescribeServices, RunTask... */
  operation: string
  input: Record<string, any>
  output?: Record<string, any>
  /** The scenario step that made it, for messages. */
  step: string
}

export interface CommandRun {
  principal: Principal
  argv: string[]
  step: string
  /** Files of the build context the command reads (the Dockerfile), as they were when it ran. */
  files?: Record<string, string>
}

/** AwsClients' factory methods and the IAM service prefix of each. */
export const CLIENTS = {
  cloudFormation: 'cloudformation',
  ecs: 'ecs',
  ssm: 'ssm',
  logs: 'logs',
  ecr: 'ecr',
  s3: 's3',
  sts: 'sts',
  elbv2: 'elasticloadbalancing',
  codeCommit: 'codecommit',
  codeBuild: 'codebuild',
  codePipeline: 'codepipeline',
  iam: 'iam',
  secretsManager: 'secretsmanager',
  applicationAutoScaling: 'application-autoscaling',
} as const

/** AwsClients' members that make no client. */
const NOT_CLIENTS = new Set(['constructor', 'region', 'set', 'options', 'make'])

type MiddlewareClient = {middlewareStack: {add: (middleware: any, options: Record<string, unknown>) => void}}

export class Recorder {
  readonly calls: AwsCall[] = []
  readonly commands: CommandRun[] = []
  step = 'setup'

  /**
   * Records the calls of every client of `clients` (creating each one, so call after any
   * clients.set). A client AwsClients gains later is recorded too, its IAM prefix taken
   * from its method's name until CLIENTS names it.
   */
  async attach(clients: AwsClients, principal: Principal): Promise<void> {
    const methods = Object.getOwnPropertyNames(Object.getPrototypeOf(clients)).filter((name) => !NOT_CLIENTS.has(name))
    for (const method of methods) {
      const service = (CLIENTS as Record<string, string>)[method] ?? method.toLowerCase()
      const client = (await (clients as unknown as Record<string, () => Promise<MiddlewareClient>>)[method]()) as MiddlewareClient
      client.middlewareStack.add(
        (next: (args: {input: unknown}) => Promise<{output: unknown}>, context: {commandName?: string}) => async (args: {input: unknown}) => {
          const call: AwsCall = {principal, service, operation: (context.commandName ?? '?').replace(/Command$/, ''), input: {...(args.input as Record<string, any>)}, step: this.step}
          this.calls.push(call)
          const result = await next(args)
          call.output = result.output as Record<string, any>
          return result
        },
        {step: 'initialize', name: 'recordIamCalls', priority: 'high'},
      )
    }
  }

  /** Sets the step name later calls are recorded under. */
  at(step: string): void {
    this.step = step
  }
}
