import {expect} from 'chai'
import {execFile} from 'node:child_process'
import {readFile} from 'node:fs/promises'
import {promisify} from 'node:util'

const exec = promisify(execFile)
const root = new URL('..', import.meta.url)

/** The README's command reference is generated from the commands; this keeps it true to them. */
describe('README', () => {
  it('has the command reference the commands generate (update: npx oclif readme --no-aliases --no-source-links)', async function () {
    this.timeout(60_000)
    const {stdout} = await exec('npx', ['oclif', 'readme', '--no-aliases', '--no-source-links', '--dry-run'], {cwd: root, env: {...process.env, OCLIF_SKIP_NEW_VERSION_CHECK: 'true'}})
    const section = (text: string) => text.slice(text.indexOf('<!-- commands -->\n'), text.indexOf('<!-- commandsstop -->'))
    const readme = await readFile(new URL('README.md', root), 'utf8')
    expect(section(readme)).to.have.length.greaterThan(1000)
    expect(section(readme)).to.equal(section(stdout))
  })

  it('shows the test command and the one-command demo', async () => {
    const readme = await readFile(new URL('README.md', root), 'utf8')
    const pkg = JSON.parse(await readFile(new URL('package.json', root), 'utf8'))
    expect(readme).to.include('npm test')
    expect(readme).to.include('npm run demo')
    expect(pkg.scripts.demo).to.be.a('string')
  })
})
