import {expect} from 'chai'
import {readFileSync} from 'node:fs'

import {InvalidInput} from '../../../src/lib/errors.js'
import {addonPlans, addonPlansTable, planFor} from '../../../src/platform/aws/addon-plans.js'

const README = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8')

describe('AWS add-on plans', () => {
  it('the README\'s plans table is the one addon-plans.ts renders', () => {
    expect(README).to.include(`${addonPlansTable()}\n`)
  })

  it('lists a service\'s plans default first, with monthly costs from the hourly prices', () => {
    expect(addonPlans('redis').map((p) => [p.name, p.monthlyUsd, p.default ?? false])).to.deep.equal([['mini', 9.34, true], ['premium-0', 37.38, false]])
    expect(addonPlans('postgres').map((p) => [p.name, p.monthlyUsd])).to.deep.equal([['essential-0', 13.98], ['essential-1', 25.66], ['standard-0', 51.32], ['serverless-0', 43.8]])
    expect(addonPlans().every((p) => !('parameters' in p))).to.equal(true)
  })

  it('resolves the default plan and refuses an unknown one with every plan listed', () => {
    expect(planFor('postgres').parameters).to.deep.equal({InstanceClass: 'db.t4g.micro', AllocatedStorage: '20', MultiAZ: 'false', Serverless: 'false'})
    expect(planFor('postgres', 'standard-0').parameters.MultiAZ).to.equal('true')
    expect(() => planFor('redis', 'essential-0')).to.throw(InvalidInput, 'Unknown redis plan "essential-0". Plans on AWS: mini, premium-0.')
  })
})
