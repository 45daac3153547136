import {type Facts, imageRequests, type IamRequest} from './requests.js'
import type {AwsCall} from './record.js'
import type {StackSnapshot} from './scenario.js'

/**
 * What AWS services do with an app's roles, derived from what herogate registered or
 * declared: ECS starting a task definition (execution role), CodeBuild running the build
 * project (build role, besides herogate's own calls), CodePipeline running the pipeline and
 * EventBridge starting it. Each follows the service's documented use of its role.
 */

const request = (source: string, action: string, resource: string, context: Record<string, string | string[]> = {}): IamRequest => ({
  action, resource, context, source: `${source}: ${action} on ${resource}`,
})

/** ECS starting a task of a definition: image pull (ECR), the awslogs stream, config vars as secrets (GetParameters). */
export function taskStartRequests(definition: Record<string, any>, facts: Facts, source: string): IamRequest[] {
  const requests: IamRequest[] = []
  for (const container of (definition.containerDefinitions ?? definition.ContainerDefinitions ?? []) as Array<Record<string, any>>) {
    const image = String(container.image ?? container.Image)
    const pulls = imageRequests({principal: 'execution role', step: source}, image, 'pull', facts)
    if (pulls.length > 0) requests.push(request(source, 'ecr:GetAuthorizationToken', '*'), ...pulls)
    const log = container.logConfiguration ?? container.LogConfiguration
    const options = log?.options ?? log?.Options
    if (options?.['awslogs-group']) {
      const stream = `${facts.logGroupArn(options['awslogs-group'])}:log-stream:${options['awslogs-stream-prefix']}/${container.name ?? container.Name}/0123456789abcdef0123456789abcdef`
      requests.push(request(source, 'logs:CreateLogStream', stream), request(source, 'logs:PutLogEvents', stream))
    }

    for (const secret of (container.secrets ?? container.Secrets ?? []) as Array<Record<string, string>>) {
      requests.push(request(source, 'ssm:GetParameters', facts.parameterArn(secret.valueFrom ?? secret.ValueFrom)))
    }
  }

  return requests
}

/** Every task definition of the app's execution role: registered by herogate's calls or declared in the stack. */
export function executionRoleRequests(calls: AwsCall[], app: StackSnapshot, facts: Facts): IamRequest[] {
  const role = app.values.attributes['ExecutionRole.Arn']
  const registered = calls.filter((call) => call.service === 'ecs' && call.operation === 'RegisterTaskDefinition' && call.input.executionRoleArn === role)
  const declared = app.resources.filter((r) => r.type === 'AWS::ECS::TaskDefinition' && r.properties.ExecutionRoleArn === role)
  return [
    ...registered.flatMap((call) => taskStartRequests(call.input, facts, `execution role, starting ${call.input.family} (${call.principal}, ${call.step})`)),
    ...declared.flatMap((r) => taskStartRequests(r.properties, facts, `execution role, starting ${r.properties.Family} (app stack)`)),
  ]
}

/**
 * CodeBuild with the build role, besides herogate's own calls: it reads the pipeline's source
 * artifact, writes the build log (LogsConfig), and the buildspec downloads herogate's release
 * code (`aws s3 cp $HEROGATE_PACKAGE`).
 */
export function codeBuildRequests(app: StackSnapshot, facts: Facts): IamRequest[] {
  const project = app.resources.find((r) => r.type === 'AWS::CodeBuild::Project')!.properties
  const bucket = `arn:${facts.scope.partition}:s3:::${app.values.parameters.ArtifactBucket}`
  const source = `CodeBuild project ${project.Name}`
  const logs = project.LogsConfig?.CloudWatchLogs
  const stream = `${facts.logGroupArn(logs.GroupName)}:log-stream:${logs.StreamName}/0b1c2d3e-0000-4000-8000-000000000001`
  const pkg = app.values.parameters.HerogatePackage
  const artifact = `${bucket}/${app.values.parameters.PipelineArtifactPrefix}/Source/AbCdEf1`
  return [
    request(source, 's3:GetObject', artifact),
    request(source, 's3:GetObjectVersion', artifact),
    request(source, 'logs:CreateLogStream', stream),
    request(source, 'logs:PutLogEvents', stream),
    ...(pkg ? [request(`${source}, buildspec install`, 's3:GetObject', pkg.replace(/^s3:\/\//, `arn:${facts.scope.partition}:s3:::`))] : []),
  ]
}

/** CodePipeline with the pipeline role: the CodeCommit source action (CODE_ZIP into the artifact store) and the CodeBuild action. */
export function pipelineRequests(app: StackSnapshot, facts: Facts): IamRequest[] {
  const pipeline = app.resources.find((r) => r.type === 'AWS::CodePipeline::Pipeline')!.properties
  const source = `CodePipeline ${pipeline.Name}`
  const bucket = `arn:${facts.scope.partition}:s3:::${pipeline.ArtifactStore.Location}`
  const artifact = `${bucket}/${app.values.parameters.PipelineArtifactPrefix}/Source/AbCdEf1`
  const requests: IamRequest[] = [
    request(source, 's3:GetBucketVersioning', bucket),
    request(source, 's3:GetBucketLocation', bucket),
  ]
  for (const stage of pipeline.Stages as Array<{Actions: Array<{ActionTypeId: {Provider: string}; Configuration: Record<string, string>}>}>) {
    for (const action of stage.Actions) {
      if (action.ActionTypeId.Provider === 'CodeCommit') {
        const repository = facts.arn('codecommit', action.Configuration.RepositoryName)
        for (const name of ['GetBranch', 'GetCommit', 'GetRepository', 'UploadArchive', 'GetUploadArchiveStatus', 'CancelUploadArchive']) requests.push(request(source, `codecommit:${name}`, repository))
        requests.push(request(source, 's3:PutObject', artifact))
      } else if (action.ActionTypeId.Provider === 'CodeBuild') {
        const project = facts.arn('codebuild', `project/${action.Configuration.ProjectName}`)
        requests.push(request(source, 'codebuild:StartBuild', project), request(source, 'codebuild:BatchGetBuilds', project))
        // The action hands CodeBuild the source artifact by its location and version.
        requests.push(request(source, 's3:GetObject', artifact), request(source, 's3:GetObjectVersion', artifact))
      } else {
        throw new Error(`test/iam/roles.ts does not know what CodePipeline's ${action.ActionTypeId.Provider} action does with its role`)
      }
    }
  }

  return requests
}

/** EventBridge with the events role: each rule target it starts. */
export function eventsRequests(app: StackSnapshot): IamRequest[] {
  return app.resources
    .filter((r) => r.type === 'AWS::Events::Rule')
    .flatMap((rule) => (rule.properties.Targets as Array<{Arn: string}>).map((target) => request(`EventBridge rule ${rule.id}`, 'codepipeline:StartPipelineExecution', target.Arn)))
}

/**
 * EventBridge Scheduler with the scheduler role: each schedule herogate made or moved starts
 * its target, RunTask of the job's task definition in the cluster, the task tagged from its
 * definition as it starts (PropagateTags), the definition's roles passed to ECS.
 */
export function schedulerRequests(calls: AwsCall[], app: StackSnapshot, facts: Facts): IamRequest[] {
  const role = app.values.attributes['SchedulerRole.Arn']
  const schedules = calls.filter((call) => call.service === 'scheduler' && ['CreateSchedule', 'UpdateSchedule'].includes(call.operation) && call.input.Target?.RoleArn === role)
  return schedules.flatMap((call) => {
    const ecs = call.input.Target.EcsParameters
    const source = `EventBridge Scheduler, schedule ${call.input.Name} (${call.principal}, ${call.step})`
    const definition = facts.taskDefinitionArn(ecs.TaskDefinitionArn)
    const cluster = String(call.input.Target.Arn)
    const task = facts.taskArn(cluster, '0123456789abcdef0123456789abcdef')
    return [
      request(source, 'ecs:RunTask', definition, {'ecs:cluster': cluster}),
      request(source, 'ecs:TagResource', task, {'ecs:CreateAction': 'RunTask', 'aws:RequestTag/herogate:app': app.values.parameters.AppName, 'aws:TagKeys': ['herogate:app']}),
      ...(facts.roles.get(definition) ?? []).map((passed) => request(source, 'iam:PassRole', passed, {'iam:PassedToService': 'ecs-tasks.amazonaws.com'})),
    ]
  })
}
