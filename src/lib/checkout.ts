import {lstatSync, realpathSync, statSync} from 'node:fs'
import {join, sep} from 'node:path'

import {InvalidInput} from './errors.js'

/**
 * The path to read for `name` in the checkout `dir`, undefined when there is none. A symbolic
 * link is followed only to a regular file inside the checkout; anything else (a link out of
 * it or to nothing, a directory, a device) is refused by name, without saying where it leads.
 */
export function checkoutFile(dir: string, name: string): string | undefined {
  const file = join(dir, name)
  let stat
  try {
    stat = lstatSync(file)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }

  if (stat.isFile()) return file
  const refuse = (what: string) =>
    new InvalidInput(`${name} in the pushed commit ${what}: builds read only regular files inside the repository.`, {
      suggestions: [`commit ${name} itself instead of a link (git rm --cached ${name}, copy the file in its place, git add ${name})`],
    })
  if (!stat.isSymbolicLink()) throw refuse('is not a regular file')
  let target
  try {
    target = realpathSync(file)
  } catch {
    // The same words as a link out of the checkout: the refusal must not tell which files exist outside it.
    throw refuse('is a symbolic link that leads outside the repository')
  }

  const root = realpathSync(dir)
  if (!target.startsWith(root + sep)) throw refuse('is a symbolic link that leads outside the repository')
  if (!statSync(target).isFile()) throw refuse('is a symbolic link to something that is not a regular file')
  return target
}
