import {expect} from 'chai'
import {existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {deployRef, installHook, parsePushedRefs, procReceiveSupported} from '../../../src/platform/local/git-hook.js'
import {shellLine} from '../../../src/platform/local/run.js'
import {sh, tempHome} from './helpers.js'

const A = 'a'.repeat(40)
const B = 'b'.repeat(40)
const ZERO = '0'.repeat(40)

describe('local push hook', () => {
  it('reads the pushed refs git hands pre-receive', () => {
    expect(parsePushedRefs(`${A} ${B} refs/heads/main\n${ZERO} ${A} refs/heads/feature\n\n`)).to.deep.equal([
      {oldSha: A, newSha: B, ref: 'refs/heads/main'},
      {oldSha: ZERO, newSha: A, ref: 'refs/heads/feature'},
    ])
  })

  const cases: Array<[string, string, string | undefined]> = [
    ['main', `${A} ${B} refs/heads/main`, B],
    ['master', `${A} ${B} refs/heads/master`, B],
    ['main wins over master', `${A} ${A} refs/heads/master\n${A} ${B} refs/heads/main`, B],
    ['another branch', `${A} ${B} refs/heads/feature`, undefined],
    ['a tag', `${ZERO} ${B} refs/tags/v1`, undefined],
    ['main deleted', `${A} ${ZERO} refs/heads/main`, undefined],
  ]
  for (const [name, input, expected] of cases) {
    it(`deploys the right commit: ${name}`, () => {
      expect(deployRef(parsePushedRefs(input))?.newSha).to.equal(expected)
    })
  }

  it('installs an executable proc-receive hook that runs herogate by absolute path with HEROGATE_HOME baked in, and routes pushes to it', async () => {
    const home = tempHome()
    const repo = mkdtempSync(join(tmpdir(), "herogate-hook-it's-"))
    try {
      sh(repo, 'git', ['init', '--quiet', '--bare'])
      // An older herogate's pre-receive hook goes; the new one takes over.
      writeFileSync(join(repo, 'hooks', 'pre-receive'), '#!/bin/sh\n# herogate: builds and releases what is pushed to main or master; a failure rejects the push.\n')
      await installHook(repo, 'demo')
      const file = join(repo, 'hooks', 'proc-receive')
      const script = readFileSync(file, 'utf8')
      expect(statSync(file).mode & 0o111).to.not.equal(0)
      expect(script).to.match(/^#!\/bin\/sh\n/)
      expect(script).to.include(`NODE='${process.execPath}'; [ -x "$NODE" ] || NODE=node\nHEROGATE_HOME='${home.dir}' exec "$NODE" `)
      // Run from source in tests: the entry is the .ts file, loaded through tsx by URL.
      expect(script).to.match(/'--import' 'file:\/\/[^']*tsx[^']*' '[^']*\/src\/platform\/local\/hook-main\.ts' 'demo'\n$/)
      expect(existsSync(join(repo, 'hooks', 'pre-receive'))).to.equal(false)
      await installHook(repo, 'demo')
      expect(sh(repo, 'git', ['config', '--get-all', 'receive.procReceiveRefs'])).to.equal('refs')
    } finally {
      home.cleanup()
      rmSync(repo, {recursive: true, force: true})
    }
  })

  for (const [version, supported] of [['git version 2.39.5', true], ['git version 2.29.0', true], ['git version 3.0.1', true], ['git version 2.28.1', false], ['git version 1.9.5 (Apple Git-50)', false]] as const) {
    it(`knows whether ${version} runs proc-receive hooks: ${supported}`, () => {
      expect(procReceiveSupported(version)).to.equal(supported)
    })
  }

  const lines: Array<[string[], string]> = [
    [['echo $FOO && exit 3'], 'echo $FOO && exit 3'],
    [['node', '-e', 'console.log(1)'], "node -e 'console.log(1)'"],
    [['echo', "it's"], "echo 'it'\\''s'"],
    [['ls', '-la', 'a/b.txt'], 'ls -la a/b.txt'],
  ]
  for (const [argv, expected] of lines) {
    it(`turns run's argv into one shell line: ${JSON.stringify(argv)}`, () => {
      expect(shellLine(argv)).to.equal(expected)
    })
  }
})
