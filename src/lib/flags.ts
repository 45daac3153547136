import {Errors, Flags} from '@oclif/core'

/** Flags shared by commands, with Heroku's letters so muscle memory carries over. */
export const app = Flags.string({char: 'a', description: 'app to run the command against (default: HEROGATE_APP, then the "herogate" git remote)'})
export const region = Flags.string({description: 'AWS region (default: AWS_REGION, then the profile\'s region)', helpGroup: 'AWS'})
export const profile = Flags.string({description: 'AWS profile (default: AWS_PROFILE)', helpGroup: 'AWS'})
export const confirm = Flags.string({description: 'skip the prompt by giving the app name again'})

/** -a plus the AWS location flags: what every app command takes. */
export const appFlags = {app, region, profile}
export const awsFlags = {region, profile}

/**
 * A whole number within a range. oclif's own integer flag names one bound at a time ("greater
 * than or equal to 1"): this one says the whole range, so `-n 0` tells what would work.
 */
export function count(options: {char?: 'n'; description: string; default: number; min: number; max: number}) {
  const {min, max} = options
  return Flags.custom<number>({
    char: options.char,
    description: `${options.description} (${min} to ${max})`,
    default: options.default,
    async parse(input) {
      const value = /^\d+$/.test(input.trim()) ? Number(input) : Number.NaN
      if (!(value >= min && value <= max)) throw new Errors.CLIError(`expected a whole number from ${min} to ${max}, got ${JSON.stringify(input)}`)
      return value
    },
  })()
}
