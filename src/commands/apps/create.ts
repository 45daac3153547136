import {Args, Flags} from '@oclif/core'

import {HerogateCommand} from '../../lib/base.js'
import {AwsNotConfigured} from '../../lib/errors.js'
import {awsFlags} from '../../lib/flags.js'
import {deployBranches, pushCommand} from '../../lib/hints.js'
import {validateAppName} from '../../lib/naming.js'
import {validateBranch} from '../../lib/parse.js'
import {BOOT_TIMEOUT_RANGE, DEFAULT_SETTINGS, parseSettingFlags} from '../../lib/settings.js'
import type {CreateResult} from '../../platform/types.js'

export default class AppsCreate extends HerogateCommand {
  static aliases = ['create']
  static description = `create an app and add the "herogate" git remote

On AWS (the default) the first app in a region also creates the shared platform (VPC, ECS cluster, load balancer); later apps reuse it. With --local the app runs on this machine: no cloud account needed.`
  static enableJsonFlag = true
  static examples = ['<%= config.bin %> create demo --local', '<%= config.bin %> create demo --region eu-west-1',
    '<%= config.bin %> create demo --branch master', '<%= config.bin %> create demo --boot-timeout 120 --health-check-path /health', '<%= config.bin %> create']
  static args = {name: Args.string({description: 'app name (3 to 29 lowercase letters, digits and dashes); random when omitted'})}
  static flags = {
    ...awsFlags,
    local: Flags.boolean({description: 'create the app on the local platform (this machine, no AWS account)'}),
    branch: Flags.string({description: 'AWS: the branch whose pushes deploy (default main; local apps deploy main or master)', exclusive: ['local']}),
    'boot-timeout': Flags.string({description: `seconds a new web process has to answer its health check (default ${DEFAULT_SETTINGS['boot-timeout']}, ${BOOT_TIMEOUT_RANGE.min} to ${BOOT_TIMEOUT_RANGE.max}; see apps:settings)`}),
    'health-check-path': Flags.string({description: `the path probed during deploys (default ${DEFAULT_SETTINGS['health-check-path']}; see apps:settings)`}),
  }

  async run(): Promise<CreateResult> {
    const {args, flags} = await this.parse(AppsCreate)
    if (args.name) validateAppName(args.name)
    if (flags.branch) validateBranch(flags.branch)
    const settings = parseSettingFlags(flags)
    const platform = await this.platform(flags.local ? 'local' : 'aws', flags).catch((error: unknown) => {
      // The README's first step: with no AWS set up, lead with the same create on this machine.
      throw error instanceof AwsNotConfigured ? new AwsNotConfigured(`herogate create${args.name ? ` ${args.name}` : ''} --local`) : error
    })
    const app = await platform.createApp({
      name: args.name, cwd: process.cwd(), branch: flags.branch, ...(Object.keys(settings).length > 0 ? {settings} : {}), onProgress: this.progress, signal: this.signal,
    })
    if (app.platformCreated) this.note(`Created the shared herogate platform in ${app.region}; later apps in this region reuse it.`)
    this.log(`Created ${app.name}${app.region ? ` in ${app.region}` : ' on the local platform'}`)
    this.log(`${app.webUrl ?? '(no web URL yet)'} | ${app.gitUrl}`)
    if (app.remoteNote) this.note(app.remoteNote)
    else this.note(`Git remote herogate added. Deploy with: ${await pushCommand(process.cwd(), deployBranches(platform.kind, flags.branch))}`)
    return app
  }
}
