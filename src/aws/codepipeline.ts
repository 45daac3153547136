import type {CodeCommitClient} from '@aws-sdk/client-codecommit'
import type {CodePipelineClient} from '@aws-sdk/client-codepipeline'

import {HerogateError} from '../lib/errors.js'
import {awsFailure, isAwsError} from './errors.js'

/** One run of an app's pipeline, as deploy follows it. */
export interface PipelineRun {
  id: string
  /** InProgress | Stopped | Stopping | Succeeded | Superseded | Failed | Cancelled */
  status: string
  startTime?: Date
  /** The source commit the run builds. */
  commit?: string
  summary?: string
}

/** One action of a run (Source, Build), with the CodeBuild build id of the build action. */
export interface PipelineAction {
  stage: string
  action: string
  status: string
  /** CodeBuild build id (project:uuid) for build actions. */
  externalId?: string
  error?: string
}

/** The app's CodePipeline in deploy's words. */
export class PipelineService {
  constructor(private readonly client: CodePipelineClient) {}

  private async sdk() {
    return import('@aws-sdk/client-codepipeline')
  }

  /** The branch the pipeline's CodeCommit source follows, when it has one. */
  async sourceBranch(pipeline: string): Promise<string | undefined> {
    const {GetPipelineCommand} = await this.sdk()
    try {
      const result = await this.client.send(new GetPipelineCommand({name: pipeline}))
      for (const stage of result.pipeline?.stages ?? []) {
        for (const action of stage.actions ?? []) {
          if (action.actionTypeId?.category === 'Source' && action.configuration?.BranchName) return action.configuration.BranchName
        }
      }

      return undefined
    } catch (error) {
      throw failure(error, `reading pipeline ${pipeline}`)
    }
  }

  /**
   * The latest runs, newest first. CodePipeline starts every new pipeline once, on the app's
   * still empty repository, and that run fails at its source: it was not a push and is left out.
   */
  async runs(pipeline: string, max = 10): Promise<PipelineRun[]> {
    const {ListPipelineExecutionsCommand} = await this.sdk()
    try {
      const result = await this.client.send(new ListPipelineExecutionsCommand({pipelineName: pipeline, maxResults: max}))
      return (result.pipelineExecutionSummaries ?? []).filter((summary) => summary.trigger?.triggerType !== 'CreatePipeline').map((summary) => ({
        id: summary.pipelineExecutionId ?? '',
        status: summary.status ?? 'Unknown',
        startTime: summary.startTime,
        commit: summary.sourceRevisions?.find((r) => r.revisionId)?.revisionId,
        summary: summary.statusSummary,
      }))
    } catch (error) {
      throw failure(error, `listing the runs of pipeline ${pipeline}`)
    }
  }

  async run(pipeline: string, id: string): Promise<PipelineRun> {
    const {GetPipelineExecutionCommand} = await this.sdk()
    try {
      const {pipelineExecution: execution} = await this.client.send(new GetPipelineExecutionCommand({pipelineName: pipeline, pipelineExecutionId: id}))
      return {
        id,
        status: execution?.status ?? 'Unknown',
        commit: execution?.artifactRevisions?.find((r) => r.revisionId)?.revisionId,
        summary: execution?.statusSummary,
      }
    } catch (error) {
      throw failure(error, `reading run ${id} of pipeline ${pipeline}`)
    }
  }

  /** The actions of one run, in the order they ran. */
  async actions(pipeline: string, id: string): Promise<PipelineAction[]> {
    const {ListActionExecutionsCommand} = await this.sdk()
    try {
      const result = await this.client.send(new ListActionExecutionsCommand({pipelineName: pipeline, filter: {pipelineExecutionId: id}}))
      return (result.actionExecutionDetails ?? [])
        .sort((a, b) => (a.startTime?.getTime() ?? 0) - (b.startTime?.getTime() ?? 0))
        .map((detail) => ({
          stage: detail.stageName ?? '',
          action: detail.actionName ?? '',
          status: detail.status ?? 'Unknown',
          externalId: detail.output?.executionResult?.externalExecutionId,
          error: detail.output?.executionResult?.errorDetails?.message,
        }))
    } catch (error) {
      throw failure(error, `reading the actions of run ${id}`)
    }
  }

  /** Starts a run of the branch's latest commit (a push that changed nothing starts none). */
  async start(pipeline: string): Promise<string> {
    const {StartPipelineExecutionCommand} = await this.sdk()
    try {
      const result = await this.client.send(new StartPipelineExecutionCommand({name: pipeline}))
      return result.pipelineExecutionId ?? ''
    } catch (error) {
      throw failure(error, `starting pipeline ${pipeline}`)
    }
  }
}

function failure(error: unknown, doing: string): HerogateError {
  if (isAwsError(error, 'PipelineNotFoundException')) {
    return new HerogateError(`The app's pipeline is missing (${doing}).`, {suggestions: ['herogate info', 'herogate apps:create again if the app stack was deleted']})
  }

  return awsFailure(error, doing)
}

/** The author of a commit in the app's CodeCommit repo (email, else name); undefined when it cannot be read. */
export async function commitAuthor(client: CodeCommitClient, repository: string, commit: string): Promise<string | undefined> {
  const {GetCommitCommand} = await import('@aws-sdk/client-codecommit')
  try {
    const result = await client.send(new GetCommitCommand({repositoryName: repository, commitId: commit}))
    const author = result.commit?.author
    return author?.email || author?.name || undefined
  } catch {
    // The author only labels the release; a deploy does not fail for want of it.
    return undefined
  }
}
