import {spawn} from 'node:child_process'

/** Opens `url` in the user's browser; resolves false when none can be opened (no display, no opener). */
export async function openBrowser(url: string): Promise<boolean> {
  if (process.env.HEROGATE_NO_BROWSER || (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY)) return false
  const [command, args] =
    process.platform === 'darwin' ? ['open', [url]] : process.platform === 'win32' ? ['cmd', ['/c', 'start', '', url]] : ['xdg-open', [url]]
  return new Promise((resolve) => {
    const child = spawn(command, args as string[], {stdio: 'ignore', detached: true})
    child.once('error', () => resolve(false))
    child.once('exit', (code) => resolve(code === 0))
    child.unref()
  })
}
