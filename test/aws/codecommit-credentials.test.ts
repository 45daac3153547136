import {expect} from 'chai'

import {codeCommitRegion, credentialAnswer, gitPassword, gitUsername, parseCredentialRequest} from '../../src/aws/codecommit-credentials.js'

// Computed once with awscli v1's `aws codecommit credential-helper get` (awscli 1.45.11,
// awscli/customizations/codecommit.py) for these keys, host, path and time.
const KEYS = {accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY'}
const TIME = new Date('2026-11-21T10:00:00Z')
const EXPECTED = '20261121T100000Zbf6d1c30ce2526d649b4f4dfb4439df5a390e0b8cef2db822e8a7ff9cb4269fc'

describe('CodeCommit git credentials', () => {
  it('matches the AWS CLI credential helper for a fixed signing vector', () => {
    const password = gitPassword(KEYS, {host: 'git-codecommit.eu-west-1.amazonaws.com', path: 'v1/repos/herogate-demo', region: 'eu-west-1'}, TIME)
    expect(password).to.equal(EXPECTED)
  })

  it('signs the same path with or without a leading slash, and ignores a port', () => {
    const password = gitPassword(KEYS, {host: 'git-codecommit.eu-west-1.amazonaws.com:443', path: '/v1/repos/herogate-demo', region: 'eu-west-1'}, TIME)
    expect(password).to.equal(EXPECTED)
  })

  it('puts the session token in the username', () => {
    expect(gitUsername(KEYS)).to.equal('AKIDEXAMPLE')
    expect(gitUsername({...KEYS, sessionToken: 'TOKEN/abc+='})).to.equal('AKIDEXAMPLE%TOKEN/abc+=')
  })

  it('answers git with username and password lines for a CodeCommit host', () => {
    const request = parseCredentialRequest('protocol=https\nhost=git-codecommit.eu-west-1.amazonaws.com\npath=v1/repos/herogate-demo\n\n')
    expect(request).to.deep.equal({protocol: 'https', host: 'git-codecommit.eu-west-1.amazonaws.com', path: 'v1/repos/herogate-demo'})
    expect(credentialAnswer(request, {...KEYS, sessionToken: 'T'}, TIME)).to.equal(`username=AKIDEXAMPLE%T\npassword=${EXPECTED}\n`)
  })

  it('answers nothing for other hosts or without a path', () => {
    expect(credentialAnswer({protocol: 'https', host: 'github.com', path: 'a/b'}, KEYS, TIME)).to.equal('')
    expect(credentialAnswer({protocol: 'https', host: 'git-codecommit.eu-west-1.amazonaws.com'}, KEYS, TIME)).to.equal('')
  })

  it('reads the region from CodeCommit hosts, FIPS and VPC endpoints included', () => {
    expect(codeCommitRegion('git-codecommit.us-east-2.amazonaws.com')).to.equal('us-east-2')
    expect(codeCommitRegion('git-codecommit-fips.us-gov-west-1.amazonaws.com')).to.equal('us-gov-west-1')
    expect(codeCommitRegion('vpce-0123-abc.git-codecommit.eu-central-1.vpce.amazonaws.com')).to.equal('eu-central-1')
    expect(codeCommitRegion('example.com')).to.equal(undefined)
  })
})
