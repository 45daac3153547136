import {expect} from 'chai'

import {nameFromArn, sameConfig} from '../../src/aws/release-store.js'

describe('release store helpers', () => {
  const arns: Array<[string, string]> = [
    ['arn:aws:iam::123456789012:user/alice', 'alice'],
    ['arn:aws:sts::123456789012:assumed-role/Admin/alice@example.com', 'alice@example.com'],
    ['arn:aws:iam::123456789012:root', 'root'],
    ['arn:aws:sts::123456789012:assumed-role/herogate-demo-build/AWSCodeBuild-1234', 'AWSCodeBuild-1234'],
  ]
  for (const [arn, name] of arns) it(`names ${arn} ${name}`, () => expect(nameFromArn(arn)).to.equal(name))

  it('compares configs by keys and values', () => {
    expect(sameConfig({A: '1', B: ''}, {B: '', A: '1'})).to.equal(true)
    expect(sameConfig({A: '1'}, {A: '2'})).to.equal(false)
    expect(sameConfig({A: '1'}, {A: '1', B: '1'})).to.equal(false)
    expect(sameConfig({}, {})).to.equal(true)
  })
})
