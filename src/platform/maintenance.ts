import type {OperationOptions} from './types.js'

/**
 * Maintenance mode as Heroku has it: while it is on, every web request gets a 503 maintenance
 * page from the router (AWS: a fixed-response rule of the load balancer in front of the app's
 * rules; locally: the app's router), at once and without a deploy. Processes keep running;
 * one-off processes (run) and other process types are not affected.
 */
export interface Maintenance {
  app: string
  enabled: boolean
  /** Where the page comes from: "default" (herogate's), or the name of the file given to maintenance:on --page. */
  page?: string
}

export interface MaintenanceOptions extends OperationOptions {
  /** maintenance:on --page: an HTML file served instead of the default page (AWS: at most 1024 bytes, the load balancer's limit). */
  page?: string
}

export interface MaintenancePlatform {
  maintenance(app: string): Promise<Maintenance>
  /** Turns maintenance mode on or off; doing it twice is no error (the result says it was already so). */
  setMaintenance(app: string, enabled: boolean, options?: MaintenanceOptions): Promise<Maintenance & {changed: boolean}>
}
