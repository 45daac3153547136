import {expect} from 'chai'

import {appNameProblem, APP_NAME_MAX} from '../../src/lib/naming.js'
import {RANDOM_NAME_WORDS, randomAppName} from '../../src/lib/random-name.js'

describe('randomAppName', () => {
  it('makes adjective-noun-NNNN names', () => {
    let i = 0
    const sequence = [0.5, 0, 0]
    expect(randomAppName(() => sequence[i++])).to.equal(`${RANDOM_NAME_WORDS.adjectives[0]}-${RANDOM_NAME_WORDS.nouns[0]}-5500`)
  })

  it('gives valid app names for the longest words and largest number', () => {
    const longest = (words: string[]) => words.reduce((a, b) => (b.length > a.length ? b : a))
    const name = `${longest(RANDOM_NAME_WORDS.adjectives)}-${longest(RANDOM_NAME_WORDS.nouns)}-9999`
    expect(name.length).to.be.at.most(APP_NAME_MAX)
    for (let n = 0; n < 200; n++) expect(appNameProblem(randomAppName())).to.equal(undefined)
  })
})
