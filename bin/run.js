#!/usr/bin/env node
// `node bin/run.js` as before (tests, scripts, the git credential helper): the command itself is bin/run.cjs.
import {createRequire} from 'node:module'

createRequire(import.meta.url)('./run.cjs')
