import {expect} from 'chai'

import AppsInfo from '../../src/commands/apps/info.js'
import MaintenanceStatus from '../../src/commands/maintenance/index.js'
import MaintenanceOff from '../../src/commands/maintenance/off.js'
import MaintenanceOn from '../../src/commands/maintenance/on.js'
import Ps from '../../src/commands/ps/index.js'
import PsAutoscaleDisable from '../../src/commands/ps/autoscale/disable.js'
import PsAutoscale from '../../src/commands/ps/autoscale/index.js'
import PsScale from '../../src/commands/ps/scale.js'
import {FakePlatform} from '../helpers/fake-platform.js'
import {runCommand} from '../helpers/run-command.js'

describe('maintenance and ps:autoscale commands against a fake platform', () => {
  let platform: FakePlatform
  beforeEach(() => {
    platform = new FakePlatform()
  })

  it('maintenance prints off, then on after maintenance:on', async () => {
    expect(await runCommand(MaintenanceStatus, ['-a', 'demo'], platform)).to.deep.equal({stdout: 'off\n', stderr: '', exitCode: 0})
    const on = await runCommand(MaintenanceOn, ['-a', 'demo'], platform)
    expect(on).to.deep.equal({stdout: '', stderr: 'Enabling maintenance mode for demo...\nEnabling maintenance mode for demo... done\n', exitCode: 0})
    expect(await runCommand(MaintenanceStatus, ['-a', 'demo'], platform)).to.deep.equal({stdout: 'on\n', stderr: '', exitCode: 0})
    expect(platform.calls.map((c) => c.method)).to.deep.equal(['maintenance', 'setMaintenance', 'maintenance'])
  })

  it('maintenance --json prints the state object', async () => {
    platform.apps.get('demo')!.maintenance = true
    const {stdout, stderr} = await runCommand(MaintenanceStatus, ['-a', 'demo', '--json'], platform)
    expect(JSON.parse(stdout)).to.deep.equal({app: 'demo', enabled: true, page: 'default'})
    expect(stderr).to.equal('')
  })

  it('maintenance:on --page passes the file as an absolute path', async () => {
    await runCommand(MaintenanceOn, ['-a', 'demo', '--page', 'page.html'], platform)
    expect(platform.calls[0]).to.deep.equal({method: 'setMaintenance', args: ['demo', true, `${process.cwd()}/page.html`]})
  })

  it('maintenance:on twice and maintenance:off when off say so, and succeed', async () => {
    await runCommand(MaintenanceOn, ['-a', 'demo'], platform)
    const again = await runCommand(MaintenanceOn, ['-a', 'demo'], platform)
    expect(again.exitCode).to.equal(0)
    expect(again.stderr).to.equal('Enabling maintenance mode for demo...\nEnabling maintenance mode for demo... done\ndemo was in maintenance mode already.\n')
    await runCommand(MaintenanceOff, ['-a', 'demo'], platform)
    const off = await runCommand(MaintenanceOff, ['-a', 'demo'], platform)
    expect(off.stderr).to.equal('Disabling maintenance mode for demo...\nDisabling maintenance mode for demo... done\ndemo was not in maintenance mode.\n')
  })

  it('info shows maintenance mode only while it is on', async () => {
    const before = await runCommand(AppsInfo, ['-a', 'demo'], platform)
    expect(before.stdout).not.to.include('Maintenance')
    platform.apps.get('demo')!.maintenance = true
    const during = await runCommand(AppsInfo, ['-a', 'demo'], platform)
    expect(during.stdout).to.include('\nMaintenance: on\n')
  })

  it('ps:autoscale sets the bounds and prints them with the count', async () => {
    const {stdout, stderr, exitCode} = await runCommand(PsAutoscale, ['web', '--min', '2', '--max', '6', '-a', 'demo'], platform)
    expect(exitCode).to.equal(0)
    expect(stdout).to.equal('web: 2..6 processes, target 60% CPU; now 2\n')
    expect(stderr).to.equal('Autoscaling web on demo...\nAutoscaling web on demo... done\n')
    expect(platform.calls).to.deep.equal([{method: 'autoscale', args: ['demo', {type: 'web', min: 2, max: 6, metric: 'cpu', target: 60}]}])
  })

  it('ps:autoscale --requests-per-process on web, --json', async () => {
    const {stdout} = await runCommand(PsAutoscale, ['web', '--min', '1', '--max', '4', '--requests-per-process', '1200', '-a', 'demo', '--json'], platform)
    expect(JSON.parse(stdout)).to.deep.equal({autoscaling: {type: 'web', min: 1, max: 4, metric: 'requests-per-process', target: 1200}, quantity: 1, notes: []})
  })

  it('ps, scale and info show an autoscaled type', async () => {
    await runCommand(PsAutoscale, ['web', '--min', '1', '--max', '4', '--cpu', '70', '-a', 'demo'], platform)
    platform.processes = [{name: 'web.1', type: 'web', id: 'abc', status: 'up', health: 'healthy', release: 3, size: 'standard-1x'}]
    const ps = await runCommand(Ps, ['-a', 'demo'], platform, {now: new Date('2026-11-21T10:00:00Z')})
    expect(ps.stdout.split('\n').slice(-2)).to.deep.equal(['web autoscales: 1..4 processes, target 70% CPU', ''])
    const scale = await runCommand(PsScale, ['-a', 'demo'], platform)
    expect(scale.stdout).to.equal('web=1:standard-1x (autoscaled 1..4) worker=0:standard-1x\n')
    const info = await runCommand(AppsInfo, ['-a', 'demo'], platform)
    expect(info.stdout).to.include('\nFormation: web=1:standard-1x (autoscaled 1..4) worker=0:standard-1x\n')
  })

  it('ps:autoscale:disable goes back to scaling by hand', async () => {
    await runCommand(PsAutoscale, ['web', '--min', '1', '--max', '4', '-a', 'demo'], platform)
    const {stdout, exitCode} = await runCommand(PsAutoscaleDisable, ['web', '-a', 'demo'], platform)
    expect(exitCode).to.equal(0)
    expect(stdout).to.equal('web: 1 (scaled by hand)\n')
    expect(platform.calls.at(-1)).to.deep.equal({method: 'disableAutoscale', args: ['demo', 'web']})
  })

  const refused: Array<[string, string[], string]> = [
    ['min above max', ['web', '--min', '5', '--max', '2'], '--min 5 is above --max 2.'],
    ['max above the per-type limit', ['web', '--min', '1', '--max', '101'], '--max 101: at most 100 processes of one type.'],
    ['a minimum of zero', ['web', '--min', '0', '--max', '2'], '--min 0: the minimum is 1'],
    ['no bounds', ['web'], 'Both --min and --max are needed.'],
    ['requests per process on a worker', ['worker', '--min', '1', '--max', '2', '--requests-per-process', '100'], '--requests-per-process is for web only'],
    ['both metrics', ['web', '--min', '1', '--max', '2', '--cpu', '50', '--requests-per-process', '100'], 'Give --cpu or --requests-per-process, not both.'],
    ['a CPU target above 100', ['web', '--min', '1', '--max', '2', '--cpu', '150'], '--cpu 150: give the average CPU percent to keep, 1 to 100.'],
    ['zero requests per process', ['web', '--min', '1', '--max', '2', '--requests-per-process', '0'], '--requests-per-process 0: give requests per process per minute'],
    ['a process type name that is not one', ['web.1', '--min', '1', '--max', '2'], '"web.1" is not a process type name.'],
  ]
  for (const [what, argv, message] of refused) {
    it(`ps:autoscale refuses ${what} before any platform call`, async () => {
      const {stderr, exitCode} = await runCommand(PsAutoscale, [...argv, '-a', 'demo'], platform)
      expect(exitCode).to.equal(1)
      expect(stderr).to.include(message)
      expect(stderr).to.include('Try:')
      expect(platform.calls).to.deep.equal([])
    })
  }
})
