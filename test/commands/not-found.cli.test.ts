import {expect} from 'chai'
import {spawnSync} from 'node:child_process'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

const cli = join(fileURLToPath(new URL('../../', import.meta.url)), 'bin', 'run.js')

function herogate(...args: string[]): {stdout: string; stderr: string; status: number | null} {
  const {stdout, stderr, status} = spawnSync(process.execPath, [cli, ...args], {encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: {...process.env, NO_COLOR: '1'}})
  return {stdout, stderr, status}
}

/** An unknown command, through the built CLI (the hook runs where oclif finds no command). */
describe('unknown commands (built CLI)', function () {
  this.timeout(60_000)

  it('a typo: did you mean, exit 127; the arguments are never repeated (they may hold config values)', () => {
    expect(herogate('restat', '-a', 'demo')).to.deep.equal({
      stdout: '',
      stderr: ' ▸    restat is not a herogate command. Did you mean restart?\n  Try: herogate help restart\n  Try: herogate help (every command)\n',
      status: 127,
    })
    expect(herogate('confg:set', 'SECRET=hunter2').stderr).to.equal(
      ' ▸    confg:set is not a herogate command. Did you mean config:set?\n  Try: herogate help config:set\n  Try: herogate help (every command)\n',
    )
  })

  it('a Heroku command herogate does not have: what to do instead', () => {
    expect(herogate('kafka:topics:create', 'jobs')).to.deep.equal({
      stdout: '',
      stderr: ' ▸    kafka:topics:create is a Heroku command that herogate does not have: no Kafka add-on: the add-ons are postgres and redis (herogate addons:plans); run Kafka where the app can reach it and set its URL with herogate config:set KAFKA_URL=URL.\n  Try: herogate help (every command)\n',
      status: 127,
    })
  })

  it('nothing close: says so and points at the list', () => {
    expect(herogate('frobnicate')).to.deep.equal({stdout: '', stderr: ' ▸    frobnicate is not a herogate command.\n  Try: herogate help (every command)\n', status: 127})
  })

  it('the Heroku names run: restart, ps:kill, info APP are commands, not typos', () => {
    for (const args of [['restart', '--help'], ['ps:kill', '--help'], ['run:detached', '--help'], ['git:remote', '--help'], ['config:edit', '--help']]) {
      const {status, stdout} = herogate(...args)
      expect(status, args.join(' ')).to.equal(0)
      expect(stdout).to.include('USAGE')
    }
    // ps:kill without a process: the argument named, and a usage that runs (the command's own name).
    expect(herogate('ps:kill')).to.deep.equal({
      stdout: '',
      stderr: ' ▸    Missing argument: PROCESS (process name (web.1) or id).\n  Usage: herogate ps:stop PROCESS [-a APP]\n  Try: herogate help ps:stop\n',
      status: 2,
    })
  })
})
