import {expect} from 'chai'
import {unlinkSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {commitAll, exec, pushedApp} from './helpers.js'

const SECRET = 'postgres://app:s3cret-pw@db.internal:5432/app'

/** git pads sideband lines with spaces: compared line by line without them. */
const lines = (text: string) => text.split('\n').map((line) => line.trimEnd())

/**
 * Issue 11, findings 1 and 2, end to end through the built CLI: a real push of an app that
 * crashes at boot saying why (the fixture's boot-crash file; with DATABASE_URL set it names the
 * database it could not reach, a config value), then what releases:info, releases:output and
 * deploy say about it.
 */
describe('a release that fails says why, where the user looks (built CLI, real push)', function () {
  this.timeout(120_000)
  const app = pushedApp('crash-app')
  const herogate = app.herogate
  const push = () => exec(app.repo, 'git', ['push', 'herogate', 'main'], app.env())

  before(async () => {
    const set = await herogate('config:set', `DATABASE_URL=${SECRET}`)
    if (set.code !== 0) throw new Error(set.output)
  })

  it('a rejected push shows the crashed process\'s last lines (config values hidden) and points to herogate logs', async () => {
    writeFileSync(join(app.repo, 'boot-crash'), '')
    const sha = commitAll(app.repo, 'crash at boot')
    const {code, output} = await push()
    expect(code).to.equal(1)
    const shown = lines(output)
    expect(shown.slice(shown.indexOf('remote: -----> Deploying v3'))).to.deep.equal([
      'remote: -----> Deploying v3',
      'remote: -----> v3 failed: web.1 crashed during boot (exit status 1); v2 keeps serving',
      'remote:  !     Push rejected: Deploy failed: web.1 crashed during boot (exit status 1).',
      'remote:  !     Last lines of web.1:',
      'remote:  !       booting',
      'remote:  !       Error: connect ECONNREFUSED [DATABASE_URL]',
      'remote:  !       crashing at boot on purpose',
      'remote:  !     More: herogate logs -a crash-app --task web.1',
      `To ${join(app.home, 'apps', 'crash-app', 'repo.git')}`,
      ' ! [remote rejected] main -> main (Deploy failed: web.1 crashed during boot (exit status 1).)',
      `error: failed to push some refs to '${join(app.home, 'apps', 'crash-app', 'repo.git')}'`,
      '',
    ])
    expect(output).to.not.include('s3cret')
    expect(shown[0]).to.equal(`remote: -----> Building crash-app (${sha.slice(0, 7)})`)
  })

  it('releases:info v3 says why it failed, in text and --json', async () => {
    const json = await herogate('releases:info', 'v3', '--json')
    expect(json.code, json.output).to.equal(0)
    const release = JSON.parse(json.output)
    expect(release).to.deep.include({
      version: 3,
      status: 'failed',
      current: false,
      failure: 'web.1 crashed during boot (exit status 1)',
      failureOutput: {
        process: 'web.1',
        lines: ['booting', 'Error: connect ECONNREFUSED [DATABASE_URL]', 'crashing at boot on purpose'],
        more: 'herogate logs -a crash-app --task web.1',
      },
    })
    const text = await herogate('releases:info', 'v3')
    expect(text).to.deep.equal({
      code: 0,
      output: [
        '=== Release v3',
        `Description:    ${release.description}`,
        'Status:         failed',
        'Failure:        web.1 crashed during boot (exit status 1)',
        `By:             ${release.author}`,
        `When:           ${release.createdAt}`,
        `Commit:         ${release.commit}`,
        `Image:          ${release.image}`,
        'Config version: 1',
        'Processes:      web: node server.js; worker: node worker.js; release: node release.js',
        '',
        'Last lines of web.1:',
        '  booting',
        '  Error: connect ECONNREFUSED [DATABASE_URL]',
        '  crashing at boot on purpose',
        'More: herogate logs -a crash-app --task web.1',
        '',
      ].join('\n'),
    })
  })

  it('releases:output vN prints what the push showed of the release, and --json the same lines', async () => {
    const pushed = lines((await push()).output)
    // The push above made v4 the same way: its output is what the push showed, up to how it ended.
    const shown = pushed.filter((line) => line.startsWith('remote: ')).map((line) => line.slice('remote: '.length))
    const ended = shown.indexOf('-----> v4 failed: web.1 crashed during boot (exit status 1); v2 keeps serving')
    expect(ended).to.be.above(0)
    const output = await herogate('releases:output', 'v4')
    expect(output).to.deep.equal({code: 0, output: shown.slice(0, ended + 1).join('\n') + '\n'})
    const json = await herogate('releases:output', 'v4', '--json')
    expect(JSON.parse(json.output)).to.deep.equal({version: 4, lines: shown.slice(0, ended + 1)})
    expect(output.output).to.not.include('s3cret')
  })

  it('deploy shows the same last lines and points to herogate logs, with and without --json', async () => {
    writeFileSync(join(app.repo, 'boot-crash'), 'again\n')
    commitAll(app.repo, 'crash again')
    const error = [
      ' ▸    Deploy failed: web.1 crashed during boot (exit status 1).',
      '      Last lines of web.1:',
      '        booting',
      '        Error: connect ECONNREFUSED [DATABASE_URL]',
      '        crashing at boot on purpose',
      '  Try: herogate logs -a crash-app --task web.1',
    ]
    const deployed = await herogate('deploy')
    expect(deployed.code).to.equal(1)
    const repo = join(app.home, 'apps', 'crash-app', 'repo.git')
    const shown = lines(deployed.output)
    expect(shown.slice(shown.indexOf('-----> Deploying v5'))).to.deep.equal([
      '-----> Deploying v5',
      '-----> v5 failed: web.1 crashed during boot (exit status 1); v2 keeps serving',
      `To ${repo}`,
      ' ! [remote rejected] HEAD -> main (Deploy failed: web.1 crashed during boot (exit status 1).)',
      `error: failed to push some refs to '${repo}'`,
      ...error,
      '  Try: herogate releases:info v5 -a crash-app',
      '',
    ])
    // Said once: the push's own rejection lines are the error's to say.
    expect(deployed.output.match(/Last lines of web\.1/g)).to.have.length(1)
    const json = await herogate('deploy', '--json')
    expect(json).to.deep.equal({code: 1, output: [...error, '  Try: herogate releases:info v6 -a crash-app', ''].join('\n')})
  })

  it('a failed release phase points to releases:output, and releases:info shows the release command\'s last lines', async () => {
    unlinkSync(join(app.repo, 'boot-crash'))
    writeFileSync(join(app.repo, 'release-fail'), '')
    commitAll(app.repo, 'release phase fails')
    const {code, output} = await push()
    expect(code).to.equal(1)
    const shown = lines(output)
    expect(shown.slice(shown.indexOf('remote:        release phase failing on purpose'), shown.indexOf('remote:        release phase failing on purpose') + 4)).to.deep.equal([
      'remote:        release phase failing on purpose',
      'remote: -----> v7 failed: release command exited with code 2; v2 keeps serving',
      'remote:  !     Push rejected: Release phase failed: release command exited with code 2.',
      'remote:  !     More: herogate releases:output v7 -a crash-app',
    ])
    const info = JSON.parse((await herogate('releases:info', 'v7', '--json')).output)
    expect(info.failureOutput).to.deep.equal({process: 'the release command', lines: ['migrating [DATABASE_URL]', 'release phase failing on purpose'], more: 'herogate releases:output v7 -a crash-app'})
    expect(output).to.include('remote:        migrating [DATABASE_URL]').and.not.include('s3cret')
  })
})
