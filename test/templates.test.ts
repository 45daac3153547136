import {expect} from 'chai'
import {execFileSync, spawnSync} from 'node:child_process'
import {readdirSync} from 'node:fs'
import {fileURLToPath} from 'node:url'

import {templateResources} from '../src/aws/cloudformation.js'

const dir = fileURLToPath(new URL('../templates/', import.meta.url))
const templates = readdirSync(dir).filter((file) => file.endsWith('.yml') && file !== 'buildspec.yml')

function cfnLintAvailable(): boolean {
  try {
    execFileSync('cfn-lint', ['--version'], {stdio: 'ignore'})
    return true
  } catch {
    return false
  }
}

describe('CloudFormation templates', function () {
  this.timeout(120_000)

  before(function () {
    if (cfnLintAvailable()) return
    if (process.env.CI) throw new Error('cfn-lint is required in CI: python3 -m pip install cfn-lint')
    console.warn('    (cfn-lint is not installed: skipping; python3 -m pip install cfn-lint)')
    this.skip()
  })

  it('has the platform and app templates', () => {
    expect(templates).to.include.members(['platform.yml', 'app.yml'])
  })

  it('every template passes cfn-lint with no errors or warnings', () => {
    // One run for all files and one region keeps it short; exit bits 2 (error) and 4 (warning) fail, 8 (info) does not.
    const result = spawnSync('cfn-lint', ['--regions', 'us-east-1', '--', ...templates.map((file) => `${dir}${file}`)], {encoding: 'utf8'})
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

describe('app template least privilege', () => {
  /** Every !Sub resource pattern of the app template's policies, with the given app, cluster and account filled in. */
  async function resourcePatterns(app: string): Promise<string[]> {
    const {readFile} = await import('node:fs/promises')
    const {parseDocument} = await import('yaml')
    // Unknown tags (!Sub, !Ref...) parse as their plain value: the !Sub string is what we want.
    const template = parseDocument(await readFile(`${dir}app.yml`, 'utf8'), {logLevel: 'silent'}).toJS()
    const patterns: string[] = []
    const walk = (node: unknown, key?: string): void => {
      if (Array.isArray(node)) for (const item of node) walk(item, key)
      else if (node && typeof node === 'object') for (const [k, v] of Object.entries(node)) walk(v, k)
      else if (key === 'Resource' && typeof node === 'string') patterns.push(node)
    }

    walk(template)
    const values: Record<string, string> = {AppName: app, Cluster: 'herogate', 'AWS::Partition': 'aws', 'AWS::Region': 'us-east-1', 'AWS::AccountId': '123456789012'}
    return patterns.map((p) => p.replaceAll(/\$\{([^}]+)\}/g, (_, name: string) => values[name] ?? `\${${name}}`))
  }

  /** IAM's wildcard match: * is any run of characters, ? one character. */
  function iamMatches(pattern: string, arn: string): boolean {
    const regex = new RegExp(`^${pattern.split('').map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^$()|[\]\\{}]/, '\\$&'))).join('')}$`)
    return regex.test(arn)
  }

  it("grants app demo's roles its own services and task families, and none of app demo-2's", async () => {
    const {names} = await import('../src/lib/naming.js')
    const patterns = (await resourcePatterns('demo')).filter((p) => p.includes(':ecs:'))
    const service = (app: string, type: string) => `arn:aws:ecs:us-east-1:123456789012:service/herogate/${names.service(app, type)}`
    const family = (app: string, type: string) => `arn:aws:ecs:us-east-1:123456789012:task-definition/${names.taskFamily(app, type)}:3`
    // The patterns are the named ones; "*" resources are limited by cluster conditions instead.
    const named = patterns.filter((p) => p !== '*')
    expect(named.some((p) => iamMatches(p, service('demo', 'web')))).to.equal(true)
    expect(named.some((p) => iamMatches(p, family('demo', 'worker')))).to.equal(true)
    expect(named.some((p) => iamMatches(p, family('demo', 'run')))).to.equal(true)
    for (const other of ['demo-2', 'demo-web', 'demo-x']) {
      for (const type of ['web', 'worker', 'run']) {
        expect(named.filter((p) => iamMatches(p, service(other, type))), `service of ${other}`).to.deep.equal([])
        expect(named.filter((p) => iamMatches(p, family(other, type))), `family of ${other}`).to.deep.equal([])
      }
    }
  })
})
