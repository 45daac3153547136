/**
 * Splits `run`'s argv where the command starts, so the command's own flags are never parsed
 * as herogate's: `herogate run -a demo rake db:migrate --trace` runs `rake db:migrate --trace`.
 * herogate's flags may come first; the first other word (or whatever follows `--`) starts the command.
 */
export function splitAtCommand(argv: string[], flags: {withValue: string[]; boolean: string[]}): {flagArgv: string[]; command: string[]} {
  const flagArgv: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]
    if (word === '--') return {flagArgv, command: argv.slice(i + 1)}
    const name = word.split('=')[0]
    if (flags.boolean.includes(name) || (word.includes('=') && flags.withValue.includes(name))) {
      flagArgv.push(word)
    } else if (flags.withValue.includes(word)) {
      flagArgv.push(word, ...argv.slice(i + 1, i + 2))
      i++
    } else {
      return {flagArgv, command: argv.slice(i)}
    }
  }

  return {flagArgv, command: []}
}
