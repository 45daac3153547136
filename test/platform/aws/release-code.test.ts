import {CreateBucketCommand, GetObjectCommand, S3Client} from '@aws-sdk/client-s3'
import {expect} from 'chai'
import {execFileSync} from 'node:child_process'
import {mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {AwsClients} from '../../../src/aws/clients.js'
import {packageReleaseCode, releaseCodeKey, tar, uploadReleaseCode} from '../../../src/platform/aws/release-code.js'
import {useMoto} from '../../helpers/moto.js'
import {fakeClock} from './formation.fixture.js'

/** A package directory shaped like an installed herogate. */
function fakeInstall(options: {lock?: 'package-lock.json' | 'npm-shrinkwrap.json'; dist?: boolean} = {}): string {
  const root = mkdtempSync(join(tmpdir(), 'hg-pkg-'))
  writeFileSync(join(root, 'package.json'), JSON.stringify({name: 'herogate', version: '1.2.3', bin: {herogate: './bin/run.js'}}))
  mkdirSync(join(root, 'bin'))
  writeFileSync(join(root, 'bin', 'run.js'), '#!/usr/bin/env node\n', {mode: 0o755})
  if (options.dist !== false) {
    mkdirSync(join(root, 'dist', 'platform', 'aws'), {recursive: true})
    writeFileSync(join(root, 'dist', 'platform', 'aws', 'releases.js'), 'export {}\n')
    writeFileSync(join(root, 'dist', 'platform', 'aws', 'releases.js.map'), '{}')
  }

  mkdirSync(join(root, 'templates'))
  writeFileSync(join(root, 'templates', 'buildspec.yml'), 'version: 0.2\n')
  mkdirSync(join(root, 'node_modules', 'yaml'), {recursive: true})
  writeFileSync(join(root, 'node_modules', 'yaml', 'index.js'), '')
  writeFileSync(join(root, 'src.ts'), 'not shipped')
  if (options.lock) writeFileSync(join(root, options.lock), JSON.stringify({name: 'herogate', lockfileVersion: 3, packages: {}}))
  return root
}

describe('release code package', () => {
  const roots: string[] = []
  afterEach(() => {
    for (const root of roots.splice(0)) rmSync(root, {recursive: true, force: true})
  })

  it('packs the installed files npm-style, pinning dependencies with the lockfile as npm-shrinkwrap.json', async () => {
    const root = fakeInstall({lock: 'package-lock.json'})
    roots.push(root)
    const pkg = await packageReleaseCode(root)
    expect(pkg).to.include({version: '1.2.3', pinned: true})
    expect(pkg.files).to.deep.equal(['bin/run.js', 'dist/platform/aws/releases.js', 'npm-shrinkwrap.json', 'package.json', 'templates/buildspec.yml'])
    const file = join(root, 'out.tgz')
    writeFileSync(file, pkg.data)
    // The system tar reads it: the archive is what npm install expects.
    const listing = execFileSync('tar', ['-tvzf', file], {encoding: 'utf8'}).trim().split('\n')
    expect(listing.map((line) => line.split(/\s+/).at(-1))).to.deep.equal(pkg.files.map((f) => `package/${f}`))
    expect(listing[0]).to.match(/^-rwxr-xr-x/)
    const out = join(root, 'x')
    mkdirSync(out)
    execFileSync('tar', ['-xzf', file, '-C', out])
    expect(JSON.parse(readFileSync(join(out, 'package', 'npm-shrinkwrap.json'), 'utf8'))).to.include({lockfileVersion: 3})
  })

  it('gives the same bytes for the same files, and a key by version and content', async () => {
    const root = fakeInstall({lock: 'npm-shrinkwrap.json'})
    roots.push(root)
    const a = await packageReleaseCode(root)
    const b = await packageReleaseCode(root)
    expect(a.sha256).to.equal(b.sha256)
    expect(releaseCodeKey('demo', a)).to.equal(`herogate/demo/release-code/herogate-1.2.3-${a.sha256.slice(0, 12)}.tgz`)
    writeFileSync(join(root, 'templates', 'buildspec.yml'), 'version: 0.2 # changed\n')
    expect((await packageReleaseCode(root)).sha256).not.to.equal(a.sha256)
  })

  it('says so when there is no lockfile, and refuses an install without compiled code', async () => {
    const unpinned = fakeInstall()
    const uncompiled = fakeInstall({dist: false})
    roots.push(unpinned, uncompiled)
    expect((await packageReleaseCode(unpinned)).pinned).to.equal(false)
    const error = await packageReleaseCode(uncompiled).catch((e: Error) => e)
    expect((error as Error).message).to.match(/compiled code \(dist\/\) is missing/)
  })

  it('splits long paths into the ustar prefix', () => {
    const path = `package/${'d/'.repeat(60)}file.js`
    const archive = tar([{path, data: Buffer.from('x'), mode: 0o644}])
    const root = mkdtempSync(join(tmpdir(), 'hg-tar-'))
    roots.push(root)
    writeFileSync(join(root, 'a.tar'), archive)
    expect(execFileSync('tar', ['-tf', join(root, 'a.tar')], {encoding: 'utf8'}).trim()).to.equal(path)
  })

  describe('upload (moto)', () => {
    useMoto()

    it('puts the package in the app\'s artifact prefix and returns its s3 URI', async () => {
      const root = fakeInstall({lock: 'package-lock.json'})
      roots.push(root)
      const s3 = new S3Client({region: 'us-east-1', forcePathStyle: true})
      await s3.send(new CreateBucketCommand({Bucket: 'artifacts'}))
      const ctx = {region: 'us-east-1', clients: new AwsClients({region: 'us-east-1'}), clock: fakeClock()}
      const uri = await uploadReleaseCode(ctx, {artifactBucket: 'artifacts'}, 'demo', root)
      const pkg = await packageReleaseCode(root)
      expect(uri).to.equal(`s3://artifacts/${releaseCodeKey('demo', pkg)}`)
      const object = await s3.send(new GetObjectCommand({Bucket: 'artifacts', Key: releaseCodeKey('demo', pkg)}))
      expect(Buffer.from(await object.Body!.transformToByteArray())).to.deep.equal(pkg.data)
    })
  })
})
