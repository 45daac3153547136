import {Flags} from '@oclif/core'

/** Flags shared by commands, with Heroku's letters so muscle memory carries over. */
export const app = Flags.string({char: 'a', description: 'app to run the command against (default: HEROGATE_APP, then the "herogate" git remote)'})
export const region = Flags.string({description: 'AWS region (default: AWS_REGION, then the profile\'s region)', helpGroup: 'AWS'})
export const profile = Flags.string({description: 'AWS profile (default: AWS_PROFILE)', helpGroup: 'AWS'})
export const confirm = Flags.string({description: 'skip the prompt by giving the app name again'})

/** -a plus the AWS location flags: what every app command takes. */
export const appFlags = {app, region, profile}
export const awsFlags = {region, profile}
