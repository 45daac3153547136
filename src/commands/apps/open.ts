import {Args} from '@oclif/core'

import {HerogateCommand} from '../../lib/base.js'
import {openBrowser} from '../../lib/browser.js'
import {HerogateError} from '../../lib/errors.js'
import {appFlags} from '../../lib/flags.js'

export default class AppsOpen extends HerogateCommand {
  static aliases = ['open']
  static description = `open the app in a web browser (prints the URL when no browser can be opened)

--json opens nothing and prints {"url": "...", "opened": false}: the URL, for a script.`
  static enableJsonFlag = true
  static examples = ['<%= config.bin %> open -a demo', '<%= config.bin %> open /health', '<%= config.bin %> open --json']
  static args = {path: Args.string({description: 'path to open, e.g. /admin'})}
  static flags = {...appFlags}

  async run(): Promise<{url: string; opened: boolean}> {
    const {args, flags} = await this.parse(AppsOpen)
    const {target, platform} = await this.resolveTarget(flags)
    const {webUrl} = await platform.appInfo(target.name)
    if (!webUrl) throw new HerogateError(`${target.name} has no web URL yet.`, {suggestions: [`herogate info -a ${target.name}`]})
    const url = new URL(args.path ?? '/', webUrl).toString()
    // A script asking for the URL wants the URL, not a browser window.
    const opened = this.jsonEnabled() ? false : await openBrowser(url)
    if (opened) this.note(`Opening ${url}`)
    else this.log(url)
    return {url, opened}
  }
}
