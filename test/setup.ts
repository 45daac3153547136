import {existsSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {NOWHERE, proxyEnv, registrySkippedSummary} from './helpers/npm-registry.js'
import {skippedSummary} from './helpers/python-tools.js'

/**
 * Loaded before every test file, and inherited by every CLI and git the tests spawn: the
 * environment the tests depend on is set here, whatever the machine's is (a CI system's or a
 * dev container's git identity, a developer's AWS profile, colour settings, an app name), so
 * the suite passes the same everywhere. No AWS call, npm or corepack fetch can leave 127.0.0.1 (builds
 * that install packages use test/helpers/npm-registry.ts's stand-in) and no test touches the
 * user's ~/.herogate, ~/.aws or git config. Tests that talk to moto point AWS_ENDPOINT_URL at
 * it (test/helpers/moto.ts) and restore this. test/hostile-env.test.ts runs part of the suite
 * under a hostile environment to keep this list complete.
 */
const CLEARED = [
  /^GIT_/, // identity, GIT_DIR / GIT_WORK_TREE, config overrides, ssh and askpass
  /^AWS_/, // region, profile, credentials, endpoints, config files
  /^HEROGATE_/,
  /^(NO_COLOR|FORCE_COLOR|CLICOLOR|CLICOLOR_FORCE|TERM_PROGRAM)$/,
  /^(EDITOR|VISUAL|PAGER|GIT_PAGER|BROWSER)$/,
  /^(LC_ALL|LC_MESSAGES|LC_CTYPE|LANGUAGE)$/,
  /^(DEBUG|NODE_DEBUG|PORT|DYNO)$/,
  /^npm_config_.*(registry|proxy|_auth|token)/i, // where npm fetches from, and as whom
  /^(COREPACK_|YARN_|PNPM_)/, // their registries, network switches, update checks
  /^(HTTPS?_PROXY|NO_PROXY|ALL_PROXY)$/i,
]
for (const key of Object.keys(process.env)) if (CLEARED.some((pattern) => pattern.test(key))) delete process.env[key]
// The `debug` package (mocha's and oclif's) read DEBUG as mocha loaded, before this file ran.
createRequire(import.meta.url)('debug').disable()

// A supervisor's socket goes in its app's folder when that path fits a Unix socket (108 bytes),
// which the tests of the local platform expect of the folders they make under TMPDIR: a long
// TMPDIR (macOS's /var/folders/..., a CI's workspace path) is swapped for /tmp.
if (Buffer.byteLength(tmpdir()) > 24 && existsSync('/tmp')) process.env.TMPDIR = '/tmp'
const home = mkdtempSync(join(tmpdir(), 'herogate-test-home-'))
const gitConfig = join(home, 'gitconfig')
// Whoever runs the tests, git commits as this identity on branch main unless a test says otherwise.
writeFileSync(gitConfig, '[user]\n\tname = herogate tests\n\temail = tests@herogate.invalid\n[init]\n\tdefaultBranch = main\n[advice]\n\tdetachedHead = false\n')

Object.assign(process.env, {
  HEROGATE_HOME: home,
  HEROGATE_NO_BROWSER: '1',
  GIT_CONFIG_GLOBAL: gitConfig,
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_TERMINAL_PROMPT: '0',
  AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
  AWS_CONFIG_FILE: join(home, 'aws-config'),
  AWS_SHARED_CREDENTIALS_FILE: join(home, 'aws-credentials'),
  AWS_EC2_METADATA_DISABLED: 'true',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  OCLIF_SKIP_NEW_VERSION_CHECK: 'true',
  LANG: 'C.UTF-8',
  TZ: 'UTC',
  // npm, corepack, yarn and pnpm reach no registry but the stand-in a test starts
  // (test/helpers/npm-registry.ts): by default their requests go where nothing listens, and
  // anything else they would fetch through a proxy fails the same way.
  npm_config_registry: `${NOWHERE}/`,
  COREPACK_NPM_REGISTRY: NOWHERE,
  ...proxyEnv(NOWHERE),
  npm_config_update_notifier: 'false',
  npm_config_audit: 'false',
  npm_config_fund: 'false',
  YARN_DISABLE_SELF_UPDATE_CHECK: 'true',
  YARN_ENABLE_TELEMETRY: '0',
})

/** Each test starts without a remembered AWS identity (src/platform/aws/author.ts), whatever an earlier one asked. */
export const mochaHooks = {
  beforeEach() {
    rmSync(join(process.env.HEROGATE_HOME!, 'aws-identities.json'), {force: true})
  },
  afterAll() {
    // One line for everything skipped for want of moto and cfn-lint, or of the test registry's packages.
    for (const summary of [skippedSummary(), registrySkippedSummary()]) if (summary) console.warn(`\n  ${summary}`)
  },
}
