import type {AwsContext} from './context.js'

/**
 * Everything the AWS driver needs to know about an app's infrastructure, read from the
 * outputs of the platform stack and the app stack (issue 2 implements loadAppResources;
 * templates/*.yml export these as outputs).
 */
export interface AppResources {
  app: string
  region: string
  stackName: string
  /** ECS cluster name (platform stack). */
  cluster: string
  /** Public subnets of the platform VPC, for awsvpc tasks. */
  subnets: string[]
  /** Security group of the app's tasks (only the ALB can reach them). */
  securityGroup: string
  executionRoleArn: string
  taskRoleArn: string
  logGroup: string
  ecrRepositoryUri: string
  /** Target group of the web process type. */
  targetGroupArn: string
  webUrl: string
  gitUrl: string
  artifactBucket: string
  pipeline: string
  codeBuildProject: string
}

/** The port a web container listens on; herogate sets PORT to it. */
export const WEB_PORT = 5000

export type LoadAppResources = (ctx: AwsContext, app: string) => Promise<AppResources>
