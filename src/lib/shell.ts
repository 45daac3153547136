/** Quotes a value for a POSIX shell when it needs it (config --shell). */
export function shellQuote(value: string): string {
  return /^[\w@%+=:,./-]*$/.test(value) && value !== '' ? value : `'${value.replaceAll("'", "'\\''")}'`
}

/** "A", "A and B", "A, B and C". */
export function listWords(words: string[]): string {
  return words.length <= 1 ? words.join('') : `${words.slice(0, -1).join(', ')} and ${words.at(-1)}`
}
