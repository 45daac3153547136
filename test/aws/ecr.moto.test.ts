import {CreateRepositoryCommand, DescribeRepositoriesCommand, ECRClient, PutImageCommand} from '@aws-sdk/client-ecr'
import {expect} from 'chai'

import {ImageRepository} from '../../src/aws/ecr.js'
import {useMoto} from '../helpers/moto.js'

const MANIFEST = JSON.stringify({
  schemaVersion: 2,
  mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
  config: {mediaType: 'application/vnd.docker.container.image.v1+json', size: 2, digest: `sha256:${'a'.repeat(64)}`},
  layers: [],
})

/** The repositories a pull-through cache made: no stack owns them, platform:destroy deletes them. */
describe('ImageRepository.deleteRepositoriesUnder (moto)', () => {
  useMoto()

  it('deletes the repositories under the prefix with their images, and no other', async () => {
    const client = new ECRClient({region: 'us-east-1'})
    for (const repositoryName of ['herogate-public/vend/moby/buildkit', 'herogate-public/heroku/builder', 'herogate/demo', 'herogate-publicity/x']) {
      await client.send(new CreateRepositoryCommand({repositoryName}))
    }

    // A cached image: a repository that holds one is deleted only with force.
    await client.send(new PutImageCommand({repositoryName: 'herogate-public/vend/moby/buildkit', imageManifest: MANIFEST, imageTag: 'v0.25.0'}))
    expect(await new ImageRepository(client).deleteRepositoriesUnder('herogate-public')).to.deep.equal(['herogate-public/heroku/builder', 'herogate-public/vend/moby/buildkit'])
    const left = (await client.send(new DescribeRepositoriesCommand({}))).repositories!.map((r) => r.repositoryName).sort()
    expect(left).to.deep.equal(['herogate-publicity/x', 'herogate/demo'])
    expect(await new ImageRepository(client).deleteRepositoriesUnder('herogate-public')).to.deep.equal([])
  })
})
