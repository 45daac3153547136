#!/usr/bin/env node
// `npm run build`'s last step: bundles the fast path of the read commands (dist/lib/fast-path.js
// and what it runs) into one CommonJS file, dist/platform/local/reads.cjs, which bin/run.cjs
// loads instead of some thirty ES modules: node 20 takes about half a millisecond to load each
// ES module, which alone would be half of what a read may cost over node's own start-up
// (bench/startup.ts). The oclif path and everything else keep using dist/ as tsc wrote it.
import {build} from 'esbuild'
import {spawnSync} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))

await build({
  entryPoints: [`${root}dist/lib/fast-path.js`],
  outfile: `${root}dist/platform/local/reads.cjs`,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  // Less to parse at every start; names kept, as errors and classes say them.
  minify: true,
  // bin/run.cjs runs the bundle as a vm Script, where import() has no loader: every dynamic
  // import (the supervisor's HTTP client, child_process to start it) becomes a require.
  supported: {'dynamic-import': false},
  keepNames: true,
  logLevel: 'warning',
  // It sits beside the local driver's modules, so the paths they make from their own URL
  // (the supervisor's and the git hook's entry points) stay right in the bundle.
  banner: {js: "const __herogateModuleUrl = require('node:url').pathToFileURL(__filename).href;"},
  define: {'import.meta.url': '__herogateModuleUrl'},
  plugins: [
    {
      // The AWS driver and the SDK stay out: a read that needs them loads dist/ as it is.
      name: 'aws-outside',
      setup(bundle) {
        // From the bundle's folder, dist/platform/local.
        bundle.onResolve({filter: /^\.\/aws\/index\.js$/}, (args) => (args.resolveDir.endsWith('/dist/platform') ? {path: '../aws/index.js', external: true} : undefined))
        bundle.onResolve({filter: /^@aws-sdk\//}, (args) => ({path: args.path, external: true}))
      },
    },
  ],
})

// The words bin/run.cjs hands to the bundle: the read commands' ids and their aliases, from the manifest.
const {FAST_READS} = await import(`${root}dist/lib/fast-path.js`)
const {commands} = JSON.parse(readFileSync(`${root}oclif.manifest.json`, 'utf8'))
const words = Object.keys(FAST_READS).flatMap((id) => [id, ...(commands[id]?.aliases ?? [])])
writeFileSync(`${root}dist/platform/local/reads.json`, JSON.stringify(words) + '\n')

// V8's code cache for the bundle, written by bin/run.cjs itself once a read has run, so that it
// holds the functions reads run, not only the top level: `apps --local` against an empty home.
const bundle = `${root}dist/platform/local/reads.cjs`
rmSync(`${bundle}.cache`, {force: true})
const home = mkdtempSync(join(tmpdir(), 'herogate-code-cache-'))
try {
  const made = spawnSync(process.execPath, [`${root}bin/run.cjs`, 'apps', '--local'], {env: {...process.env, HEROGATE_HOME: home, HEROGATE_WRITE_CODE_CACHE: bundle}, stdio: ['ignore', 'ignore', 'inherit']})
  if (made.status !== 0 || !existsSync(`${bundle}.cache`)) throw new Error(`making the code cache of ${bundle} failed (exit ${made.status})`)
} finally {
  rmSync(home, {recursive: true, force: true})
}
