import type {SecretsManagerClient} from '@aws-sdk/client-secrets-manager'

import {HerogateError} from '../lib/errors.js'
import {isAwsError} from './errors.js'

/** A registry login kept in Secrets Manager. */
export interface RegistryCredentials {
  username: string
  password: string
}

/** Secrets Manager in herogate's words: the registry credentials builds may log in with. */
export class Secrets {
  constructor(private readonly client: SecretsManagerClient) {}

  /**
   * The credentials stored under `name` as {"username", "accessToken"} (the form ECR's
   * pull-through cache reads; "password" is taken too); undefined when there is no such secret.
   * Neither the value nor AWS's message (which can quote it) reaches an error.
   */
  async registryCredentials(name: string): Promise<RegistryCredentials | undefined> {
    const {GetSecretValueCommand} = await import('@aws-sdk/client-secrets-manager')
    let text: string | undefined
    try {
      text = (await this.client.send(new GetSecretValueCommand({SecretId: name}))).SecretString
    } catch (error) {
      if (isAwsError(error, 'ResourceNotFoundException')) return undefined
      const code = (error as {name?: string}).name ?? 'Error'
      throw new HerogateError(`Could not read the secret ${name} (${code}).`, {
        suggestions: [isAwsError(error, 'AccessDeniedException') ? "allow the app's build role secretsmanager:GetSecretValue on it" : `aws secretsmanager describe-secret --secret-id ${name}`],
      })
    }

    let value: {username?: unknown; accessToken?: unknown; password?: unknown}
    try {
      value = JSON.parse(text ?? '') as typeof value
    } catch {
      value = {}
    }

    const password = value.accessToken ?? value.password
    if (typeof value.username !== 'string' || !value.username || typeof password !== 'string' || !password) {
      throw new HerogateError(`The secret ${name} is not of the form {"username": "...", "accessToken": "..."}.`, {
        suggestions: [`aws secretsmanager put-secret-value --secret-id ${name} --secret-string '{"username":"USER","accessToken":"TOKEN"}'`],
      })
    }

    return {username: value.username, password}
  }
}
