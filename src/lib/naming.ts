import {InvalidInput} from './errors.js'

/**
 * Every AWS resource name and SSM path herogate uses comes from here, so that the name
 * limits checked in validateAppName hold for all of them: each name made from an app name
 * checks it, so no unchecked name (`../x`) reaches a path.
 */

export const PLATFORM_STACK = 'herogate-platform'
const PREFIX = 'herogate'
const TARGET_GROUP_PREFIX = 'hg-'
/** Target group names are limited to 32 characters, the tightest limit among app-named resources. */
const TARGET_GROUP_MAX = 32
export const APP_NAME_MIN = 3
export const APP_NAME_MAX = TARGET_GROUP_MAX - TARGET_GROUP_PREFIX.length
const APP_NAME = /^[a-z][a-z0-9-]*[a-z0-9]$/

/** Throws InvalidInput with the reason when `name` cannot be an app name. */
export function validateAppName(name: string, suggestions = ['herogate create (without a name, for a random one)']): string {
  const reason = appNameProblem(name)
  if (reason) throw new InvalidInput(`Invalid app name ${JSON.stringify(name)}: ${reason}.`, {suggestions})
  return name
}

/** An app name from -a, HEROGATE_APP, a git remote or a caller: the same rule as create's, before it becomes a path or a resource name. */
export function checkAppName(name: string): string {
  return validateAppName(name, ['herogate apps (lists the apps you have)'])
}

export function appNameProblem(name: string): string | undefined {
  if (name.length < APP_NAME_MIN || name.length > APP_NAME_MAX)
    return `it must be ${APP_NAME_MIN} to ${APP_NAME_MAX} characters long (AWS target group names are limited to ${TARGET_GROUP_MAX})`
  if (!APP_NAME.test(name))
    return 'use lowercase letters, digits and dashes, starting with a letter and not ending with a dash'
  if (name.includes('--')) return 'it must not contain two dashes in a row'
  return undefined
}

/** Process type names as Procfile allows them (letters, digits, underscore), used in service names. */
export const PROCESS_TYPE = /^[A-Za-z0-9_]{1,30}$/

export const names = {
  appStack: (app: string) => `${PREFIX}-${checkAppName(app)}`,
  platformStack: () => PLATFORM_STACK,
  codeCommitRepo: (app: string) => `${PREFIX}-${checkAppName(app)}`,
  ecrRepo: (app: string) => `${PREFIX}/${checkAppName(app)}`,
  codeBuildProject: (app: string) => `${PREFIX}-${checkAppName(app)}`,
  pipeline: (app: string) => `${PREFIX}-${checkAppName(app)}`,
  logGroup: (app: string) => `/${PREFIX}/${checkAppName(app)}`,
  targetGroup: (app: string) => `${TARGET_GROUP_PREFIX}${checkAppName(app)}`,
  /** One ECS service per process type. */
  service: (app: string, processType: string) => `${checkAppName(app)}--${processType}`,
  taskFamily: (app: string, processType: string) => `${PREFIX}-${checkAppName(app)}--${processType}`,
  /** Log stream prefix for a process type's containers (awslogs-stream-prefix). */
  logStreamPrefix: (processType: string) => processType,
  /** herogate's own events: build, release phase, rollout. */
  herogateLogStreamPrefix: () => PREFIX,
  /**
   * The log stream of a CodeBuild build (project:uuid): the app stack's build project logs
   * under the stream name `herogate/build` (templates/app.yml LogsConfig), to which CodeBuild adds the build's uuid.
   */
  buildLogStream: (buildId: string) => `${PREFIX}/build/${buildId.slice(buildId.indexOf(':') + 1)}`,
  /** SSM: one SecureString per config var under this path. */
  configPath: (app: string) => `/${PREFIX}/${checkAppName(app)}/config/`,
  configParameter: (app: string, key: string) => `/${PREFIX}/${checkAppName(app)}/config/${key}`,
  releasesPath: (app: string) => `/${PREFIX}/${checkAppName(app)}/releases/`,
  /** SSM: release N's slot: the claim on its number, and how release N-1 ended (src/aws/release-store.ts). */
  releaseParameter: (app: string, version: number) => `/${PREFIX}/${checkAppName(app)}/releases/${String(version).padStart(6, '0')}`,
  /** SSM: the final records of older releases, compacted (src/aws/release-store.ts); one parameter holds those from `version` on. */
  releaseArchivePath: (app: string) => `/${PREFIX}/${checkAppName(app)}/archive/`,
  releaseArchiveParameter: (app: string, version: number) => `/${PREFIX}/${checkAppName(app)}/archive/${String(version).padStart(6, '0')}`,
  /** SSM: how the newest release ended and the current release, so that no release needs a listing. */
  releaseHeadParameter: (app: string) => `/${PREFIX}/${checkAppName(app)}/head`,
  /** Log stream (in the app's log group) where each release made by the CLI appends what it did. */
  releaseLogStream: () => `${PREFIX}/deploy`,
  /** SSM: where the app's resources are (written by the app stack: templates/app.yml). */
  appResourcesParameter: (app: string) => `/${PREFIX}/${checkAppName(app)}/resources`,
  /** SSM: one String parameter per app setting that differs from its default (lib/settings.ts). */
  settingParameter: (app: string, setting: string) => `/${PREFIX}/${checkAppName(app)}/settings/${setting}`,
  appPath: (app: string) => `/${PREFIX}/${checkAppName(app)}/`,
  /** SSM: one String parameter per custom domain of the app (src/aws/domain-store.ts), named by its host name. */
  domainsPath: (app: string) => `/${PREFIX}/${checkAppName(app)}/domains/`,
  domainParameter: (app: string, hostname: string) => `/${PREFIX}/${checkAppName(app)}/domains/${hostname}`,
  /** Tag key on the certificates and rules of a custom domain (with appTag). */
  domainTag: () => `${PREFIX}:domain`,
  /** Artifact bucket key prefix for the app's pipeline and the pinned herogate release code. */
  artifactPrefix: (app: string) => `${PREFIX}/${checkAppName(app)}/`,
  gitRemote: () => PREFIX,
  /** Tag key put on every stack and taggable resource herogate makes. */
  appTag: () => `${PREFIX}:app`,
  /** EventBridge Scheduler group of the app's scheduled jobs (one schedule per job, named by its id). */
  scheduleGroup: (app: string) => `${PREFIX}-${checkAppName(app)}`,
  /** ECR repository prefix of the platform's pull-through cache of ECR Public (templates/platform.yml). */
  publicImageCache: () => `${PREFIX}-public`,
  /**
   * Secrets Manager: Docker Hub credentials the builds log in with ({"username", "accessToken"}).
   * The prefix is the one ECR requires, so the same secret can back a Docker Hub pull-through cache rule.
   */
  dockerHubSecret: () => `ecr-pullthroughcache/${PREFIX}-docker-hub`,
  /** CloudFormation: one stack per add-on of an app (AWS add-ons, issue 12). */
  addonStackPrefix: (app: string) => `${PREFIX}-${checkAppName(app)}--addon-`,
  addonStack: (app: string, addon: string) => `${PREFIX}-${checkAppName(app)}--addon-${checkAddonName(addon)}`,
  /** Tag keys of an add-on stack (besides appTag): its name, service and the config var it sets. */
  addonTag: () => `${PREFIX}:addon`,
  addonServiceTag: () => `${PREFIX}:service`,
  addonConfigVarTag: () => `${PREFIX}:config-var`,
  /**
   * RDS and ElastiCache identifiers of an add-on (letters, digits, single dashes; RDS up to 63,
   * replication groups up to 40 characters): the name with a hash of app and add-on, so two apps'
   * add-ons never meet. Snapshots of the database start with the same base.
   */
  addonDatabaseBase: (app: string, addon: string) => `hg-${checkAddonName(addon)}-${shortHash(`${checkAppName(app)}/${addon}`)}`,
}

/** Add-on names (--as): what their stacks, identifiers and config vars (NAME_URL) are made of. */
export const ADDON_NAME = /^[a-z][a-z0-9-]{0,18}[a-z0-9]$/

export function addonNameProblem(name: string): string | undefined {
  if (!ADDON_NAME.test(name) || name.includes('--')) return 'use 2 to 20 lowercase letters, digits and single dashes, starting with a letter and not ending with a dash'
  return undefined
}

export function checkAddonName(name: string): string {
  const reason = addonNameProblem(name)
  if (reason) throw new InvalidInput(`Invalid add-on name ${JSON.stringify(name)}: ${reason}.`, {suggestions: ['herogate addons:create postgres --as NAME (e.g. --as reports)']})
  return name
}

/** Eight hex digits of FNV-1a: stable across versions, no crypto module at start-up. */
function shortHash(text: string): string {
  let hash = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193) >>> 0
  }

  return hash.toString(16).padStart(8, '0')
}

/** The HTTPS CodeCommit clone URL of an app's repo: also how the remote tells its app and region. */
export function codeCommitUrl(region: string, app: string): string {
  return `https://git-codecommit.${region}.amazonaws.com/v1/repos/${names.codeCommitRepo(app)}`
}

const CODECOMMIT_URL = /^https:\/\/git-codecommit\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\/v1\/repos\/herogate-([a-z0-9-]+)\/?$/

export function parseCodeCommitUrl(url: string): {region: string; app: string} | undefined {
  const match = CODECOMMIT_URL.exec(url.trim())
  return match ? {region: match[1], app: match[2]} : undefined
}
