import {expect} from 'chai'
import {spawnSync} from 'node:child_process'
import {readdirSync} from 'node:fs'
import {fileURLToPath} from 'node:url'

import {templateResources} from '../src/aws/cloudformation.js'
import {needPythonTools} from './helpers/python-tools.js'

const dir = fileURLToPath(new URL('../templates/', import.meta.url))
const templates = readdirSync(dir).filter((file) => file.endsWith('.yml') && file !== 'buildspec.yml')

describe('CloudFormation templates', function () {
  this.timeout(120_000)

  let cfnLint: string
  before(function () {
    cfnLint = needPythonTools(this).cfnLint
  })

  it('has the platform and app templates', () => {
    expect(templates).to.include.members(['platform.yml', 'app.yml'])
  })

  it('every template passes cfn-lint with no errors or warnings', () => {
    // One run for all files and one region keeps it short; exit bits 2 (error) and 4 (warning) fail, 8 (info) does not.
    const result = spawnSync(cfnLint, ['--regions', 'us-east-1', '--', ...templates.map((file) => `${dir}${file}`)], {encoding: 'utf8'})
    expect(result.error).to.equal(undefined)
    expect(result.status! & 6, result.stdout + result.stderr).to.equal(0)
  })
})

describe('template resource descriptions', () => {
  it('gives the resources a user cares about a short description for progress rows', async () => {
    const {readFile} = await import('node:fs/promises')
    const app = await templateResources(await readFile(`${dir}app.yml`, 'utf8'))
    for (const id of ['Repository', 'ImageRepository', 'LogGroup', 'BuildProject', 'Pipeline', 'PushRule', 'TargetGroup', 'WebService']) {
      expect(app[id]?.description, id).to.be.a('string').and.not.equal('')
    }

    const platform = await templateResources(await readFile(`${dir}platform.yml`, 'utf8'))
    for (const id of ['Vpc', 'Cluster', 'LoadBalancer', 'HttpListener', 'ArtifactBucket']) {
      expect(platform[id]?.description, id).to.be.a('string').and.not.equal('')
    }

    expect(app.WebService.type).to.equal('AWS::ECS::Service')
  })
})
