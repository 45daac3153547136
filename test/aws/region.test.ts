import {expect} from 'chai'
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {resolveRegion} from '../../src/aws/region.js'
import {NoRegion} from '../../src/lib/errors.js'

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
})
