import {expect} from 'chai'
import {execFileSync, spawnSync} from 'node:child_process'
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {readRemoteUrl} from '../../src/lib/git-config.js'

/**
 * lib/git-config.ts reads the `herogate` remote's URL from the repo's config file where that
 * is plain, and says `unknown` (the caller asks git) where it cannot be sure. Each case is
 * checked against what `git remote get-url` itself says.
 */
describe('reading a remote URL without git (lib/git-config.ts)', () => {
  let work: string
  let repo: string

  beforeEach(() => {
    work = mkdtempSync(join(tmpdir(), 'herogate-gitconfig-'))
    repo = join(work, 'repo')
    execFileSync('git', ['init', '--quiet', repo])
  })

  afterEach(() => rmSync(work, {recursive: true, force: true}))

  const git = (...args: string[]) => execFileSync('git', args, {cwd: repo, encoding: 'utf8'})
  const gitSays = (cwd = repo) => {
    const r = spawnSync('git', ['remote', 'get-url', 'herogate'], {cwd, encoding: 'utf8'})
    return r.status === 0 ? r.stdout.trim() : undefined
  }

  it('reads a plain remote from the repo or any folder in it, as git does', () => {
    git('remote', 'add', 'herogate', '/home/me/.herogate/apps/demo/repo.git')
    git('remote', 'add', 'origin', 'https://example.invalid/x.git')
    mkdirSync(join(repo, 'src', 'deep'), {recursive: true})
    for (const cwd of [repo, join(repo, 'src', 'deep')]) {
      expect(readRemoteUrl(cwd, 'herogate')).to.deep.equal({url: gitSays(cwd)})
      expect(gitSays(cwd)).to.equal('/home/me/.herogate/apps/demo/repo.git')
    }
  })

  it('reads a CodeCommit URL, and no remote as none', () => {
    expect(readRemoteUrl(repo, 'herogate')).to.deep.equal({url: undefined})
    expect(gitSays()).to.equal(undefined)
    git('remote', 'add', 'herogate', 'https://git-codecommit.eu-west-1.amazonaws.com/v1/repos/herogate-demo')
    expect(readRemoteUrl(repo, 'herogate')).to.deep.equal({url: gitSays()})
  })

  it('leaves to git what it would read differently: includes, URL rewriting, quoted values, several URLs, worktrees, GIT_DIR', () => {
    const config = join(repo, '.git', 'config')
    const cases: Array<[string, () => void]> = [
      ['an include', () => git('config', 'include.path', join(work, 'other'))],
      ['insteadOf', () => git('config', 'url./srv/.insteadOf', 'hg:')],
      ['a quoted value', () => writeFileSync(config, '[remote "herogate"]\n\turl = "/a b/repo.git"\n', {flag: 'a'})],
      ['a comment after the value', () => writeFileSync(config, '[remote "herogate"]\n\turl = /a/repo.git # here\n', {flag: 'a'})],
      ['two URLs', () => {
        git('remote', 'add', 'herogate', '/a/repo.git')
        git('config', '--add', 'remote.herogate.url', '/b/repo.git')
      }],
      ['an old-style section', () => writeFileSync(config, '[remote.herogate]\n\turl = /a/repo.git\n', {flag: 'a'})],
    ]
    for (const [title, change] of cases) {
      rmSync(join(repo, '.git', 'config'))
      execFileSync('git', ['init', '--quiet', repo])
      change()
      expect(readRemoteUrl(repo, 'herogate'), title).to.equal('unknown')
    }

    const worktree = join(work, 'tree')
    git('commit', '--quiet', '--allow-empty', '-m', 'x')
    git('worktree', 'add', '--quiet', worktree)
    expect(readRemoteUrl(worktree, 'herogate'), 'a worktree').to.equal('unknown')
    process.env.GIT_DIR = join(repo, '.git')
    try {
      expect(readRemoteUrl(work, 'herogate'), 'GIT_DIR').to.equal('unknown')
    } finally {
      delete process.env.GIT_DIR
    }

    expect(readRemoteUrl(work, 'herogate'), 'outside any repo').to.equal('unknown')
  })

  it('reads the global config git reads (GIT_CONFIG_GLOBAL): rewriting there is left to git too', () => {
    git('remote', 'add', 'herogate', '/a/repo.git')
    expect(readRemoteUrl(repo, 'herogate')).to.deep.equal({url: '/a/repo.git'})
    const global = process.env.GIT_CONFIG_GLOBAL!
    const saved = process.env.GIT_CONFIG_GLOBAL
    try {
      process.env.GIT_CONFIG_GLOBAL = join(work, 'global')
      writeFileSync(join(work, 'global'), '[url "/b/"]\n\tinsteadOf = /a/\n')
      expect(readRemoteUrl(repo, 'herogate')).to.equal('unknown')
      expect(gitSays()).to.equal('/b/repo.git')
    } finally {
      process.env.GIT_CONFIG_GLOBAL = saved ?? global
    }
  })
})
