import {expect} from 'chai'

import {InvalidInput} from '../../src/lib/errors.js'
import {configDifference, parseConfigArgs, parseDotenv, toDotenv, validateConfigVar} from '../../src/lib/parse.js'

const SECRET = 's3cret-value'

function refusal(work: () => unknown): InvalidInput {
  try {
    work()
  } catch (error) {
    expect(error).to.be.instanceOf(InvalidInput)
    return error as InvalidInput
  }

  throw new Error('not refused')
}

/** Everything a refusal shows the user: never the value. */
const shown = (error: InvalidInput) => [error.message, ...error.suggestions].join('\n')

describe('config var input (lib/parse)', () => {
  describe('refuses what cannot be an environment variable, naming the key and never the value', () => {
    const cases: Array<[string, () => unknown, RegExp]> = [
      ['a NUL byte in a KEY=VALUE argument', () => parseConfigArgs(['OK=1', `TOKEN=${SECRET}\0tail`]), /^The value of TOKEN cannot be set: it holds a NUL byte/],
      ['a NUL byte in an env file', () => parseDotenv(`OK=1\nTOKEN=${SECRET}\0tail\n`), /^The value of TOKEN cannot be set: it holds a NUL byte/],
      ['a NUL byte in a double-quoted env file value', () => parseDotenv(`TOKEN="${SECRET}\0\ntail"\n`), /^The value of TOKEN cannot be set: it holds a NUL byte/],
      ['a NUL byte in a single-quoted env file value', () => parseDotenv(`TOKEN='${SECRET}\0'\n`), /^The value of TOKEN cannot be set: it holds a NUL byte/],
      ['a value no process can be started with', () => parseConfigArgs([`BIG=${SECRET}${'x'.repeat(131_072)}`]), /^The value of BIG cannot be set: it is 131084 bytes, and no process starts with an environment variable BIG over 131067 bytes/],
      ['the same through a platform', () => validateConfigVar('TOKEN', `${SECRET}\0`), /^The value of TOKEN cannot be set/],
      ['an argument with no name before its =', () => parseConfigArgs([`=${SECRET}`]), /^Argument 1 is not KEY=VALUE \(no name before the =\)\.$/],
      ['an argument that is a value, not KEY=VALUE', () => parseConfigArgs(['A=1', `${SECRET} with spaces`]), /^Argument 2 is not KEY=VALUE \(no =\)\.$/],
    ]
    for (const [title, work, message] of cases) {
      it(title, () => {
        const error = refusal(work)
        expect(error.message).to.match(message)
        expect(error.message).to.not.include('\n')
        expect(shown(error)).to.not.include(SECRET)
      })
    }
  })

  describe('refuses names that cannot be environment variables', () => {
    const cases: Array<[string, string, RegExp]> = [
      ['a NUL byte', 'A\0B', /^Invalid config var name "A\\u0000B": config var names use letters/],
      ['a terminal escape, shown escaped', 'A\u001B[2JB', /^Invalid config var name "A\\u001b\[2JB"/],
      ['a dash', 'A-B', /^Invalid config var name "A-B"/],
      ['a leading digit', '1A', /^Invalid config var name "1A"/],
      ['a name longer than 256 characters', 'A'.repeat(257), /config var names are at most 256 characters/],
      ['a reserved name', 'PORT', /PORT is set by herogate itself/],
      ['__proto__ (a JavaScript object would take it as its prototype, and the var would vanish)', '__proto__', /^Invalid config var name "__proto__": __proto__ is not allowed as a config var name\.$/],
    ]
    for (const [title, key, message] of cases) {
      it(title, () => {
        const error = refusal(() => validateConfigVar(key, 'x'))
        expect(error.message).to.match(message)
        expect(error.message).to.not.match(/[\0\u001B]/)
      })
    }
  })

  it('config:set __proto__=1 says the key is not allowed (it used to vanish and leave "No config vars given")', () => {
    expect(refusal(() => parseConfigArgs(['__proto__=1'])).message).to.equal('Invalid config var name "__proto__": __proto__ is not allowed as a config var name.')
    expect(refusal(() => parseDotenv('__proto__=1\n')).message).to.equal('Invalid config var name "__proto__": __proto__ is not allowed as a config var name.')
  })

  it('toDotenv writes what parseDotenv reads back to the same values (config:edit\'s file)', () => {
    const vars = {PLAIN: 'abc', EMPTY: '', SPACES: 'two words', LINES: 'a\nb\r\nc', QUOTES: `say "hi" it's`, HASH: 'x #y', DOLLAR: '$HOME', SLASH: 'a\\b', TAB: 'a\tb', URL: 'postgres://u:p@h:5432/db?x=1'}
    const text = toDotenv(vars)
    expect(text.split('\n')[0]).to.equal('DOLLAR="\\$HOME"')
    expect(parseDotenv(text)).to.deep.equal(vars)
  })

  it('accepts what an environment variable can hold: =, spaces, newlines, unicode, empty, up to the limit', () => {
    // K5=VALUE and its closing NUL fill exactly the 131072 bytes Linux allows one environment string.
    const values = ['a=b', 'two words', 'line\nbreak', 'ünïcödé ✓', '', 'x'.repeat(131_068)]
    expect(parseConfigArgs(values.map((value, i) => `K${i}=${value}`))).to.deep.equal(Object.fromEntries(values.map((value, i) => [`K${i}`, value])))
    expect(refusal(() => parseConfigArgs([`K5=${'x'.repeat(131_069)}`])).message).to.match(/over 131068 bytes/)
    expect(parseConfigArgs(['NAME'.padEnd(256, '_') + '=1'])).to.have.all.keys('NAME'.padEnd(256, '_'))
    expect(parseDotenv('A="x\\ny"\nB=\'$lit\'\n')).to.deep.equal({A: 'x\ny', B: '$lit'})
  })

  it('still names a bare word that reads as a key', () => {
    expect(refusal(() => parseConfigArgs(['FOO'])).message).to.equal('"FOO" is not KEY=VALUE.')
  })
})

describe('config:edit\'s difference (lib/parse configDifference)', () => {
  const cases: Array<[string, Record<string, string>, Record<string, string>, {set: Record<string, string>; unset: string[]}]> = [
    ['nothing changed', {A: '1', B: ''}, {B: '', A: '1'}, {set: {}, unset: []}],
    ['a value changed, one added', {A: '1'}, {A: '2', B: 'new'}, {set: {A: '2', B: 'new'}, unset: []}],
    ['a var deleted', {A: '1', B: '2'}, {A: '1'}, {set: {}, unset: ['B']}],
    ['emptied is set, not removed', {A: '1'}, {A: ''}, {set: {A: ''}, unset: []}],
    ['all of it at once', {A: '1', B: '2', C: '3'}, {A: '1', B: 'two', D: '4'}, {set: {B: 'two', D: '4'}, unset: ['C']}],
  ]
  for (const [title, before, after, expected] of cases) {
    it(title, () => expect(configDifference(before, after)).to.deep.equal(expected))
  }
})
