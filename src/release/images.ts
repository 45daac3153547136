import {names} from '../lib/naming.js'

/**
 * Every image a build of ours pulls. None comes from Docker Hub, whose anonymous pull limit
 * CodeBuild's shared outbound addresses use up: each is an ECR Public image, pulled through
 * the platform's pull-through cache rule (templates/platform.yml) into this account's registry,
 * which the build is logged in to anyway.
 *
 * Pinned by digest so that the same commit builds the same way tomorrow. To move one, read the
 * digest of the multi-arch index and change tag and digest together:
 *     crane digest public.ecr.aws/heroku/builder:24
 */
export interface PinnedImage {
  /** Repository path on ECR Public (public.ecr.aws/<repository>). */
  repository: string
  /** What the digest was read from; for people only, the pull is by digest. */
  tag: string
  /** sha256 of the image index; undefined only where the tag is the pin (see CNB_RUN_IMAGE). */
  digest?: string
}

/** BuildKit for `docker buildx` (docker-container driver, needed for a registry layer cache). */
export const BUILDKIT: PinnedImage = {
  repository: 'vend/moby/buildkit',
  tag: 'v0.25.0',
  digest: 'sha256:faffcac91decfb3b981234bf2762d88ed6c90771b689a3d8a5049cd0e874759a',
}

/**
 * Heroku's Cloud Native Buildpacks builder (Ubuntu 24.04: Node.js, Python, Ruby, Go, Java, PHP,
 * Scala, .NET, Procfile). Heroku publishes it to ECR Public itself; it carries its lifecycle, which
 * runs as the trusted builder's, so no separate lifecycle image is pulled.
 */
export const CNB_BUILDER: PinnedImage = {
  repository: 'heroku/builder',
  tag: '24',
  digest: 'sha256:e4ead318bb7027bf2b224569cf47b972c62226595d3dc2eba09f1ed912bb320d',
}

/**
 * The base the app image is built on. Heroku moves this tag with security updates of the base
 * image (it is the stack every Heroku-24 app runs on), and the builder names it by tag; it is
 * pulled through the cache like the others, and is the one image named by tag.
 */
export const CNB_RUN_IMAGE: PinnedImage = {
  repository: 'heroku/heroku',
  tag: '24',
}

/** ACCOUNT.dkr.ecr.REGION.amazonaws.com/herogate-public: where the cache serves ECR Public's images. */
export function imageCache(registry: string): string {
  return `${registry}/${names.publicImageCache()}`
}

/** The image as pulled through the account's cache: by digest when it has one. */
export function cachedImage(registry: string, image: PinnedImage): string {
  const name = `${imageCache(registry)}/${image.repository}`
  return image.digest ? `${name}@${image.digest}` : `${name}:${image.tag}`
}
