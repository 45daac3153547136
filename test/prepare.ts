/**
 * `npm test`'s pretest step: makes sure the AWS tests have moto and cfn-lint at their pinned
 * versions, from the machine's python3 or a cached virtualenv it sets up (once). Where that
 * cannot be done, the tests that need them skip and the run ends with one line saying so;
 * under CI=true this step fails instead.
 */
import {INSTALL_HINT, setUpTools} from './helpers/python-tools.js'

const found = setUpTools({}, (line) => process.stderr.write(`${line}\n`))
if (!found.ok && process.env.CI) {
  process.stderr.write(`CI needs moto and cfn-lint (${found.reason}): ${INSTALL_HINT}\n`)
  process.exitCode = 1
}
