import {expect} from 'chai'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {AwsClients} from '../../src/aws/clients.js'
import {InvalidInput} from '../../src/lib/errors.js'
import {names} from '../../src/lib/naming.js'
import * as apps from '../../src/platform/aws/apps.js'
import {stacksOf} from '../../src/platform/aws/resources.js'
import {useMoto} from '../helpers/moto.js'

const BUILDSPEC = 'version: 0.2\nphases:\n  build:\n    commands:\n      - echo build\n'

/**
 * CodePipeline keys an app's build artifacts by its pipeline's name cut to 20 characters, and
 * each app's roles reach only that prefix: two apps whose names begin alike would share it
 * (each could read the other's pushed code), so create refuses the second one.
 */
describe('apps that would share build artifacts (moto)', function () {
  this.timeout(60_000)
  useMoto()

  it('refuses a name whose artifact prefix another app already has, before making anything', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hg-prefix-'))
    try {
      const ctx = {region: 'us-east-1', clients: new AwsClients({region: 'us-east-1'}), clock: {now: () => new Date(), sleep: async () => {}}}
      const extras = {buildSpec: BUILDSPEC, uploadReleaseCode: async () => ''}
      await apps.createApp(ctx, {name: 'averylongname-one', cwd: dir}, extras)
      expect(apps.pipelineArtifactPrefix('averylongname-two')).to.equal(apps.pipelineArtifactPrefix('averylongname-one'))
      const error = await apps.createApp(ctx, {name: 'averylongname-two', cwd: dir}, extras).catch((e) => e)
      expect(error).to.be.instanceOf(InvalidInput)
      expect(error.message).to.equal('App name averylongname-two begins with the same 11 characters as app averylongname-one, so their build artifacts would share one place in the artifact bucket.')
      expect(await (await stacksOf(ctx)).describe(names.appStack('averylongname-two'))).to.equal(undefined)
      // A name that differs within those characters is fine.
      expect((await apps.createApp(ctx, {name: 'averylong-two', cwd: dir}, extras)).name).to.equal('averylong-two')
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })
})
