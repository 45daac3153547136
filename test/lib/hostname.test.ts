import {expect} from 'chai'

import {InvalidInput} from '../../src/lib/errors.js'
import {hostnameProblem, validateHostname} from '../../src/lib/hostname.js'

describe('lib/hostname', () => {
  for (const ok of ['www.example.com', 'example.com', 'a.b.c.example.co.uk', 'www.demo.localhost', 'x-1.example.io', `${'a'.repeat(63)}.com`, 'xn--bcher-kva.example']) {
    it(`takes ${ok}`, () => expect(hostnameProblem(ok)).to.equal(undefined))
  }

  const bad: Array<[string, string]> = [
    ['', 'Invalid domain "": it is empty.'],
    ['https://www.example.com/shop', 'Invalid domain "https://www.example.com/shop": give a host name, not a URL.'],
    ['192.168.1.10', 'Invalid domain "192.168.1.10": an IP address is not a host name; point a host name at the app instead.'],
    ['::1', 'Invalid domain "::1": an IP address is not a host name; point a host name at the app instead.'],
    ['www.example.com:8080', 'Invalid domain "www.example.com:8080": give the host name without a port.'],
    ['www.example.com/shop', 'Invalid domain "www.example.com/shop": give the host name without a path.'],
    ['*.example.com', 'Invalid domain "*.example.com": wildcard domains are not supported; add each host name on its own.'],
    ['WWW.Example.com', 'Invalid domain "WWW.Example.com": host names are lowercase.'],
    ['www.example.com.', 'Invalid domain "www.example.com.": give it without the trailing dot.'],
    ['localhost', 'Invalid domain "localhost": a domain has at least two labels (e.g. www.localhost.com).'],
    ['www..example.com', 'Invalid domain "www..example.com": it has an empty label (two dots in a row, or a leading dot).'],
    ['-www.example.com', 'Invalid domain "-www.example.com": its label "-www" may only hold letters, digits and dashes, not starting or ending with a dash.'],
    ['www_1.example.com', 'Invalid domain "www_1.example.com": its label "www_1" may only hold letters, digits and dashes, not starting or ending with a dash.'],
    [`${'a'.repeat(64)}.com`, `Invalid domain "${'a'.repeat(64)}.com": its label "aaaaaaaaaaaaaaaaaaaa..." is 64 characters long; a label has at most 63.`],
    ['www.example.123', 'Invalid domain "www.example.123": its last label is all digits, which no top-level domain is.'],
  ]
  for (const [input, message] of bad.filter(([input]) => input.length <= 253)) {
    it(`refuses ${JSON.stringify(input.length > 40 ? input.slice(0, 40) + '...' : input)} saying why`, () => {
      expect(() => validateHostname(input)).to.throw(InvalidInput, message)
    })
  }

  it('refuses a name longer than 253 characters', () => {
    const long = `${'abcdefghi.'.repeat(26)}com`
    expect(() => validateHostname(long)).to.throw(InvalidInput, `it is ${long.length} characters long; a host name has at most 253.`)
  })

  it('suggests the corrected name where there is one', () => {
    const error = (() => {
      try {
        validateHostname('https://WWW.Example.com/shop')
      } catch (error) {
        return error as InvalidInput
      }
    })()
    expect(error?.suggestions).to.deep.equal(['herogate domains:add www.example.com'])
    try {
      validateHostname('*.example.com', 'domains:remove')
    } catch (error) {
      expect((error as InvalidInput).suggestions).to.deep.equal(['herogate domains:remove www.example.com'])
    }
  })
})
