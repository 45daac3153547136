import {expect} from 'chai'

import AppsCreate from '../../src/commands/apps/create.js'
import AppsSettings from '../../src/commands/apps/settings/index.js'
import AppsSettingsSet from '../../src/commands/apps/settings/set.js'
import AppsSettingsUnset from '../../src/commands/apps/settings/unset.js'
import {FakePlatform} from '../helpers/fake-platform.js'
import {runCommand} from '../helpers/run-command.js'

describe('apps:settings commands against a fake platform', () => {
  let platform: FakePlatform
  beforeEach(() => {
    platform = new FakePlatform()
  })

  it('apps:settings shows each setting, its value and whether it is the default', async () => {
    platform.storedSettings.set('demo', {'boot-timeout': 90})
    const {stdout, stderr, exitCode} = await runCommand(AppsSettings, ['-a', 'demo'], platform)
    expect(exitCode).to.equal(0)
    expect(stdout).to.equal('=== demo Settings\nboot-timeout:      90 (default 60)\nhealth-check-path: / (default)\n')
    expect(stderr).to.equal('')
    expect(platform.calls).to.deep.equal([{method: 'settings', args: ['demo']}])
  })

  it('apps:settings --json prints the settings and nothing else', async () => {
    platform.storedSettings.set('demo', {'health-check-path': '/health'})
    const {stdout, stderr} = await runCommand(AppsSettings, ['-a', 'demo', '--json'], platform)
    expect(JSON.parse(stdout)).to.deep.equal([
      {name: 'boot-timeout', value: 60, default: 60, isDefault: true},
      {name: 'health-check-path', value: '/health', default: '/', isDefault: false},
    ])
    expect(stderr).to.equal('')
  })

  it('apps:settings:set changes them, says when they take effect and prints the settings', async () => {
    const {stdout, stderr, exitCode} = await runCommand(AppsSettingsSet, ['boot-timeout=120', 'health-check-path=/health', '-a', 'demo'], platform)
    expect(exitCode).to.equal(0)
    expect(platform.calls).to.deep.equal([{method: 'setSettings', args: ['demo', {'boot-timeout': 120, 'health-check-path': '/health'}]}])
    expect(stdout).to.equal('=== demo Settings\nboot-timeout:      120 (default 60)\nhealth-check-path: /health (default /)\n')
    expect(stderr).to.equal([
      'Setting boot-timeout and health-check-path on demo...',
      'Setting boot-timeout and health-check-path on demo... done',
      'Applied now: boot-timeout, health-check-path.',
      '',
    ].join('\n'))
  })

  it('apps:settings:set --json prints the change object', async () => {
    const {stdout, stderr} = await runCommand(AppsSettingsSet, ['boot-timeout=120', '-a', 'demo', '--json'], platform)
    expect(stderr).to.equal('')
    expect(JSON.parse(stdout)).to.deep.equal({
      settings: [
        {name: 'boot-timeout', value: 120, default: 60, isDefault: false},
        {name: 'health-check-path', value: '/', default: '/', isDefault: true},
      ],
      changed: ['boot-timeout'],
      takesEffect: 'now',
      notes: ['Applied now: boot-timeout.'],
    })
  })

  it('apps:settings:set to the value it has already exits 0 and says nothing changed', async () => {
    platform.storedSettings.set('demo', {'boot-timeout': 120})
    const {stdout, stderr, exitCode} = await runCommand(AppsSettingsSet, ['boot-timeout=120', '-a', 'demo'], platform)
    expect(exitCode).to.equal(0)
    expect(stderr).to.include('boot-timeout is already 120: nothing changed.\n')
    expect(stdout).to.equal('=== demo Settings\nboot-timeout:      120 (default 60)\nhealth-check-path: / (default)\n')
  })

  it('apps:settings:unset restores the defaults', async () => {
    platform.storedSettings.set('demo', {'boot-timeout': 120, 'health-check-path': '/health'})
    const {stdout, stderr, exitCode} = await runCommand(AppsSettingsUnset, ['boot-timeout', '-a', 'demo'], platform)
    expect(exitCode).to.equal(0)
    expect(platform.calls).to.deep.equal([{method: 'unsetSettings', args: ['demo', ['boot-timeout']]}])
    expect(stdout).to.equal('=== demo Settings\nboot-timeout:      60 (default)\nhealth-check-path: /health (default /)\n')
    expect(stderr).to.equal('Restoring the default boot-timeout of demo...\nRestoring the default boot-timeout of demo... done\nApplied now: boot-timeout.\n')
    const json = await runCommand(AppsSettingsUnset, ['health-check-path', '-a', 'demo', '--json'], platform)
    expect(JSON.parse(json.stdout)).to.deep.include({changed: ['health-check-path'], takesEffect: 'now'})
  })

  it('create passes --boot-timeout and --health-check-path to the platform', async () => {
    const {exitCode} = await runCommand(AppsCreate, ['newapp', '--boot-timeout', '180', '--health-check-path', '/up'], platform)
    expect(exitCode).to.equal(0)
    expect(platform.calls[0]).to.deep.equal({method: 'createApp', args: ['newapp', {'boot-timeout': 180, 'health-check-path': '/up'}]})
    expect((await runCommand(AppsSettings, ['-a', 'newapp', '--json'], platform)).stdout).to.include('"value": 180')
  })

  describe('bad input: one line naming the setting, its form and an example; non-zero exit; no platform call', () => {
    const cases: Array<[string, Parameters<typeof runCommand>[0], string[], string]> = [
      ['set with nothing', AppsSettingsSet, ['-a', 'demo'], 'No settings given.'],
      ['set without =', AppsSettingsSet, ['boot-timeout', '-a', 'demo'], '"boot-timeout" is not NAME=VALUE.'],
      ['set an unknown setting', AppsSettingsSet, ['size=2', '-a', 'demo'], 'Unknown setting "size": the settings are boot-timeout and health-check-path.'],
      ['set a boot-timeout out of range', AppsSettingsSet, ['boot-timeout=0', '-a', 'demo'], 'boot-timeout must be whole seconds from 1 to 600, e.g. boot-timeout=120 (got "0").'],
      ['set a boot-timeout with a unit', AppsSettingsSet, ['boot-timeout=2m', '-a', 'demo'], 'boot-timeout must be whole seconds from 1 to 600, e.g. boot-timeout=120 (got "2m").'],
      ['set a path without /', AppsSettingsSet, ['health-check-path=health', '-a', 'demo'], 'health-check-path must be a URL path that starts with / (at most 1024 characters, no spaces), e.g. health-check-path=/health (got "health").'],
      ['unset with nothing', AppsSettingsUnset, ['-a', 'demo'], 'No setting names given.'],
      ['unset an unknown setting', AppsSettingsUnset, ['timeout', '-a', 'demo'], 'Unknown setting "timeout": the settings are boot-timeout and health-check-path.'],
      ['create with a boot-timeout out of range', AppsCreate, ['newapp', '--boot-timeout', '601'], 'boot-timeout must be whole seconds from 1 to 600, e.g. boot-timeout=120 (got "601").'],
      ['create with a path without /', AppsCreate, ['newapp', '--health-check-path', 'up'], 'health-check-path must be a URL path that starts with / (at most 1024 characters, no spaces), e.g. health-check-path=/health (got "up").'],
    ]
    for (const [name, command, argv, message] of cases) {
      it(name, async () => {
        const {stdout, stderr, exitCode} = await runCommand(command, argv, platform)
        expect(exitCode, stderr).to.equal(1)
        expect(stdout).to.equal('')
        expect(stderr.split('\n')[0]).to.equal(` ▸    ${message}`)
        expect(stderr.split('\n')[1]).to.match(/^ {2}Try: herogate apps:settings/)
        expect(platform.calls).to.deep.equal([])
      })
    }

    it('an unknown app: the platform says where it looked', async () => {
      const {stderr, exitCode} = await runCommand(AppsSettings, ['-a', 'nope'], platform)
      expect(exitCode).to.equal(1)
      expect(stderr).to.equal(' ▸    App nope not found in us-east-1.\n  Try: herogate apps\n')
    })
  })
})
