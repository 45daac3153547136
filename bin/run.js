#!/usr/bin/env node
// `--version` is the most common probe of a CLI; answer it without loading oclif.
if (process.argv.length === 3 && ['--version', '-v', 'version'].includes(process.argv[2])) {
  const {readFileSync} = await import('node:fs')
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
  process.stdout.write(`herogate/${pkg.version} ${process.platform}-${process.arch} node-${process.version}\n`)
} else {
  // herogate pins its SDK; the SDK's notice about future Node majors is for herogate's developers, not its users.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'
  // Reads of local apps (ps, config, releases, info, apps, logs -n) run without oclif when their
  // command line is plain; everything else, and anything the fast path is unsure of, is oclif's.
  const {runFast} = await import('../dist/lib/fast-path.js')
  if (!(await runFast(process.argv.slice(2), new URL('../oclif.manifest.json', import.meta.url)))) {
    const {execute} = await import('@oclif/core/execute')
    await execute({dir: import.meta.url})
  }
}
