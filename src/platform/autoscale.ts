import type {OperationOptions} from './types.js'

/**
 * Autoscaling of a process type between a minimum and a maximum count, on a target: the
 * average CPU of its processes, or (web only) requests per process per minute. AWS: Application
 * Auto Scaling target tracking on the type's ECS service. The local platform refuses it: one
 * machine has no capacity to add.
 */
export type AutoscaleMetric = 'cpu' | 'requests-per-process'

export interface Autoscaling {
  type: string
  min: number
  max: number
  metric: AutoscaleMetric
  /** cpu: average CPU percent; requests-per-process: requests per process per minute. */
  target: number
}

export interface AutoscaleResult {
  autoscaling?: Autoscaling
  /** The type's process count now (the autoscaler changes it from here). */
  quantity: number
  notes: string[]
}

export interface AutoscalePlatform {
  /** The app's autoscaled process types (none: every type is scaled by hand). */
  autoscaling(app: string): Promise<Autoscaling[]>
  /** Turns autoscaling on for a type, or changes its bounds or target. */
  autoscale(app: string, settings: Autoscaling, options?: OperationOptions): Promise<AutoscaleResult>
  /** Back to scaling by hand: the count stays where the autoscaler left it. */
  disableAutoscale(app: string, type: string, options?: OperationOptions): Promise<AutoscaleResult>
}
