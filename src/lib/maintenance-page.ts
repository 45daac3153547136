import {readFileSync, statSync} from 'node:fs'
import {basename} from 'node:path'

import {InvalidInput} from './errors.js'

/**
 * The page every web request gets while an app is in maintenance mode, unless maintenance:on
 * --page gives one. Small enough for an AWS load balancer's fixed response (1024 bytes at most),
 * so both platforms serve the same page.
 */
export const DEFAULT_MAINTENANCE_PAGE = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Down for maintenance</title>
<style>body{font-family:system-ui,sans-serif;margin:0;background:#f4f5f7;color:#333}main{max-width:32rem;margin:20vh auto;padding:2rem;text-align:center}h1{font-size:1.5rem;font-weight:600}</style>
</head>
<body>
<main>
<h1>Down for maintenance</h1>
<p>This app is being worked on right now. Please come back in a little while.</p>
</main>
</body>
</html>
`

/** The largest message body an Application Load Balancer fixed-response action takes. */
export const AWS_PAGE_LIMIT = 1024

/** A page file for maintenance:on --page, read and checked: a readable file of text within `limit` bytes. */
export function readMaintenancePage(file: string, limit: number, where: string): {name: string; body: string} {
  let size: number
  try {
    const stat = statSync(file)
    if (!stat.isFile()) throw new InvalidInput(`--page ${file} is not a file.`, {suggestions: ['herogate maintenance:on --page maintenance.html']})
    size = stat.size
  } catch (error) {
    if (error instanceof InvalidInput) throw error
    throw new InvalidInput(`--page ${file} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'}).`, {suggestions: ['herogate maintenance:on --page maintenance.html']})
  }

  if (size === 0) throw new InvalidInput(`--page ${file} is empty.`, {suggestions: ['herogate maintenance:on (herogate\'s own page)']})
  if (size > limit) {
    throw new InvalidInput(`--page ${file} has ${size} bytes; ${where} serves at most ${limit}.`, {
      suggestions: [`make the page smaller (inline CSS, no images), or link to a page you host from a short one`, 'herogate maintenance:on (herogate\'s own page)'],
    })
  }

  const body = readFileSync(file, 'utf8')
  if (body.includes('\u0000')) throw new InvalidInput(`--page ${file} is not a text file.`, {suggestions: ['herogate maintenance:on --page maintenance.html']})
  return {name: basename(file), body}
}
