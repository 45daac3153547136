import {expect} from 'chai'
import {spawnSync} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join, relative} from 'node:path'
import {fileURLToPath} from 'node:url'

import {appPaths} from '../../../src/platform/local/state.js'
import {commitAll, exec, fixtureRepo, get, removeApp, sh, tempHome} from './helpers.js'

const ROOT = fileURLToPath(new URL('../../..', import.meta.url))
const CLI = join(ROOT, 'bin', 'run.js')

/** Every regular file under `dir` that holds `text`. */
function filesHolding(dir: string, text: string): string[] {
  const found: string[] = []
  for (const entry of readdirSync(dir, {withFileTypes: true, recursive: true})) {
    if (!entry.isFile()) continue
    const path = join(entry.parentPath, entry.name)
    if (readFileSync(path).includes(text)) found.push(path)
  }

  return found
}

/**
 * Hostile input to the local platform through the built CLI and real `git push`: config
 * values no environment variable can hold, symbolic links out of the pushed repo, Procfiles
 * that serve no HTTP, and an app that listens beyond loopback.
 */
describe('local platform under hostile input (built CLI, real git push)', function () {
  this.timeout(120_000)
  const app = 'hostile-app'
  const SECRET = 'n0t-for-your-eyes'
  const OUTSIDE = 'OUTSIDEMARK'
  let home: ReturnType<typeof tempHome>
  let repo: string
  let outside: string
  let url: string
  let deployed: string

  const herogate = (args: string[], options: {input?: string; env?: NodeJS.ProcessEnv} = {}) => {
    const result = spawnSync(process.execPath, [CLI, ...args], {cwd: repo, encoding: 'utf8', input: options.input, env: {...process.env, HEROGATE_HOME: home.dir, ...options.env}})
    return {status: result.status, stdout: result.stdout, stderr: result.stderr}
  }

  const push = () => exec(repo, 'git', ['push', 'herogate', 'main'])

  /** Commits `change` and pushes it, which must deploy; the pushed commit is then the deployed one. */
  async function deploys(message: string, change: () => void): Promise<string> {
    change()
    commitAll(repo, message)
    const {code, output} = await push()
    expect(code, output).to.equal(0)
    deployed = sh(repo, 'git', ['rev-parse', 'HEAD'])
    return output
  }

  /** Back to the last deployed commit, with nothing else in the work tree. */
  const resetRepo = () => {
    sh(repo, 'git', ['reset', '--quiet', '--hard', deployed])
    sh(repo, 'git', ['clean', '--quiet', '-fdx'])
  }

  before(async function () {
    if (!existsSync(join(ROOT, 'dist', 'platform', 'local', 'hook-main.js'))) throw new Error('dist/ is missing: run npm run build first (npm test does it)')
    home = tempHome()
    repo = fixtureRepo()
    outside = mkdtempSync(join(tmpdir(), 'herogate-outside-'))
    writeFileSync(join(outside, 'secret.txt'), `${OUTSIDE}: the first characters of a file outside the repo\n`)
    mkdirSync(join(outside, 'modules'))
    const created = herogate(['create', app, '--local', '--json'])
    expect(created.status, created.stderr).to.equal(0)
    url = JSON.parse(created.stdout).webUrl
    const first = await push()
    expect(first.code, first.output).to.equal(0)
    deployed = sh(repo, 'git', ['rev-parse', 'HEAD'])
  })

  after(() => removeApp(app, home, repo, outside))

  describe('config values that no environment variable can hold (finding 10)', () => {
    const envFile = () => {
      const file = join(outside, 'nul.env')
      writeFileSync(file, `OK=1\nTOKEN=${SECRET}\0tail\n`)
      return file
    }

    it('config:set refuses a NUL byte from a file or stdin, names the key, and the value reaches no output, log or file', async () => {
      for (const args of [['config:set', '--file', envFile()], ['config:set', '--file', '-']]) {
        const result = herogate(args, {input: `OK=1\nTOKEN=${SECRET}\0tail\n`})
        expect(result.status, result.stderr).to.equal(1)
        expect(result.stderr).to.include('The value of TOKEN cannot be set: it holds a NUL byte, which no environment variable can hold. Nothing was changed.')
        expect(result.stdout + result.stderr).to.not.include(SECRET)
      }

      // Nothing half-done: no key set, no release made.
      expect(JSON.parse(herogate(['config', '--json']).stdout)).to.deep.equal({})
      expect(JSON.parse(herogate(['releases', '--json']).stdout)).to.have.lengthOf(1)
      expect(filesHolding(home.dir, SECRET)).to.deep.equal([])
      expect((await get(url)).body).to.equal('hello from web.1\n')
    })

    it('is refused the same way for an app on AWS, before any AWS call', () => {
      const result = herogate(['config:set', '--file', envFile(), '-a', 'some-aws-app'], {
        env: {AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_ENDPOINT_URL: 'http://127.0.0.1:9', AWS_EC2_METADATA_DISABLED: 'true'},
      })
      expect(result.status, result.stderr).to.equal(1)
      expect(result.stderr).to.include('The value of TOKEN cannot be set: it holds a NUL byte')
      expect(result.stdout + result.stderr).to.not.include(SECRET)
    })
  })

  describe('symbolic links in a pushed repo (finding 11)', () => {
    afterEach(resetRepo)

    /** Commits what `arrange` did and pushes it: the push must be refused, naming `file`, showing nothing of what lies outside. */
    async function refused(arrange: () => void, message: string) {
      arrange()
      commitAll(repo, 'links')
      const {code, output} = await push()
      expect(code, output).to.not.equal(0)
      expect(output).to.include(`remote: -----> Build failed: ${message}`)
      expect(output).to.not.include(OUTSIDE)
      expect(output).to.not.include(outside)
      expect((await get(url)).body, 'the old release keeps serving').to.equal('hello from web.1\n')
      expect(sh(appPaths(app).repo, 'git', ['rev-parse', 'main'])).to.equal(deployed)
    }

    const link = (target: string, name: string) => {
      rmSync(join(repo, name), {force: true})
      symlinkSync(target, join(repo, name))
    }

    const leadsOut = (name: string) => `${name} in the pushed commit is a symbolic link that leads outside the repository: builds read only regular files inside the repository.`

    it('refuses a Procfile that links to a file outside the repo (absolute link)', () => refused(() => link(join(outside, 'secret.txt'), 'Procfile'), leadsOut('Procfile')))

    it('refuses a package.json that links outside the repo (relative link)', () =>
      refused(() => {
        rmSync(join(repo, 'Procfile'))
        link(relative(repo, join(outside, 'secret.txt')), 'package.json')
      }, leadsOut('package.json')))

    for (const name of ['package-lock.json', 'npm-shrinkwrap.json', '.npmrc']) {
      it(`refuses a ${name} that links outside the repo (npm would read it)`, () => refused(() => link(join(outside, 'secret.txt'), name), leadsOut(name)))
    }

    it('refuses a link to nothing with the same words (no hint of which files exist outside)', () =>
      refused(() => link(join(outside, 'no-such-file'), 'Procfile'), leadsOut('Procfile')))

    it('refuses a node_modules that links outside the repo, and installs nothing there', async () => {
      await refused(() => {
        mkdirSync(join(repo, 'vendor', 'dep'), {recursive: true})
        writeFileSync(join(repo, 'vendor', 'dep', 'package.json'), JSON.stringify({name: 'dep', version: '1.0.0'}))
        const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8'))
        writeFileSync(join(repo, 'package.json'), JSON.stringify({...pkg, dependencies: {dep: 'file:./vendor/dep'}}))
        link(join(outside, 'modules'), 'node_modules')
      }, 'node_modules in the pushed commit is a symbolic link: dependencies are installed inside the repository.')
      expect(readdirSync(join(outside, 'modules'))).to.deep.equal([])
    })

    it('follows a link that stays inside the repo', async () => {
      await deploys('procfile inside', () => {
        mkdirSync(join(repo, 'deploy'))
        writeFileSync(join(repo, 'deploy', 'Procfile'), 'web: node server.js\n')
        link(join('deploy', 'Procfile'), 'Procfile')
        writeFileSync(join(repo, 'message.txt'), 'linked')
      })
      expect((await get(url)).body).to.equal('linked from web.1\n')
    })
  })

  describe('a Procfile that serves no HTTP (finding 14)', () => {
    const cases: Array<[string, string, string]> = [
      ['only a worker and a release phase', 'worker: node worker.js\nrelease: node release.js\n', 'The Procfile has no web process type: no process receives HTTP requests'],
      ['only a release phase', 'release: node release.js\n', 'The Procfile has no web process type'],
      ['WEB in capitals', 'WEB: node server.js\n', 'The Procfile declares "WEB", not "web": process type names are lower-case'],
    ]
    for (const [title, procfile, warning] of cases) {
      it(`warns in the push output and in ps: ${title}`, async () => {
        const output = await deploys(title, () => writeFileSync(join(repo, 'Procfile'), procfile))
        expect(output).to.match(/remote: -----> Released v\d+/)
        expect(output).to.include(`remote:  !     Warning: ${warning}`)
        expect((await get(url)).status).to.equal(503)
        const ps = herogate(['ps'])
        expect(ps.status, ps.stderr).to.equal(0)
        expect(ps.stderr).to.include(`Warning: ${warning}`)
        const json = herogate(['ps', '--json'])
        expect(JSON.parse(json.stdout)).to.deep.equal([])
        expect(json.stderr).to.not.include('Warning')
      })
    }

    it('says nothing once web is back', async () => {
      expect(await deploys('web again', () => writeFileSync(join(repo, 'Procfile'), 'web: node server.js\n'))).to.not.include('Warning')
      expect(herogate(['ps']).stderr).to.not.include('Warning')
    })
  })

  describe('a web process that listens beyond loopback (finding 19)', () => {
    before(function () {
      if (!existsSync('/proc/net/tcp')) this.skip()
    })

    const LISTENS = /Warning: web\.1 listens on (\[::\]|0\.0\.0\.0):\d+: beyond 127\.0\.0\.1, so other machines can reach it without the router/g

    it('warns once in the push output and in ps when the app listens on every interface', async () => {
      const output = await deploys('listen on every interface', () => writeFileSync(join(repo, 'listen-all'), ''))
      expect(output.match(LISTENS), output).to.have.lengthOf(1)
      const ps = herogate(['ps'])
      expect(ps.stderr.match(LISTENS), ps.stderr).to.have.lengthOf(1)
      expect(herogate(['ps'], {env: {HEROGATE_BIND: '127.0.0.1'}}).stderr, 'HEROGATE_BIND says it is meant').to.not.include('Warning')
    })

    it('says nothing for an app that listens on 127.0.0.1', async () => {
      expect(await deploys('listen on loopback', () => rmSync(join(repo, 'listen-all')))).to.not.include('Warning')
      expect(herogate(['ps']).stderr).to.not.include('Warning')
    })
  })
})
