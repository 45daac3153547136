import {expect} from 'chai'
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {resolveRegion} from '../../src/aws/region.js'
import {InvalidInput, NoRegion} from '../../src/lib/errors.js'

describe('resolveRegion', () => {
  const keys = ['AWS_REGION', 'AWS_DEFAULT_REGION', 'AWS_PROFILE', 'AWS_CONFIG_FILE'] as const
  const saved: Record<string, string | undefined> = {}
  let config: string

  beforeEach(() => {
    for (const key of keys) {
      saved[key] = process.env[key]
      delete process.env[key]
    }

    config = join(mkdtempSync(join(tmpdir(), 'herogate-region-')), 'config')
    writeFileSync(config, '[default]\nregion = eu-west-1\n\n[profile work]\nregion=ap-northeast-1\ns3 =\n  region = nope\n')
    process.env.AWS_CONFIG_FILE = config
  })

  afterEach(() => {
    for (const key of keys) {
      if (saved[key] === undefined) delete process.env[key]
      else process.env[key] = saved[key]
    }
  })

  it('takes --region first, then AWS_REGION, then AWS_DEFAULT_REGION', async () => {
    process.env.AWS_REGION = 'us-east-2'
    process.env.AWS_DEFAULT_REGION = 'us-west-2'
    expect(await resolveRegion({region: 'sa-east-1'})).to.equal('sa-east-1')
    expect(await resolveRegion({})).to.equal('us-east-2')
    delete process.env.AWS_REGION
    expect(await resolveRegion({})).to.equal('us-west-2')
  })

  it("reads the profile's region from the shared config file", async () => {
    expect(await resolveRegion({})).to.equal('eu-west-1')
    expect(await resolveRegion({profile: 'work'})).to.equal('ap-northeast-1')
    process.env.AWS_PROFILE = 'work'
    expect(await resolveRegion({})).to.equal('ap-northeast-1')
  })

  it('throws NoRegion when nothing names one', async () => {
    process.env.AWS_CONFIG_FILE = join(config, '..', 'missing')
    try {
      await resolveRegion({})
      expect.fail('expected NoRegion')
    } catch (error) {
      expect(error).to.be.instanceOf(NoRegion)
    }

    try {
      await resolveRegion({profile: 'absent'})
      expect.fail('expected NoRegion')
    } catch (error) {
      expect(error).to.be.instanceOf(NoRegion)
    }
  })

  describe('refuses what cannot be a region, saying where it came from', () => {
    const valid = ['us-east-1', 'eu-central-2', 'ap-southeast-5', 'il-central-1', 'mx-central-1', 'us-gov-west-1', 'cn-northwest-1', 'us-iso-east-1', 'us-isob-east-1', 'us-isof-south-1', 'eu-isoe-west-1', 'eusc-de-east-1']
    for (const region of valid) it(`takes ${region}`, async () => expect(await resolveRegion({region})).to.equal(region))

    const invalid = ['not-a-region', 'US-EAST-1', 'us-east', 'useast1', 'us-east-1 ', 'eu-west-1a', 'https://us-east-1', 'us_east_1', 'zz-east-1']
    for (const region of invalid) {
      it(`refuses --region ${JSON.stringify(region)}`, async () => {
        const error = await resolveRegion({region}).catch((e: unknown) => e)
        expect(error).to.be.instanceOf(InvalidInput)
        expect((error as InvalidInput).message).to.equal(`--region ${region} is not an AWS region: region names look like us-east-1 or eu-west-2.`)
        expect((error as InvalidInput).suggestions).to.deep.equal(['--region us-east-1'])
      })
    }

    it('from AWS_REGION, AWS_DEFAULT_REGION and the profile', async () => {
      process.env.AWS_DEFAULT_REGION = 'nowhere'
      expect((await resolveRegion({}).catch((e: Error) => e) as InvalidInput).suggestions).to.deep.equal(['export AWS_DEFAULT_REGION=us-east-1'])
      process.env.AWS_REGION = 'somewhere'
      const error = await resolveRegion({}).catch((e: Error) => e) as InvalidInput
      expect(error.message).to.equal('AWS_REGION=somewhere is not an AWS region: region names look like us-east-1 or eu-west-2.')
      expect(error.suggestions).to.deep.equal(['export AWS_REGION=us-east-1'])
      delete process.env.AWS_REGION
      delete process.env.AWS_DEFAULT_REGION
      writeFileSync(config, '[profile typo]\nregion = eu-west1\n')
      const fromProfile = await resolveRegion({profile: 'typo'}).catch((e: Error) => e) as InvalidInput
      expect(fromProfile.message).to.equal(`region = eu-west1 (profile typo in ${config}) is not an AWS region: region names look like us-east-1 or eu-west-2.`)
    })
  })
})
