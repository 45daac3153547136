import type {OperationOptions} from './types.js'

/**
 * Custom domains as Heroku users know them (domains:add www.example.com). On AWS each domain
 * gets an ACM certificate validated by DNS and host-header rules on the shared load balancer:
 * HTTP serves the app at once, and once the certificate is issued HTTPS serves it and HTTP
 * redirects there. Locally the host name is mapped to the app's router (HOST.localhost needs
 * no DNS). Both drivers implement DomainsPlatform.
 */

/** A DNS record the user creates (or herogate made, in a Route 53 zone of the account). */
export interface DnsRecord {
  /** 'validation': proves to ACM that the domain is yours; 'traffic': sends the host's requests to the app. */
  purpose: 'validation' | 'traffic'
  name: string
  /**
   * CNAME, or ALIAS where a CNAME is not allowed (a zone's apex: ALIAS/ANAME at the DNS
   * provider, an A alias record in Route 53); A for a local host name (an /etc/hosts line).
   */
  type: 'CNAME' | 'ALIAS' | 'A'
  value: string
  /** The Route 53 zone herogate made it in; unset: the user creates it. */
  zone?: string
}

/**
 * pending: its certificate waits for DNS validation (served over HTTP meanwhile on AWS);
 * active: served over HTTPS (AWS) or by the app's router (local); failed: its certificate
 * could not be issued (reason says why; domains:remove and add it again).
 */
export type DomainStatus = 'pending' | 'active' | 'failed'

export interface Certificate {
  hostname: string
  /** AWS: ACM's status (PENDING_VALIDATION, ISSUED, FAILED, VALIDATION_TIMED_OUT, EXPIRED, REVOKED, INACTIVE). Local: NONE. */
  status: string
  /** AWS: the ACM certificate's ARN. */
  arn?: string
  issuer?: string
  expiresAt?: string
  /** Why it is not issued, or what serves the host instead (local). */
  note?: string
}

export interface Domain {
  hostname: string
  status: DomainStatus
  /** Where the app answers on this host now: http:// while the certificate is pending, https:// once active. */
  url: string
  /** What DNS needs, in the order to create them. */
  records: DnsRecord[]
  certificate: Certificate
  createdAt: string
  reason?: string
}

export interface DomainResult {
  domain: Domain
  /** Lines for the user: which records herogate made itself, what to do next. */
  notes: string[]
}

export interface DomainWaitOptions extends OperationOptions {
  /** How long to wait for the certificate (default 30 minutes). */
  timeoutMs?: number
}

export interface DomainsPlatform {
  /** AWS: a certificate found issued since the last look is served over HTTPS on the way (progress says so). */
  domains(app: string, options?: OperationOptions): Promise<Domain[]>
  /** Refused before anything is made when the host name is invalid, on another app, or past a load balancer quota. */
  addDomain(app: string, hostname: string, options?: OperationOptions): Promise<DomainResult>
  /** Removes the domain and everything herogate made for it (rules, certificate, DNS records it made). */
  removeDomain(app: string, hostname: string, options?: OperationOptions): Promise<DomainResult>
  /** Waits until the domain is active (its certificate issued and served); a failed certificate is an error saying why. */
  waitDomain(app: string, hostname: string, options?: DomainWaitOptions): Promise<Domain>
  /** Each domain's certificate. */
  certs(app: string, options?: OperationOptions): Promise<Certificate[]>
}
