import {InvalidInput} from './errors.js'

/**
 * Custom domain names as DNS and ACM take them: RFC 1123 labels (letters, digits, dashes, not
 * at either end, 1 to 63 characters), 253 characters in all, at least two labels, a top label
 * that is not all digits (RFC 3696), lowercase. Wildcards, IP addresses, URLs and ports are
 * refused with what to give instead: a domain is one exact host name.
 */

export const HOSTNAME_MAX = 253
export const LABEL_MAX = 63
const LABEL = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/
const IPV4 = /^\d{1,3}(?:\.\d{1,3}){3}$/

/** Why `input` cannot be a domain of an app, or undefined when it can. */
export function hostnameProblem(input: string): {reason: string; instead?: string} | undefined {
  if (input.trim() === '') return {reason: 'it is empty'}
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(input)) {
    const host = /^[a-z][a-z0-9+.-]*:\/\/([^/:?#]*)/i.exec(input)?.[1]
    return {reason: 'give a host name, not a URL', ...(host ? {instead: host.toLowerCase()} : {})}
  }

  if (IPV4.test(input) || input.includes(':') && /^[0-9a-f:.[\]]+$/i.test(input)) return {reason: 'an IP address is not a host name; point a host name at the app instead'}
  if (input.includes(':')) return {reason: 'give the host name without a port', instead: input.slice(0, input.indexOf(':'))}
  if (input.includes('/')) return {reason: 'give the host name without a path', instead: input.slice(0, input.indexOf('/'))}
  if (input.includes('*')) return {reason: 'wildcard domains are not supported; add each host name on its own'}
  if (input !== input.toLowerCase()) return {reason: 'host names are lowercase', instead: input.toLowerCase()}
  if (input.endsWith('.')) return {reason: 'give it without the trailing dot', instead: input.replace(/\.+$/, '')}
  if (input.length > HOSTNAME_MAX) return {reason: `it is ${input.length} characters long; a host name has at most ${HOSTNAME_MAX}`}
  const labels = input.split('.')
  if (labels.length < 2) return {reason: `a domain has at least two labels (e.g. www.${input}.com)`}
  for (const label of labels) {
    if (label === '') return {reason: 'it has an empty label (two dots in a row, or a leading dot)'}
    if (label.length > LABEL_MAX) return {reason: `its label "${label.slice(0, 20)}..." is ${label.length} characters long; a label has at most ${LABEL_MAX}`}
    if (!LABEL.test(label)) return {reason: `its label "${label}" may only hold letters, digits and dashes, not starting or ending with a dash`}
  }

  if (/^\d+$/.test(labels.at(-1)!)) return {reason: 'its last label is all digits, which no top-level domain is'}
  return undefined
}

/** The host name when it can be a domain; InvalidInput saying why and what to give instead otherwise. */
export function validateHostname(input: string, command = 'domains:add'): string {
  const problem = hostnameProblem(input)
  if (!problem) return input
  throw new InvalidInput(`Invalid domain ${JSON.stringify(input)}: ${problem.reason}.`, {
    suggestions: [`herogate ${command} ${problem.instead && !hostnameProblem(problem.instead) ? problem.instead : 'www.example.com'}`],
  })
}
