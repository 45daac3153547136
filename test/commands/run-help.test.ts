import {expect} from 'chai'

import Run from '../../src/commands/run.js'

describe('run --help', () => {
  it('says -e values are visible in AWS task details and where secrets belong', () => {
    expect(Run.description).to.include('-e values are not secret: on AWS they travel in the task\'s plain environment overrides, which DescribeTasks and CloudTrail show.')
    expect(Run.description).to.include('Put secrets in config vars (herogate config:set), which reach the process as ECS secrets.')
    expect(Run.flags.env.description).to.equal('extra environment for this process, KEY=VALUE; several split by ";" as Heroku takes them, or -e repeated (visible in AWS task details, not for secrets)')
  })
})
