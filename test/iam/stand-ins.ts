import type {AwsClients} from '../../src/aws/clients.js'

/**
 * What moto cannot answer (MOTO-NOTES.md): CodePipeline, CodeBuild and CodeCommit,
 * CloudWatch Logs Live Tail, and ECS's service-linked role (moto names it
 * AWSServiceRoleForecs). Each is answered here as AWS documents it, enough for the commands
 * to take their normal path; the recorder (outermost) still records every call.
 */

export interface PipelineState {
  /** The commit the pushed run built; undefined before any push. */
  commit?: string
  startedAt?: Date
  buildId: string
  author: {name: string; email: string}
  logGroup: string
  /** The account moto answers for. */
  account: string
}

type MiddlewareClient = {middlewareStack: {add: (middleware: any, options: Record<string, unknown>) => void}}

const answer = (output: Record<string, unknown>) => ({output: {$metadata: {}, ...output}, response: {}})

/** A reply is an output, an error AWS would answer with (thrown), or undefined to let moto answer. */
function answers(client: MiddlewareClient, name: string, reply: (operation: string, input: Record<string, any>) => Record<string, unknown> | Error | undefined): void {
  client.middlewareStack.add(
    (next: (args: unknown) => Promise<unknown>, context: {commandName?: string}) => async (args: {input: Record<string, any>}) => {
      const output = reply((context.commandName ?? '').replace(/Command$/, ''), args.input)
      if (output instanceof Error) throw output
      return output ? answer(output) : next(args)
    },
    {step: 'initialize', name, priority: 'low'},
  )
}

export async function standIns(clients: AwsClients, state: PipelineState): Promise<void> {
  const runs = () => (state.commit ? [{pipelineExecutionId: 'run-1', status: 'Succeeded', startTime: state.startedAt, sourceRevisions: [{actionName: 'Source', revisionId: state.commit}]}] : [])
  answers(await clients.codePipeline() as unknown as MiddlewareClient, 'pipelineStandIn', (operation) => {
    switch (operation) {
      case 'GetPipeline': return {pipeline: {name: 'p', roleArn: 'r', stages: [{name: 'Source', actions: [{name: 'Source', actionTypeId: {category: 'Source', owner: 'AWS', provider: 'CodeCommit', version: '1'}, configuration: {BranchName: 'main'}}]}]}}
      case 'ListPipelineExecutions': return {pipelineExecutionSummaries: runs()}
      case 'GetPipelineExecution': return {pipelineExecution: {pipelineExecutionId: 'run-1', status: 'Succeeded', artifactRevisions: [{revisionId: state.commit}]}}
      case 'ListActionExecutions': return {actionExecutionDetails: [
        {stageName: 'Source', actionName: 'Source', status: 'Succeeded', startTime: state.startedAt},
        {stageName: 'Build', actionName: 'BuildAndRelease', status: 'Succeeded', startTime: state.startedAt, output: {executionResult: {externalExecutionId: state.buildId}}},
      ]}
      case 'StartPipelineExecution': return {pipelineExecutionId: 'run-2'}
      default: return undefined
    }
  })
  answers(await clients.codeBuild() as unknown as MiddlewareClient, 'buildStandIn', (operation, input) =>
    operation === 'BatchGetBuilds'
      ? {builds: (input.ids as string[]).map((id) => ({id, buildStatus: 'SUCCEEDED', phases: [], logs: {groupName: state.logGroup, streamName: `herogate/build/${id.split(':')[1]}`}}))}
      : undefined)
  answers(await clients.codeCommit() as unknown as MiddlewareClient, 'commitStandIn', (operation, input) =>
    operation === 'GetCommit' ? {commit: {commitId: input.commitId, author: {...state.author, date: '1700000000 +0000'}, message: 'Deploy'}} : undefined)
  // A Live Tail session that starts, then waits until the caller stops listening.
  answers(await clients.logs() as unknown as MiddlewareClient, 'liveTailStandIn', (operation) =>
    operation === 'StartLiveTail'
      ? {responseStream: (async function* () {
        yield {sessionStart: {sessionId: 'tail-1'}}
        await new Promise(() => {})
      })()}
      : undefined)
  // This account has used ECS before (most have): its service-linked role exists, and IAM
  // answers a second CreateServiceLinkedRole with InvalidInput. On a new account create only
  // makes it, which needs the same grant.
  const ecsRole = {RoleName: 'AWSServiceRoleForECS', Path: '/aws-service-role/ecs.amazonaws.com/', RoleId: 'AROAECSSERVICELINKED0', CreateDate: new Date(0), AssumeRolePolicyDocument: '{}'}
  answers(await clients.iam() as unknown as MiddlewareClient, 'iamStandIn', (operation, input) => {
    if (operation === 'CreateServiceLinkedRole' && input.AWSServiceName === 'ecs.amazonaws.com') {
      return Object.assign(new Error('Service role name AWSServiceRoleForECS has been taken in this account, please try a different suffix.'), {name: 'InvalidInput', $fault: 'client', $metadata: {httpStatusCode: 400}})
    }

    if (operation === 'GetRole' && input.RoleName === ecsRole.RoleName) return {Role: {...ecsRole, Arn: `arn:aws:iam::${state.account}:role${ecsRole.Path}${ecsRole.RoleName}`}}
    return undefined
  })
}
