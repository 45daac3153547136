import {expect} from 'chai'
import {execFileSync, spawnSync} from 'node:child_process'
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = fileURLToPath(new URL('../../', import.meta.url))
const cli = join(root, 'bin', 'run.js')

/**
 * Issue 11, findings 3 to 5, through the built CLI on a machine with no AWS set up (no AWS_*
 * variables, a HOME without ~/.aws): what a local-only user is told, word for word.
 */
describe('a machine with no AWS set up: app names, apps, create and hints (built CLI)', function () {
  this.timeout(60_000)
  let base: string
  let plain: string

  before(() => {
    base = mkdtempSync(join(tmpdir(), 'herogate-noaws-'))
    mkdirSync(join(base, 'home'))
    mkdirSync(join(base, 'herogate'))
    plain = join(base, 'plain')
    mkdirSync(plain)
    for (const app of ['demo-app', 'other-app']) expect(herogate(['create', app, '--local']).status).to.equal(0)
  })

  after(() => rmSync(base, {recursive: true, force: true}))

  /** The CLI in `cwd` with every AWS variable of this machine gone, and `env` on top. */
  function herogate(args: string[], env: NodeJS.ProcessEnv = {}, cwd = plain) {
    const clean = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('AWS_') || key === 'AWS_ENDPOINT_URL' || key === 'AWS_EC2_METADATA_DISABLED'))
    return spawnSync(process.execPath, [cli, ...args], {
      cwd,
      encoding: 'utf8',
      env: {...clean, HOME: join(base, 'home'), HEROGATE_HOME: join(base, 'herogate'), HEROGATE_APP: '', NO_COLOR: '1', ...env},
    })
  }

  describe('-a with a name that is no local app (finding 3)', () => {
    it('says no app of that name is on this machine and which local app comes closest, without a word about AWS', () => {
      const result = herogate(['info', '-a', 'demo-ap'])
      expect({stdout: result.stdout, stderr: result.stderr, status: result.status}).to.deep.equal({
        stdout: '',
        stderr: [
          ' ▸    No app named demo-ap on this machine. Did you mean demo-app?',
          '  Try: herogate apps (lists your apps)',
          '  Try: herogate create demo-ap --local (to create it)',
          '',
        ].join('\n'),
        status: 1,
      })
    })

    it('names no local app when none is close (HEROGATE_APP too)', () => {
      const result = herogate(['releases'], {HEROGATE_APP: 'zzzzzz'})
      expect(result.stderr).to.equal(' ▸    No app named zzzzzz on this machine.\n  Try: herogate apps (lists your apps)\n  Try: herogate create zzzzzz --local (to create it)\n')
      expect(result.status).to.equal(1)
    })

    it('mentions AWS once AWS credentials are set but no region is', () => {
      const result = herogate(['ps', '-a', 'other-ap'], {AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret'})
      expect(result.stderr).to.equal([
        ' ▸    No app named other-ap on this machine, and no AWS region set to look for it on AWS. Did you mean other-app?',
        '  Try: herogate apps (lists your apps)',
        '  Try: --region eu-west-1 (to look for other-ap on AWS)',
        '',
      ].join('\n'))
      expect(result.status).to.equal(1)
    })
  })

  describe('apps (finding 3)', () => {
    it('lists the local apps with no note about AWS, run after run', () => {
      for (let i = 0; i < 2; i++) {
        const result = herogate(['apps'])
        expect(result.status).to.equal(0)
        expect(result.stderr).to.equal('')
        expect(result.stdout).to.match(/^demo-app\s+local\s+idle\s+http:\/\/127\.0\.0\.1:\d+\n/m).and.match(/^other-app\s+local\s+idle/m)
      }
    })

    it('--aws says why AWS cannot be listed, leading with the local platform', () => {
      const result = herogate(['apps', '--aws'])
      expect(result.stdout).to.equal('')
      expect(result.stderr).to.equal([
        ' ▸    AWS is not set up on this machine (no AWS credentials, no AWS region).',
        '  Try: herogate create --local (runs the app on this machine: no AWS account needed)',
        '  Try: to use AWS: export AWS_ACCESS_KEY_ID=... AWS_SECRET_ACCESS_KEY=... (or AWS_PROFILE=NAME with the profile in ~/.aws/credentials or ~/.aws/config), and export AWS_REGION=eu-west-1 (or region = eu-west-1 in ~/.aws/config, or --region eu-west-1)',
        '',
      ].join('\n'))
      expect(result.status).to.equal(1)
    })

    it('tells whoever has set AWS up why their AWS apps are missing', () => {
      const result = herogate(['apps'], {AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret'})
      expect(result.status).to.equal(0)
      expect(result.stderr).to.equal('(AWS apps not listed: No AWS region set.)\n')
    })
  })

  describe('create without AWS (finding 4)', () => {
    it('leads with create --local (with the name given), names the variables and ~/.aws files, never the AWS CLI', () => {
      const named = herogate(['create', 'my-app'])
      expect(named.stderr).to.equal([
        ' ▸    AWS is not set up on this machine (no AWS credentials, no AWS region).',
        '  Try: herogate create my-app --local (runs the app on this machine: no AWS account needed)',
        '  Try: to use AWS: export AWS_ACCESS_KEY_ID=... AWS_SECRET_ACCESS_KEY=... (or AWS_PROFILE=NAME with the profile in ~/.aws/credentials or ~/.aws/config), and export AWS_REGION=eu-west-1 (or region = eu-west-1 in ~/.aws/config, or --region eu-west-1)',
        '',
      ].join('\n'))
      expect(named.status).to.equal(1)
      const random = herogate(['create'])
      expect(random.stderr.split('\n')[1]).to.equal('  Try: herogate create --local (runs the app on this machine: no AWS account needed)')
      expect(named.stderr + random.stderr).to.not.include('aws configure')
    })

    it('with a region but no credentials: names the variables and files, then create --local', () => {
      const result = herogate(['create', 'my-app', '--region', 'us-east-1'])
      expect(result.stderr).to.equal([
        ' ▸    No AWS credentials found.',
        '  Try: export AWS_ACCESS_KEY_ID=... AWS_SECRET_ACCESS_KEY=... (or AWS_PROFILE=NAME with the profile in ~/.aws/credentials or ~/.aws/config)',
        '  Try: herogate create --local to try herogate on this machine with no AWS account',
        '',
      ].join('\n'))
      expect(result.status).to.equal(1)
    })
  })

  describe('hints that name a command that works then (finding 5)', () => {
    it('create in a repo whose only branch is master says git push herogate master', () => {
      const repo = join(base, 'master-repo')
      execFileSync('git', ['init', '-q', '-b', 'master', repo])
      writeFileSync(join(repo, 'README'), 'hi\n')
      execFileSync('git', ['-c', 'user.email=dev@example.com', '-c', 'user.name=Dev', 'commit', '-q', '--allow-empty', '-m', 'first'], {cwd: repo})
      const result = herogate(['create', 'master-app', '--local'], {}, repo)
      expect(result.status, result.stderr).to.equal(0)
      expect(result.stderr).to.equal('Creating master-app...\nCreating master-app... done\nGit remote herogate added. Deploy with: git push herogate master\n')
    })

    it('ps before any release says to deploy, not to scale', () => {
      const result = herogate(['ps', '-a', 'demo-app'])
      expect({stdout: result.stdout, stderr: result.stderr, status: result.status}).to.deep.equal({
        stdout: 'demo-app has no release with code yet, so nothing runs. Deploy with: herogate deploy -a demo-app (in the app\'s git repo)\n',
        stderr: '',
        status: 0,
      })
    })

    it('scale before any release says to deploy', () => {
      const result = herogate(['scale', 'web=1', '-a', 'demo-app'])
      expect(result.stderr).to.equal('Scaling processes on demo-app...\nScaling processes on demo-app... failed\n ▸    demo-app has no release with code yet.\n  Try: herogate deploy -a demo-app (in the app\'s git repo)\n  Try: herogate releases -a demo-app\n')
      expect(result.status).to.equal(1)
      expect(herogate(['releases', '-a', 'demo-app']).stdout).to.equal('demo-app has no releases yet. Deploy with: herogate deploy -a demo-app (in the app\'s git repo)\n')
    })
  })
})
