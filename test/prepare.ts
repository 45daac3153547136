/**
 * `npm test`'s pretest step: makes sure the AWS tests have moto and cfn-lint at their pinned
 * versions, from the machine's python3 or a cached virtualenv it sets up (once), and that the
 * build tests' registry stand-in has its pinned packages (test/helpers/npm-registry.ts), fetched
 * once from npm's registry. Where that cannot be done, the tests that need them skip and the
 * run ends with one line saying so; under CI=true this step fails instead.
 */
import {fetchPins, recordSetupProblem} from './helpers/npm-registry.js'
import {INSTALL_HINT, setUpTools} from './helpers/python-tools.js'

const say = (line: string) => process.stderr.write(`${line}\n`)
const found = setUpTools({}, say)
if (!found.ok && process.env.CI) {
  say(`CI needs moto and cfn-lint (${found.reason}): ${INSTALL_HINT}`)
  process.exitCode = 1
}

const packages = fetchPins({say})
recordSetupProblem(packages)
if (packages && process.env.CI) {
  say(`CI needs the build tests' packages: ${packages}`)
  process.exitCode = 1
} else if (packages) say(`The build tests that install packages will skip: ${packages}`)
