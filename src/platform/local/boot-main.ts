// Started by the user service that `herogate local:install` writes (at login, or at boot with
// linger): brings back every local app that has a release to run, each under its own
// supervisor and watchdog, says how each went, and exits (1 when any failed).
import {currentState} from './restore.js'
import {bindHost} from './runtime.js'
import {appPaths, listAppNames, readApp} from './state.js'
import {ensureSupervisor} from './supervisor-client.js'

const results = await Promise.all(
  listAppNames().map(async (app) => {
    const appDir = appPaths(app).dir
    try {
      if (!currentState(app, appDir)) return {ok: true, line: `${app}: nothing to run`}
      const {port} = readApp(app)
      const supervisor = await ensureSupervisor({appDir, app, port, host: bindHost()})
      const up = (await supervisor.status()).filter((process) => process.status === 'up').length
      return {ok: true, line: `${app}: ${up} process${up === 1 ? '' : 'es'} up, http://127.0.0.1:${port}`}
    } catch (error) {
      return {ok: false, line: `${app}: ${(error as Error).message}`}
    }
  }),
)

for (const {ok, line} of results) (ok ? process.stdout : process.stderr).write(line + '\n')
process.exit(results.every((result) => result.ok) ? 0 : 1)
