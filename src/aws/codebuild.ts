import type {CodeBuildClient} from '@aws-sdk/client-codebuild'

import {awsFailure} from './errors.js'

/** A CodeBuild build as deploy shows it. */
export interface BuildInfo {
  id: string
  /** SUCCEEDED | FAILED | FAULT | TIMED_OUT | IN_PROGRESS | STOPPED */
  status: string
  currentPhase?: string
  phases: Array<{type: string; status?: string; message?: string}>
  /** Where the build's output is in CloudWatch Logs. */
  logGroup?: string
  logStream?: string
}

export class BuildService {
  constructor(private readonly client: CodeBuildClient) {}

  async build(id: string): Promise<BuildInfo | undefined> {
    const {BatchGetBuildsCommand} = await import('@aws-sdk/client-codebuild')
    try {
      const result = await this.client.send(new BatchGetBuildsCommand({ids: [id]}))
      const build = result.builds?.[0]
      if (!build) return undefined
      return {
        id: build.id ?? id,
        status: build.buildStatus ?? 'IN_PROGRESS',
        currentPhase: build.currentPhase,
        phases: (build.phases ?? []).map((phase) => ({
          type: phase.phaseType ?? '',
          status: phase.phaseStatus,
          message: phase.contexts?.map((c) => c.message).filter(Boolean).join('; ') || undefined,
        })),
        logGroup: build.logs?.groupName,
        logStream: build.logs?.streamName,
      }
    } catch (error) {
      throw awsFailure(error, `reading build ${id}`)
    }
  }
}

/** The first failed phase of a build and CodeBuild's word on it, for a one-line error. */
export function buildFailure(build: BuildInfo): string | undefined {
  const failed = build.phases.find((p) => p.status && p.status !== 'SUCCEEDED' && p.status !== 'IN_PROGRESS')
  if (!failed) return build.status === 'SUCCEEDED' || build.status === 'IN_PROGRESS' ? undefined : `the build ended ${build.status}`
  return `the ${failed.type} phase of the build ended ${failed.status}${failed.message ? ` (${failed.message})` : ''}`
}
