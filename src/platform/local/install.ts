import {mkdirSync, writeFileSync} from 'node:fs'
import {homedir} from 'node:os'
import {dirname, join} from 'node:path'

import {HerogateError} from '../../lib/errors.js'
import {entryCommand} from './run.js'

/**
 * `herogate local:install`: a user service that brings every local app back when the user's
 * service manager starts: at login, and at boot with systemd's linger. A supervisor that dies
 * needs none of this (its watchdog starts it again); a reboot does, or apps stay down until
 * a herogate command names them.
 */

export interface ServiceInstall {
  manager: 'systemd' | 'launchd'
  /** The unit or agent written. */
  file: string
  /** What to run once to turn it on: the user's service manager is the user's to change. */
  enable: string[]
  /** What turns it off and removes it again. */
  remove: string[]
}

export interface InstallOptions {
  platform?: NodeJS.Platform
  home?: string
  env?: NodeJS.ProcessEnv
}

export const SYSTEMD_UNIT = 'herogate-local.service'
export const LAUNCHD_LABEL = 'dev.herogate.local'

/** What the service passes on: where the apps live, where their programs are, how routers bind. */
const PASSED_ENV = ['HEROGATE_HOME', 'HEROGATE_BIND', 'PATH', 'LANG', 'LC_ALL', 'TZ']

/** Writes the service for this machine's service manager and says how to turn it on. */
export function installService(options: InstallOptions = {}): ServiceInstall {
  const platform = options.platform ?? process.platform
  const home = options.home ?? homedir()
  const env = {...(options.env ?? process.env)}
  env.HEROGATE_HOME ||= join(home, '.herogate')
  const passed: Record<string, string> = {}
  for (const key of PASSED_ENV) if (env[key]) passed[key] = env[key] as string
  const command = entryCommand('boot-main')

  if (platform === 'linux') {
    const file = join(env.XDG_CONFIG_HOME || join(home, '.config'), 'systemd', 'user', SYSTEMD_UNIT)
    write(file, systemdUnit(command, passed))
    return {
      manager: 'systemd',
      file,
      enable: ['systemctl --user daemon-reload', `systemctl --user enable --now ${SYSTEMD_UNIT}`, `loginctl enable-linger ${env.USER || '$USER'}`],
      remove: [`systemctl --user disable --now ${SYSTEMD_UNIT}`, `rm ${file}`],
    }
  }

  if (platform === 'darwin') {
    const file = join(home, 'Library', 'LaunchAgents', `${LAUNCHD_LABEL}.plist`)
    write(file, launchdAgent(command, passed, join(passed.HEROGATE_HOME, 'boot.log')))
    return {manager: 'launchd', file, enable: [`launchctl load -w ${file}`], remove: [`launchctl unload -w ${file}`, `rm ${file}`]}
  }

  throw new HerogateError(`local:install writes systemd (Linux) and launchd (macOS) services, and this is ${platform}.`, {
    suggestions: ['after a restart, any command for an app brings it back: herogate ps -a APP'],
  })
}

function write(file: string, text: string): void {
  mkdirSync(dirname(file), {recursive: true})
  writeFileSync(file, text, {mode: 0o644})
}

export function systemdUnit(command: string[], env: Record<string, string>): string {
  // Double quotes with C escapes; % starts a specifier everywhere, $ a variable in Exec lines.
  const quote = (text: string, exec: boolean) => {
    const escaped = text.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('%', '%%')
    return `"${exec ? escaped.replaceAll('$', '$$$$') : escaped}"`
  }

  return [
    '[Unit]',
    'Description=herogate local apps: a supervisor and router per app with a release',
    'After=network.target',
    '',
    '[Service]',
    // Starts each app's supervisor (detached, under its own watchdog) and exits; the service
    // stays active, and stopping it stops them all.
    'Type=oneshot',
    'RemainAfterExit=yes',
    ...Object.entries(env).map(([key, value]) => `Environment=${quote(`${key}=${value}`, false)}`),
    `ExecStart=${command.map((part) => quote(part, true)).join(' ')}`,
    '',
    '[Install]',
    'WantedBy=default.target',
    '',
  ].join('\n')
}

export function launchdAgent(command: string[], env: Record<string, string>, log: string): string {
  const xml = (text: string) => text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;')
  const string = (text: string) => `<string>${xml(text)}</string>`
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">',
    '<plist version="1.0">',
    '<dict>',
    `  <key>Label</key>${string(LAUNCHD_LABEL)}`,
    `  <key>ProgramArguments</key><array>${command.map(string).join('')}</array>`,
    `  <key>EnvironmentVariables</key><dict>${Object.entries(env).map(([key, value]) => `<key>${xml(key)}</key>${string(value)}`).join('')}</dict>`,
    '  <key>RunAtLoad</key><true/>',
    // The supervisors it starts outlive it: launchd must not take them down when it exits.
    '  <key>AbandonProcessGroup</key><true/>',
    `  <key>StandardOutPath</key>${string(log)}`,
    `  <key>StandardErrorPath</key>${string(log)}`,
    '</dict>',
    '</plist>',
    '',
  ].join('\n')
}
