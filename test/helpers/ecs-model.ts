import {
  ClientException, ClusterNotFoundException, type ContainerDefinition, type Deployment, InvalidParameterException, type KeyValuePair,
  type Service, ServiceNotActiveException, ServiceNotFoundException, type Tag, type Task, type TaskDefinition, type TaskOverride,
} from '@aws-sdk/client-ecs'
import type {ECSClient} from '@aws-sdk/client-ecs'

/**
 * ECS as its documentation describes it, for tests: a fake ECS client whose state moves with
 * an injected clock. It answers the SDK commands herogate sends (through `client().send`), so
 * the real wrappers (src/aws/ecs.ts, ecs-release.ts, cleanup.ts, cluster.ts) run against it.
 *
 * What it follows, from the ECS API reference and developer guide:
 * - Tasks go PROVISIONING -> PENDING -> RUNNING -> (DEACTIVATING) -> STOPPING -> DEPROVISIONING
 *   -> STOPPED, with stop codes (TaskFailedToStart, EssentialContainerExited, UserInitiated,
 *   ServiceSchedulerInitiated), stopped reasons and container exit codes. Stopped tasks are
 *   listed (desiredStatus STOPPED) for an hour.
 * - Services run a rolling update (minimum/maximum percent) per deployment; a new task
 *   definition or forceNewDeployment makes a new PRIMARY deployment, IN_PROGRESS until its tasks
 *   run (and pass load balancer health checks) and the old tasks are gone, then COMPLETED.
 * - Load balancer health checks of a task are ignored until the service's
 *   healthCheckGracePeriodSeconds have passed since the task started; after that an unhealthy
 *   target's task is stopped ("Task failed ELB health checks in (target-group ...)").
 * - A deployment's failedTasks counts tasks that did not reach RUNNING; once any of its tasks
 *   runs, the count resets to zero and from then on counts only tasks replaced for failing
 *   health checks (reset again by a healthy task). Tasks that run and then exit are not counted.
 *   The circuit breaker fails the deployment at max(3, min(200, ceil(desired / 2))) and, with
 *   rollback, makes the last COMPLETED deployment PRIMARY again.
 * - DeleteService leaves the service DRAINING (not in ListServices, still in DescribeServices)
 *   until its tasks are stopping; then INACTIVE. CreateService of a name that is ACTIVE or
 *   DRAINING fails ("Unable to Start a service that is still Draining."); once INACTIVE it works.
 * - ListTasks with startedBy takes no other filter; ListTaskDefinitions' familyPrefix is a whole
 *   family name, ListTaskDefinitionFamilies' a prefix. INACTIVE task definitions can be described
 *   but not run or put in a service.
 *
 * Where the documentation is silent the model takes a plain reading and says so in `timings`.
 */

export interface Clock {
  now(): Date
}

/** What a task's container does; chosen per task by `behaviour`. */
export interface Behaviour {
  /** The task never starts: it stops with TaskFailedToStart and this reason (e.g. "CannotPullContainerError: ..."). */
  failToStart?: string
  /** The essential container exits this long after the task is RUNNING (0: while starting, before RUNNING). Unset: runs until stopped. */
  exitAfterMs?: number
  /** Exit code when it exits on its own (default: 1 for service tasks, 0 for one-off tasks). */
  exitCode?: number
  /** The app answers health checks from this long after RUNNING; unset: never. */
  listensAfterMs?: number
  /** What the container prints before it exits on its own (to its awslogs stream, through `logSink`). */
  output?: string[]
}

export interface BehaviourContext {
  image: string
  command: string[]
  family: string
  group: string
  startedBy?: string
}

export interface Timings {
  /** Fargate capacity and network interface. */
  provisioningMs: number
  /** Image pull and container start. */
  pendingMs: number
  /** Target group deregistration delay (herogate's template: 5 s). */
  deregistrationDelayMs: number
  /** From SIGTERM to the container's exit. */
  stopMs: number
  deprovisioningMs: number
  healthCheckIntervalMs: number
  healthyThreshold: number
  unhealthyThreshold: number
  /** Not documented, observed: a deleted service shows DRAINING a little while even with no tasks left. */
  drainMinMs: number
  /** "Stopped tasks appear in the returned results for at least one hour." */
  stoppedRetentionMs: number
}

export const DEFAULT_TIMINGS: Timings = {
  provisioningMs: 10_000,
  pendingMs: 20_000,
  deregistrationDelayMs: 5000,
  stopMs: 2000,
  deprovisioningMs: 10_000,
  healthCheckIntervalMs: 5000,
  healthyThreshold: 2,
  unhealthyThreshold: 2,
  drainMinMs: 15_000,
  stoppedRetentionMs: 3_600_000,
}

interface ModelTaskDefinition {
  definition: TaskDefinition
  tags: Tag[]
}

interface ModelDeployment {
  id: string
  status: 'PRIMARY' | 'ACTIVE'
  taskDefinition: string
  desiredCount: number
  failedTasks: number
  /** A task of this deployment reached RUNNING: the circuit breaker's second stage. */
  ran: boolean
  rolloutState: 'IN_PROGRESS' | 'COMPLETED' | 'FAILED'
  rolloutStateReason?: string
  createdAt: number
  updatedAt: number
}

interface ModelService {
  arn: string
  name: string
  cluster: string
  status: 'ACTIVE' | 'DRAINING' | 'INACTIVE'
  desiredCount: number
  taskDefinition: string
  deployments: ModelDeployment[]
  events: Array<{id: string; createdAt: number; message: string}>
  input: Record<string, unknown>
  gracePeriodSeconds: number
  targetGroupArn?: string
  minimumHealthyPercent: number
  maximumPercent: number
  circuitBreaker: {enable: boolean; rollback: boolean}
  createdAt: number
  deletedAt?: number
  tags: Tag[]
}

interface ModelTask {
  arn: string
  id: string
  cluster: string
  taskDefinitionArn: string
  family: string
  group: string
  startedBy?: string
  service?: ModelService
  deployment?: ModelDeployment
  containerName: string
  /** The container's awslogs destination, from its task definition. */
  log?: {group: string; stream: string}
  overrides?: TaskOverride
  tags: Tag[]
  behaviour: Behaviour
  createdAt: number
  lastStatus: string
  desiredStatus: 'RUNNING' | 'STOPPED'
  pullStartedAt?: number
  startedAt?: number
  stoppingAt?: number
  stoppedAt?: number
  stopCode?: Task['stopCode']
  stoppedReason?: string
  exitCode?: number
  containerReason?: string
  /** Load balancer target state. */
  target?: 'initial' | 'healthy' | 'unhealthy'
  passes: number
  fails: number
}

type Handler = (input: any) => unknown

const SERVICE_NAME = /^[a-zA-Z0-9_-]{1,255}$/
const FAMILY = /^[a-zA-Z0-9_-]{1,255}$/
const STARTED_BY = /^[a-zA-Z0-9_/-]{1,128}$/

export class EcsModel {
  readonly timings: Timings
  readonly region: string
  readonly account: string
  /** Every command received: name (without "Command") and input. */
  readonly calls: Array<{command: string; input: any}> = []
  /** What a task's container does; default: service tasks listen at once and never exit, one-off tasks exit 0 after 5 s. */
  behaviour: (context: BehaviourContext) => Behaviour = (context) => this.images.get(context.image) ?? (context.group.startsWith('service:') ? {listensAfterMs: 1000} : {exitAfterMs: 5000})
  /** Behaviour by image, for the default `behaviour`. */
  readonly images = new Map<string, Behaviour>()
  /**
   * Where containers' output goes, as the awslogs driver sends it: group, and stream
   * prefix/container/task id (tests hand it to moto's CloudWatch Logs). Every command waits for
   * what was printed before it answers, so a caller that saw a task stop can read its lines.
   */
  logSink?: (group: string, stream: string, events: Array<{timestamp: number; message: string}>) => Promise<void>
  private readonly printing: Array<Promise<void>> = []

  private readonly clusters: Set<string>
  private readonly definitions = new Map<string, ModelTaskDefinition[]>()
  private readonly services: ModelService[] = []
  private readonly tasks: ModelTask[] = []
  private readonly queue: Array<{at: number; seq: number; run: () => void}> = []
  private t: number
  private seq = 0
  private ids = 0
  private random = 0x2545_f491

  constructor(private readonly clock: Clock, options: {region?: string; account?: string; clusters?: string[]; timings?: Partial<Timings>} = {}) {
    this.region = options.region ?? 'us-east-1'
    this.account = options.account ?? '123456789012'
    this.clusters = new Set(options.clusters ?? ['herogate'])
    this.timings = {...DEFAULT_TIMINGS, ...options.timings}
    this.t = clock.now().getTime()
  }

  /** A stand-in for an ECSClient: its `send` answers the commands below. */
  client(): ECSClient {
    return {
      send: async (command: {input: unknown}) => this.send(command.constructor.name.replace(/Command$/, ''), command.input),
      config: {region: async () => this.region},
      destroy() {},
    } as unknown as ECSClient
  }

  /** How many times a command was sent. */
  count(command: string): number {
    return this.calls.filter((call) => call.command === command).length
  }

  async send(command: string, input: any): Promise<unknown> {
    this.calls.push({command, input})
    this.advance()
    const handler = (this.handlers as Record<string, Handler | undefined>)[command]
    if (!handler) throw new Error(`The ECS model does not implement ${command}`)
    const output = handler.call(this, input ?? {})
    this.reconcileAll()
    while (this.printing.length > 0) await Promise.all(this.printing.splice(0))
    return structuredClone({$metadata: {httpStatusCode: 200}, ...(output as object)})
  }

  /** Brings the model to the clock's time (every call does; tests call it to look at the state). */
  advance(): void {
    const now = this.clock.now().getTime()
    for (;;) {
      this.queue.sort((a, b) => a.at - b.at || a.seq - b.seq)
      const next = this.queue[0]
      if (!next || next.at > now) break
      this.queue.shift()
      this.t = Math.max(this.t, next.at)
      next.run()
      this.reconcileAll()
    }

    this.t = Math.max(this.t, now)
    this.reconcileAll()
  }

  // -------------------------------------------------------------------------------------------
  // Reading the state (tests)

  /** Tasks as DescribeTasks shows them, optionally only those of a service. */
  describe(filter: {service?: string; family?: string} = {}): Task[] {
    this.advance()
    return this.tasks
      .filter((task) => (!filter.service || task.group === `service:${filter.service}`) && (!filter.family || task.family === filter.family))
      .map((task) => this.taskOutput(task, true))
  }

  /** The newest record of a service by name, as DescribeServices shows it. */
  service(name: string, cluster = [...this.clusters][0]): Service | undefined {
    this.advance()
    const service = this.findService(cluster, name)
    return service && this.serviceOutput(service)
  }

  taskDefinitionStatus(arn: string): string | undefined {
    return this.resolveDefinition(arn, {active: false})?.definition.status
  }

  // -------------------------------------------------------------------------------------------
  // Commands

  private readonly handlers = {
    RegisterTaskDefinition(this: EcsModel, input: any) {
      const family = String(input.family ?? '')
      if (!FAMILY.test(family)) throw invalid('Family contains invalid characters or is too long.', ClientException)
      const containers: ContainerDefinition[] = input.containerDefinitions ?? []
      if (containers.length === 0) throw invalid('Container list cannot be empty.', ClientException)
      if (containers.some((c) => !c.name || !c.image)) throw invalid('Container.name and Container.image should not be null or empty.', ClientException)
      if ((input.requiresCompatibilities ?? []).includes('FARGATE')) {
        if (input.networkMode !== 'awsvpc') throw invalid('Fargate only supports network mode \'awsvpc\'.', ClientException)
        if (!input.cpu || !input.memory) throw invalid('Fargate requires that \'cpu\' and \'memory\' be defined at the task level.', ClientException)
      }

      const revisions = this.definitions.get(family) ?? []
      const revision = revisions.length + 1
      const {tags, ...rest} = input
      const definition: TaskDefinition = {
        ...rest,
        taskDefinitionArn: `arn:aws:ecs:${this.region}:${this.account}:task-definition/${family}:${revision}`,
        revision,
        status: 'ACTIVE',
        registeredAt: new Date(this.t),
      }
      revisions.push({definition, tags: tags ?? []})
      this.definitions.set(family, revisions)
      return {taskDefinition: definition, tags: tags ?? []}
    },

    DescribeTaskDefinition(this: EcsModel, input: any) {
      const found = this.resolveDefinition(input.taskDefinition, {active: false})
      if (!found) throw invalid('Unable to describe task definition.', ClientException)
      return {taskDefinition: found.definition, ...(input.include?.includes('TAGS') ? {tags: found.tags} : {})}
    },

    DeregisterTaskDefinition(this: EcsModel, input: any) {
      const reference = String(input.taskDefinition ?? '')
      // A revision must be named: a bare family is refused.
      if (!/:\d+$/.test(reference)) throw invalid('Invalid revision number. Number: ' + reference.split(':').at(-1), ClientException)
      const found = this.resolveDefinition(reference, {active: false})
      if (!found) throw invalid('The specified task definition does not exist.', ClientException)
      if (found.definition.status === 'ACTIVE') {
        found.definition.status = 'INACTIVE'
        found.definition.deregisteredAt = new Date(this.t)
      }

      return {taskDefinition: found.definition}
    },

    ListTaskDefinitions(this: EcsModel, input: any) {
      const status = input.status ?? 'ACTIVE'
      const all = input.familyPrefix ? this.definitions.get(input.familyPrefix) ?? [] : [...this.definitions.values()].flat()
      const arns = all.filter((d) => d.definition.status === status).map((d) => d.definition.taskDefinitionArn!)
      if (input.sort === 'DESC') arns.reverse()
      return page(arns, input, 100, 'taskDefinitionArns')
    },

    ListTaskDefinitionFamilies(this: EcsModel, input: any) {
      const status = input.status ?? 'ALL'
      const families = [...this.definitions.entries()]
        .filter(([family]) => !input.familyPrefix || family.startsWith(input.familyPrefix))
        .filter(([, revisions]) => {
          const active = revisions.some((d) => d.definition.status === 'ACTIVE')
          return status === 'ALL' || (status === 'ACTIVE' ? active : !active)
        })
        .map(([family]) => family)
        .sort()
      return page(families, input, 100, 'families')
    },

    CreateService(this: EcsModel, input: any) {
      const cluster = this.cluster(input.cluster)
      const name = String(input.serviceName ?? '')
      if (!SERVICE_NAME.test(name)) throw invalid('Service name must be 1-255 letters, numbers, hyphens and underscores.')
      const existing = this.findService(cluster, name)
      if (existing?.status === 'DRAINING') throw invalid('Unable to Start a service that is still Draining.')
      if (existing?.status === 'ACTIVE') throw invalid('Creation of service was not idempotent.')
      const definition = this.runnableDefinition(input.taskDefinition)
      this.requireNetwork(definition.definition, input.networkConfiguration)
      const desiredCount = Number(input.desiredCount ?? 0)
      const balancer = input.loadBalancers?.[0]
      const breaker = input.deploymentConfiguration?.deploymentCircuitBreaker
      const service: ModelService = {
        arn: `arn:aws:ecs:${this.region}:${this.account}:service/${cluster}/${name}`,
        name,
        cluster,
        status: 'ACTIVE',
        desiredCount,
        taskDefinition: definition.definition.taskDefinitionArn!,
        deployments: [],
        events: [],
        input,
        gracePeriodSeconds: Number(input.healthCheckGracePeriodSeconds ?? 0),
        targetGroupArn: balancer?.targetGroupArn,
        minimumHealthyPercent: input.deploymentConfiguration?.minimumHealthyPercent ?? 100,
        maximumPercent: input.deploymentConfiguration?.maximumPercent ?? 200,
        circuitBreaker: {enable: Boolean(breaker?.enable), rollback: Boolean(breaker?.rollback)},
        createdAt: this.t,
        tags: input.tags ?? [],
      }
      service.deployments.push(this.deployment(service, service.taskDefinition))
      this.services.push(service)
      return {service: this.serviceOutput(service)}
    },

    UpdateService(this: EcsModel, input: any) {
      const service = this.activeService(input.cluster, input.service)
      if (input.desiredCount !== undefined) service.desiredCount = Number(input.desiredCount)
      if (input.healthCheckGracePeriodSeconds !== undefined) service.gracePeriodSeconds = Number(input.healthCheckGracePeriodSeconds)
      const definition = input.taskDefinition ? this.runnableDefinition(input.taskDefinition).definition.taskDefinitionArn! : service.taskDefinition
      // A new network (security groups, subnets) is a new deployment, as a new task definition is.
      const network = input.networkConfiguration && JSON.stringify(input.networkConfiguration) !== JSON.stringify(service.input.networkConfiguration)
      if (input.networkConfiguration) service.input.networkConfiguration = input.networkConfiguration
      if (definition !== service.taskDefinition || input.forceNewDeployment || network) {
        for (const deployment of service.deployments) deployment.status = 'ACTIVE'
        service.taskDefinition = definition
        service.deployments.unshift(this.deployment(service, definition))
      }

      const primary = service.deployments[0]
      primary.desiredCount = service.desiredCount
      primary.updatedAt = this.t
      return {service: this.serviceOutput(service)}
    },

    DeleteService(this: EcsModel, input: any) {
      const cluster = this.cluster(input.cluster)
      const service = this.findService(cluster, input.service)
      if (!service) throw invalid('Service not found.', ServiceNotFoundException)
      if (service.status === 'INACTIVE') throw invalid('Service was not ACTIVE.', ServiceNotActiveException)
      if (service.status === 'DRAINING') return {service: this.serviceOutput(service)}
      if (service.desiredCount > 0 && !input.force) throw invalid('The service cannot be stopped while it is scaled above 0.')
      service.status = 'DRAINING'
      service.desiredCount = 0
      service.deletedAt = this.t
      for (const deployment of service.deployments) deployment.desiredCount = 0
      for (const task of this.liveTasks(service)) this.stop(task, 'ServiceSchedulerInitiated', `Scaling activity initiated by (deployment ${service.deployments[0].id})`)
      return {service: this.serviceOutput(service)}
    },

    DescribeServices(this: EcsModel, input: any) {
      const cluster = this.cluster(input.cluster)
      const wanted: string[] = input.services ?? []
      if (wanted.length > 10) throw invalid('services can have at most 10 items.')
      const services: Service[] = []
      const failures: Array<{arn: string; reason: string}> = []
      for (const reference of wanted) {
        const service = this.findService(cluster, reference)
        if (service) services.push(this.serviceOutput(service, input.include?.includes('TAGS')))
        else failures.push({arn: reference.startsWith('arn:') ? reference : `arn:aws:ecs:${this.region}:${this.account}:service/${cluster}/${reference}`, reason: 'MISSING'})
      }

      return {services, failures}
    },

    ListServices(this: EcsModel, input: any) {
      const cluster = this.cluster(input.cluster)
      const arns = this.services.filter((s) => s.cluster === cluster && s.status === 'ACTIVE').map((s) => s.arn)
      return page(arns, input, 10, 'serviceArns')
    },

    RunTask(this: EcsModel, input: any) {
      const cluster = this.cluster(input.cluster)
      const found = this.runnableDefinition(input.taskDefinition)
      const definition = found.definition
      this.requireNetwork(definition, input.networkConfiguration)
      if (input.startedBy !== undefined && !STARTED_BY.test(input.startedBy)) throw invalid('startedBy may only contain letters, numbers, hyphens, slashes and underscores (up to 128).')
      for (const override of input.overrides?.containerOverrides ?? []) {
        if (!definition.containerDefinitions!.some((c) => c.name === override.name)) {
          throw invalid(`Override for container named ${override.name} is not a container in the TaskDefinition.`)
        }
      }

      const count = Number(input.count ?? 1)
      if (count < 1 || count > 10) throw invalid('count must be between 1 and 10.')
      const tasks: Task[] = []
      for (let i = 0; i < count; i++) {
        const task = this.launch({
          cluster, definition, group: input.group ?? `family:${definition.family}`, startedBy: input.startedBy, overrides: input.overrides,
          tags: [...(input.tags ?? []), ...(input.propagateTags === 'TASK_DEFINITION' ? found.tags : [])],
        })
        tasks.push(this.taskOutput(task, true))
      }

      return {tasks, failures: []}
    },

    StopTask(this: EcsModel, input: any) {
      const cluster = this.cluster(input.cluster)
      const task = this.findTask(cluster, input.task)
      if (!task) throw invalid('The referenced task was not found.')
      this.stop(task, 'UserInitiated', input.reason || 'Task stopped by user')
      return {task: this.taskOutput(task, false)}
    },

    ListTasks(this: EcsModel, input: any) {
      const cluster = this.cluster(input.cluster)
      if (input.startedBy !== undefined && (input.serviceName !== undefined || input.family !== undefined || input.containerInstance !== undefined)) {
        throw invalid('When startedBy is specified, it must be the only filter.')
      }

      if (input.serviceName !== undefined && !this.findService(cluster, input.serviceName)) throw invalid('Service not found.', ServiceNotFoundException)
      const desired = input.desiredStatus ?? 'RUNNING'
      const arns = this.tasks
        .filter((task) => task.cluster === cluster)
        .filter((task) => (desired === 'STOPPED' ? task.desiredStatus === 'STOPPED' : desired === 'RUNNING' ? task.desiredStatus === 'RUNNING' : false))
        .filter((task) => input.serviceName === undefined || task.group === `service:${this.findService(cluster, input.serviceName)!.name}`)
        .filter((task) => input.family === undefined || task.family === input.family)
        .filter((task) => input.startedBy === undefined || task.startedBy === input.startedBy)
        .map((task) => task.arn)
      return page(arns, input, 100, 'taskArns')
    },

    DescribeTasks(this: EcsModel, input: any) {
      const cluster = this.cluster(input.cluster)
      const wanted: string[] = input.tasks ?? []
      if (wanted.length > 100) throw invalid('tasks can have at most 100 items.')
      const tasks: Task[] = []
      const failures: Array<{arn: string; reason: string}> = []
      for (const reference of wanted) {
        const task = this.findTask(cluster, reference)
        if (task) tasks.push(this.taskOutput(task, input.include?.includes('TAGS')))
        else failures.push({arn: reference, reason: 'MISSING'})
      }

      return {tasks, failures}
    },
  }

  // -------------------------------------------------------------------------------------------
  // Tasks

  private launch(options: {cluster: string; definition: TaskDefinition; group: string; startedBy?: string; overrides?: TaskOverride; tags: Tag[]; service?: ModelService; deployment?: ModelDeployment}): ModelTask {
    const {definition} = options
    const container = definition.containerDefinitions![0]
    const override = options.overrides?.containerOverrides?.find((o) => o.name === container.name)
    const command = override?.command ?? container.command ?? []
    const behaviour = this.behaviour({image: container.image!, command, family: definition.family!, group: options.group, startedBy: options.startedBy})
    const id = this.taskId()
    const logOptions = container.logConfiguration?.logDriver === 'awslogs' ? container.logConfiguration.options : undefined
    const task: ModelTask = {
      arn: `arn:aws:ecs:${this.region}:${this.account}:task/${options.cluster}/${id}`,
      id,
      cluster: options.cluster,
      taskDefinitionArn: definition.taskDefinitionArn!,
      family: definition.family!,
      group: options.group,
      startedBy: options.startedBy,
      service: options.service,
      deployment: options.deployment,
      containerName: container.name!,
      ...(logOptions?.['awslogs-group'] ? {log: {group: logOptions['awslogs-group'], stream: `${logOptions['awslogs-stream-prefix']}/${container.name}/${id}`}} : {}),
      overrides: options.overrides,
      tags: options.tags,
      behaviour,
      createdAt: this.t,
      lastStatus: 'PROVISIONING',
      desiredStatus: 'RUNNING',
      passes: 0,
      fails: 0,
    }
    this.tasks.push(task)
    this.at(this.timings.provisioningMs, () => {
      if (task.desiredStatus !== 'RUNNING') return
      task.lastStatus = 'PENDING'
      task.pullStartedAt = this.t
      this.at(this.timings.pendingMs, () => this.start(task))
    })
    return task
  }

  private start(task: ModelTask): void {
    if (task.desiredStatus !== 'RUNNING') return
    const {behaviour} = task
    if (behaviour.failToStart) {
      task.containerReason = behaviour.failToStart
      this.failedBeforeRunning(task)
      this.stop(task, 'TaskFailedToStart', behaviour.failToStart)
      return
    }

    if (behaviour.exitAfterMs === 0) {
      this.print(task)
      task.exitCode = this.exitCodeOf(task)
      this.failedBeforeRunning(task)
      this.stop(task, 'EssentialContainerExited', 'Essential container in task exited')
      return
    }

    task.lastStatus = 'RUNNING'
    task.startedAt = this.t
    const deployment = task.deployment
    if (deployment && !deployment.ran) {
      // Stage 1 of the circuit breaker is over: the failures so far no longer count.
      deployment.ran = true
      deployment.failedTasks = 0
    }

    if (task.service?.targetGroupArn) {
      task.target = 'initial'
      this.event(task.service, `registered 1 targets in (target-group ${task.service.targetGroupArn})`)
      this.scheduleHealthCheck(task)
    }

    if (behaviour.exitAfterMs !== undefined) {
      this.at(behaviour.exitAfterMs, () => {
        if (task.desiredStatus !== 'RUNNING') return
        this.print(task)
        task.exitCode = this.exitCodeOf(task)
        this.stop(task, 'EssentialContainerExited', 'Essential container in task exited')
      })
    }
  }

  /** The container's output, sent to its log stream as it exits. */
  private print(task: ModelTask): void {
    const lines = task.behaviour.output
    if (!lines?.length || !task.log || !this.logSink) return
    this.printing.push(this.logSink(task.log.group, task.log.stream, lines.map((message) => ({timestamp: this.t, message}))))
  }

  private exitCodeOf(task: ModelTask): number {
    return task.behaviour.exitCode ?? (task.service ? 1 : 0)
  }

  private scheduleHealthCheck(task: ModelTask): void {
    this.at(this.timings.healthCheckIntervalMs, () => {
      if (task.lastStatus !== 'RUNNING' || task.desiredStatus !== 'RUNNING') return
      const {listensAfterMs} = task.behaviour
      const passes = listensAfterMs !== undefined && this.t - task.startedAt! >= listensAfterMs
      task.passes = passes ? task.passes + 1 : 0
      task.fails = passes ? 0 : task.fails + 1
      if (task.target !== 'healthy' && task.passes >= this.timings.healthyThreshold) {
        task.target = 'healthy'
        // resetOnHealthyTask (default true): a healthy task resets the failure count.
        if (task.deployment) task.deployment.failedTasks = 0
      } else if (task.target !== 'unhealthy' && task.fails >= this.timings.unhealthyThreshold) {
        task.target = 'unhealthy'
      }

      const service = task.service!
      const inGrace = this.t < task.startedAt! + service.gracePeriodSeconds * 1000
      if (task.target === 'unhealthy' && !inGrace) {
        this.event(service, `(task ${task.id}) (port 5000) is unhealthy in (target-group ${service.targetGroupArn}) due to (reason Health checks failed).`)
        if (task.deployment) this.countFailure(task.deployment, service)
        this.stop(task, 'ServiceSchedulerInitiated', `Task failed ELB health checks in (target-group ${service.targetGroupArn})`)
        return
      }

      this.scheduleHealthCheck(task)
    })
  }

  /** Stage 1 of the circuit breaker: a task that never reached RUNNING. */
  private failedBeforeRunning(task: ModelTask): void {
    if (task.deployment && !task.deployment.ran) this.countFailure(task.deployment, task.service!)
  }

  private countFailure(deployment: ModelDeployment, service: ModelService): void {
    deployment.failedTasks++
    if (!service.circuitBreaker.enable || deployment.status !== 'PRIMARY' || deployment.rolloutState !== 'IN_PROGRESS') return
    const threshold = Math.min(200, Math.max(3, Math.ceil(deployment.desiredCount / 2)))
    if (deployment.failedTasks < threshold) return
    deployment.rolloutState = 'FAILED'
    deployment.rolloutStateReason = `ECS deployment circuit breaker: ${deployment.ran ? 'tasks failed health checks' : 'tasks failed to start'}.`
    this.event(service, `(deployment ${deployment.id}) deployment failed: ${deployment.ran ? 'tasks failed health checks' : 'tasks failed to start'}.`)
    if (!service.circuitBreaker.rollback) return
    const back = service.deployments.find((d) => d !== deployment && d.rolloutState === 'COMPLETED')
    // Without a completed deployment to go back to, the deployment stalls.
    if (!back) return
    deployment.status = 'ACTIVE'
    back.status = 'PRIMARY'
    back.rolloutState = 'IN_PROGRESS'
    back.desiredCount = service.desiredCount
    back.updatedAt = this.t
    service.deployments = [back, ...service.deployments.filter((d) => d !== back)]
    service.taskDefinition = back.taskDefinition
    this.event(service, `rolling back to deployment ${back.id}.`)
  }

  private stop(task: ModelTask, stopCode: NonNullable<Task['stopCode']>, reason: string): void {
    if (task.desiredStatus === 'STOPPED') return
    task.desiredStatus = 'STOPPED'
    task.stopCode = stopCode
    task.stoppedReason = reason
    task.stoppingAt = this.t
    if (task.lastStatus === 'PROVISIONING' || task.lastStatus === 'PENDING') {
      task.lastStatus = 'DEPROVISIONING'
      this.at(this.timings.deprovisioningMs, () => this.stopped(task))
      return
    }

    const exited = task.exitCode !== undefined
    const stopping = () => {
      task.lastStatus = 'STOPPING'
      this.at(exited ? 0 : this.timings.stopMs, () => {
        // A container stopped by ECS gets SIGTERM; a well-behaved app exits 0.
        if (task.exitCode === undefined) task.exitCode = 0
        task.lastStatus = 'DEPROVISIONING'
        this.at(this.timings.deprovisioningMs, () => this.stopped(task))
      })
    }

    if (task.target && task.lastStatus === 'RUNNING') {
      task.lastStatus = 'DEACTIVATING'
      this.at(this.timings.deregistrationDelayMs, stopping)
    } else {
      stopping()
    }
  }

  private stopped(task: ModelTask): void {
    task.lastStatus = 'STOPPED'
    task.stoppedAt = this.t
    this.at(this.timings.stoppedRetentionMs, () => {
      this.tasks.splice(this.tasks.indexOf(task), 1)
    })
  }

  // -------------------------------------------------------------------------------------------
  // The service scheduler

  private deployment(service: ModelService, taskDefinition: string): ModelDeployment {
    return {
      id: `ecs-svc/${String(1_000_000_000_000_000_000n + BigInt(++this.ids))}`,
      status: 'PRIMARY',
      taskDefinition,
      desiredCount: service.desiredCount,
      failedTasks: 0,
      ran: false,
      rolloutState: 'IN_PROGRESS',
      createdAt: this.t,
      updatedAt: this.t,
    }
  }

  private liveTasks(service: ModelService): ModelTask[] {
    return this.tasks.filter((task) => task.service === service && task.desiredStatus === 'RUNNING')
  }

  private healthy(task: ModelTask): boolean {
    return task.lastStatus === 'RUNNING' && task.desiredStatus === 'RUNNING' && (!task.service?.targetGroupArn || task.target === 'healthy')
  }

  private reconcileAll(): void {
    for (const service of this.services) this.reconcile(service)
  }

  private reconcile(service: ModelService): void {
    if (service.status === 'DRAINING') {
      const left = this.tasks.filter((task) => task.service === service && ['PROVISIONING', 'PENDING', 'RUNNING', 'DEACTIVATING'].includes(task.lastStatus))
      if (left.length === 0 && this.t >= service.deletedAt! + this.timings.drainMinMs) service.status = 'INACTIVE'
      return
    }

    if (service.status !== 'ACTIVE') return
    const primary = service.deployments[0]
    const live = this.liveTasks(service)
    const ours = live.filter((task) => task.deployment === primary)
    const desired = service.desiredCount
    if (primary.rolloutState !== 'FAILED') {
      const launch = Math.min(desired - ours.length, Math.floor((desired * service.maximumPercent) / 100) - live.length)
      const started: ModelTask[] = []
      const definition = this.resolveDefinition(primary.taskDefinition, {active: false})!.definition
      for (let i = 0; i < launch; i++) {
        const task = this.launch({cluster: service.cluster, definition, group: `service:${service.name}`, startedBy: primary.id, tags: service.input.propagateTags === 'SERVICE' ? service.tags : [], service, deployment: primary})
        started.push(task)
        ours.push(task)
        live.push(task)
      }

      if (started.length > 0) this.event(service, `has started ${started.length} tasks: ${started.map((t) => `(task ${t.id})`).join(' ')}.`)
    }

    // Rolling update: old tasks go once enough new ones are healthy (minimum healthy percent).
    const healthyOurs = ours.filter((task) => this.healthy(task)).length
    const keepOld = Math.max(0, Math.ceil((desired * service.minimumHealthyPercent) / 100) - healthyOurs)
    const old = live.filter((task) => task.deployment !== primary)
    const surplus = [...old.slice(keepOld), ...(ours.length > desired ? ours.slice(desired) : [])]
    if (surplus.length > 0) {
      for (const task of surplus) this.stop(task, 'ServiceSchedulerInitiated', `Scaling activity initiated by (deployment ${primary.id})`)
      this.event(service, `has stopped ${surplus.length} running tasks: ${surplus.map((t) => `(task ${t.id})`).join(' ')}.`)
    }

    const othersLeft = this.tasks.some((task) => task.service === service && task.deployment !== primary && task.lastStatus !== 'STOPPED')
    if (primary.rolloutState === 'IN_PROGRESS' && healthyOurs === desired && ours.length === desired && !othersLeft) {
      primary.rolloutState = 'COMPLETED'
      primary.rolloutStateReason = 'ECS deployment completed.'
      primary.updatedAt = this.t
      service.deployments = [primary]
      this.event(service, `(deployment ${primary.id}) deployment completed.`)
      this.event(service, 'has reached a steady state.')
    }
  }

  private event(service: ModelService, message: string): void {
    service.events.unshift({id: `event-${++this.ids}`, createdAt: this.t, message: `(service ${service.name}) ${message}`})
    service.events.length = Math.min(service.events.length, 100)
  }

  // -------------------------------------------------------------------------------------------
  // Lookups and shapes

  private at(delayMs: number, run: () => void): void {
    this.queue.push({at: this.t + delayMs, seq: ++this.seq, run})
  }

  private cluster(reference: string | undefined): string {
    const name = (reference ?? 'default').replace(/^arn:aws:ecs:[^:]+:\d+:cluster\//, '')
    if (!this.clusters.has(name)) throw invalid('Cluster not found.', ClusterNotFoundException)
    return name
  }

  private findService(cluster: string, reference: string): ModelService | undefined {
    const name = reference.slice(reference.lastIndexOf('/') + 1)
    const records = this.services.filter((s) => s.cluster === cluster && s.name === name)
    return records.find((s) => s.status !== 'INACTIVE') ?? records.at(-1)
  }

  private activeService(clusterReference: string, reference: string): ModelService {
    const service = this.findService(this.cluster(clusterReference), reference)
    if (!service) throw invalid('Service not found.', ServiceNotFoundException)
    if (service.status !== 'ACTIVE') throw invalid('Service was not ACTIVE.', ServiceNotActiveException)
    return service
  }

  private findTask(cluster: string, reference: string): ModelTask | undefined {
    const id = reference.slice(reference.lastIndexOf('/') + 1)
    return this.tasks.find((task) => task.cluster === cluster && task.id === id)
  }

  private resolveDefinition(reference: string, options: {active: boolean}): ModelTaskDefinition | undefined {
    const short = String(reference ?? '').replace(/^arn:aws:ecs:[^:]+:\d+:task-definition\//, '')
    const [family, revision] = short.split(':')
    const revisions = this.definitions.get(family) ?? []
    if (revision === undefined) return revisions.filter((d) => d.definition.status === 'ACTIVE').at(-1)
    const found = revisions[Number(revision) - 1]
    return found && (!options.active || found.definition.status === 'ACTIVE') ? found : undefined
  }

  /** A task definition that may start tasks: INACTIVE ones may not. */
  private runnableDefinition(reference: string): ModelTaskDefinition {
    const found = this.resolveDefinition(reference, {active: false})
    if (!found) throw invalid('Unable to describe task definition.', ClientException)
    if (found.definition.status !== 'ACTIVE') throw invalid('TaskDefinition is inactive', ClientException)
    return found
  }

  private requireNetwork(definition: TaskDefinition, network: any): void {
    if (definition.networkMode === 'awsvpc' && !network?.awsvpcConfiguration?.subnets?.length) {
      throw invalid('Network Configuration must be provided when networkMode \'awsvpc\' is specified.')
    }
  }

  private taskId(): string {
    let id = ''
    while (id.length < 32) {
      // xorshift32: ids look random (and differ in their first 7 characters) yet are the same every run.
      this.random ^= this.random << 13
      this.random ^= this.random >>> 17
      this.random ^= this.random << 5
      this.random >>>= 0
      id += this.random.toString(16).padStart(8, '0')
    }

    return id
  }

  private taskOutput(task: ModelTask, withTags = false): Task {
    const date = (ms?: number) => (ms === undefined ? undefined : new Date(ms))
    return {
      taskArn: task.arn,
      clusterArn: `arn:aws:ecs:${this.region}:${this.account}:cluster/${task.cluster}`,
      taskDefinitionArn: task.taskDefinitionArn,
      group: task.group,
      ...(task.startedBy ? {startedBy: task.startedBy} : {}),
      launchType: 'FARGATE',
      lastStatus: task.lastStatus,
      desiredStatus: task.desiredStatus,
      createdAt: date(task.createdAt),
      pullStartedAt: date(task.pullStartedAt),
      startedAt: date(task.startedAt),
      stoppingAt: date(task.stoppingAt),
      stoppedAt: date(task.stoppedAt),
      ...(task.stopCode ? {stopCode: task.stopCode, stoppedReason: task.stoppedReason} : {}),
      ...(task.overrides ? {overrides: task.overrides} : {}),
      ...(task.service?.targetGroupArn && task.lastStatus === 'RUNNING' ? {healthStatus: 'UNKNOWN' as const} : {}),
      containers: [{
        name: task.containerName,
        taskArn: task.arn,
        lastStatus: task.lastStatus === 'STOPPED' || task.exitCode !== undefined ? 'STOPPED' : task.lastStatus === 'RUNNING' ? 'RUNNING' : 'PENDING',
        ...(task.exitCode === undefined ? {} : {exitCode: task.exitCode}),
        ...(task.containerReason ? {reason: task.containerReason} : {}),
      }],
      ...(withTags ? {tags: task.tags} : {}),
    }
  }

  private serviceOutput(service: ModelService, withTags = false): Service {
    const counts = (filter: (task: ModelTask) => boolean) => {
      const live = this.tasks.filter((task) => task.service === service && task.desiredStatus === 'RUNNING' && filter(task))
      return {
        runningCount: live.filter((task) => task.lastStatus === 'RUNNING').length,
        pendingCount: live.filter((task) => task.lastStatus === 'PROVISIONING' || task.lastStatus === 'PENDING').length,
      }
    }

    const deployments: Deployment[] = service.deployments.map((d) => ({
      id: d.id,
      status: d.status,
      taskDefinition: d.taskDefinition,
      desiredCount: d.desiredCount,
      ...counts((task) => task.deployment === d),
      failedTasks: d.failedTasks,
      createdAt: new Date(d.createdAt),
      updatedAt: new Date(d.updatedAt),
      launchType: 'FARGATE',
      rolloutState: d.rolloutState,
      ...(d.rolloutStateReason ? {rolloutStateReason: d.rolloutStateReason} : {}),
    }))
    return {
      serviceArn: service.arn,
      serviceName: service.name,
      clusterArn: `arn:aws:ecs:${this.region}:${this.account}:cluster/${service.cluster}`,
      status: service.status,
      desiredCount: service.desiredCount,
      ...counts(() => true),
      launchType: 'FARGATE',
      taskDefinition: service.taskDefinition,
      deploymentConfiguration: {
        minimumHealthyPercent: service.minimumHealthyPercent,
        maximumPercent: service.maximumPercent,
        deploymentCircuitBreaker: service.circuitBreaker,
      },
      deployments,
      events: service.events.map((e) => ({id: e.id, createdAt: new Date(e.createdAt), message: e.message})),
      createdAt: new Date(service.createdAt),
      ...(service.targetGroupArn ? {loadBalancers: service.input.loadBalancers as Service['loadBalancers'], healthCheckGracePeriodSeconds: service.gracePeriodSeconds} : {}),
      networkConfiguration: service.input.networkConfiguration as Service['networkConfiguration'],
      ...(withTags ? {tags: service.tags} : {}),
    }
  }
}

function invalid(message: string, Type: new (options: {message: string; $metadata: object}) => Error = InvalidParameterException): Error {
  return new Type({message, $metadata: {httpStatusCode: 400}})
}

function page<T>(items: T[], input: {nextToken?: string; maxResults?: number}, defaultSize: number, key: string): Record<string, unknown> {
  const size = Math.min(input.maxResults ?? defaultSize, 100)
  const start = input.nextToken ? Number(input.nextToken) : 0
  const slice = items.slice(start, start + size)
  return {[key]: slice, ...(start + size < items.length ? {nextToken: String(start + size)} : {})}
}

/** Environment value of a task definition's first container (tests read HEROGATE_RELEASE with it). */
export function environmentOf(definition: TaskDefinition, name: string): string | undefined {
  return definition.containerDefinitions?.[0]?.environment?.find((entry: KeyValuePair) => entry.name === name)?.value
}
