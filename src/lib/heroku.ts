import {closestNames, editDistance} from './closest.js'

/**
 * The Heroku commands a user types without thinking, and herogate's answer to each: the
 * README's table ("Coming from Heroku") is rendered from these rows, and an unknown command
 * that Heroku has is told what to do instead.
 */

export interface HerokuCommand {
  /** As a Heroku user types it. */
  heroku: string
  /** herogate's command, when it has one (Markdown, as the README shows it). */
  herogate?: string
  /** What to do instead when herogate has no such command (one line, said by the command-not-found hook too). */
  instead?: string
  /** Command ids (or topics) that the hook recognises as this row's. */
  ids?: string[]
}

export const HEROKU_COMMANDS: HerokuCommand[] = [
  {heroku: 'heroku create [NAME]', herogate: '`herogate create [NAME]` (`--local`: on this machine)'},
  {heroku: 'heroku apps', herogate: '`herogate apps`'},
  {heroku: 'heroku info [-a APP]', herogate: '`herogate info [APP]`'},
  {heroku: 'heroku open [PATH]', herogate: '`herogate open [PATH]` (`--json`: the URL)'},
  {heroku: 'heroku apps:rename NEWNAME', herogate: '`herogate apps:rename NEWNAME` (local apps; for an AWS app it says what to do instead)'},
  {heroku: 'heroku apps:destroy', herogate: '`herogate destroy --confirm APP`'},
  {heroku: 'git push heroku main', herogate: '`git push herogate main`, or `herogate deploy`'},
  {heroku: 'heroku git:remote -a APP', herogate: '`herogate git:remote -a APP`'},
  {heroku: 'heroku git:clone -a APP', herogate: '`herogate git:clone -a APP`'},
  {heroku: 'heroku config, config:get, config:set, config:unset', herogate: 'the same names'},
  {heroku: 'heroku config:edit', herogate: '`herogate config:edit`'},
  {heroku: 'heroku ps, ps:scale, scale', herogate: 'the same names'},
  {heroku: 'heroku ps:type, ps:resize web=standard-2x', herogate: 'the same names (aliases of `herogate scale`)'},
  {heroku: 'heroku restart, ps:restart [TYPE]', herogate: 'the same names'},
  {heroku: 'heroku ps:stop, ps:kill web.1', herogate: 'the same names'},
  {heroku: 'heroku run CMD, run:detached CMD', herogate: 'the same names'},
  {heroku: 'heroku logs -t, -n N, -d web.1, -s app', herogate: '`herogate logs -t`, `-n N`, `-d web.1`, `-s app`'},
  {heroku: 'heroku releases, releases:info, rollback', herogate: 'the same names'},
  {heroku: 'heroku releases:output vN', herogate: '`herogate releases:output vN`'},
  {heroku: 'heroku addons, addons:create, addons:info, addons:destroy', herogate: 'the same names, for `postgres` and `redis` (`addons:plans` lists the plans, `addons:wait` follows a create)'},
  {heroku: 'heroku pg:info, pg:psql, pg:backups, pg:backups:capture, pg:backups:restore', herogate: 'the same names'},
  {heroku: 'heroku redis:info, redis:cli', herogate: 'the same names'},
  {
    heroku: 'heroku kafka:*',
    instead: 'no Kafka add-on: the add-ons are postgres and redis (herogate addons:plans); run Kafka where the app can reach it and set its URL with herogate config:set KAFKA_URL=URL',
    ids: ['kafka'],
  },
  {heroku: 'heroku domains, domains:add, domains:remove, domains:wait', herogate: 'the same names (AWS: a free ACM certificate and HTTPS once DNS validates it)'},
  {heroku: 'heroku certs, certs:auto', herogate: '`herogate certs` (certificates are always automatic: ACM)'},
  {heroku: 'heroku addons:create scheduler:standard (jobs set in its dashboard)', herogate: '`herogate scheduler:add "rate(10 minutes)" -- CMD`, `herogate scheduler`, `scheduler:remove ID`, or "cron" in app.json'},
  {heroku: 'heroku maintenance, maintenance:on, maintenance:off', herogate: 'the same names (`maintenance:on --page FILE`: a page of your own)'},
  {heroku: 'heroku ps:autoscale:enable web --min 1 --max 4', herogate: '`herogate ps:autoscale web --min 1 --max 4` (AWS; `--cpu 60` or `--requests-per-process 100`), `ps:autoscale:disable web`'},
  {
    heroku: 'heroku login, logout, auth:*',
    instead: 'no login: AWS apps use your AWS credentials (AWS_PROFILE, AWS_ACCESS_KEY_ID or ~/.aws), local apps need none',
    ids: ['login', 'logout', 'auth', 'authorizations', 'sessions', 'keys'],
  },
  {
    heroku: 'heroku access, members, teams',
    instead: 'who may use an app is AWS IAM: give people the policy in docs/iam/herogate-user-policy.json',
    ids: ['access', 'members', 'teams', 'orgs', 'spaces'],
  },
  {
    heroku: 'heroku buildpacks:*, stack:set',
    instead: 'no buildpack setting: a Dockerfile builds the app when there is one, else Cloud Native Buildpacks (AWS) or the Node build (local)',
    ids: ['buildpacks', 'stack'],
  },
  {
    heroku: 'heroku pipelines:*, promote',
    instead: 'no pipelines: one app per environment, and the same commit pushed to each (git push herogate-staging main)',
    ids: ['pipelines', 'promote', 'reviewapps', 'ci'],
  },
  {
    heroku: 'heroku ps:exec, ps:copy',
    instead: 'no shell into a running process: herogate run bash starts a one-off process with the same code and config',
    ids: ['ps:exec', 'ps:copy', 'ps:forward', 'ps:socks'],
  },
  {
    heroku: 'heroku drains:*',
    instead: 'no drains: herogate logs -t --json streams one JSON object per line; on AWS the logs are a CloudWatch Logs group you can subscribe to',
    ids: ['drains'],
  },
  {
    heroku: 'heroku local',
    instead: 'herogate create --local, then git push herogate main: the app runs on this machine as it will deployed',
    ids: ['local:start', 'local:run'],
  },
  {
    heroku: 'heroku releases:retry',
    instead: 'herogate rollback vN releases a build again without rebuilding; to rebuild: git commit --allow-empty -m retry && git push herogate main',
    ids: ['releases:retry'],
  },
  {
    heroku: 'heroku labs:*, features:*, regions',
    instead: 'none needed: an AWS app lives in the region it was created in (herogate apps --region REGION lists another)',
    ids: ['labs', 'features', 'regions'],
  },
]

/** The row of a Heroku command herogate does not have, by the id a user typed (`addons:create` matches `addons`). */
export function herokuOnly(id: string): HerokuCommand | undefined {
  const topic = id.split(':')[0]
  return HEROKU_COMMANDS.find((row) => row.instead && row.ids?.some((known) => known === id || known === topic))
}

/** The README's table. */
export function herokuTable(): string {
  const code = (text: string) => text.split(', ').map((part) => `\`${part}\``).join(', ')
  return [
    '| Heroku | herogate |',
    '| --- | --- |',
    ...HEROKU_COMMANDS.map((row) => `| ${code(row.heroku)} | ${row.herogate ?? `not in herogate: ${row.instead}`} |`),
  ].join('\n')
}

/** The command ids closest to `id`: the best of closestNames (lib/closest.ts), all of them when tied. */
export function closestCommands(id: string, known: string[]): string[] {
  const close = closestNames(id, known)
  const best = close.length > 0 ? editDistance(id, close[0]) : 0
  return close.filter((candidate) => editDistance(id, candidate) === best).sort()
}
