import {createHash, createHmac} from 'node:crypto'

import {NoCredentials} from '../lib/errors.js'

/**
 * CodeCommit's git-over-HTTPS password: a SigV4 signature of a pseudo request (method GIT)
 * for the repo path, made from the caller's AWS credentials. This is what the AWS CLI's
 * `codecommit credential-helper` answers, so no AWS CLI or Python helper is needed.
 */
export interface SigningCredentials {
  accessKeyId: string
  secretAccessKey: string
  sessionToken?: string
}

export interface GitCredentialRequest {
  protocol?: string
  host?: string
  path?: string
  [key: string]: string | undefined
}

const HOST = /^(?:vpce-.+\.)?git-codecommit(?:-fips)?\.([^.]+)\.(?:vpce\.)?amazonaws\.com(?:\.cn)?$/

/** The region a CodeCommit git host belongs to, or undefined for another host. */
export function codeCommitRegion(host: string): string | undefined {
  return HOST.exec(host.split(':')[0])?.[1]
}

export function gitUsername(credentials: SigningCredentials): string {
  return credentials.sessionToken ? `${credentials.accessKeyId}%${credentials.sessionToken}` : credentials.accessKeyId
}

export function gitPassword(credentials: SigningCredentials, request: {host: string; path: string; region: string}, now: Date): string {
  const timestamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, '')
  const date = timestamp.slice(0, 8)
  const hostname = request.host.split(':')[0]
  const path = request.path.startsWith('/') ? request.path : `/${request.path}`
  const canonicalRequest = `GIT\n${path}\n\nhost:${hostname}\n\nhost\n`
  const scope = `${date}/${request.region}/codecommit/aws4_request`
  const stringToSign = ['AWS4-HMAC-SHA256', timestamp, scope, sha256Hex(canonicalRequest)].join('\n')
  let key: Buffer = hmac(`AWS4${credentials.secretAccessKey}`, date)
  for (const part of [request.region, 'codecommit', 'aws4_request']) key = hmac(key, part)
  return `${timestamp}Z${hmac(key, stringToSign).toString('hex')}`
}

/** Parses git's credential-helper input: key=value lines, ended by a blank line or EOF. */
export function parseCredentialRequest(text: string): GitCredentialRequest {
  const request: GitCredentialRequest = {}
  for (const line of text.split(/\r?\n/)) {
    if (!line) break
    const eq = line.indexOf('=')
    if (eq > 0) request[line.slice(0, eq)] = line.slice(eq + 1)
  }

  return request
}

/**
 * The helper's answer to `get`: username and password lines, or '' when the host is not
 * CodeCommit (git then asks the next helper).
 */
export function credentialAnswer(request: GitCredentialRequest, credentials: SigningCredentials, now: Date): string {
  const region = request.host ? codeCommitRegion(request.host) : undefined
  if (!region || !request.path) return ''
  const password = gitPassword(credentials, {host: request.host!, path: request.path, region}, now)
  return `username=${gitUsername(credentials)}\npassword=${password}\n`
}

/** The current credentials from the SDK's standard chain (env, profile, SSO, process, IMDS...). */
export async function currentCredentials(profile?: string): Promise<SigningCredentials> {
  const {fromNodeProviderChain} = await import('@aws-sdk/credential-providers')
  try {
    const credentials = await fromNodeProviderChain(profile ? {profile} : {})()
    return {accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey, sessionToken: credentials.sessionToken}
  } catch (error) {
    throw new NoCredentials(error)
  }
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex')
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest()
}
