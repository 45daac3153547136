import {expect} from 'chai'
import {spawnSync} from 'node:child_process'
import {createHash} from 'node:crypto'
import {existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {parse} from 'yaml'

import {
  buildImage, buildPlan, digestFromMetadata, digestFromPackOutput, DockerHubRateLimited, installPack, loginStep, PACK_URL, type Runner,
} from '../../src/release/build.js'
import {BUILDKIT, CNB_BUILDER, CNB_RUN_IMAGE} from '../../src/release/images.js'
import {needPythonTools} from '../helpers/python-tools.js'

const REPO = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/herogate/demo'
const CACHE = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/herogate-public'
const DIGEST = 'sha256:' + 'ab'.repeat(32)
const input = {repository: REPO, region: 'eu-west-1', source: '/src', tag: '1a2b3c4d', workDir: '/tmp/hg'}

describe('image build', () => {
  it('builds a Dockerfile with buildx, pushing a BuildKit layer cache to the app repo', () => {
    const plan = buildPlan(input, true)
    expect(plan.kind).to.equal('dockerfile')
    expect(plan.steps).to.deep.equal([
      ['sh', '-c', 'aws ecr get-login-password --region "$1" | docker login --username AWS --password-stdin "$2"', 'ecr-login', 'eu-west-1', '123456789012.dkr.ecr.eu-west-1.amazonaws.com'],
      ['docker', 'buildx', 'create', '--name', 'herogate', '--driver', 'docker-container', '--driver-opt', `image=${CACHE}/vend/moby/buildkit@${BUILDKIT.digest}`, '--use', '--bootstrap'],
      [
        'docker', 'buildx', 'build', '--platform', 'linux/amd64', '--build-arg', `HEROGATE_IMAGE_CACHE=${CACHE}`,
        '--cache-from', `type=registry,ref=${REPO}:buildcache`,
        '--cache-to', `type=registry,ref=${REPO}:buildcache,mode=max,image-manifest=true,oci-mediatypes=true`,
        '--provenance=false', '--tag', `${REPO}:1a2b3c4d`, '--push', '--metadata-file', '/tmp/hg/build-metadata.json', '/src',
      ],
    ])
  })

  it('builds without a Dockerfile with the pinned pack CLI and builder, caching in the app repo', () => {
    const plan = buildPlan(input, false)
    expect(plan.kind).to.equal('buildpacks')
    expect(plan.steps[1]).to.deep.equal([
      '/tmp/hg/pack', 'build', `${REPO}:1a2b3c4d`, '--path', '/src',
      '--builder', `${CACHE}/heroku/builder@${CNB_BUILDER.digest}`, '--run-image', `${CACHE}/heroku/heroku:24`, '--publish',
      '--cache-image', `${REPO}:buildcache-cnb`, '--default-process', 'web', '--pull-policy', 'if-not-present', '--trust-builder',
    ])
  })

  it('pulls every image of its own through the account\'s ECR, pinned by digest, never from Docker Hub', () => {
    const images: string[] = []
    for (const plan of [buildPlan(input, true), buildPlan(input, false)]) {
      for (const argv of plan.steps) {
        argv.forEach((arg, i) => {
          if (arg.startsWith('image=')) images.push(arg.slice('image='.length))
          if (argv[i - 1] === '--builder' || argv[i - 1] === '--run-image' || argv[i - 1] === '--lifecycle-image') images.push(arg)
        })
      }
    }

    expect(images).to.have.length(3)
    for (const image of images) expect(image.startsWith(`${CACHE}/`), image).to.equal(true)
    // The run image is the one named by tag: Heroku moves it with the base image's security updates.
    const unpinned = images.filter((image) => !/@sha256:[0-9a-f]{64}$/.test(image))
    expect(unpinned).to.deep.equal([`${CACHE}/${CNB_RUN_IMAGE.repository}:${CNB_RUN_IMAGE.tag}`])
    for (const pinned of [BUILDKIT, CNB_BUILDER]) expect(pinned.digest).to.match(/^sha256:[0-9a-f]{64}$/)
    // Nothing in the build code or the buildspec names a Docker Hub image (its login URL is no image).
    for (const file of ['../../src/release/build.ts', '../../src/release/images.ts', '../../templates/buildspec.yml']) {
      const source = readFileSync(new URL(file, import.meta.url), 'utf8').replace("'https://index.docker.io/v1/'", 'the login URL')
      expect(source, file).not.to.match(/docker\.io\/[a-z0-9]/)
      expect(source, file).not.to.match(/paketobuildpacks\/|buildpacksio\/|['"`]moby\/buildkit/)
    }
  })

  it('logs in to Docker Hub with the account\'s credentials through stdin, after ECR', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hg-build-'))
    try {
      writeFileSync(join(dir, 'Dockerfile'), 'FROM node:20\n')
      const calls: Array<{argv: string[]; stdin?: string}> = []
      const run: Runner = async (argv, _onLine, options) => {
        calls.push({argv, stdin: options?.stdin})
        const at = argv.indexOf('--metadata-file')
        if (at > 0) writeFileSync(argv[at + 1], JSON.stringify({'containerimage.digest': DIGEST}))
        return ''
      }

      const lines: string[] = []
      await buildImage({...input, source: dir, workDir: join(dir, 'work')}, run, (line) => lines.push(line), {dockerHub: {username: 'ada', password: 'dckr_pat_secret'}})
      expect(calls[1]).to.deep.equal({argv: ['docker', 'login', '--username', 'ada', '--password-stdin', 'https://index.docker.io/v1/'], stdin: 'dckr_pat_secret'})
      expect(calls.map((c) => c.argv.join(' ')).join('\n')).not.to.include('dckr_pat_secret')
      expect(lines.join('\n')).not.to.include('dckr_pat_secret')
      expect(calls.map((c) => c.argv.slice(0, 3).join(' '))).to.deep.equal([
        'sh -c aws ecr get-login-password --region "$1" | docker login --username AWS --password-stdin "$2"', 'docker login --username', 'docker buildx create', 'docker buildx build',
      ])
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })

  it('says a Docker Hub pull limit is what failed the build, and what to do', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hg-build-'))
    try {
      writeFileSync(join(dir, 'Dockerfile'), 'FROM node:20\n')
      const run: Runner = async (argv, onLine) => {
        if (argv[2] !== 'build') return ''
        onLine('#3 [internal] load metadata for docker.io/library/node:20')
        onLine('ERROR: failed to solve: node:20: failed to resolve source metadata for docker.io/library/node:20: failed to copy: httpReadSeeker: failed open: unexpected status code https://registry-1.docker.io/v2/library/node/manifests/20: 429 Too Many Requests - Server message: toomanyrequests: You have reached your unauthenticated pull rate limit. https://www.docker.com/increase-rate-limit')
        throw new Error('docker buildx failed with exit code 1.')
      }

      const error = await buildImage({...input, source: dir, workDir: join(dir, 'work')}, run, () => {}).catch((e: Error) => e)
      expect(error).to.be.instanceOf(DockerHubRateLimited)
      expect((error as DockerHubRateLimited).message).to.equal(
        "Docker Hub refused an anonymous image pull (toomanyrequests): the Dockerfile's FROM (or # syntax=) pulls from Docker Hub, whose anonymous limit CodeBuild's shared addresses use up.",
      )
      expect((error as DockerHubRateLimited).suggestions).to.deep.equal([
        'log the builds in to Docker Hub: aws secretsmanager create-secret --name ecr-pullthroughcache/herogate-docker-hub --secret-string \'{"username":"USER","accessToken":"TOKEN"}\'',
        'or take official images from the account\'s cache of ECR Public: ARG HEROGATE_IMAGE_CACHE=public.ecr.aws, then FROM ${HEROGATE_IMAGE_CACHE}/docker/library/node:20',
      ])
      // Any other failure stays what it was.
      const other = await buildImage({...input, source: dir, workDir: join(dir, 'work')}, async (argv) => {
        if (argv[2] === 'build') throw new Error('docker buildx failed with exit code 1.')
        return ''
      }, () => {}).catch((e: Error) => e)
      expect(other).not.to.be.instanceOf(DockerHubRateLimited)
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })

  it('never puts the registry password on a command line', () => {
    const step = loginStep(input)
    // The password flows from the AWS CLI through a pipe; the arguments are a region and a host.
    expect(step[2]).to.equal('aws ecr get-login-password --region "$1" | docker login --username AWS --password-stdin "$2"')
    expect(step.slice(4)).to.deep.equal(['eu-west-1', '123456789012.dkr.ecr.eu-west-1.amazonaws.com'])
  })

  it('reads the pushed digest from buildx metadata and from pack output', () => {
    expect(digestFromMetadata(JSON.stringify({'containerimage.digest': DIGEST, 'image.name': `${REPO}:x`}))).to.equal(DIGEST)
    expect(() => digestFromMetadata('{}')).to.throw('did not report the digest')
    expect(digestFromPackOutput(`[exporter] Adding layer 'app'\n[exporter] *** Digest: ${DIGEST}\n`)).to.equal(DIGEST)
    expect(() => digestFromPackOutput('[exporter] Saving...')).to.throw('did not report the digest')
  })

  describe('with a fake runner', () => {
    let dir: string
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'hg-build-'))
    })
    afterEach(() => rmSync(dir, {recursive: true, force: true}))

    it('runs the Dockerfile steps in order and returns the image by digest', async () => {
      writeFileSync(join(dir, 'Dockerfile'), 'FROM scratch\n')
      const ran: string[][] = []
      const run: Runner = async (argv, onLine) => {
        ran.push(argv)
        const at = argv.indexOf('--metadata-file')
        if (at > 0) writeFileSync(argv[at + 1], JSON.stringify({'containerimage.digest': DIGEST}))
        onLine(`ran ${argv[0]}`)
        return ''
      }

      const lines: string[] = []
      const built = await buildImage({...input, source: dir, workDir: join(dir, 'work')}, run, (line) => lines.push(line))
      expect(built).to.deep.equal({image: `${REPO}@${DIGEST}`, buildpacks: false})
      expect(ran.map((argv) => argv.slice(0, 3).join(' '))).to.deep.equal(['sh -c aws ecr get-login-password --region "$1" | docker login --username AWS --password-stdin "$2"', 'docker buildx create', 'docker buildx build'])
      expect(lines[0]).to.equal('Building the image from the Dockerfile')
    })

    it('downloads pack, checks its checksum, builds with buildpacks and reads the digest from its output', async () => {
      const archive = Buffer.from('pack archive bytes')
      const sha256 = createHash('sha256').update(archive).digest('hex')
      const ran: string[][] = []
      const run: Runner = async (argv) => {
        ran.push(argv)
        return argv[1] === 'build' ? `*** Images (${DIGEST}):\n*** Digest: ${DIGEST}\n` : ''
      }

      const urls: string[] = []
      const built = await buildImage({...input, source: dir, workDir: join(dir, 'work')}, run, () => {}, {
        download: async (url) => {
          urls.push(url)
          return archive
        },
        sha256,
      })
      expect(built).to.deep.equal({image: `${REPO}@${DIGEST}`, buildpacks: true})
      expect(urls).to.deep.equal([PACK_URL])
      expect(ran[0]).to.deep.equal(['tar', '-xzf', join(dir, 'work', 'pack.tgz'), '-C', join(dir, 'work'), 'pack'])
      expect(readFileSync(join(dir, 'work', 'pack.tgz'))).to.deep.equal(archive)
    })

    it('refuses a pack download whose checksum is not the pinned one', async () => {
      const ran: string[][] = []
      const error = await installPack(join(dir, 'pack'), async (argv) => {
        ran.push(argv)
        return ''
      }, () => {}, async () => Buffer.from('tampered')).catch((e: Error) => e)
      expect((error as Error).message).to.match(/^The pack CLI download has checksum [0-9a-f]{64}, not the pinned [0-9a-f]{64}; refusing to run it\.$/)
      expect(ran).to.deep.equal([])
      expect(existsSync(join(dir, 'pack.tgz'))).to.equal(false)
    })
  })
})

describe('buildspec', () => {
  const text = readFileSync(new URL('../../templates/buildspec.yml', import.meta.url), 'utf8')
  const spec = parse(text) as {version: number; phases: Record<string, {commands: string[]; 'runtime-versions'?: Record<string, unknown>}>}

  it('is a version 0.2 buildspec that installs the pinned package, then runs the release entry point', () => {
    expect(spec.version).to.equal(0.2)
    expect(spec.phases.install['runtime-versions']).to.deep.equal({nodejs: 20})
    expect(spec.phases.install.commands.join('\n')).to.include('aws s3 cp --only-show-errors "$HEROGATE_PACKAGE" /tmp/herogate.tgz')
    expect(spec.phases.install.commands).to.include('npm install --global --omit=dev --no-audit --no-fund /tmp/herogate.tgz')
    expect(spec.phases.build.commands).to.deep.equal(['herogate internal:release --app "$HEROGATE_APP" --source "$CODEBUILD_SRC_DIR"'])
  })

  it('runs a command and flags that exist', async () => {
    const {default: command} = await import('../../src/commands/internal/release.js')
    expect(command.hidden).to.equal(true)
    expect(Object.keys(command.flags)).to.include.members(['app', 'source', 'image', 'commit'])
  })

  it('passes cfn-lint embedded in a CodeBuild project, as the app stack passes it', function () {
    const {cfnLint} = needPythonTools(this)

    const dir = mkdtempSync(join(tmpdir(), 'hg-buildspec-'))
    try {
      const template = {
        AWSTemplateFormatVersion: '2010-09-09',
        Parameters: {BuildSpec: {Type: 'String', Default: text}},
        Resources: {
          Role: {Type: 'AWS::IAM::Role', Properties: {AssumeRolePolicyDocument: {Version: '2012-10-17', Statement: [{Effect: 'Allow', Principal: {Service: 'codebuild.amazonaws.com'}, Action: 'sts:AssumeRole'}]}}},
          Inline: {Type: 'AWS::CodeBuild::Project', Properties: {
            ServiceRole: {'Fn::GetAtt': ['Role', 'Arn']}, Artifacts: {Type: 'CODEPIPELINE'},
            Source: {Type: 'CODEPIPELINE', BuildSpec: text},
            Environment: {Type: 'LINUX_CONTAINER', ComputeType: 'BUILD_GENERAL1_SMALL', Image: 'aws/codebuild/amazonlinux-x86_64-standard:5.0', PrivilegedMode: true},
          }},
          FromParameter: {Type: 'AWS::CodeBuild::Project', Properties: {
            ServiceRole: {'Fn::GetAtt': ['Role', 'Arn']}, Artifacts: {Type: 'CODEPIPELINE'},
            Source: {Type: 'CODEPIPELINE', BuildSpec: {Ref: 'BuildSpec'}},
            Environment: {Type: 'LINUX_CONTAINER', ComputeType: 'BUILD_GENERAL1_SMALL', Image: 'aws/codebuild/amazonlinux-x86_64-standard:5.0', PrivilegedMode: true},
          }},
        },
      }
      const file = join(dir, 'project.json')
      writeFileSync(file, JSON.stringify(template))
      const result = spawnSync(cfnLint, [file], {encoding: 'utf8'})
      expect(result.stdout + result.stderr).to.equal('')
      expect(result.status).to.equal(0)
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })

  it('fetches nothing from an unpinned source', () => {
    expect(text).not.to.match(/curl|wget|npx |@latest|git clone/)
  })
})
