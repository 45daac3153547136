import type {ACMClient} from '@aws-sdk/client-acm'
import type {ApplicationAutoScalingClient} from '@aws-sdk/client-application-auto-scaling'
import type {CloudFormationClient} from '@aws-sdk/client-cloudformation'
import type {CloudWatchLogsClient} from '@aws-sdk/client-cloudwatch-logs'
import type {CodeBuildClient} from '@aws-sdk/client-codebuild'
import type {CodeCommitClient} from '@aws-sdk/client-codecommit'
import type {CodePipelineClient} from '@aws-sdk/client-codepipeline'
import type {ECRClient} from '@aws-sdk/client-ecr'
import type {ECSClient} from '@aws-sdk/client-ecs'
import type {ElasticLoadBalancingV2Client} from '@aws-sdk/client-elastic-load-balancing-v2'
import type {IAMClient} from '@aws-sdk/client-iam'
import type {RDSClient} from '@aws-sdk/client-rds'
import type {Route53Client} from '@aws-sdk/client-route-53'
import type {S3Client} from '@aws-sdk/client-s3'
import type {SchedulerClient} from '@aws-sdk/client-scheduler'
import type {SecretsManagerClient} from '@aws-sdk/client-secrets-manager'
import type {SSMClient} from '@aws-sdk/client-ssm'
import type {STSClient} from '@aws-sdk/client-sts'

/** Region and profile the clients are made for. AWS_ENDPOINT_URL is honoured by the SDK itself. */
export interface AwsClientConfig {
  region: string
  profile?: string
  /** Extra client options (tests: a middleware counting calls). */
  extra?: Record<string, unknown>
}

/** Retries with the SDK's adaptive mode cover throttling (ThrottlingException, TooManyRequests). */
const RETRY = {maxAttempts: 6, retryMode: 'adaptive'} as const

/**
 * Creates each SDK client on first use, importing its package only then, so that commands
 * that never touch a service never load its code (start-up time is a measured figure).
 */
export class AwsClients {
  private readonly cache = new Map<string, Promise<unknown>>()

  constructor(readonly config: AwsClientConfig) {}

  get region(): string {
    return this.config.region
  }

  cloudFormation(): Promise<CloudFormationClient> {
    return this.make('cloudformation', async () => new (await import('@aws-sdk/client-cloudformation')).CloudFormationClient(this.options()))
  }

  ecs(): Promise<ECSClient> {
    return this.make('ecs', async () => new (await import('@aws-sdk/client-ecs')).ECSClient(this.options()))
  }

  ssm(): Promise<SSMClient> {
    return this.make('ssm', async () => new (await import('@aws-sdk/client-ssm')).SSMClient(this.options()))
  }

  logs(): Promise<CloudWatchLogsClient> {
    // Live Tail's host prefix ("streaming.") breaks endpoint overrides such as emulators.
    const disableHostPrefix = Boolean(process.env.AWS_ENDPOINT_URL || process.env.AWS_ENDPOINT_URL_CLOUDWATCH_LOGS)
    return this.make('logs', async () => new (await import('@aws-sdk/client-cloudwatch-logs')).CloudWatchLogsClient({...this.options(), disableHostPrefix}))
  }

  ecr(): Promise<ECRClient> {
    return this.make('ecr', async () => new (await import('@aws-sdk/client-ecr')).ECRClient(this.options()))
  }

  s3(): Promise<S3Client> {
    // Emulators serve buckets by path, not by virtual host.
    const forcePathStyle = Boolean(process.env.AWS_ENDPOINT_URL || process.env.AWS_ENDPOINT_URL_S3)
    return this.make('s3', async () => new (await import('@aws-sdk/client-s3')).S3Client({...this.options(), forcePathStyle}))
  }

  sts(): Promise<STSClient> {
    return this.make('sts', async () => new (await import('@aws-sdk/client-sts')).STSClient(this.options()))
  }

  elbv2(): Promise<ElasticLoadBalancingV2Client> {
    return this.make('elbv2', async () => new (await import('@aws-sdk/client-elastic-load-balancing-v2')).ElasticLoadBalancingV2Client(this.options()))
  }

  codeCommit(): Promise<CodeCommitClient> {
    return this.make('codecommit', async () => new (await import('@aws-sdk/client-codecommit')).CodeCommitClient(this.options()))
  }

  codeBuild(): Promise<CodeBuildClient> {
    return this.make('codebuild', async () => new (await import('@aws-sdk/client-codebuild')).CodeBuildClient(this.options()))
  }

  codePipeline(): Promise<CodePipelineClient> {
    return this.make('codepipeline', async () => new (await import('@aws-sdk/client-codepipeline')).CodePipelineClient(this.options()))
  }

  iam(): Promise<IAMClient> {
    return this.make('iam', async () => new (await import('@aws-sdk/client-iam')).IAMClient(this.options()))
  }

  secretsManager(): Promise<SecretsManagerClient> {
    return this.make('secretsmanager', async () => new (await import('@aws-sdk/client-secrets-manager')).SecretsManagerClient(this.options()))
  }

  acm(): Promise<ACMClient> {
    return this.make('acm', async () => new (await import('@aws-sdk/client-acm')).ACMClient(this.options()))
  }

  /** Route 53 is global: its API lives in us-east-1 whatever the app's region. */
  route53(): Promise<Route53Client> {
    return this.make('route53', async () => new (await import('@aws-sdk/client-route-53')).Route53Client({...this.options(), region: 'us-east-1'}))
  }

  rds(): Promise<RDSClient> {
    return this.make('rds', async () => new (await import('@aws-sdk/client-rds')).RDSClient(this.options()))
  }

  applicationAutoScaling(): Promise<ApplicationAutoScalingClient> {
    return this.make('application-autoscaling', async () => new (await import('@aws-sdk/client-application-auto-scaling')).ApplicationAutoScalingClient(this.options()))
  }

  scheduler(): Promise<SchedulerClient> {
    return this.make('scheduler', async () => new (await import('@aws-sdk/client-scheduler')).SchedulerClient(this.options()))
  }

  /** Tests put a mocked client in place of the real one. */
  set(name: string, client: unknown): void {
    this.cache.set(name, Promise.resolve(client))
  }

  private options() {
    return {region: this.config.region, ...(this.config.profile ? {profile: this.config.profile} : {}), ...RETRY, ...this.config.extra}
  }

  private make<T>(name: string, create: () => Promise<T>): Promise<T> {
    let client = this.cache.get(name) as Promise<T> | undefined
    if (!client) {
      client = create()
      this.cache.set(name, client)
    }

    return client
  }
}
