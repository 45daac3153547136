import {expect} from 'chai'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import AppsInfo from '../../src/commands/apps/info.js'
import AppsOpen from '../../src/commands/apps/open.js'
import AppsRename from '../../src/commands/apps/rename.js'
import ConfigEdit from '../../src/commands/config/edit.js'
import ConfigGet from '../../src/commands/config/get.js'
import ConfigSet from '../../src/commands/config/set.js'
import Deploy from '../../src/commands/deploy.js'
import GitClone from '../../src/commands/git/clone.js'
import GitRemote from '../../src/commands/git/remote.js'
import Logs from '../../src/commands/logs.js'
import Ps from '../../src/commands/ps/index.js'
import PsRestart from '../../src/commands/ps/restart.js'
import PsScale from '../../src/commands/ps/scale.js'
import PsStop from '../../src/commands/ps/stop.js'
import Releases from '../../src/commands/releases/index.js'
import Run from '../../src/commands/run.js'
import RunDetached from '../../src/commands/run/detached.js'
import {UpToDate} from '../../src/lib/errors.js'
import type {ProcessInfo} from '../../src/platform/types.js'
import {FakePlatform, fakeRelease} from '../helpers/fake-platform.js'
import {runCommand} from '../helpers/run-command.js'

const ROOT = new URL('../..', import.meta.url)
const NOW = new Date('2026-11-21T10:05:00.000Z')

/** issue 11: the commands and flags a Heroku user types, and the output they expect. */
describe('Heroku muscle memory (commands against a fake platform)', () => {
  let platform: FakePlatform
  let dir: string
  const saved = {app: process.env.HEROGATE_APP, home: process.env.HEROGATE_HOME}

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'herogate-heroku-'))
    process.env.HEROGATE_HOME = join(dir, 'home')
    delete process.env.HEROGATE_APP
  })
  after(() => {
    rmSync(dir, {recursive: true, force: true})
    if (saved.app !== undefined) process.env.HEROGATE_APP = saved.app
    if (saved.home === undefined) delete process.env.HEROGATE_HOME
    else process.env.HEROGATE_HOME = saved.home
  })
  beforeEach(() => {
    platform = new FakePlatform()
  })

  const web = (extra: Partial<ProcessInfo> = {}): ProcessInfo => ({
    name: 'web.1', type: 'web', id: 'abc123', status: 'up', health: 'healthy', release: 3, size: 'standard-1x', startedAt: '2026-11-21T10:03:00.000Z', ...extra,
  })

  describe('flag errors say everything (7)', () => {
    it('logs -n 0 says the range', async () => {
      expect(await runCommand(Logs, ['-n', '0', '-a', 'demo'], platform, {id: 'logs'})).to.deep.equal({
        stdout: '',
        stderr: ' ▸    Invalid value for --num: expected a whole number from 1 to 10000, got "0".\n  Try: herogate help logs\n',
        exitCode: 2,
      })
      expect((await runCommand(Releases, ['-n', '1001', '-a', 'demo'], platform, {id: 'releases'})).stderr.split('\n')[0]).to.equal(' ▸    Invalid value for --num: expected a whole number from 1 to 1000, got "1001".')
      expect(platform.calls).to.deep.equal([])
    })

    it('config:get and ps:stop (ps:kill) without an argument name it and show the usage', async () => {
      expect(await runCommand(ConfigGet, ['-a', 'demo'], platform, {id: 'config:get'})).to.deep.equal({
        stdout: '',
        stderr: ' ▸    Missing argument: KEY (config var name).\n  Usage: herogate config:get KEY [-a APP]\n  Try: herogate help config:get\n',
        exitCode: 2,
      })
      // Typed as ps:kill too, the command's id is ps:stop (oclif's), as test/commands/not-found.cli.test.ts shows through the CLI.
      expect((await runCommand(PsStop, [], platform, {id: 'ps:stop'})).stderr).to.equal(
        ' ▸    Missing argument: PROCESS (process name (web.1) or id).\n  Usage: herogate ps:stop PROCESS [-a APP]\n  Try: herogate help ps:stop\n',
      )
    })

    it('config:set __proto__=1 says the key is not allowed', async () => {
      expect(await runCommand(ConfigSet, ['__proto__=1', '-a', 'demo'], platform)).to.deep.equal({
        stdout: '',
        stderr: ' ▸    Invalid config var name "__proto__": __proto__ is not allowed as a config var name.\n',
        exitCode: 1,
      })
    })
  })

  describe('exit codes a script can rely on (8)', () => {
    it('deploy of the commit that is live: Everything up-to-date, exit 0; --json the live release', async () => {
      platform.deploy = async () => {
        throw new UpToDate({...fakeRelease(3, 'Deploy 1a2b3c4'), commit: '1a2b3c4d5e6f'})
      }

      expect(await runCommand(Deploy, ['-a', 'demo'], platform)).to.deep.equal({stdout: '', stderr: 'Everything up-to-date: 1a2b3c4 is live as v3.\n', exitCode: 0})
      const json = await runCommand(Deploy, ['-a', 'demo', '--json'], platform)
      expect({exitCode: json.exitCode, stderr: json.stderr, release: JSON.parse(json.stdout)}).to.deep.equal({
        exitCode: 0,
        stderr: '',
        release: {...fakeRelease(3, 'Deploy 1a2b3c4'), commit: '1a2b3c4d5e6f', upToDate: true},
      })
    })
  })

  describe('human output like Heroku\'s (9)', () => {
    it('ps: relative times, no colour when piped; --json keeps the ISO time', async () => {
      platform.processes = [web(), web({name: 'worker.1', type: 'worker', id: 'def456', status: 'crashed', health: 'unhealthy', startedAt: '2026-11-21T08:05:00.000Z'})]
      expect((await runCommand(Ps, ['-a', 'demo'], platform, {now: NOW})).stdout).to.equal([
        'Name      Status   Health     Release  Size         Started  Id',
        '────────  ───────  ─────────  ───────  ───────────  ───────  ──────',
        'web.1     up       healthy    v3       standard-1x  2m ago   abc123',
        'worker.1  crashed  unhealthy  v3       standard-1x  2h ago   def456',
        '',
      ].join('\n'))
      expect(JSON.parse((await runCommand(Ps, ['-a', 'demo', '--json'], platform, {now: NOW})).stdout)[0].startedAt).to.equal('2026-11-21T10:03:00.000Z')
    })

    it('ps in colour on a terminal; not with --no-color or NO_COLOR; FORCE_COLOR when piped', async () => {
      platform.processes = [web()]
      const row = 'web.1  \u001B[32mup\u001B[39m      \u001B[32mhealthy\u001B[39m  v3       standard-1x  2m ago   abc123'
      expect((await runCommand(Ps, ['-a', 'demo'], platform, {now: NOW, tty: true})).stdout.split('\n')[2]).to.equal(row)
      expect((await runCommand(Ps, ['-a', 'demo'], platform, {now: NOW, tty: false, env: {FORCE_COLOR: '1'}})).stdout.split('\n')[2]).to.equal(row)
      const plain = 'web.1  up      healthy  v3       standard-1x  2m ago   abc123'
      expect((await runCommand(Ps, ['-a', 'demo', '--no-color'], platform, {now: NOW, tty: true})).stdout.split('\n')[2]).to.equal(plain)
      expect((await runCommand(Ps, ['-a', 'demo'], platform, {now: NOW, tty: true, env: {NO_COLOR: '1'}})).stdout.split('\n')[2]).to.equal(plain)
    })

    it('releases: relative times in the table, ISO in --json, the heading bold on a terminal', async () => {
      platform.releaseList = [{...fakeRelease(2, 'Set A config vars'), createdAt: '2026-11-21T10:04:30.000Z'}, {...fakeRelease(1, 'Deploy 1a2b3c4', false), status: 'failed', createdAt: '2026-11-18T10:00:00.000Z'}]
      expect((await runCommand(Releases, ['-a', 'demo'], platform, {now: NOW})).stdout).to.equal([
        '=== demo Releases',
        'Version  Description        Status     User             Created',
        '───────  ─────────────────  ─────────  ───────────────  ───────',
        'v2 *     Set A config vars  succeeded  dev@example.com  30s ago',
        'v1       Deploy 1a2b3c4     failed     dev@example.com  3d ago',
        '',
      ].join('\n'))
      const tty = (await runCommand(Releases, ['-a', 'demo'], platform, {now: NOW, tty: true})).stdout.split('\n')
      expect([tty[0], tty[4]]).to.deep.equal(['\u001B[1m=== demo Releases\u001B[22m', 'v1       Deploy 1a2b3c4     \u001B[31mfailed\u001B[39m     dev@example.com  3d ago'])
      expect(JSON.parse((await runCommand(Releases, ['-a', 'demo', '--json'], platform, {now: NOW})).stdout)[1].createdAt).to.equal('2026-11-18T10:00:00.000Z')
    })

    it('local processes show no AWS size: ps without the Size column, scale without :size', async () => {
      platform.processes = [web({size: undefined})]
      expect((await runCommand(Ps, ['-a', 'demo'], platform, {now: NOW})).stdout.split('\n').slice(0, 3)).to.deep.equal([
        'Name   Status  Health   Release  Started  Id',
        '─────  ──────  ───────  ───────  ───────  ──────',
        'web.1  up      healthy  v3       2m ago   abc123',
      ])
      platform.apps.get('demo')!.formation = [{type: 'web', quantity: 1, command: 'npm start'}, {type: 'worker', quantity: 0}]
      expect((await runCommand(PsScale, ['-a', 'demo'], platform)).stdout).to.equal('web=1 worker=0\n')
      expect((await runCommand(AppsInfo, ['demo'], platform)).stdout).to.match(/\nFormation: web=1 worker=0\n/)
    })

    it('open --json prints the URL object and opens nothing', async () => {
      expect(await runCommand(AppsOpen, ['-a', 'demo', '/health', '--json'], platform)).to.deep.equal({
        stdout: '{\n  "url": "http://herogate-alb.example:10000/health",\n  "opened": false\n}\n',
        stderr: '',
        exitCode: 0,
      })
    })

    it('logs --json says in its help that it prints one JSON object per line, and does', async () => {
      expect(Logs.flags.json.description).to.equal('print one JSON object per line (JSON Lines), not an array')
      expect(Logs.description).to.include('--json prints one JSON object per line (JSON Lines, not one array)')
      platform.logLines = [
        {time: new Date('2026-11-21T10:00:00.000Z'), source: 'herogate', process: 'web.1', message: 'State changed from starting to up', release: 8},
        {time: new Date('2026-11-21T10:00:01.000Z'), source: 'app', process: 'web.1', message: 'listening', release: 8},
      ]
      expect((await runCommand(Logs, ['-a', 'demo', '--json'], platform)).stdout).to.equal(
        '{"time":"2026-11-21T10:00:00.000Z","source":"herogate","process":"web.1","message":"State changed from starting to up","release":8}\n' +
          '{"time":"2026-11-21T10:00:01.000Z","source":"app","process":"web.1","message":"listening","release":8}\n',
      )
      expect((await runCommand(Logs, ['-a', 'demo'], platform)).stdout).to.equal(
        '2026-11-21T10:00:00.000Z herogate[web.1]: State changed from starting to up (v8)\n2026-11-21T10:00:01.000Z app[web.1]: listening\n',
      )
    })
  })

  describe('the Heroku names (6)', () => {
    it('info APP as a positional, as Heroku takes it; two different apps are refused', async () => {
      expect((await runCommand(AppsInfo, ['demo'], platform)).stdout.split('\n')[0]).to.equal('=== demo')
      expect(platform.calls).to.deep.equal([{method: 'appInfo', args: ['demo']}])
      const both = await runCommand(AppsInfo, ['demo', '-a', 'other'], platform)
      expect(both).to.deep.equal({stdout: '', stderr: ' ▸    Two apps given: demo and -a other.\n  Try: herogate info demo\n  Try: herogate info -a other\n', exitCode: 1})
    })

    it('logs -d/--dyno takes a process type or a process name; -s the source', async () => {
      await runCommand(Logs, ['-a', 'demo', '-d', 'web'], platform)
      await runCommand(Logs, ['-a', 'demo', '--dyno', 'web.1', '-s', 'app'], platform)
      expect(platform.calls.map((call) => {
        const options = call.args[1] as {processType?: string; task?: string; source?: string}
        return [options.processType, options.task, options.source]
      })).to.deep.equal([['web', undefined, undefined], [undefined, 'web.1', 'app']])
    })

    it('run:detached starts the command detached and prints its id', async () => {
      const {stdout, stderr, exitCode} = await runCommand(RunDetached, ['-a', 'demo', 'node', 'job.js', '--verbose'], platform)
      expect({stdout, stderr, exitCode}).to.deep.equal({stdout: 'task-1\n', stderr: 'Follow its output with: herogate logs -t -d run.1 -a demo\n', exitCode: 0})
      expect(platform.calls).to.deep.equal([{method: 'run', args: ['demo', ['node', 'job.js', '--verbose'], {}, true]}])
    })

    it('run:detached without a command suggests the detached form', async () => {
      const {stdout, stderr, exitCode} = await runCommand(RunDetached, ['-a', 'demo'], platform)
      expect({stdout, stderr, exitCode}).to.deep.equal({stdout: '', stderr: ' ▸    No command given.\n  Try: herogate run:detached -- node scripts/job.js\n', exitCode: 1})
      expect(platform.calls).to.deep.equal([])
    })

    it('run -e takes several vars split by ";" as Heroku does, and -e repeated', async () => {
      await runCommand(RunDetached, ['-a', 'demo', '-e', 'A=1;B=two words;', '-e', 'C=3', 'node', 'job.js'], platform)
      expect(platform.calls).to.deep.equal([{method: 'run', args: ['demo', ['node', 'job.js'], {A: '1', B: 'two words', C: '3'}, true]}])
    })

    it('git:remote and git:clone say where the remote points', async () => {
      expect(await runCommand(GitRemote, ['-a', 'demo'], platform)).to.deep.equal({
        stdout: 'set git remote herogate to https://git-codecommit.us-east-1.amazonaws.com/v1/repos/herogate-demo\n',
        stderr: '',
        exitCode: 0,
      })
      const clone = await runCommand(GitClone, ['-a', 'demo', 'src-demo', '-r', 'prod'], platform)
      expect(clone.stdout).to.equal(`Cloned demo into ${process.cwd()}/src-demo (git remote prod: https://git-codecommit.us-east-1.amazonaws.com/v1/repos/herogate-demo)\n`)
      expect(platform.calls.map((call) => [call.method, ...call.args])).to.deep.equal([['gitRemote', 'demo', undefined], ['gitClone', 'demo', 'src-demo', 'prod']])
    })

    it('apps:rename prints the new name and URLs; a bad new name is refused before any call', async () => {
      expect((await runCommand(AppsRename, ['shiny', '-a', 'demo'], platform)).stdout).to.equal(
        'Renamed demo to shiny\nhttp://herogate-alb.example:10000/ | https://git-codecommit.us-east-1.amazonaws.com/v1/repos/herogate-shiny\n',
      )
      platform.calls = []
      expect((await runCommand(AppsRename, ['Bad_Name', '-a', 'shiny'], platform)).stderr.split('\n')[0]).to.match(/^ ▸ {4}Invalid app name "Bad_Name"/)
      expect(platform.calls).to.deep.equal([])
    })

    it('restart web.1 (Heroku restarts one dyno): a process is no process type; says what restarts it, before any call', async () => {
      expect(await runCommand(PsRestart, ['web.1', '-a', 'demo'], platform, {id: 'ps:restart'})).to.deep.equal({
        stdout: '',
        stderr: ' ▸    web.1 is a process, not a process type.\n  Try: herogate ps:stop web.1 -a demo (stops it; a new web process takes its place)\n  Try: herogate restart web -a demo (restarts every web process)\n',
        exitCode: 1,
      })
      expect((await runCommand(PsRestart, ['run.4821', '-a', 'demo'], platform, {id: 'ps:restart'})).stderr).to.equal(
        ' ▸    run.4821 is a process, not a process type.\n  Try: herogate ps:stop run.4821 -a demo (stops the one-off process; nothing takes its place)\n',
      )
      expect(platform.calls).to.deep.equal([])
    })

    it('ps:resize web=standard-2x (Heroku\'s form: a size and no count) changes the size and keeps the count', async () => {
      for (const arg of ['web=standard-2x', 'web:standard-2x']) {
        platform = new FakePlatform()
        expect(await runCommand(PsScale, [arg, '-a', 'demo'], platform, {id: 'ps:scale'})).to.deep.equal({stdout: 'web=1:standard-2x worker=0:standard-1x\n', stderr: 'Scaling processes on demo...\nScaling processes on demo... done\n', exitCode: 0})
        expect(platform.calls).to.deep.equal([{method: 'scale', args: ['demo', [{type: 'web', size: 'standard-2x'}]]}])
      }
      for (const arg of ['web=2=standard-2x', 'web+1=standard-2x', 'web+=standard-2x', 'web=']) {
        expect((await runCommand(PsScale, [arg, '-a', 'demo'], platform, {id: 'ps:scale'})).stderr, arg).to.equal(
          ` ▸    "${arg}" is not TYPE=COUNT, TYPE+N, TYPE-N, TYPE=COUNT:SIZE or TYPE=SIZE.\n  Try: herogate scale web=2 worker=1:standard-2x\n`,
        )
      }
    })

    it('restart, ps:kill, ps:type, ps:resize, info, rename are aliases in the manifest and the README reference', () => {
      const manifest = JSON.parse(readFileSync(new URL('oclif.manifest.json', ROOT), 'utf8')) as {commands: Record<string, {aliases: string[]}>}
      const aliases = Object.fromEntries(Object.entries(manifest.commands).filter(([, c]) => c.aliases.length > 0).map(([id, c]) => [id, c.aliases]))
      expect(aliases).to.deep.include({'ps:restart': ['restart'], 'ps:stop': ['ps:kill'], 'ps:scale': ['scale', 'ps:type', 'ps:resize'], 'apps:rename': ['rename']})
      expect(manifest.commands).to.include.keys('run:detached', 'config:edit', 'git:remote', 'git:clone', 'apps:rename')
      const readme = readFileSync(new URL('README.md', ROOT), 'utf8')
      for (const alias of ['restart', 'ps:kill', 'ps:type', 'ps:resize', 'rename']) expect(readme).to.include(`  $ herogate ${alias}`)
    })
  })

  describe('config:edit (6)', () => {
    let editor: string
    beforeEach(() => {
      platform.config = {GREETING: 'hello world', OLD: 'x', MULTI: 'a\nb'}
      editor = join(dir, 'editor.mjs')
    })

    /** An $EDITOR that rewrites the file with `edit`, then exits with `code`. */
    function useEditor(edit: string, code = 0): Record<string, string> {
      writeFileSync(editor, `import {readFileSync, writeFileSync} from 'node:fs'\nconst file = process.argv[2]\nconst text = readFileSync(file, 'utf8')\nwriteFileSync(${JSON.stringify(join(dir, 'seen.env'))}, text)\nwriteFileSync(file, (${edit})(text))\nprocess.exit(${code})\n`)
      return {VISUAL: '', EDITOR: `${process.execPath} ${editor}`}
    }

    it('opens the vars as KEY=VALUE, applies what changed as one release, prints keys and never values', async () => {
      const env = useEditor(`(text) => text.replace('GREETING="hello world"', 'GREETING="hi there"').replace('OLD=x\\n', '') + 'NEW="two words"\\n'`)
      const {stdout, stderr, exitCode} = await runCommand(ConfigEdit, ['-a', 'demo'], platform, {env})
      expect(readFileSync(join(dir, 'seen.env'), 'utf8')).to.equal(
        '# Config vars of demo. Change, add or delete KEY=VALUE lines, then save and quit.\n# Lines starting with # are ignored.\nGREETING="hello world"\nMULTI="a\\nb"\nOLD=x\n',
      )
      expect(platform.calls.at(-1)).to.deep.equal({method: 'editConfig', args: ['demo', {set: {GREETING: 'hi there', NEW: 'two words'}, unset: ['OLD']}]})
      expect({stdout, stderr, exitCode}).to.deep.equal({
        stdout: 'GREETING\nNEW\nOLD\n',
        stderr: `Opening the config vars of demo in ${env.EDITOR}...\nSetting GREETING and NEW and removing OLD and restarting demo...\nSetting GREETING and NEW and removing OLD and restarting demo... done\nReleased v9\n`,
        exitCode: 0,
      })
      expect(stdout + stderr).to.not.include('hi there').and.not.include('two words')
    })

    it('a file left as it was changes nothing: a note, exit 0, no release (--json too)', async () => {
      const env = useEditor('(text) => text')
      expect(await runCommand(ConfigEdit, ['-a', 'demo'], platform, {env})).to.deep.equal({
        stdout: '',
        stderr: `Opening the config vars of demo in ${env.EDITOR}...\nNo changes to the config vars of demo: no new release.\n`,
        exitCode: 0,
      })
      const json = await runCommand(ConfigEdit, ['-a', 'demo', '--json'], platform, {env})
      expect({...json, stdout: JSON.parse(json.stdout)}).to.deep.equal({stdout: {keys: [], note: 'No changes to the config vars of demo: no new release.'}, stderr: '', exitCode: 0})
      expect(platform.calls.map((call) => call.method)).to.deep.equal(['getConfig', 'getConfig'])
    })

    it('an editor that exits non-zero changes nothing, whatever it saved', async () => {
      const env = useEditor(`() => 'GREETING=changed\\n'`, 3)
      expect(await runCommand(ConfigEdit, ['-a', 'demo'], platform, {env})).to.deep.equal({
        stdout: '',
        stderr: `Opening the config vars of demo in ${env.EDITOR}...\n ▸    The editor (${env.EDITOR}) exited with status 3: nothing was changed.\n  Try: export EDITOR=nano (or your editor), then try again\n`,
        exitCode: 1,
      })
      expect(platform.calls.map((call) => call.method)).to.deep.equal(['getConfig'])
      expect(platform.config.GREETING).to.equal('hello world')
    })
  })

  describe('run (9)', () => {
    it('run bash with no terminal and empty standard input says it has nothing to run, before any call', async () => {
      // Mocha's standard input is not a terminal here; an empty stream stands in for </dev/null.
      const {Readable} = await import('node:stream')
      const stdin = Object.getOwnPropertyDescriptor(process, 'stdin')!
      Object.defineProperty(process, 'stdin', {value: Object.assign(Readable.from([]), {isTTY: false}), configurable: true})
      try {
        expect(await runCommand(Run, ['-a', 'demo', 'bash'], platform)).to.deep.equal({
          stdout: '',
          stderr: " ▸    bash has nothing to run: there is no terminal, and standard input is empty.\n  Try: herogate run bash -c 'COMMAND'\n  Try: herogate run bash < script.sh\n  Try: herogate run (in a terminal, for an interactive shell)\n",
          exitCode: 1,
        })
        expect(platform.calls).to.deep.equal([])
      } finally {
        Object.defineProperty(process, 'stdin', stdin)
      }
    })

    it('run -x / --exit-code (Heroku\'s flag for what herogate always does) is herogate\'s, not the command\'s', async () => {
      for (const flag of ['-x', '--exit-code']) {
        platform = new FakePlatform()
        expect(await runCommand(Run, [flag, '-a', 'demo', 'node', '-v'], platform)).to.deep.equal({stdout: '', stderr: '', exitCode: 0})
        expect(platform.calls).to.deep.equal([{method: 'run', args: ['demo', ['node', '-v'], {}, false]}])
      }
    })

    it('run bash with a script on standard input runs it', async () => {
      const {Readable} = await import('node:stream')
      const stdin = Object.getOwnPropertyDescriptor(process, 'stdin')!
      Object.defineProperty(process, 'stdin', {value: Object.assign(Readable.from([Buffer.from('echo hi\n')]), {isTTY: false}), configurable: true})
      try {
        expect((await runCommand(Run, ['-a', 'demo', 'bash'], platform)).exitCode).to.equal(0)
        expect(platform.calls.map((call) => call.method)).to.deep.equal(['run'])
      } finally {
        Object.defineProperty(process, 'stdin', stdin)
      }
    })
  })
})
