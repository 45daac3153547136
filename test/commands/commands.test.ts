import {expect} from 'chai'
import {execFileSync} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import Apps from '../../src/commands/apps/index.js'
import AppsCreate from '../../src/commands/apps/create.js'
import AppsDestroy from '../../src/commands/apps/destroy.js'
import AppsInfo from '../../src/commands/apps/info.js'
import AppsOpen from '../../src/commands/apps/open.js'
import Config from '../../src/commands/config/index.js'
import ConfigGet from '../../src/commands/config/get.js'
import ConfigSet from '../../src/commands/config/set.js'
import ConfigUnset from '../../src/commands/config/unset.js'
import Deploy from '../../src/commands/deploy.js'
import Logs from '../../src/commands/logs.js'
import Ps from '../../src/commands/ps/index.js'
import PsRestart from '../../src/commands/ps/restart.js'
import PsScale from '../../src/commands/ps/scale.js'
import PsStop from '../../src/commands/ps/stop.js'
import Releases from '../../src/commands/releases/index.js'
import ReleasesInfo from '../../src/commands/releases/info.js'
import ReleasesOutput from '../../src/commands/releases/output.js'
import ReleasesRollback from '../../src/commands/releases/rollback.js'
import Run from '../../src/commands/run.js'
import type {ProcessFormation} from '../../src/platform/types.js'
import {fakeApp, FakePlatform, fakeRelease} from '../helpers/fake-platform.js'
import {runCommand} from '../helpers/run-command.js'

describe('commands against a fake platform', () => {
  let home: string
  let platform: FakePlatform
  const saved = {home: process.env.HEROGATE_HOME, browser: process.env.HEROGATE_NO_BROWSER, app: process.env.HEROGATE_APP}

  before(() => {
    home = mkdtempSync(join(tmpdir(), 'herogate-cmd-'))
    process.env.HEROGATE_HOME = home
    process.env.HEROGATE_NO_BROWSER = '1'
    delete process.env.HEROGATE_APP
  })
  after(() => {
    rmSync(home, {recursive: true, force: true})
    for (const [key, name] of [['home', 'HEROGATE_HOME'], ['browser', 'HEROGATE_NO_BROWSER'], ['app', 'HEROGATE_APP']] as const) {
      if (saved[key] === undefined) delete process.env[name]
      else process.env[name] = saved[key]
    }
  })
  beforeEach(() => {
    platform = new FakePlatform()
  })

  const methods = () => platform.calls.map((c) => c.method)

  describe('apps', () => {
    it('lists apps from both platforms as a table', async () => {
      const {stdout, exitCode} = await runCommand(Apps, [], platform)
      expect(exitCode).to.equal(0)
      expect(stdout.split('\n')[0]).to.match(/^Name\s+Platform\s+Status\s+Web URL$/)
      // The fake serves both the local and the AWS listing.
      expect(stdout.match(/demo/g)).to.have.length(2)
    })

    it('--json prints the summaries and nothing else', async () => {
      const {stdout} = await runCommand(Apps, ['--json', '--aws'], platform)
      const apps = JSON.parse(stdout)
      expect(apps).to.have.length(1)
      expect(apps[0]).to.include({name: 'demo', platform: 'aws', region: 'us-east-1', status: 'running'})
    })

    it('lists a damaged app as damaged and says which file and how to remove it', async () => {
      platform.apps.set('broken', {...fakeApp('broken'), status: 'damaged', webUrl: undefined, problem: '/h/apps/broken/app.json is not valid JSON'})
      const {stdout, stderr, exitCode} = await runCommand(Apps, ['--aws'], platform)
      expect({stdout, stderr, exitCode}).to.deep.equal({
        stdout: [
          'Name    Platform         Status   Web URL',
          '──────  ───────────────  ───────  ──────────────────────────────────',
          'demo    aws (us-east-1)  running  http://herogate-alb.example:10000/',
          'broken  aws (us-east-1)  damaged',
          '',
        ].join('\n'),
        stderr: 'broken is damaged: /h/apps/broken/app.json is not valid JSON. Remove it: herogate destroy -a broken --confirm broken\n',
        exitCode: 0,
      })
      const json = JSON.parse((await runCommand(Apps, ['--aws', '--json'], platform)).stdout)
      expect(json[1]).to.include({name: 'broken', status: 'damaged', problem: '/h/apps/broken/app.json is not valid JSON'})
    })
  })

  describe('create', () => {
    /** Runs `work` inside a fresh git repo whose only branch is `branch` (with one commit). */
    async function inRepo<T>(branch: string, work: () => Promise<T>): Promise<T> {
      const repo = mkdtempSync(join(tmpdir(), 'herogate-branch-'))
      const cwd = process.cwd()
      execFileSync('git', ['init', '-q', '-b', branch, repo])
      execFileSync('git', ['-c', 'user.email=dev@example.com', '-c', 'user.name=Dev', 'commit', '-q', '--allow-empty', '-m', 'first'], {cwd: repo})
      process.chdir(repo)
      try {
        return await work()
      } finally {
        process.chdir(cwd)
        rmSync(repo, {recursive: true, force: true})
      }
    }

    it('creates the named app and says how to deploy', async () => {
      const {stdout, stderr, exitCode} = await inRepo('main', () => runCommand(AppsCreate, ['newapp'], platform))
      expect(exitCode).to.equal(0)
      expect(platform.calls[0]).to.deep.equal({method: 'createApp', args: ['newapp']})
      expect(stdout).to.equal('Created newapp in us-east-1\nhttp://herogate-alb.example:10000/ | https://git-codecommit.us-east-1.amazonaws.com/v1/repos/herogate-newapp\n')
      expect(stderr).to.equal('Created the shared herogate platform in us-east-1; later apps in this region reuse it.\nGit remote herogate added. Deploy with: git push herogate main\n')
    })

    it('in a repo whose only branch is master: the push that deploys it (onto main, or master with --branch master)', async () => {
      const onMain = await inRepo('master', () => runCommand(AppsCreate, ['newapp'], platform))
      expect(onMain.stderr.split('\n').at(-2)).to.equal('Git remote herogate added. Deploy with: git push herogate master:main')
      const onMaster = await inRepo('master', () => runCommand(AppsCreate, ['other', '--branch', 'master'], platform))
      expect(onMaster.stderr.split('\n').at(-2)).to.equal('Git remote herogate added. Deploy with: git push herogate master')
    })

    it('--branch names the branch whose pushes deploy', async () => {
      await runCommand(AppsCreate, ['newapp', '--branch', 'master'], platform)
      expect(platform.calls[0]).to.deep.equal({method: 'createApp', args: ['newapp', 'master']})
    })

    it('--json prints only the result object', async () => {
      const {stdout} = await runCommand(AppsCreate, ['newapp', '--json'], platform)
      expect(JSON.parse(stdout)).to.include({name: 'newapp', platformCreated: true})
    })
  })

  describe('info and open', () => {
    it('info shows status, URLs, formation and release', async () => {
      platform.apps.get('demo')!.release = fakeRelease(3, 'Deploy 1a2b3c4')
      const {stdout} = await runCommand(AppsInfo, ['-a', 'demo'], platform)
      expect(stdout).to.include('=== demo\n')
      expect(stdout).to.match(/Web URL:\s+http:\/\/herogate-alb.example:10000\//)
      expect(stdout).to.match(/Formation:\s+web=1:standard-1x worker=0:standard-1x/)
      expect(stdout).to.match(/Release:\s+v3 Deploy 1a2b3c4 \(succeeded\)/)
    })

    it('info --json is the app object', async () => {
      const {stdout} = await runCommand(AppsInfo, ['-a', 'demo', '--json'], platform)
      expect(JSON.parse(stdout).formation).to.have.length(2)
    })

    it('open prints the URL (with a path) when no browser can be opened', async () => {
      const {stdout} = await runCommand(AppsOpen, ['-a', 'demo', '/health'], platform)
      expect(stdout).to.equal('http://herogate-alb.example:10000/health\n')
    })
  })

  describe('destroy', () => {
    it('with --confirm naming the app, destroys it and lists what went', async () => {
      const {stdout, exitCode} = await runCommand(AppsDestroy, ['-a', 'demo', '--confirm', 'demo'], platform)
      expect(exitCode).to.equal(0)
      expect(stdout).to.equal('Destroyed demo. Removed:\n  - stack herogate-demo\n  - git remote herogate\n')
    })

    it('lists the one-off processes it stopped before what it removed, in the human view and --json', async () => {
      const result = {name: 'demo', stopped: ['run.1a2b3c4 (herogate run)'], removed: ['12 task definitions (herogate-demo--run, herogate-demo--web)']}
      platform.destroyApp = async () => result
      const {stdout} = await runCommand(AppsDestroy, ['-a', 'demo', '--confirm', 'demo'], platform)
      expect(stdout).to.equal('Destroyed demo. Stopped:\n  - run.1a2b3c4 (herogate run)\nRemoved:\n  - 12 task definitions (herogate-demo--run, herogate-demo--web)\n')
      const json = await runCommand(AppsDestroy, ['-a', 'demo', '--confirm', 'demo', '--json'], platform)
      expect(JSON.parse(json.stdout)).to.deep.equal(result)
    })

    it('refuses a --confirm that does not match, changing nothing', async () => {
      const {stderr, exitCode} = await runCommand(AppsDestroy, ['-a', 'demo', '--confirm', 'other'], platform)
      expect(exitCode).to.equal(1)
      expect(stderr).to.include('did not match demo')
      expect(methods()).to.not.include('destroyApp')
    })

    it('without a TTY and without --confirm, refuses and says how to confirm', async () => {
      const {stderr, exitCode} = await runCommand(AppsDestroy, ['-a', 'demo'], platform)
      expect(exitCode).to.equal(1)
      expect(stderr).to.include('--confirm demo')
      expect(methods()).to.not.include('destroyApp')
    })
  })

  describe('config', () => {
    beforeEach(() => {
      platform.config = {GREETING: 'hello world', MULTI: 'a\nb', EMPTY: ''}
    })

    it('shows values aligned', async () => {
      const {stdout} = await runCommand(Config, ['-a', 'demo'], platform)
      expect(stdout).to.equal("=== demo Config Vars\nEMPTY:    ''\nGREETING: hello world\nMULTI:    a\nb\n")
    })

    it('--shell quotes what a shell needs quoted', async () => {
      const {stdout} = await runCommand(Config, ['-a', 'demo', '--shell'], platform)
      expect(stdout).to.equal("EMPTY=''\nGREETING='hello world'\nMULTI='a\nb'\n")
    })

    it('config:get prints one value; a missing key is an error', async () => {
      expect((await runCommand(ConfigGet, ['GREETING', '-a', 'demo'], platform)).stdout).to.equal('hello world\n')
      const missing = await runCommand(ConfigGet, ['NOPE', '-a', 'demo'], platform)
      expect(missing.exitCode).to.equal(1)
      expect(missing.stderr).to.include('NOPE is not set on demo.')
    })

    it('config:set prints the keys it set, never the values', async () => {
      const {stdout, stderr} = await runCommand(ConfigSet, ['A=1', 'B=two words', 'C=x=y', '-a', 'demo'], platform)
      expect(platform.calls[0]).to.deep.equal({method: 'setConfig', args: ['demo', {A: '1', B: 'two words', C: 'x=y'}]})
      expect(stdout).to.equal('A\nB\nC\n')
      expect(stdout + stderr).to.not.include('two words')
      expect(stderr).to.include('Released v7')
    })

    it('config:set --file reads a .env file', async () => {
      const file = join(home, '.env')
      writeFileSync(file, 'export X="multi\\nline"\n# comment\nY=plain\n')
      await runCommand(ConfigSet, ['--file', file, 'Z=', '-a', 'demo'], platform)
      expect(platform.calls[0].args[1]).to.deep.equal({X: 'multi\nline', Y: 'plain', Z: ''})
    })

    it('config:set to the value a var already has: a note, no release, exit 0', async () => {
      const {stdout, stderr, exitCode} = await runCommand(ConfigSet, ['GREETING=hello world', '-a', 'demo'], platform)
      expect({stdout, stderr, exitCode}).to.deep.equal({
        stdout: '',
        stderr: 'Setting GREETING and restarting demo...\nSetting GREETING and restarting demo... done\nGREETING already has that value: no new release.\n',
        exitCode: 0,
      })
    })

    it('config:set --json of values already set: no keys, the note', async () => {
      const {stdout, stderr, exitCode} = await runCommand(ConfigSet, ['GREETING=hello world', 'EMPTY=', '-a', 'demo', '--json'], platform)
      expect({json: JSON.parse(stdout), stderr, exitCode}).to.deep.equal({
        json: {keys: [], note: 'GREETING, EMPTY already have those values: no new release.'},
        stderr: '',
        exitCode: 0,
      })
    })

    it('config:unset of vars that are not set: a note, no release, exit 0', async () => {
      const one = await runCommand(ConfigUnset, ['NOPE', '-a', 'demo'], platform)
      expect(one).to.deep.equal({stdout: '', stderr: 'Unsetting NOPE and restarting demo...\nUnsetting NOPE and restarting demo... done\nNOPE is not set: no new release.\n', exitCode: 0})
      const two = await runCommand(ConfigUnset, ['NOPE', 'NADA', '-a', 'demo'], platform)
      expect(two.stderr).to.equal('Unsetting NOPE and NADA and restarting demo...\nUnsetting NOPE and NADA and restarting demo... done\nNOPE, NADA are not set: no new release.\n')
      expect(two.exitCode).to.equal(0)
    })

    it('config:unset removes keys', async () => {
      const {stdout} = await runCommand(ConfigUnset, ['GREETING', '-a', 'demo'], platform)
      expect(stdout).to.equal('GREETING\n')
      expect(platform.config).to.not.have.property('GREETING')
    })
  })

  describe('ps', () => {
    it('ps shows a row per process', async () => {
      platform.processes = [
        {name: 'web.1', type: 'web', id: 'abc123', status: 'running', health: 'healthy', release: 3, size: 'standard-1x', startedAt: '2026-11-21T10:00:00.000Z'},
      ]
      const {stdout} = await runCommand(Ps, ['-a', 'demo'], platform, {now: new Date('2026-11-21T10:07:00.000Z')})
      expect(stdout.split('\n')[2]).to.equal('web.1  running  healthy  v3       standard-1x  7m ago   abc123')
    })

    it('with nothing running, says what would start something: a deploy, or a process type the app has', async () => {
      const said = async (formation: ProcessFormation[]) => {
        platform.apps.get('demo')!.formation = formation
        return (await runCommand(Ps, ['-a', 'demo'], platform)).stdout
      }

      const type = (name: string, quantity: number): ProcessFormation => ({type: name, quantity, size: 'standard-1x'})
      expect(await said([])).to.equal('demo has no release with code yet, so nothing runs. Deploy with: herogate deploy -a demo (in the app\'s git repo)\n')
      expect(await said([type('web', 0), type('worker', 0)])).to.equal('No processes are running on demo. Scale up with: herogate scale web=1 -a demo\n')
      expect(await said([type('worker', 0), type('clock', 0)])).to.equal('No processes are running on demo. Scale up with: herogate scale worker=1 -a demo\n')
      expect(await said([type('worker', 2)])).to.equal('No processes are running on demo (wanted: worker=2): they are starting, or crash at start. See why with: herogate logs -a demo\n')
      expect((await runCommand(Ps, ['-a', 'demo', '--json'], platform)).stdout).to.equal('[]\n')
    })

    it('scale applies counts and sizes and prints the formation', async () => {
      const {stdout} = await runCommand(PsScale, ['web=2:standard-2x', 'worker+1', '-a', 'demo'], platform)
      expect(stdout).to.equal('web=2:standard-2x worker=1:standard-1x\n')
    })

    it('scale without arguments shows the formation', async () => {
      const {stdout} = await runCommand(PsScale, ['-a', 'demo'], platform)
      expect(stdout).to.equal('web=1:standard-1x worker=0:standard-1x\n')
      expect(methods()).to.deep.equal(['formation'])
    })

    it('ps:restart and ps:stop call the platform', async () => {
      await runCommand(PsRestart, ['worker', '-a', 'demo'], platform)
      await runCommand(PsStop, ['web.1', '-a', 'demo'], platform)
      expect(platform.calls).to.deep.equal([
        {method: 'restart', args: ['demo', 'worker']},
        {method: 'stop', args: ['demo', 'web.1']},
      ])
    })
  })

  describe('run', () => {
    it('passes everything after the command word to the command', async () => {
      await runCommand(Run, ['-a', 'demo', '-e', 'DEBUG=1', 'rake', 'db:migrate', '--trace', '-a', 'x'], platform)
      expect(platform.calls[0]).to.deep.equal({method: 'run', args: ['demo', ['rake', 'db:migrate', '--trace', '-a', 'x'], {DEBUG: '1'}, false]})
    })

    it('exits with the command\'s exit code', async () => {
      platform.runResult = {id: 't', name: 'run.1', detached: false, exitCode: 3}
      const {exitCode, stderr} = await runCommand(Run, ['-a', 'demo', 'false'], platform)
      expect(exitCode).to.equal(3)
      expect(stderr).to.equal('')
    })

    it('a process that never ran reports the stop reason', async () => {
      platform.runResult = {id: 't', name: 'run.1', detached: false, stopReason: 'CannotPullContainerError: image not found'}
      const {exitCode, stderr} = await runCommand(Run, ['-a', 'demo', 'echo', 'hi'], platform)
      expect(exitCode).to.equal(1)
      expect(stderr).to.include('CannotPullContainerError: image not found')
    })

    it('--detached prints the id', async () => {
      const {stdout} = await runCommand(Run, ['--detached', '-a', 'demo', 'node', 'job.js'], platform)
      expect(stdout).to.equal('task-1\n')
    })
  })

  describe('logs', () => {
    it('prints lines in Heroku\'s format', async () => {
      platform.logLines = [
        {time: new Date('2026-11-21T10:00:00.000Z'), source: 'app', process: 'web.1', message: 'listening'},
        {time: new Date('2026-11-21T10:00:01.000Z'), source: 'herogate', process: 'deploy', message: 'v3 is live'},
      ]
      const {stdout} = await runCommand(Logs, ['-a', 'demo', '-n', '5', '-p', 'web'], platform)
      expect(stdout).to.equal('2026-11-21T10:00:00.000Z app[web.1]: listening\n2026-11-21T10:00:01.000Z herogate[deploy]: v3 is live\n')
      expect(platform.calls[0].args[1]).to.include({num: 5, tail: false, processType: 'web'})
    })
  })

  describe('releases, rollback, deploy', () => {
    beforeEach(() => {
      platform.releaseList = [fakeRelease(2, 'Set A config vars'), {...fakeRelease(1, 'Deploy 1a2b3c4', false), status: 'failed'}]
    })

    it('releases lists them with the current one marked', async () => {
      const {stdout} = await runCommand(Releases, ['-a', 'demo'], platform)
      const lines = stdout.split('\n')
      expect(lines[0]).to.equal('=== demo Releases')
      expect(lines[3]).to.match(/^v2 \*\s+Set A config vars\s+succeeded\s+dev@example.com/)
      expect(lines[4]).to.match(/^v1\s+Deploy 1a2b3c4\s+failed/)
    })

    it('releases:info shows why a release failed', async () => {
      platform.releaseList[1].failure = 'web.1 crashed: exit 1'
      const {stdout} = await runCommand(ReleasesInfo, ['v1', '-a', 'demo'], platform)
      expect(stdout).to.match(/Status:\s+failed\nFailure:\s+web.1 crashed: exit 1\n/)
    })

    it('releases:info of a failed release shows its failing process\'s last lines and where to read more', async () => {
      platform.releaseList[1] = {
        ...platform.releaseList[1],
        failure: 'web.1 crashed during boot (exit status 1)',
        failureOutput: {process: 'web.1', lines: ['booting', 'Error: connect ECONNREFUSED [REDIS_URL]'], more: 'herogate logs -a demo --task web.1'},
      }
      const {stdout} = await runCommand(ReleasesInfo, ['v1', '-a', 'demo'], platform)
      expect(stdout).to.equal([
        '=== Release v1',
        'Description: Deploy 1a2b3c4',
        'Status:      failed',
        'Failure:     web.1 crashed during boot (exit status 1)',
        'By:          dev@example.com',
        'When:        2026-11-21T10:00:00.000Z',
        '',
        'Last lines of web.1:',
        '  booting',
        '  Error: connect ECONNREFUSED [REDIS_URL]',
        'More: herogate logs -a demo --task web.1',
        '',
      ].join('\n'))
      expect(JSON.parse((await runCommand(ReleasesInfo, ['v1', '-a', 'demo', '--json'], platform)).stdout).failureOutput).to.deep.equal(platform.releaseList[1].failureOutput)
    })

    it('releases:output prints a release\'s output (the newest by default), or says why it has none', async () => {
      platform.outputs.set(2, ['-----> Deploying v2', '-----> Released v2: http://127.0.0.1:5000'])
      expect(await runCommand(ReleasesOutput, ['-a', 'demo'], platform)).to.deep.equal({
        stdout: '-----> Deploying v2\n-----> Released v2: http://127.0.0.1:5000\n', stderr: '', exitCode: 0,
      })
      expect(await runCommand(ReleasesOutput, ['v1', '-a', 'demo'], platform)).to.deep.equal({stdout: '', stderr: 'v1 has no output.\n', exitCode: 0})
      expect(JSON.parse((await runCommand(ReleasesOutput, ['v2', '-a', 'demo', '--json'], platform)).stdout)).to.deep.equal({version: 2, lines: platform.outputs.get(2)})
      expect(platform.calls.map((c) => c.args)).to.deep.equal([['demo', undefined], ['demo', 1], ['demo', 2]])
    })

    it('releases:info takes v-prefixed versions', async () => {
      const {stdout} = await runCommand(ReleasesInfo, ['v1', '-a', 'demo', '--json'], platform)
      expect(JSON.parse(stdout)).to.include({version: 1, status: 'failed'})
    })

    it('rollback and deploy report the new release', async () => {
      expect((await runCommand(ReleasesRollback, ['v1', '-a', 'demo'], platform)).stdout).to.equal('v9: Rollback to v1\n')
      expect((await runCommand(Deploy, ['-a', 'demo'], platform)).stdout).to.equal('Released v10: Deploy 1a2b3c4 (succeeded)\n')
    })
  })

  describe('bad input: one line, a suggestion, non-zero exit, no platform call', () => {
    const cases: Array<[string, CommandClassish, string[], RegExp]> = [
      ['invalid app name', AppsCreate, ['Bad_Name'], /Invalid app name "Bad_Name"/],
      ['app name too long', AppsCreate, ['a'.repeat(30)], /3 to 29 characters/],
      ['a branch git refuses', AppsCreate, ['demo2', '--branch', 'feat..x'], /"feat..x" is not a branch name/],
      ['--branch with --local', AppsCreate, ['demo2', '--local', '--branch', 'main'], /cannot also be provided when using --(local|branch)/],
      ['config:set without =', ConfigSet, ['FOO', '-a', 'demo'], /"FOO" is not KEY=VALUE/],
      ['config:set with a reserved key', ConfigSet, ['PORT=80', '-a', 'demo'], /PORT is set by herogate itself/],
      ['config:set with an invalid key', ConfigSet, ['1X=2', '-a', 'demo'], /Invalid config var name "1X"/],
      ['config:set with nothing', ConfigSet, ['-a', 'demo'], /No config vars given/],
      ['config:unset with an invalid key', ConfigUnset, ['A-B', '-a', 'demo'], /Invalid config var name "A-B"/],
      ['scale with a bad word', PsScale, ['web', '-a', 'demo'], /"web" is not TYPE=COUNT/],
      ['scale with an unknown size', PsScale, ['web=1:huge', '-a', 'demo'], /Unknown size "huge"/],
      ['scale above the limit', PsScale, ['web=101', '-a', 'demo'], /at most 100/],
      ['run without a command', Run, ['-a', 'demo'], /No command given/],
      ['run with an unknown size', Run, ['-a', 'demo', '--size', 'huge', 'ls'], /Unknown size "huge"/],
      ['releases:info with a bad version', ReleasesInfo, ['latest', '-a', 'demo'], /"latest" is not a release version/],
      ['logs with a bad --since', Logs, ['--since', 'yesterday', '-a', 'demo'], /"yesterday" is not a time/],
    ]
    for (const [name, command, argv, message] of cases) {
      it(name, async () => {
        const {stdout, stderr, exitCode} = await runCommand(command, argv, platform)
        expect(exitCode, stderr).to.not.equal(0)
        expect(stdout).to.equal('')
        expect(stderr.split('\n')[0]).to.match(message)
        expect(stderr).to.not.match(/\n\s+at /)
        expect(platform.calls).to.deep.equal([])
      })
    }

    it('an unknown app: the platform says where it looked', async () => {
      const {stderr, exitCode} = await runCommand(AppsInfo, ['-a', 'nope'], platform)
      expect(exitCode).to.equal(1)
      expect(stderr).to.equal(' ▸    App nope not found in us-east-1.\n  Try: herogate apps\n')
    })
  })
})

type CommandClassish = Parameters<typeof runCommand>[0]
