import {HerogateCommand} from '../../lib/base.js'
import {appFlags} from '../../lib/flags.js'
import {formationText} from '../../lib/format.js'
import {deployHint} from '../../lib/hints.js'
import {parseScaleArgs} from '../../lib/parse.js'
import type {ProcessFormation} from '../../platform/types.js'

export default class PsScale extends HerogateCommand {
  static aliases = ['scale', 'ps:type', 'ps:resize']
  static description = `scale process types: counts and sizes

Without arguments, shows the formation. Sizes (AWS): basic, standard-1x (default), standard-2x, performance-m, performance-l, performance-xl (see the README for CPU and memory); local processes have no size. At most 100 processes of one type. ps:type and ps:resize are Heroku's names for it.`
  static enableJsonFlag = true
  static strict = false
  static examples = [
    '<%= config.bin %> scale web=2 worker=1',
    '<%= config.bin %> scale web+1',
    '<%= config.bin %> scale worker-1',
    '<%= config.bin %> scale web=2:standard-2x',
    '<%= config.bin %> ps:resize web=standard-2x',
  ]
  static flags = {...appFlags}

  async run(): Promise<ProcessFormation[]> {
    const {argv, flags} = await this.parse(PsScale)
    const changes = argv.length > 0 ? parseScaleArgs(argv as string[]) : undefined
    const {target, platform} = await this.resolveTarget(flags)
    let formation: ProcessFormation[]
    if (changes) {
      const result = await this.step(`Scaling processes on ${target.name}`, () =>
        platform.scale(target.name, changes, {onProgress: this.progress, signal: this.signal}))
      for (const note of result.notes) this.note(note)
      formation = result.formation
    } else {
      formation = await platform.formation(target.name)
    }

    this.log(formationText(formation) || `${target.name} has no process types yet. Deploy with: ${deployHint(target.name)}`)
    return formation
  }
}
