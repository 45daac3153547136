import type {ACMClient} from '@aws-sdk/client-acm'

import {HerogateError} from '../lib/errors.js'
import {awsFailure, isAwsError} from './errors.js'

/** An ACM certificate as herogate's domains show it. */
export interface CertificateState {
  arn: string
  /** PENDING_VALIDATION, ISSUED, INACTIVE, EXPIRED, VALIDATION_TIMED_OUT, REVOKED, FAILED */
  status: string
  /** The CNAME that proves the domain is the user's; ACM fills it in a few seconds after the request. */
  validation?: {name: string; type: string; value: string}
  issuer?: string
  notAfter?: string
  /** Why it failed (ACM's FailureReason), when it did. */
  failureReason?: string
  /** ARNs of the load balancers that use it. */
  inUseBy: string[]
}

/** The certificate is still attached somewhere (a listener), so ACM keeps it. */
export class CertificateInUse extends HerogateError {}

/** ACM in herogate's words: public certificates for one host name each, validated by DNS. */
export class Certificates {
  constructor(private readonly client: ACMClient) {}

  /** Requests a public certificate for `hostname`, validated by DNS, tagged with what it is for; resolves with its ARN. */
  async request(hostname: string, tags: Record<string, string>): Promise<string> {
    const {RequestCertificateCommand} = await import('@aws-sdk/client-acm')
    try {
      const response = await this.client.send(new RequestCertificateCommand({
        DomainName: hostname,
        ValidationMethod: 'DNS',
        Tags: Object.entries(tags).map(([Key, Value]) => ({Key, Value})),
      }))
      return response.CertificateArn ?? ''
    } catch (error) {
      throw awsFailure(error, `requesting a certificate for ${hostname}`)
    }
  }

  /** The certificate, or undefined when ACM has none by that ARN. */
  async describe(arn: string): Promise<CertificateState | undefined> {
    const {DescribeCertificateCommand} = await import('@aws-sdk/client-acm')
    let certificate
    try {
      certificate = (await this.client.send(new DescribeCertificateCommand({CertificateArn: arn}))).Certificate
    } catch (error) {
      if (isAwsError(error, 'ResourceNotFoundException')) return undefined
      throw awsFailure(error, 'reading a certificate')
    }

    if (!certificate) return undefined
    const record = certificate.DomainValidationOptions?.find((option) => option.ResourceRecord)?.ResourceRecord
    return {
      arn,
      status: certificate.Status ?? 'PENDING_VALIDATION',
      ...(record?.Name && record.Value ? {validation: {name: record.Name, type: record.Type ?? 'CNAME', value: record.Value}} : {}),
      ...(certificate.Issuer ? {issuer: certificate.Issuer} : {}),
      ...(certificate.NotAfter ? {notAfter: new Date(certificate.NotAfter).toISOString()} : {}),
      ...(certificate.FailureReason ? {failureReason: certificate.FailureReason} : {}),
      inUseBy: certificate.InUseBy ?? [],
    }
  }

  /** Deletes the certificate; one ACM no longer has is already gone. */
  async delete(arn: string): Promise<void> {
    const {DeleteCertificateCommand} = await import('@aws-sdk/client-acm')
    try {
      await this.client.send(new DeleteCertificateCommand({CertificateArn: arn}))
    } catch (error) {
      if (isAwsError(error, 'ResourceNotFoundException')) return
      if (isAwsError(error, 'ResourceInUseException')) throw new CertificateInUse(`The certificate ${arn} is still in use.`, {cause: error})
      throw awsFailure(error, 'deleting a certificate')
    }
  }
}
