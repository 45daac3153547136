import {expect} from 'chai'
import {spawnSync} from 'node:child_process'
import {mkdirSync, mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import LocalInstall from '../../../src/commands/local/install.js'
import {HerogateError} from '../../../src/lib/errors.js'
import {installService} from '../../../src/platform/local/install.js'
import {freePort} from '../../../src/platform/local/ports.js'
import {entryCommand} from '../../../src/platform/local/run.js'
import {appPaths, writeApp} from '../../../src/platform/local/state.js'
import {stopSupervisor} from '../../../src/platform/local/supervisor-client.js'
import {FakePlatform} from '../../helpers/fake-platform.js'
import {runCommand} from '../../helpers/run-command.js'
import {appOnDisk, get, tempHome} from './helpers.js'

describe('local:install (a user service that brings local apps back at start)', function () {
  this.timeout(60_000)
  let home: string

  beforeEach(() => {
    home = mkdtempSync(join(tmpdir(), 'herogate-install-'))
  })

  afterEach(() => rmSync(home, {recursive: true, force: true}))

  it('writes a systemd user unit that runs the boot script with the apps\' HEROGATE_HOME and PATH', () => {
    const env = {HEROGATE_HOME: '/srv/my "apps" 100%', PATH: '/usr/local/bin:/usr/bin', USER: 'dev', HEROGATE_BIND: '0.0.0.0', SECRET: 'not passed'}
    const service = installService({platform: 'linux', home, env})
    expect(service).to.deep.equal({
      manager: 'systemd',
      file: join(home, '.config', 'systemd', 'user', 'herogate-local.service'),
      enable: ['systemctl --user daemon-reload', 'systemctl --user enable --now herogate-local.service', 'loginctl enable-linger dev'],
      remove: ['systemctl --user disable --now herogate-local.service', `rm ${service.file}`],
    })
    const unit = readFileSync(service.file, 'utf8')
    const exec = entryCommand('boot-main').map((part) => `"${part}"`).join(' ')
    expect(unit.split('\n')).to.include.members([
      'Type=oneshot',
      'RemainAfterExit=yes',
      'Environment="HEROGATE_HOME=/srv/my \\"apps\\" 100%%"',
      'Environment="HEROGATE_BIND=0.0.0.0"',
      'Environment="PATH=/usr/local/bin:/usr/bin"',
      `ExecStart=${exec}`,
      'WantedBy=default.target',
    ])
    expect(unit).to.not.include('not passed')
    // systemd's own parser, where this machine has it.
    const verify = spawnSync('systemd-analyze', ['verify', service.file], {encoding: 'utf8'})
    if (!verify.error) expect(verify.stderr.split('\n').filter((line) => line.includes(service.file) && !/masked|not found/i.test(line))).to.deep.equal([])
  })

  it('writes a launchd agent on macOS', () => {
    const service = installService({platform: 'darwin', home, env: {PATH: '/usr/bin', HEROGATE_HOME: '/Users/dev/<apps>'}})
    expect(service.file).to.equal(join(home, 'Library', 'LaunchAgents', 'dev.herogate.local.plist'))
    expect(service.enable).to.deep.equal([`launchctl load -w ${service.file}`])
    const plist = readFileSync(service.file, 'utf8')
    expect(plist).to.include('<key>Label</key><string>dev.herogate.local</string>')
    expect(plist).to.include(`<key>ProgramArguments</key><array>${entryCommand('boot-main').map((part) => `<string>${part}</string>`).join('')}</array>`)
    expect(plist).to.include('<key>HEROGATE_HOME</key><string>/Users/dev/&lt;apps&gt;</string>')
    expect(plist).to.include('<key>RunAtLoad</key><true/>')
  })

  it('says what to do instead on a system it has no service for', () => {
    expect(() => installService({platform: 'win32', home, env: {}})).to.throw(HerogateError, 'local:install writes systemd (Linux) and launchd (macOS) services, and this is win32.')
  })

  it('the command writes the service and prints how to turn it on and off', async () => {
    const saved = {HOME: process.env.HOME, XDG_CONFIG_HOME: process.env.XDG_CONFIG_HOME}
    process.env.HOME = home
    process.env.XDG_CONFIG_HOME = join(home, 'config')
    try {
      const {stdout, exitCode} = await runCommand(LocalInstall, ['--json'], new FakePlatform())
      expect(exitCode).to.equal(0)
      const service = JSON.parse(stdout)
      expect(service.file).to.equal(process.platform === 'darwin' ? join(home, 'Library', 'LaunchAgents', 'dev.herogate.local.plist') : join(home, 'config', 'systemd', 'user', 'herogate-local.service'))
      const text = await runCommand(LocalInstall, [], new FakePlatform())
      expect(text.stdout.split('\n')[0]).to.equal(`Wrote ${service.file}: it brings back every local app with a release when your ${service.manager === 'systemd' ? 'systemd user manager' : 'launchd session'} starts.`)
      expect(text.stdout).to.include(`To turn it on:\n  ${service.enable[0]}\n`)
    } finally {
      for (const [key, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[key]
        else process.env[key] = value
      }
    }
  })

  it('its boot script brings back every app with a release, as after a reboot', async () => {
    // Its own HEROGATE_HOME: the script starts every app it finds there.
    const apps = tempHome()
    const port = await freePort()
    const live = appPaths('boot-live')
    appOnDisk('boot-live', port, {web: 1})
    const idle = appPaths('boot-idle')
    mkdirSync(idle.dir, {recursive: true})
    writeApp({name: 'boot-idle', port: await freePort(), createdAt: new Date().toISOString(), formation: {}, current: 0, configVersion: 0})
    try {
      const [node, ...args] = entryCommand('boot-main')
      const boot = spawnSync(node, args, {env: process.env, encoding: 'utf8', timeout: 60_000})
      expect(boot.status, boot.stderr).to.equal(0)
      expect(boot.stdout).to.equal(`boot-idle: nothing to run\nboot-live: 1 process up, http://127.0.0.1:${port}\n`)
      expect((await get(`http://127.0.0.1:${port}/`)).body).to.include('"release":"v1"')
    } finally {
      await stopSupervisor(live.dir)
      await stopSupervisor(idle.dir)
      apps.cleanup()
    }
  })
})
