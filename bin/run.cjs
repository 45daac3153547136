#!/usr/bin/env node
// The herogate command (package.json "bin"). CommonJS, because node starts an ES module entry
// point several milliseconds later, and what is answered here is measured against node's own
// start-up (bench/startup.ts): --version, and the reads of local apps (ps, config, releases,
// info, apps, logs -n) when their command line is plain, from one bundled file
// (bin/build-reads.js, lib/fast-path.ts). Everything else, and anything the fast path is
// unsure of, is oclif's.
const {readFileSync, writeFileSync} = require('node:fs')
const {dirname, join} = require('node:path')
const {pathToFileURL} = require('node:url')

const argv = process.argv.slice(2)
if (argv.length === 1 && ['--version', '-v', 'version'].includes(argv[0])) {
  const pkg = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8'))
  process.stdout.write(`herogate/${pkg.version} ${process.platform}-${process.arch} node-${process.version}\n`)
} else {
  // herogate pins its SDK; the SDK's notice about future Node majors is for herogate's developers, not its users.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'
  // The bundle and the words it answers (reads.json: the read commands' ids and aliases) are
  // written by npm run build's last step: any other command, and every command after tsc alone,
  // goes to oclif without loading the bundle.
  const dir = join(__dirname, '..', 'dist', 'platform', 'local')
  let bundle
  try {
    if (JSON.parse(readFileSync(join(dir, 'reads.json'), 'utf8')).includes(argv[0])) bundle = loadBundle(join(dir, 'reads.cjs'))
  } catch (error) {
    if (error.code !== 'ENOENT') throw error
  }

  const done = bundle ? bundle.exports.runFast(argv, pathToFileURL(join(__dirname, '..', 'oclif.manifest.json'))) : Promise.resolve(false)
  done.then(async (ran) => {
    // npm run build's last step (bin/build-reads.js) has a read run here write the code cache,
    // so that it holds the functions a read compiles, made by the very loader that uses it.
    if (bundle && process.env.HEROGATE_WRITE_CODE_CACHE === bundle.file) writeFileSync(`${bundle.file}.cache`, bundle.script.createCachedData())
    if (ran) return
    const {execute} = await import('@oclif/core/execute')
    await execute({dir: pathToFileURL(__filename).href})
  })
}

/**
 * require(file), with the V8 code cache npm run build wrote beside it (bin/build-reads.js): node
 * then runs what a read needs without compiling it first, about a third of what a read costs
 * over node's own start-up. Without the cache, or when this node rejects it (another version),
 * the bundle is compiled as require compiles it.
 */
function loadBundle(file) {
  const Module = require('node:module')
  const {Script} = require('node:vm')
  const source = readFileSync(file, 'utf8')
  let cachedData
  try {
    cachedData = readFileSync(`${file}.cache`)
  } catch {}

  const script = new Script(Module.wrap(source), {filename: file, cachedData})
  const bundle = new Module(file, module)
  bundle.filename = file
  bundle.paths = Module._nodeModulePaths(dirname(file))
  require.cache[file] = bundle
  script.runInThisContext().call(bundle.exports, bundle.exports, Module.createRequire(file), bundle, file, dirname(file))
  bundle.loaded = true
  return {file, script, exports: bundle.exports}
}
