import {Flags} from '@oclif/core'

import {HerogateCommand} from '../../lib/base.js'
import {InvalidInput} from '../../lib/errors.js'
import type {Release} from '../../platform/types.js'

export default class InternalRelease extends HerogateCommand {
  static hidden = true
  static description = `build and release the pushed commit (run by the app's CodeBuild project, not by hand)

Builds the image (Dockerfile, or buildpacks without one) into the app's ECR repo, runs the Procfile's release command, rolls every process type out and records the release.`
  static enableJsonFlag = true
  static flags = {
    app: Flags.string({description: 'app (default: HEROGATE_APP)', env: 'HEROGATE_APP'}),
    region: Flags.string({description: 'AWS region (default: AWS_REGION)'}),
    source: Flags.string({description: 'source directory (default: CODEBUILD_SRC_DIR, then the current directory)', env: 'CODEBUILD_SRC_DIR'}),
    commit: Flags.string({description: 'commit being released (default: HEROGATE_COMMIT from the pipeline, then CODEBUILD_RESOLVED_SOURCE_VERSION)'}),
    image: Flags.string({description: 'release this image (repo@sha256:...) instead of building one'}),
    buildpacks: Flags.boolean({description: 'with --image: the image was built by buildpacks'}),
    author: Flags.string({description: 'who the release is by (default: the commit author)'}),
  }

  async run(): Promise<Release> {
    const {flags} = await this.parse(InternalRelease)
    if (!flags.app) throw new InvalidInput('No app given.', {suggestions: ['--app APP', 'export HEROGATE_APP=APP']})
    const {buildEnvironment, runRelease} = await import('../../release/index.js')
    const build = buildEnvironment(process.env)
    const release = await runRelease({
      app: flags.app,
      region: flags.region,
      source: flags.source ?? process.cwd(),
      commit: flags.commit ?? build.commit,
      image: flags.image,
      buildpacks: flags.buildpacks,
      author: flags.author,
      buildId: build.buildId,
      buildStartedAt: build.startedAt,
      buildTimeoutMinutes: build.timeoutMinutes,
      onProgress: this.progress,
    })
    this.log(`Released v${release.version}: ${release.description}`)
    return release
  }
}
