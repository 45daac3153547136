import {expect} from 'chai'
import {spawnSync} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join, relative, sep} from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'

import {type Traced, tracer, type Tracer} from './helpers/trace.js'

// Guards what keeps start-up fast (timing itself is bench/startup.ts's job): the oclif manifest
// covers every command, so help never imports command files, and no command module pulls in
// the AWS SDK when it is loaded.

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
const DIST_COMMANDS = join(ROOT, 'dist', 'commands')
const MANIFEST = join(ROOT, 'oclif.manifest.json')

/** oclif's id for a file under the commands dir: topics from folders, index.js names its folder. */
function commandId(file: string): string {
  const parts = relative(DIST_COMMANDS, file).replace(/\.js$/, '').split(sep)
  if (parts.at(-1) === 'index') parts.pop()
  return parts.join(':')
}

function files(dir: string, ext: string): string[] {
  return readdirSync(dir, {recursive: true, withFileTypes: true})
    .filter((e) => e.isFile() && e.name.endsWith(ext) && !e.name.endsWith(`.d${ext}`))
    .map((e) => join(e.parentPath, e.name))
    .sort()
}

function manifest(): {version: string; commands: Record<string, {relativePath?: string[]}>} {
  return JSON.parse(readFileSync(MANIFEST, 'utf8'))
}

describe('start-up structure', function () {
  let trace: Tracer
  let env: NodeJS.ProcessEnv
  let work: string

  before(function () {
    if (!existsSync(DIST_COMMANDS) || !existsSync(MANIFEST)) {
      this.timeout(300_000)
      const build = spawnSync('npm', ['run', 'build'], {cwd: ROOT, encoding: 'utf8'})
      expect(build.status, `npm run build failed:\n${build.stdout}${build.stderr}`).to.equal(0)
    }
    trace = tracer()
    work = mkdtempSync(join(tmpdir(), 'herogate-startup-'))
    env = {...process.env, HOME: work, HEROGATE_HOME: join(work, 'home')}
    delete env.HEROGATE_APP
  })

  after(function () {
    trace?.dispose()
    if (work) rmSync(work, {recursive: true, force: true})
  })

  const traced = (args: string[], name: string) => trace.run(args, name, {cwd: work, env})

  /** Imports the given modules in one traced child; each must load without side effects that fail. */
  function importAll(modules: string[], name: string): Traced {
    const script = join(work, `${name}.mjs`)
    writeFileSync(script, modules.map((f) => `await import(${JSON.stringify(pathToFileURL(f).href)})\n`).join(''))
    const r = traced([script], name)
    expect(r.status, r.stderr).to.equal(0)
    return r
  }

  /** The SDK modules a child loaded: "dist file imports package" where the hook saw who, else every SDK URL. */
  function sdkLoads(r: Traced): string[] {
    const ours = pathToFileURL(join(ROOT, 'dist')).href
    const loaded = awsSdk(r.loaded)
    const culprits = loaded
      .filter((url) => r.importers.get(url)?.startsWith(ours))
      .map((url) => `${r.importers.get(url)!.slice(ours.length + 1)} imports ${url.replace(/.*\/node_modules\//, '')}`)
    return culprits.length > 0 ? culprits : loaded
  }

  const awsSdk = (loaded: string[]): string[] => loaded.filter((url) => url.includes('/@aws-sdk/') || url.includes('/@smithy/'))
  const commandModules = (loaded: string[]): string[] => loaded.filter((url) => url.startsWith(pathToFileURL(DIST_COMMANDS).href))

  it('ships a manifest of this version that lists every command, and only the built ones', function () {
    const m = manifest()
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))
    // oclif ignores a manifest whose version differs and then imports every command for help.
    expect(m.version).to.equal(pkg.version)

    const built = files(DIST_COMMANDS, '.js').map(commandId)
    expect(built, 'no compiled commands in dist/commands').to.not.be.empty
    expect(Object.keys(m.commands).sort()).to.deep.equal([...built].sort())

    const sources = files(join(ROOT, 'src', 'commands'), '.ts').map((f) => commandId(join(DIST_COMMANDS, relative(join(ROOT, 'src', 'commands'), f).replace(/\.ts$/, '.js'))))
    expect(built, 'a command in src/commands is missing from the build; run npm run build').to.include.members(sources)

    for (const [id, command] of Object.entries(m.commands)) {
      expect(command.relativePath, `manifest entry ${id} has no relativePath, so oclif would search for it`).to.be.an('array')
      expect(existsSync(join(ROOT, ...command.relativePath!)), `manifest entry ${id} points at a missing file`).to.equal(true)
    }
  })

  it('loads no AWS SDK package when every command module is imported', function () {
    this.timeout(60_000)
    const commands = files(DIST_COMMANDS, '.js')
    const r = importAll(commands, 'commands')
    // The hook saw the command modules themselves, so an empty result below means something.
    expect(commandModules(r.loaded)).to.have.length(commands.length)
    expect(sdkLoads(r), 'import the AWS SDK lazily (inside functions, via AwsClients)').to.deep.equal([])
  })

  it('loads no AWS SDK package when both platform drivers and every AWS wrapper are imported', function () {
    this.timeout(60_000)
    const modules = [
      join(ROOT, 'dist', 'platform', 'index.js'),
      join(ROOT, 'dist', 'platform', 'aws', 'index.js'),
      join(ROOT, 'dist', 'platform', 'local', 'index.js'),
      ...files(join(ROOT, 'dist', 'aws'), '.js'),
    ]
    const r = importAll(modules, 'drivers')
    expect(r.loaded.filter((url) => url.includes('/dist/aws/'))).to.have.length(modules.length - 3)
    expect(sdkLoads(r), 'import the AWS SDK lazily (inside functions, via AwsClients)').to.deep.equal([])
  })

  it('loads no AWS code at all for the local platform', function () {
    const r = importAll([join(ROOT, 'dist', 'platform', 'local', 'index.js')], 'local')
    expect(r.loaded.some((url) => url.includes('/dist/platform/local/'))).to.equal(true)
    const aws = r.loaded.filter((url) => url.includes('/dist/aws/') || url.includes('/dist/platform/aws/') || url.includes('/@aws-sdk/'))
    expect(aws).to.deep.equal([])
  })

  for (const args of [['--help'], ['apps', '--help'], ['config:set', '--help']]) {
    it(`answers ${args.join(' ')} from the manifest, importing no command module and no AWS SDK`, function () {
      this.timeout(60_000)
      if (args[0] !== '--help' && !manifest().commands[args[0]]) this.skip()
      const r = traced([join(ROOT, 'bin', 'run.js'), ...args], args.join('_'))
      expect(r.status, r.stderr).to.equal(0)
      expect(r.stdout).to.match(/USAGE/)
      expect(r.loaded.some((url) => url.includes('/@oclif/core/'))).to.equal(true)
      expect(commandModules(r.loaded)).to.deep.equal([])
      expect(awsSdk(r.loaded)).to.deep.equal([])
    })
  }

  it('answers --version without loading oclif', function () {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))
    const r = traced([join(ROOT, 'bin', 'run.js'), '--version'], 'version')
    expect(r.status, r.stderr).to.equal(0)
    expect(r.stdout).to.match(new RegExp(`^herogate/${pkg.version.replaceAll('.', '\\.')} `))
    expect(r.loaded.some((url) => url.endsWith('/bin/run.js'))).to.equal(true)
    expect(r.loaded.filter((url) => url.includes('/node_modules/'))).to.deep.equal([])
  })
})
