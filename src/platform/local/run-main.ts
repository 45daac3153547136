// A detached one-off process (`herogate run --detached`): `node run-main.js APP_DIR NAME COMMAND`.
// Runs the command and writes its output to the app's log store as app[NAME] lines, with
// herogate[NAME] lines when it starts and exits, as the supervisor does for its processes.
import {runStreaming} from './build.js'
import {openLogStore} from './logstore.js'

const [appDir, name, line] = process.argv.slice(2)
const store = openLogStore(appDir)
const append = (source: 'app' | 'herogate') => (message: string) => store.append({time: new Date(), source, process: name, message})
append('herogate')(`Starting process with command \`${line}\``)
const code = await runStreaming('sh', ['-c', line], {cwd: process.cwd(), env: process.env, onLine: append('app')})
append('herogate')(`Process exited with status ${code}`)
process.exit(code)
