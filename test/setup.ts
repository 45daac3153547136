import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

/**
 * Loaded before every test file (and inherited by every CLI the tests spawn): whatever a test
 * forgets to set, no AWS call can leave 127.0.0.1 and no test touches the user's ~/.herogate.
 * Tests that talk to moto point AWS_ENDPOINT_URL at it (test/helpers/moto.ts) and restore this.
 */
process.env.AWS_ENDPOINT_URL = 'http://127.0.0.1:9'
process.env.AWS_EC2_METADATA_DISABLED = 'true'
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true'
process.env.OCLIF_SKIP_NEW_VERSION_CHECK = 'true'
process.env.HEROGATE_NO_BROWSER = '1'
process.env.HEROGATE_HOME ??= mkdtempSync(join(tmpdir(), 'herogate-test-home-'))
// Colour is decided by the terminal and these: exact output is compared without it.
for (const key of ['AWS_PROFILE', 'AWS_DEFAULT_PROFILE', 'HEROGATE_APP', 'FORCE_COLOR', 'NO_COLOR']) delete process.env[key]

/** Each test starts without a remembered AWS identity (src/platform/aws/author.ts), whatever an earlier one asked. */
export const mochaHooks = {
  beforeEach() {
    rmSync(join(process.env.HEROGATE_HOME!, 'aws-identities.json'), {force: true})
  },
}
