import {spawnSync} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {pathToFileURL} from 'node:url'

/**
 * Records every module a child node process loads: ESM through a resolve hook (with the
 * importing module, to name the culprit), CommonJS from the require cache at exit. Used by the
 * start-up guards, which check what a command loads without timing anything.
 */
const HOOKS = `
import {appendFileSync} from 'node:fs'
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context)
  appendFileSync(process.env.LOAD_LOG, result.url + ' ' + (context.parentURL ?? '') + '\\n')
  return result
}
`
/** Node's own modules a process loaded, without the resolve hook (whose worker thread loads some itself). */
const BUILTINS = `
process.on('exit', () => {
  const names = process.moduleLoadList.filter((m) => m.startsWith('NativeModule ')).map((m) => 'node:' + m.slice(13))
  require('node:fs').appendFileSync(process.env.LOAD_LOG, names.join('\\n') + '\\n')
})
`
const REGISTER = `
import {register, createRequire} from 'node:module'
import {appendFileSync} from 'node:fs'
import {pathToFileURL} from 'node:url'
register(new URL('./hooks.mjs', import.meta.url))
const require = createRequire(import.meta.url)
process.on('exit', () => {
  appendFileSync(process.env.LOAD_LOG, Object.keys(require.cache).map((f) => pathToFileURL(f).href + '\\n').join(''))
})
`

export interface Traced {
  status: number | null
  stdout: string
  stderr: string
  /** Every module URL loaded, in order of first load (node: builtins included). */
  loaded: string[]
  /** A module URL to the URL of the module that first imported it. */
  importers: Map<string, string>
}

export interface Tracer {
  /** Runs node with the recording hook; `name` names its log. */
  run(args: string[], name: string, options?: {cwd?: string; env?: NodeJS.ProcessEnv}): Traced
  /** Runs node and lists node's own modules it loaded (`node:net`, `node:internal/...`). */
  builtins(args: string[], name: string, options?: {cwd?: string; env?: NodeJS.ProcessEnv}): {status: number | null; stderr: string; loaded: string[]}
  dispose(): void
}

export function tracer(): Tracer {
  const work = mkdtempSync(join(tmpdir(), 'herogate-trace-'))
  writeFileSync(join(work, 'hooks.mjs'), HOOKS)
  writeFileSync(join(work, 'register.mjs'), REGISTER)
  writeFileSync(join(work, 'builtins.cjs'), BUILTINS)
  return {
    builtins(args, name, options = {}) {
      const log = join(work, `${name.replaceAll(/[^\w.-]/g, '_')}.builtins`)
      rmSync(log, {force: true})
      const env: NodeJS.ProcessEnv = {...(options.env ?? process.env), LOAD_LOG: log}
      delete env.NODE_OPTIONS
      const r = spawnSync(process.execPath, ['--require', join(work, 'builtins.cjs'), ...args], {cwd: options.cwd ?? work, env, encoding: 'utf8', timeout: 60_000})
      return {status: r.status, stderr: r.stderr, loaded: existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : []}
    },
    run(args, name, options = {}) {
      const log = join(work, `${name.replaceAll(/[^\w.-]/g, '_')}.log`)
      rmSync(log, {force: true})
      const env: NodeJS.ProcessEnv = {...(options.env ?? process.env), LOAD_LOG: log}
      // The test runner's own loader (tsx) must not show up in what the child loads.
      delete env.NODE_OPTIONS
      const r = spawnSync(process.execPath, ['--import', pathToFileURL(join(work, 'register.mjs')).href, ...args], {cwd: options.cwd ?? work, env, encoding: 'utf8', timeout: 60_000})
      const importers = new Map<string, string>()
      for (const line of existsSync(log) ? readFileSync(log, 'utf8').split('\n') : []) {
        const [url, parent] = line.split(' ')
        if (url && !importers.has(url)) importers.set(url, parent ?? '')
      }

      return {status: r.status, stdout: r.stdout, stderr: r.stderr, loaded: [...importers.keys()], importers}
    },
    dispose() {
      rmSync(work, {recursive: true, force: true})
    },
  }
}
