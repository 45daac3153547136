import {expect} from 'chai'

import type {AwsContext} from '../../../src/platform/aws/context.js'
import {releaseImage} from '../../../src/platform/aws/release-image.js'
import type {AppResources} from '../../../src/platform/aws/resources.js'
import type {ProgressEvent} from '../../../src/platform/types.js'
import {useMoto} from '../../helpers/moto.js'
import {GOOD, setUpApp} from './releases.fixture.js'

/** A Procfile without a lower-case `web` deploys, but the app's URL answers 503: the release says why, as on the local platform. */
describe('AWS release of a Procfile without web (moto)', function () {
  const {moto} = useMoto()
  this.timeout(60_000)
  let resources: AppResources
  let ctx: AwsContext
  const app = 'demo'

  beforeEach(async () => {
    await moto().immediateTasks()
    ;({resources, ctx} = await setUpApp(app))
  })

  const warnings = async (processTypes: Record<string, string>) => {
    const events: ProgressEvent[] = []
    // WEB gets a service of its own that moto may refuse: the warning comes first either way.
    const status = await releaseImage(ctx, app, {image: GOOD, commit: 'a1b2c3d4e5f6'}, {processTypes, author: 'dev@example.com', resources, onProgress: (e) => events.push(e), lockOptions: {holder: 'codebuild'}})
      .then((release) => release.status, () => 'refused')
    return {status, warnings: events.flatMap((e) => (e.kind === 'warning' ? [e.message] : []))}
  }

  it('warns about a Procfile with only a worker and a release phase', async () => {
    expect(await warnings({worker: 'node worker.js', release: 'node release.js'})).to.deep.equal({status: 'succeeded', warnings: [
      'The Procfile has no web process type: no process receives HTTP requests, and the app\'s URL answers 503 (H14). Add a line like "web: node server.js" if the app serves HTTP.',
    ]})
  })

  it('says process type names are lower-case for WEB', async () => {
    const [warning] = (await warnings({WEB: 'node server.js'})).warnings
    expect(warning).to.match(/^The Procfile declares "WEB", not "web": process type names are lower-case/)
  })

  it('says nothing when there is a web type', async () => {
    expect(await warnings({web: 'node server.js', worker: 'node worker.js'})).to.deep.equal({status: 'succeeded', warnings: []})
  })
})
