import {expect} from 'chai'
import {readFileSync} from 'node:fs'

import {InvalidInput} from '../../src/lib/errors.js'
import {
  BOOT_TIMEOUT_RANGE, changeSettings, DEFAULT_SETTINGS, gracePeriodSeconds, HEALTHY_AFTER_SECONDS, parseSettingArgs, parseSettingFlags, parseSettingNames,
  parseSettingValue, settingsText, settingsView,
} from '../../src/lib/settings.js'
import {ROLLOUT_SETTINGS} from '../../src/platform/aws/rollout.js'

describe('app settings', () => {
  describe('parseSettingArgs', () => {
    const good: Array<[string[], Record<string, number | string>]> = [
      [['boot-timeout=120'], {'boot-timeout': 120}],
      [['boot-timeout=1'], {'boot-timeout': 1}],
      [['boot-timeout=600'], {'boot-timeout': 600}],
      [['health-check-path=/health'], {'health-check-path': '/health'}],
      [['health-check-path=/'], {'health-check-path': '/'}],
      [['health-check-path=/status?full=1&x=%20'], {'health-check-path': '/status?full=1&x=%20'}],
      [['health-check-path=/health', 'boot-timeout=90'], {'health-check-path': '/health', 'boot-timeout': 90}],
    ]
    for (const [args, expected] of good) {
      it(`reads ${args.join(' ')}`, () => {
        expect(parseSettingArgs(args)).to.deep.equal(expected)
      })
    }

    const bad: Array<[string[], string]> = [
      [[], 'No settings given.'],
      [['boot-timeout'], '"boot-timeout" is not NAME=VALUE.'],
      [['=5'], '"=5" is not NAME=VALUE.'],
      [['timeout=5'], 'Unknown setting "timeout": the settings are boot-timeout and health-check-path.'],
      [['BOOT-TIMEOUT=5'], 'Unknown setting "BOOT-TIMEOUT": the settings are boot-timeout and health-check-path.'],
      [['boot-timeout=0'], 'boot-timeout must be whole seconds from 1 to 600, e.g. boot-timeout=120 (got "0").'],
      [['boot-timeout=601'], 'boot-timeout must be whole seconds from 1 to 600, e.g. boot-timeout=120 (got "601").'],
      [['boot-timeout=1.5'], 'boot-timeout must be whole seconds from 1 to 600, e.g. boot-timeout=120 (got "1.5").'],
      [['boot-timeout=60s'], 'boot-timeout must be whole seconds from 1 to 600, e.g. boot-timeout=120 (got "60s").'],
      [['boot-timeout='], 'boot-timeout must be whole seconds from 1 to 600, e.g. boot-timeout=120 (got "").'],
      [['health-check-path=health'], 'health-check-path must be a URL path that starts with / (at most 1024 characters, no spaces), e.g. health-check-path=/health (got "health").'],
      [['health-check-path=/a b'], 'health-check-path must be a URL path that starts with / (at most 1024 characters, no spaces), e.g. health-check-path=/health (got "/a b").'],
      [['health-check-path=/"x"'], 'health-check-path must be a URL path that starts with / (at most 1024 characters, no spaces), e.g. health-check-path=/health (got "/"x"").'],
      [[`health-check-path=/${'a'.repeat(1024)}`], `health-check-path must be a URL path that starts with / (at most 1024 characters, no spaces), e.g. health-check-path=/health (got "/${'a'.repeat(1024)}").`],
      [['boot-timeout=5', 'boot-timeout=6'], 'boot-timeout is given twice.'],
    ]
    for (const [args, message] of bad) {
      it(`refuses ${JSON.stringify(args).slice(0, 60)}`, () => {
        expect(() => parseSettingArgs(args)).to.throw(InvalidInput, message).with.property('message', message)
      })
    }

    it('takes a path of exactly 1024 characters, the load balancer\'s limit', () => {
      expect(parseSettingValue('health-check-path', `/${'a'.repeat(1023)}`)).to.have.length(1024)
    })
  })

  it('parseSettingNames takes known names once each and refuses others', () => {
    expect(parseSettingNames(['boot-timeout', 'health-check-path', 'boot-timeout'])).to.deep.equal(['boot-timeout', 'health-check-path'])
    expect(() => parseSettingNames([])).to.throw(InvalidInput, 'No setting names given.')
    expect(() => parseSettingNames(['boot-timeout=5'])).to.throw(InvalidInput, 'Unknown setting "boot-timeout=5"')
  })

  it('keeps only the settings that differ from the defaults, and says which values changed', () => {
    expect(changeSettings({}, {'boot-timeout': 90})).to.deep.equal({
      before: DEFAULT_SETTINGS, after: {'boot-timeout': 90, 'health-check-path': '/'}, stored: {'boot-timeout': 90}, changed: ['boot-timeout'],
    })
    // Setting the default value is the same as unsetting it.
    expect(changeSettings({'boot-timeout': 90}, {'boot-timeout': 60})).to.deep.include({stored: {}, changed: ['boot-timeout']})
    expect(changeSettings({'boot-timeout': 90}, {'boot-timeout': 90, 'health-check-path': '/'})).to.deep.include({stored: {'boot-timeout': 90}, changed: []})
  })

  it('shows each value and whether it is the default', () => {
    const view = settingsView({'boot-timeout': 90})
    expect(view).to.deep.equal([
      {name: 'boot-timeout', value: 90, default: 60, isDefault: false},
      {name: 'health-check-path', value: '/', default: '/', isDefault: true},
    ])
    expect(settingsText('demo', view)).to.equal('=== demo Settings\nboot-timeout:      90 (default 60)\nhealth-check-path: / (default)')
  })

  it("gives the web service the boot timeout plus the time the target group's checks take to pass", () => {
    const template = readFileSync(new URL('../../templates/app.yml', import.meta.url), 'utf8')
    const number = (key: string) => Number(new RegExp(`\\n\\s+${key}: (\\d+)`).exec(template)?.[1])
    expect(HEALTHY_AFTER_SECONDS).to.equal(number('HealthCheckIntervalSeconds') * number('HealthyThresholdCount'))
    expect(gracePeriodSeconds(60)).to.equal(70)
    // The template's own default and bounds are the defaults and range of the setting.
    const parameter = /\n {2}HealthCheckGracePeriodSeconds:\n((?: {4}.*\n)+)/.exec(template)?.[1] ?? ''
    expect(parameter).to.include(`Default: ${gracePeriodSeconds(DEFAULT_SETTINGS['boot-timeout'])}\n`)
    expect(parameter).to.include(`MinValue: ${gracePeriodSeconds(BOOT_TIMEOUT_RANGE.min)}\n`).and.include(`MaxValue: ${gracePeriodSeconds(BOOT_TIMEOUT_RANGE.max)}\n`)
  })

  it('keeps the AWS rollout timeout well above the longest grace period', () => {
    // A slow-booting but healthy web process must be rolled out, not timed out: it needs the
    // grace period plus its start (Fargate provisioning and image pull, a few minutes at most).
    const longest = gracePeriodSeconds(BOOT_TIMEOUT_RANGE.max) * 1000
    expect(ROLLOUT_SETTINGS.timeoutMs - longest).to.be.at.least(4 * 60_000)
  })

  it('reads create\'s setting flags as apps:settings:set reads the values, and only those given', () => {
    expect(parseSettingFlags({})).to.deep.equal({})
    expect(parseSettingFlags({'boot-timeout': ' 120 ', 'health-check-path': '/health'})).to.deep.equal({'boot-timeout': 120, 'health-check-path': '/health'})
    expect(() => parseSettingFlags({'boot-timeout': 'soon'})).to.throw(InvalidInput, /^boot-timeout must be/)
  })
})
