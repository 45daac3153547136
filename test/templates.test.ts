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
    expect(templates).to.include.members(['platform.yml', 'app.yml', 'addon-postgres.yml', 'addon-redis.yml'])
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
    for (const id of ['DataSubnetA', 'DataSubnetB', 'DatabaseSubnetGroup', 'CacheSubnetGroup']) expect(platform[id]?.description, id).to.be.a('string').and.not.equal('')
    const postgres = await templateResources(await readFile(`${dir}addon-postgres.yml`, 'utf8'))
    for (const id of ['SecurityGroup', 'Database', 'Cluster']) expect(postgres[id]?.description, id).to.be.a('string').and.not.equal('')
    const redis = await templateResources(await readFile(`${dir}addon-redis.yml`, 'utf8'))
    for (const id of ['SecurityGroup', 'Cache']) expect(redis[id]?.description, id).to.be.a('string').and.not.equal('')
  })
})

describe('add-on templates', () => {
  it('encrypt at rest and in transit, keep databases private, and hold no secret but a NoEcho parameter', async () => {
    const {readFile} = await import('node:fs/promises')
    const {parseDocument} = await import('yaml')
    const load = async (file: string) => parseDocument(await readFile(`${dir}${file}`, 'utf8'), {logLevel: 'silent', customTags: [
      {tag: '!Ref', resolve: (value: string) => ({Ref: value})},
      ...['!Sub', '!If', '!GetAtt', '!Equals', '!Not', '!And', '!Condition', '!Select', '!GetAZs', '!Join'].map((tag) => ({tag, resolve: (value: unknown) => ({[tag]: value})})),
      ...['!Sub', '!If', '!GetAtt', '!Equals', '!Not', '!And', '!Select', '!Join'].map((tag) => ({tag, collection: 'seq' as const, resolve: (value: unknown) => ({[tag]: value})})),
    ]}).toJS() as {Parameters: Record<string, {NoEcho?: boolean}>; Resources: Record<string, {Properties: Record<string, unknown>}>; Outputs: Record<string, unknown>}
    const postgres = await load('addon-postgres.yml')
    expect(postgres.Resources.Database.Properties).to.include({StorageEncrypted: true, PubliclyAccessible: false})
    expect(postgres.Resources.Cluster.Properties).to.include({StorageEncrypted: true})
    const redis = await load('addon-redis.yml')
    expect(redis.Resources.Cache.Properties).to.include({TransitEncryptionEnabled: true, AtRestEncryptionEnabled: true})
    expect(postgres.Parameters.MasterPassword.NoEcho).to.equal(true)
    expect(redis.Parameters.AuthToken.NoEcho).to.equal(true)
    // Outputs never carry the secret.
    expect(JSON.stringify(postgres.Outputs)).to.not.include('MasterPassword')
    expect(JSON.stringify(redis.Outputs)).to.not.include('AuthToken')
    for (const template of [postgres, redis]) {
      const ingress = template.Resources.SecurityGroup.Properties.SecurityGroupIngress as Array<Record<string, unknown>>
      expect(ingress).to.have.length(1)
      expect(ingress[0].SourceSecurityGroupId).to.deep.equal({Ref: 'TaskSecurityGroup'})
      expect(ingress[0]).to.not.have.property('CidrIp')
    }
  })
})
