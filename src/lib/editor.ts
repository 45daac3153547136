import {spawn} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {HerogateError} from './errors.js'

/** The user's editor, as git finds it: $VISUAL, then $EDITOR, then vi. */
export function editorCommand(env: NodeJS.ProcessEnv = process.env): string {
  return env.VISUAL || env.EDITOR || 'vi'
}

/**
 * Opens `text` in the user's editor and resolves with what was saved. The file lives in a
 * directory only the user can read (it holds config values) and is removed whatever happens.
 * An editor that exits non-zero is a refusal: it throws and nothing is read.
 */
export async function editText(text: string, fileName: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'herogate-edit-'))
  const file = join(dir, fileName)
  try {
    writeFileSync(file, text, {mode: 0o600})
    const editor = editorCommand()
    // Through the shell, as git does: EDITOR may carry arguments ("code --wait").
    const code = await new Promise<number>((resolve, reject) => {
      const child = spawn('sh', ['-c', `${editor} "$1"`, 'sh', file], {stdio: 'inherit'})
      child.once('error', reject)
      child.once('exit', (status, signal) => resolve(status ?? (signal ? 128 : 1)))
    })
    if (code !== 0) {
      throw new HerogateError(`The editor (${editor}) exited with status ${code}: nothing was changed.`, {suggestions: ['export EDITOR=nano (or your editor), then try again']})
    }

    return readFileSync(file, 'utf8')
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
}
