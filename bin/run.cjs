#!/usr/bin/env node
// The herogate command (package.json "bin"). CommonJS, because node starts an ES module entry
// point several milliseconds later, and what is answered here is measured against node's own
// start-up (bench/startup.ts): --version, and the reads of local apps (ps, config, releases,
// info, apps, logs -n) when their command line is plain, from one bundled file
// (bin/build-reads.js, lib/fast-path.ts). Everything else, and anything the fast path is
// unsure of, is oclif's.
const {readFileSync} = require('node:fs')
const {join} = require('node:path')
const {pathToFileURL} = require('node:url')

const argv = process.argv.slice(2)
if (argv.length === 1 && ['--version', '-v', 'version'].includes(argv[0])) {
  const pkg = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8'))
  process.stdout.write(`herogate/${pkg.version} ${process.platform}-${process.arch} node-${process.version}\n`)
} else {
  // herogate pins its SDK; the SDK's notice about future Node majors is for herogate's developers, not its users.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'
  // The bundle is written by npm run build's last step: after tsc alone, every command is oclif's.
  let fast
  try {
    fast = require('../dist/platform/local/reads.cjs').runFast
  } catch (error) {
    if (error.code !== 'MODULE_NOT_FOUND') throw error
  }

  const done = fast ? fast(argv, pathToFileURL(join(__dirname, '..', 'oclif.manifest.json'))) : Promise.resolve(false)
  done.then(async (ran) => {
    if (ran) return
    const {execute} = await import('@oclif/core/execute')
    await execute({dir: pathToFileURL(__filename).href})
  })
}
