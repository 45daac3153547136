import {expect} from 'chai'

import {closestNames, editDistance} from '../../src/lib/closest.js'

describe('closest names (did you mean)', () => {
  it('counts edits, a swap of neighbours as one', () => {
    expect(editDistance('demo-app', 'demo-app')).to.equal(0)
    expect(editDistance('demo-ap', 'demo-app')).to.equal(1)
    expect(editDistance('deom-app', 'demo-app')).to.equal(1)
    expect(editDistance('', 'abc')).to.equal(3)
  })

  const apps = ['demo-app', 'demo-api', 'billing', 'billing-worker', 'other']
  const cases: Array<[string, string[]]> = [
    ['demo-ap', ['demo-api', 'demo-app']],
    ['deom-app', ['demo-app', 'demo-api']],
    ['biling', ['billing']],
    ['worker', ['billing-worker']],
    ['zzzzzz', []],
    ['demo-app', ['demo-api']],
  ]
  for (const [name, expected] of cases) {
    it(`${name} -> ${expected.join(', ') || 'nothing'}`, () => {
      expect(closestNames(name, apps)).to.deep.equal(expected)
    })
  }

  it('at most three, best first, then by name', () => {
    expect(closestNames('app', ['app4', 'apq', 'app3', 'app1', 'app2', 'ap'])).to.deep.equal(['ap', 'app1', 'app2'])
    expect(closestNames('billing', ['billing-worker-one', 'bill'])).to.deep.equal(['bill', 'billing-worker-one'])
  })
})
