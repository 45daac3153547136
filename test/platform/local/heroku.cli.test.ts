import {expect} from 'chai'
import {spawn} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {appPaths, tryLock} from '../../../src/platform/local/state.js'
import {CLI, commitAll, exec, get, pushedApp, sh} from './helpers.js'

/** The built CLI with stdout and stderr apart (stdin: /dev/null, as a script's, or `input`). */
function run(cwd: string, env: NodeJS.ProcessEnv & {input?: string}, ...args: string[]): Promise<{code: number; stdout: string; stderr: string}> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {cwd, env, stdio: [env.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe']})
    if (env.input !== undefined) child.stdin!.end(env.input)
    let stdout = ''
    let stderr = ''
    child.stdout!.on('data', (chunk) => (stdout += chunk))
    child.stderr!.on('data', (chunk) => (stderr += chunk))
    child.once('error', reject)
    child.once('close', (code) => resolve({code: code ?? 1, stdout, stderr}))
  })
}

/** issue 11 on a real local app: the commands a Heroku user types, through the built CLI. */
describe('Heroku muscle memory on a local app (built CLI)', function () {
  this.timeout(120_000)
  const app = 'heroku-app'
  const deployed = pushedApp(app)
  const herogate = (...args: string[]) => run(deployed.repo, deployed.env(), ...args)
  let scratch: string

  before(() => {
    scratch = mkdtempSync(join(tmpdir(), 'herogate-scratch-'))
  })
  after(() => rmSync(scratch, {recursive: true, force: true}))

  it('deploy of the commit that is live: Everything up-to-date, exit 0 (--json: the release)', async () => {
    const head = sh(deployed.repo, 'git', ['rev-parse', 'HEAD'])
    const human = await herogate('deploy')
    expect({code: human.code, stdout: human.stdout, last: human.stderr.trimEnd().split('\n').at(-1)}).to.deep.equal({
      code: 0, stdout: '', last: `Everything up-to-date: ${head.slice(0, 7)} is live as v1.`,
    })
    const json = await herogate('deploy', '--json')
    expect(json.code).to.equal(0)
    expect(JSON.parse(json.stdout)).to.include({version: 1, commit: head, upToDate: true})
  })

  it('ps and scale show no AWS sizes for local processes', async () => {
    const ps = await herogate('ps')
    expect(ps.stdout.split('\n')[0]).to.match(/^Name +Status +Health +Release +Started +Id$/)
    expect(ps.stdout).to.match(/^web\.1 +up +healthy +v1 +(just now|\d+s ago) +\d+$/m)
    expect((await herogate('scale')).stdout).to.equal('web=1 worker=0\n')
    expect(JSON.parse((await herogate('ps', '--json')).stdout)[0]).to.not.have.property('size')
  })

  it('run says Running CMD on APP... up, run.NNNN on stderr and sets PORT', async () => {
    const {code, stdout, stderr} = await herogate('run', 'echo port=$PORT')
    expect(code).to.equal(0)
    expect(stdout).to.match(/^port=\d{2,5}\n$/)
    expect(stderr).to.match(/^Running echo port=\$PORT on heroku-app\.\.\.\nRunning echo port=\$PORT on heroku-app\.\.\. up, run\.\d{4}\n$/)
  })

  it('run bash with no terminal and empty standard input says it has nothing to run', async () => {
    expect(await herogate('run', 'bash')).to.deep.equal({
      code: 1,
      stdout: '',
      stderr: " ▸    bash has nothing to run: there is no terminal, and standard input is empty.\n  Try: herogate run bash -c 'COMMAND'\n  Try: herogate run bash < script.sh\n  Try: herogate run (in a terminal, for an interactive shell)\n",
    })
    // A script on standard input reaches the shell whole, the bytes looked at first included.
    const piped = await run(deployed.repo, {...deployed.env(), input: 'echo from-stdin\necho "$DYNO"\n'}, 'run', 'bash')
    expect({code: piped.code, stdout: piped.stdout.replace(/\d{4}/, 'NNNN')}).to.deep.equal({code: 0, stdout: 'from-stdin\nrun.NNNN\n'})
  })

  it('config:edit applies what changed as one release; the old and new web.1 are told apart in the logs', async () => {
    expect((await herogate('config:set', 'A=1', 'B=2')).code).to.equal(0)
    const editor = join(scratch, 'editor.mjs')
    writeFileSync(editor, "import {readFileSync, writeFileSync} from 'node:fs'\nconst file = process.argv[2]\nwriteFileSync(file, readFileSync(file, 'utf8').replace('A=1', 'A=changed').replace('B=2\\n', '') + 'C=\"two words\"\\n')\n")
    const edit = await run(deployed.repo, {...deployed.env(), VISUAL: '', EDITOR: `${process.execPath} ${editor}`}, 'config:edit')
    expect({code: edit.code, stdout: edit.stdout}).to.deep.equal({code: 0, stdout: 'A\nC\nB\n'})
    expect(edit.stderr).to.not.include('two words')
    const releases = JSON.parse((await herogate('releases', '--json')).stdout) as Array<{version: number; description: string}>
    expect(releases.map((r) => `v${r.version} ${r.description}`).slice(0, 2)).to.deep.equal(['v3 Set A, C and remove B config vars', 'v2 Set A, B config vars'])
    expect((await get(`${deployed.url}/config/C`)).body).to.equal('two words')
    expect((await get(`${deployed.url}/config/B`)).status).to.equal(404)

    const logs = (await herogate('logs', '-d', 'web.1', '-s', 'herogate', '-n', '200')).stdout
    expect(logs).to.match(/ herogate\[web\.1\]: State changed from starting to up \(v3\)$/m)
    expect(logs).to.match(/ herogate\[web\.1\]: State changed from up to stopping \(v2\)$/m)
    const json = (await herogate('logs', '-d', 'web.1', '--json', '-n', '200')).stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as {release?: number})
    expect(new Set(json.map((line) => line.release))).to.deep.equal(new Set([1, 2, 3]))
  })

  it('git:remote adds the remote in another clone; git:clone clones with the remote set', async () => {
    const other = join(scratch, 'other')
    sh(scratch, 'git', ['init', '--quiet', other])
    expect(await run(other, deployed.env(), 'git:remote', '-a', app)).to.deep.equal({code: 0, stdout: `set git remote herogate to ${appPaths(app).repo}\n`, stderr: ''})
    expect(sh(other, 'git', ['remote', 'get-url', 'herogate'])).to.equal(appPaths(app).repo)
    sh(other, 'git', ['fetch', '--quiet', 'herogate'])
    expect(sh(other, 'git', ['rev-parse', 'herogate/main'])).to.equal(sh(deployed.repo, 'git', ['rev-parse', 'HEAD']))

    const clone = await run(scratch, deployed.env(), 'git:clone', '-a', app, 'cloned')
    expect({code: clone.code, stdout: clone.stdout}).to.deep.equal({code: 0, stdout: `Cloned ${app} into ${join(scratch, 'cloned')} (git remote herogate: ${appPaths(app).repo})\n`})
    expect(readFileSync(join(scratch, 'cloned', 'Procfile'), 'utf8')).to.equal(readFileSync(join(deployed.repo, 'Procfile'), 'utf8'))
    expect(sh(join(scratch, 'cloned'), 'git', ['remote'])).to.equal('herogate')
    const again = await run(scratch, deployed.env(), 'git:clone', '-a', app, 'cloned')
    expect(again.code).to.equal(1)
    expect(again.stderr).to.equal(`Cloning ${app}...\nCloning ${app}... failed\n ▸    ${join(scratch, 'cloned')} already exists.\n  Try: herogate git:clone -a APP OTHER-DIRECTORY\n`)
  })

  it('apps:rename: refused while a release holds the lock; then moves everything, keeps serving, and pushes deploy under the new name', async () => {
    const held = tryLock(app, 'deploy', 'tester')!
    try {
      const busy = await herogate('apps:rename', 'renamed-app')
      expect(busy.code).to.equal(1)
      expect(busy.stderr).to.match(/^ ▸ {4}App heroku-app is busy: deploy by tester since \S+\.\n/)
      expect(existsSync(appPaths(app).dir)).to.equal(true)
    } finally {
      held.release()
    }

    const renamed = await herogate('apps:rename', 'renamed-app')
    expect({code: renamed.code, stdout: renamed.stdout}).to.deep.equal({code: 0, stdout: `Renamed ${app} to renamed-app\n${deployed.url} | ${appPaths('renamed-app').repo}\n`})
    expect(renamed.stderr).to.include(`Git remote herogate in ${sh(deployed.repo, 'git', ['rev-parse', '--show-toplevel'])} now points at renamed-app.`)
    expect(existsSync(appPaths(app).dir)).to.equal(false)
    expect(sh(deployed.repo, 'git', ['remote', 'get-url', 'herogate'])).to.equal(appPaths('renamed-app').repo)
    expect(JSON.parse((await herogate('info', '--json')).stdout)).to.include({name: 'renamed-app', status: 'running', webUrl: deployed.url})
    expect((await get(`${deployed.url}/config/C`)).body).to.equal('two words')

    commitAll(deployed.repo, 'after the rename')
    const push = await exec(deployed.repo, 'git', ['push', 'herogate', 'main'], deployed.env())
    expect(push.code, push.output).to.equal(0)
    expect(JSON.parse((await herogate('releases', '--json')).stdout)[0]).to.include({version: 4, current: true})

    // Back, so that the block's cleanup finds it.
    expect((await herogate('rename', app)).code).to.equal(0)
    expect(JSON.parse((await herogate('info', app, '--json')).stdout)).to.include({name: app, status: 'running'})
  })
})
