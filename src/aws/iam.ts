import type {IAMClient} from '@aws-sdk/client-iam'

import {HerogateError} from '../lib/errors.js'
import {awsFailure, isAwsError} from './errors.js'

/** The service-linked roles herogate makes sure of, by the service that uses each. */
const SERVICE_LINKED_ROLES: Record<string, string> = {
  'ecs.amazonaws.com': 'AWSServiceRoleForECS',
}

/** The caller may not create (or read) service-linked roles; the role may still exist. */
export class ServiceLinkedRoleDenied extends HerogateError {
  constructor(readonly service: string, cause: unknown) {
    super(`AWS denied creating the service-linked role of ${service}.`, {
      cause,
      suggestions: [`aws iam create-service-linked-role --aws-service-name ${service}`],
    })
  }
}

/** IAM in herogate's words: only what creating the platform needs. */
export class Iam {
  constructor(private readonly client: IAMClient) {}

  /**
   * Makes sure the service-linked role of `service` exists: 'created' when this call made it
   * (IAM may take a moment before the service can use it), 'exists' when it was there.
   */
  async ensureServiceLinkedRole(service: string): Promise<'created' | 'exists'> {
    const {CreateServiceLinkedRoleCommand, GetRoleCommand} = await import('@aws-sdk/client-iam')
    const roleName = SERVICE_LINKED_ROLES[service]
    try {
      await this.client.send(new CreateServiceLinkedRoleCommand({AWSServiceName: service}))
      return 'created'
    } catch (error) {
      if (isAwsError(error, 'AccessDenied', 'AccessDeniedException')) throw new ServiceLinkedRoleDenied(service, error)
      // IAM answers InvalidInput ("role name ... has been taken") when the role exists; the role
      // itself says whether that is what happened, so no message needs reading.
      if (!isAwsError(error, 'InvalidInput', 'EntityAlreadyExists') || !roleName) throw awsFailure(error, `creating the service-linked role of ${service}`)
      try {
        await this.client.send(new GetRoleCommand({RoleName: roleName}))
        return 'exists'
      } catch (readError) {
        if (isAwsError(readError, 'NoSuchEntity')) throw awsFailure(error, `creating the service-linked role of ${service}`)
        if (isAwsError(readError, 'AccessDenied', 'AccessDeniedException')) throw new ServiceLinkedRoleDenied(service, readError)
        throw awsFailure(readError, `reading the service-linked role ${roleName}`)
      }
    }
  }
}
