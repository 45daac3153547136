import {expect} from 'chai'
import {mkdtempSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {InvalidInput} from '../../src/lib/errors.js'
import {processTypesOf} from '../../src/release/index.js'

/** The Procfile CodeBuild reads is the pushed commit's own: a link out of the checkout is refused, its target never read. */
describe('release code: the Procfile of the pushed source', () => {
  let source: string
  let outside: string
  beforeEach(() => {
    source = mkdtempSync(join(tmpdir(), 'hg-source-'))
    outside = mkdtempSync(join(tmpdir(), 'hg-outside-'))
  })
  afterEach(() => {
    rmSync(source, {recursive: true, force: true})
    rmSync(outside, {recursive: true, force: true})
  })

  it('reads a Procfile, a link to one inside the checkout, or none', async () => {
    expect(await processTypesOf(source)).to.deep.equal({web: ''})
    writeFileSync(join(source, 'Procfile.real'), 'web: node server.js\n')
    symlinkSync('Procfile.real', join(source, 'Procfile'))
    expect(await processTypesOf(source)).to.deep.equal({web: 'node server.js'})
  })

  it('refuses a Procfile that links outside the checkout, saying nothing of its target', async () => {
    writeFileSync(join(outside, 'secret'), 'web: cat /etc/shadow-TOP-SECRET\n')
    symlinkSync(join(outside, 'secret'), join(source, 'Procfile'))
    const error = await processTypesOf(source).catch((e: Error) => e)
    expect(error).to.be.instanceOf(InvalidInput)
    expect((error as Error).message).to.equal('Procfile in the pushed commit is a symbolic link that leads outside the repository: builds read only regular files inside the repository.')
    expect((error as Error).message).to.not.include('TOP-SECRET')
  })
})
