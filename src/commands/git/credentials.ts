import {Args, Command, Flags} from '@oclif/core'

import {credentialAnswer, currentCredentials, parseCredentialRequest} from '../../aws/codecommit-credentials.js'

/**
 * git's credential helper for herogate's CodeCommit remotes (configured by `create`):
 * `get` answers with CodeCommit's SigV4 git password from the current AWS credentials;
 * `store` and `erase` have nothing to keep.
 */
export default class GitCredentials extends Command {
  static hidden = true
  static description = "git credential helper for herogate's CodeCommit remotes (used by git, not by people)"
  static args = {operation: Args.string({required: true, options: ['get', 'store', 'erase']})}
  static flags = {profile: Flags.string({description: 'AWS profile whose credentials sign git requests'})}

  async run(): Promise<void> {
    const {args, flags} = await this.parse(GitCredentials)
    const input = await readAll(process.stdin)
    if (args.operation !== 'get') return
    const request = parseCredentialRequest(input)
    try {
      const credentials = await currentCredentials(flags.profile || process.env.AWS_PROFILE || undefined)
      process.stdout.write(credentialAnswer(request, credentials, new Date()))
    } catch (error) {
      // git shows the helper's stderr; one line, never the credentials.
      process.stderr.write(`herogate: ${(error as Error).message} Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE with the profile in ~/.aws/credentials.\n`)
      this.exit(1)
    }
  }
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  if ((stream as NodeJS.ReadStream).isTTY) return ''
  const chunks: Buffer[] = []
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer))
  return Buffer.concat(chunks).toString('utf8')
}
