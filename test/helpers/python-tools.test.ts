import {expect} from 'chai'
import {spawnSync} from 'node:child_process'
import {chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import {createServer} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {findTools, INSTALL_HINT, PINS, setUpTools, setupProblem, venvDir} from './python-tools.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))

/**
 * How `npm test` gets moto and cfn-lint (test/prepare.ts): from python3 when it has the pinned
 * versions, else a virtualenv set up once in a cache; and what it says when it cannot. The
 * machine's python3 here has moto, so a python3 that sees no site-packages (-S) stands in for
 * a contributor's bare one, and a local folder of stand-in wheels for PyPI.
 */
describe('moto and cfn-lint for the AWS tests (test/prepare.ts)', function () {
  this.timeout(300_000)
  let work: string
  let barePython: string
  const hasVenv = spawnSync('python3', ['-c', 'import venv, ensurepip'], {stdio: 'ignore'}).status === 0

  before(function () {
    if (!hasVenv) this.skip()
    work = mkdtempSync(join(tmpdir(), 'herogate-pytools-'))
    barePython = join(work, 'python3')
    writeFileSync(barePython, '#!/bin/sh\nexec python3 -S "$@"\n')
    chmodSync(barePython, 0o755)
  })

  after(() => {
    if (work) rmSync(work, {recursive: true, force: true})
  })

  /** A pip index that has the pinned packages: stand-in wheels (moto with its server extra, flask, flask-cors, cfn-lint). */
  function wheels(): string {
    const dir = join(work, 'wheels')
    if (existsSync(dir)) return dir
    mkdirSync(dir)
    const script = `
import base64, hashlib, sys, zipfile
out = sys.argv[1]
def wheel(dist, version, files, requires=(), extras=(), scripts=None):
    name = dist.replace("-", "_")
    info = f"{name}-{version}.dist-info"
    meta = f"Metadata-Version: 2.1\\nName: {dist}\\nVersion: {version}\\n" + "".join(f"Provides-Extra: {e}\\n" for e in extras) + "".join(f"Requires-Dist: {r}\\n" for r in requires)
    files = dict(files)
    files[f"{info}/METADATA"] = meta
    files[f"{info}/WHEEL"] = "Wheel-Version: 1.0\\nGenerator: herogate-test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"
    if scripts:
        files[f"{info}/entry_points.txt"] = "[console_scripts]\\n" + "".join(f"{k} = {v}\\n" for k, v in scripts.items())
    record = ""
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record += f"{path},sha256={digest},{len(text.encode())}\\n"
    record += f"{info}/RECORD,,\\n"
    with zipfile.ZipFile(f"{out}/{name}-{version}-py3-none-any.whl", "w") as z:
        for path, text in files.items():
            z.writestr(path, text)
        z.writestr(f"{info}/RECORD", record)
wheel("moto", "${PINS.moto}", {"moto/__init__.py": "__version__ = '${PINS.moto}'\\n"}, requires=['flask; extra == "server"', 'flask-cors; extra == "server"'], extras=["server"])
wheel("flask", "3.0.0", {"flask/__init__.py": ""})
wheel("flask-cors", "4.0.0", {"flask_cors/__init__.py": ""})
wheel("cfn-lint", "${PINS.cfnLint}", {"cfnlint_stub.py": "def main():\\n    print('cfn-lint ${PINS.cfnLint}')\\n"}, scripts={"cfn-lint": "cfnlint_stub:main"})
`
    const r = spawnSync('python3', ['-c', script, dir], {encoding: 'utf8'})
    expect(r.status, r.stderr).to.equal(0)
    return dir
  }

  it('uses the machine\'s python3 when it has the pinned versions, and makes no virtualenv', function () {
    const cacheDir = join(work, 'cache-system')
    const found = findTools({python: 'python3', cacheDir})
    if (!found.ok) this.skip() // this machine's python3 has no moto: the next tests cover the rest
    expect(found.tools.source).to.equal('system')
    expect(spawnSync(found.tools.cfnLint, ['--version'], {encoding: 'utf8'}).stdout.trim()).to.equal(`cfn-lint ${PINS.cfnLint}`)
    expect(setUpTools({python: 'python3', cacheDir}).ok).to.equal(true)
    expect(existsSync(cacheDir)).to.equal(false)
  })

  it('without the tools, sets up a virtualenv with the pinned versions once, then reuses it without pip', function () {
    const cacheDir = join(work, 'cache-venv')
    const options = {python: barePython, cacheDir, env: {...process.env, PIP_NO_INDEX: '1', PIP_FIND_LINKS: wheels()}}
    expect(findTools(options)).to.deep.include({ok: false})
    const said: string[] = []
    const found = setUpTools(options, (line) => said.push(line))
    expect(found, JSON.stringify(found)).to.deep.include({ok: true})
    if (!found.ok) return
    expect(found.tools.source).to.equal('venv')
    expect(found.tools.python.startsWith(venvDir(options))).to.equal(true)
    expect(said).to.deep.equal([`Setting up moto[server]==${PINS.moto} and cfn-lint==${PINS.cfnLint} for the AWS tests in ${venvDir(options)} (once)...`])
    expect(spawnSync(found.tools.python, ['-c', 'import moto, flask, flask_cors; print(moto.__version__)'], {encoding: 'utf8'}).stdout.trim()).to.equal(PINS.moto)
    expect(spawnSync(found.tools.cfnLint, ['--version'], {encoding: 'utf8'}).stdout.trim()).to.equal(`cfn-lint ${PINS.cfnLint}`)

    // The next run finds it in the cache: no index is needed any more, and nothing is said.
    const again = setUpTools({...options, env: {...process.env, PIP_NO_INDEX: '1'}}, (line) => said.push(line))
    expect(again).to.deep.equal(found)
    expect(said).to.have.length(1)
    expect(setupProblem(options)).to.equal(undefined)
  })

  it('says so when python3 has no venv module, or there is no python3', function () {
    const noVenv = join(work, 'python3-without-venv')
    writeFileSync(noVenv, `#!/bin/sh\ncase "$2" in *"import venv"*) echo "ModuleNotFoundError: No module named 'venv'" >&2; exit 1;; esac\nexec python3 -S "$@"\n`)
    chmodSync(noVenv, 0o755)
    expect(setUpTools({python: noVenv, cacheDir: join(work, 'cache-novenv')})).to.deep.equal({
      ok: false,
      reason: `${noVenv} has no venv module (on Debian or Ubuntu: apt-get install python3-venv)`,
    })
    const missing = join(work, 'no-such-python3')
    expect(setUpTools({python: missing, cacheDir: join(work, 'cache-nopython')})).to.deep.equal({ok: false, reason: `no ${missing} on this machine`})
  })

  describe('npm test on a machine whose python3 has no moto and cannot install it', () => {
    let env: NodeJS.ProcessEnv
    before(async () => {
      // python3 on this PATH sees no site-packages; pip's index refuses connections.
      const bin = join(work, 'bare-bin')
      mkdirSync(bin)
      const real = spawnSync('python3', ['-c', 'import sys; print(sys.executable)'], {encoding: 'utf8'}).stdout.trim()
      writeFileSync(join(bin, 'python3'), `#!/bin/sh\nexec ${real} -S "$@"\n`)
      chmodSync(join(bin, 'python3'), 0o755)
      env = {...process.env, PATH: `${bin}:${process.env.PATH}`, XDG_CACHE_HOME: join(work, 'xdg-cache'), PIP_INDEX_URL: `http://127.0.0.1:${await closedPort()}/simple`}
      for (const key of ['CI', 'PIP_NO_INDEX', 'PIP_FIND_LINKS', 'NODE_OPTIONS']) delete env[key]
    })

    const tsx = join(ROOT, 'node_modules', '.bin', 'tsx')
    const mocha = join(ROOT, 'node_modules', '.bin', 'mocha')

    it('under CI=true, the pretest step fails with one line', () => {
      const ci = spawnSync(tsx, ['test/prepare.ts'], {cwd: ROOT, env: {...env, CI: 'true'}, encoding: 'utf8'})
      expect(ci.status).to.equal(1)
      expect(ci.stderr.trim().split('\n').at(-1)).to.equal(
        `CI needs moto and cfn-lint (pip could not reach a package index with these versions (no network to PyPI?)): ${INSTALL_HINT}`,
      )
    })

    it('elsewhere the AWS tests skip, and the run ends with one line saying what was skipped and how to get it; under CI they fail', () => {
      // npm test: the pretest step, then mocha.
      const prepare = spawnSync(tsx, ['test/prepare.ts'], {cwd: ROOT, env, encoding: 'utf8'})
      expect(prepare.status, prepare.stderr).to.equal(0)
      // What it tried left no half-made virtualenv to be taken for a whole one.
      const cache = join(env.XDG_CACHE_HOME!, 'herogate-test', 'python-tools')
      expect(readdirSync(cache).filter((name) => !name.endsWith('.failed'))).to.deep.equal([])
      const run = spawnSync(mocha, ['test/templates.test.ts', 'test/aws/ecr.moto.test.ts'], {cwd: ROOT, env, encoding: 'utf8'})
      expect(run.status, run.stdout + run.stderr).to.equal(0)
      const pending = Number(/(\d+) pending/.exec(run.stdout)?.[1])
      expect(pending).to.be.greaterThan(2)
      const lines = `${run.stdout}\n${run.stderr}`.split('\n').filter((line) => /skip|install/i.test(line))
      expect(lines.map((line) => line.trim())).to.deep.equal([
        `Skipped ${pending} tests that need moto and cfn-lint (python3 has no moto and no cfn-lint; ` +
          `npm test could not set them up: pip could not reach a package index with these versions (no network to PyPI?)). To run them: ${INSTALL_HINT}, or npm test on a machine that reaches PyPI.`,
      ])
      const ci = spawnSync(mocha, ['test/templates.test.ts'], {cwd: ROOT, env: {...env, CI: 'true'}, encoding: 'utf8'})
      expect(ci.status).to.not.equal(0)
      expect(ci.stdout).to.include(`CI needs moto and cfn-lint (python3 has no moto and no cfn-lint): ${INSTALL_HINT}`)
    })
  })
})

async function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const {port} = probe.address() as {port: number}
      probe.close(() => resolve(port))
    })
  })
}
