// Entry point of an app's supervisor daemon: `node supervisor-main.js` with its settings in
// HEROGATE_SUPERVISOR (no secrets: config values arrive later, over the socket).
import {type DaemonConfig, runDaemon} from './supervisor.js'

const config = JSON.parse(process.env.HEROGATE_SUPERVISOR ?? '{}') as DaemonConfig
delete process.env.HEROGATE_SUPERVISOR
process.title = `herogate-supervisor ${config.app}`
await runDaemon(config)
