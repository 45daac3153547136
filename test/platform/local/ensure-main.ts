// Run by outages.test.ts as a command of its own, with its own environment (another TMPDIR):
// connects to the app's supervisor, or starts it, and prints which one it got.
import {ensureSupervisor} from '../../../src/platform/local/supervisor-client.js'

const [appDir, app, port] = process.argv.slice(2)
const handle = await ensureSupervisor({appDir, app, port: Number(port), host: '127.0.0.1', silentWaitMs: 1500})
process.stdout.write(JSON.stringify({pid: handle.pid, started: handle.started}) + '\n')
