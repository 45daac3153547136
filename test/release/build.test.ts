import {expect} from 'chai'
import {execFileSync, spawnSync} from 'node:child_process'
import {createHash} from 'node:crypto'
import {existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {parse} from 'yaml'

import {
  buildImage, buildPlan, CNB_BUILDER, digestFromMetadata, digestFromPackOutput, installPack, loginStep, PACK_URL, type Runner,
} from '../../src/release/build.js'

const REPO = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/herogate/demo'
const DIGEST = 'sha256:' + 'ab'.repeat(32)
const input = {repository: REPO, region: 'eu-west-1', source: '/src', tag: '1a2b3c4d', workDir: '/tmp/hg'}

describe('image build', () => {
  it('builds a Dockerfile with buildx, pushing a BuildKit layer cache to the app repo', () => {
    const plan = buildPlan(input, true)
    expect(plan.kind).to.equal('dockerfile')
    expect(plan.steps).to.deep.equal([
      ['sh', '-c', 'aws ecr get-login-password --region "$1" | docker login --username AWS --password-stdin "$2"', 'ecr-login', 'eu-west-1', '123456789012.dkr.ecr.eu-west-1.amazonaws.com'],
      ['docker', 'buildx', 'create', '--name', 'herogate', '--driver', 'docker-container', '--use', '--bootstrap'],
      [
        'docker', 'buildx', 'build', '--platform', 'linux/amd64',
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
      '/tmp/hg/pack', 'build', `${REPO}:1a2b3c4d`, '--path', '/src', '--builder', CNB_BUILDER, '--publish',
      '--cache-image', `${REPO}:buildcache-cnb`, '--default-process', 'web', '--pull-policy', 'if-not-present', '--trust-builder',
    ])
    expect(CNB_BUILDER).to.match(/^paketobuildpacks\/builder-jammy-base:\d+\.\d+\.\d+$/)
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
    try {
      execFileSync('cfn-lint', ['--version'], {stdio: 'ignore'})
    } catch {
      if (process.env.CI) throw new Error('cfn-lint is required in CI: python3 -m pip install cfn-lint')
      this.skip()
    }

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
      const result = spawnSync('cfn-lint', [file], {encoding: 'utf8'})
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
