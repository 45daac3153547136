import {expect} from 'chai'

import {BoundedOutput, configMasker, failureDetails, LastLines} from '../../src/lib/process-output.js'

describe('process output as failures show it and releases keep it', () => {
  describe('configMasker: config values never shown, their var named instead', () => {
    const config = {
      DATABASE_URL: 'postgres://app:s3cret@db.internal:5432/app',
      DB_PASSWORD: 's3cret',
      FLAG: '1',
      STAGE: 'dev',
      CERT: '-----BEGIN KEY-----\nMIIBOgIBAAJBAKj34GkxFhD9\n-----END KEY-----\n',
      EMPTY: '',
      HOST: '127.0.0.1',
    }
    const mask = configMasker(config)
    const cases: Array<[string, string, string]> = [
      ['a whole value', 'Error: connect ECONNREFUSED postgres://app:s3cret@db.internal:5432/app', 'Error: connect ECONNREFUSED [DATABASE_URL]'],
      ['the longest value first, a value inside another after', 'password s3cret, url postgres://app:s3cret@db.internal:5432/app', 'password [DB_PASSWORD], url [DATABASE_URL]'],
      ['every occurrence', 's3cret s3cret', '[DB_PASSWORD] [DB_PASSWORD]'],
      ['a short value standing alone', 'FLAG is 1, stage dev', 'FLAG is [FLAG], stage [STAGE]'],
      ['a short value inside a word, a number or a version: left alone', 'v1.0.0 on port 5001, developer, my-dev_1', 'v1.0.0 on port 5001, developer, my-dev_1'],
      ['each line of a value of several lines', 'key: MIIBOgIBAAJBAKj34GkxFhD9 (-----BEGIN KEY-----)', 'key: [CERT] ([CERT])'],
      ['a value with regular expression characters', 'listening on 127.0.0.1:5000, not 127x0x0x1', 'listening on [HOST]:5000, not 127x0x0x1'],
      ['no value: unchanged', 'booting', 'booting'],
    ]
    for (const [title, line, shown] of cases) {
      it(title, () => {
        expect(mask(line)).to.equal(shown)
      })
    }

    it('a name put in is never masked again by a shorter value', () => {
      expect(configMasker({A_KEY: 'long secret value', B: 'KEY', C: 'A'})('x long secret value y')).to.equal('x [A_KEY] y')
    })

    it('no config: lines pass unchanged', () => {
      expect(configMasker({})('anything at all')).to.equal('anything at all')
    })
  })

  it('LastLines keeps the last 20 lines, each cut at 300 characters', () => {
    const last = new LastLines()
    for (let i = 1; i <= 25; i++) last.add(`line ${i}`)
    expect(last.lines()).to.deep.equal(Array.from({length: 20}, (_, i) => `line ${i + 6}`))
    last.add('x'.repeat(400))
    expect(last.lines().at(-1)).to.equal('x'.repeat(300) + '…')
  })

  it('BoundedOutput keeps the first and the last lines within its size, saying how many it left out', () => {
    const output = new BoundedOutput([], 100)
    for (let i = 1; i <= 30; i++) output.add(`line ${String(i).padStart(2, '0')}`)
    // Eight bytes a line: six in each half of the hundred bytes.
    expect(output.lines()).to.deep.equal([
      'line 01', 'line 02', 'line 03', 'line 04', 'line 05', 'line 06',
      '... (18 lines left out) ...',
      'line 25', 'line 26', 'line 27', 'line 28', 'line 29', 'line 30',
    ])
    expect(new BoundedOutput(['a', 'b']).lines()).to.deep.equal(['a', 'b'])
  })

  it('failureDetails: a heading naming the process, then its lines indented; nothing without lines', () => {
    expect(failureDetails({process: 'web.1', lines: ['booting', 'crashed'], more: 'herogate logs'})).to.deep.equal(['Last lines of web.1:', '  booting', '  crashed'])
    expect(failureDetails({process: 'web.1', lines: [], more: 'herogate logs'})).to.deep.equal([])
    expect(failureDetails(undefined)).to.deep.equal([])
  })
})
