import type {RegisterTaskDefinitionCommandInput, TaskDefinition} from '@aws-sdk/client-ecs'

import {names} from '../../lib/naming.js'
import {DEFAULT_SIZE, sizeFor, sizeSpec} from '../../lib/sizes.js'
import {type AppResources, WEB_PORT} from './resources.js'

/** What makes one process type's task definition: the same builder serves deploy, config change, scale and run. */
export interface ProcessSpec {
  processType: string
  /** Image by digest: repo@sha256:... */
  image: string
  /** Container command; undefined keeps the image's default (no Procfile: the image's default is web). */
  command?: string[]
  /** Container entry point; undefined keeps the image's (buildpack images: /cnb/process/TYPE). */
  entryPoint?: string[]
  size: string
  /** Config var names; each becomes an ECS secret read from SSM at task start. */
  configKeys: string[]
  /**
   * Config var names whose value is empty. SSM cannot hold an empty value, and an empty value
   * carries no secret, so these become plain `environment` entries with the value "".
   */
  emptyKeys?: string[]
  release?: number
}

/** Container name inside every herogate task definition: the process type. */
export function containerName(processType: string): string {
  return processType
}

/** A task's log stream, as the awslogs driver names it: stream prefix / container / task id. */
export function taskLogStream(processType: string, taskId: string): string {
  return `${names.logStreamPrefix(processType)}/${containerName(processType)}/${taskId}`
}

export function taskDefinitionInput(app: string, resources: AppResources, spec: ProcessSpec): RegisterTaskDefinitionCommandInput {
  const {cpu, memory} = sizeSpec(spec.size)
  const web = spec.processType === 'web'
  const environment = [
    {name: 'HEROGATE_PROCESS_TYPE', value: spec.processType},
    ...(spec.release === undefined ? [] : [{name: 'HEROGATE_RELEASE', value: `v${spec.release}`}]),
    ...(web ? [{name: 'PORT', value: String(WEB_PORT)}] : []),
    ...[...(spec.emptyKeys ?? [])].sort().map((key) => ({name: key, value: ''})),
  ]
  const empty = new Set(spec.emptyKeys ?? [])
  return {
    family: names.taskFamily(app, spec.processType),
    requiresCompatibilities: ['FARGATE'],
    networkMode: 'awsvpc',
    cpu: String(cpu),
    memory: String(memory),
    executionRoleArn: resources.executionRoleArn,
    taskRoleArn: resources.taskRoleArn,
    tags: [{key: names.appTag(), value: app}],
    containerDefinitions: [
      {
        name: containerName(spec.processType),
        image: spec.image,
        essential: true,
        // Container-level memory keeps RunTask overrides valid (and emulators happy).
        memory,
        ...(spec.entryPoint ? {entryPoint: spec.entryPoint} : {}),
        ...(spec.command ? {command: spec.command} : {}),
        environment,
        secrets: spec.configKeys.filter((key) => !empty.has(key)).sort().map((key) => ({name: key, valueFrom: names.configParameter(app, key)})),
        ...(web ? {portMappings: [{containerPort: WEB_PORT, protocol: 'tcp' as const}]} : {}),
        logConfiguration: {
          logDriver: 'awslogs' as const,
          options: {
            'awslogs-group': resources.logGroup,
            'awslogs-region': resources.region,
            'awslogs-stream-prefix': names.logStreamPrefix(spec.processType),
          },
        },
      },
    ],
  }
}

/** Reads a ProcessSpec back from a registered task definition (to revise it: new config, new size). */
export function specFromTaskDefinition(processType: string, definition: TaskDefinition): ProcessSpec {
  const container = definition.containerDefinitions?.find((c) => c.name === containerName(processType)) ?? definition.containerDefinitions?.[0]
  const release = container?.environment?.find((e) => e.name === 'HEROGATE_RELEASE')?.value
  const size = sizeFor(definition.cpu, definition.memory)
  const emptyKeys = (container?.environment ?? []).filter((e) => e.name && !e.value && !isHerogateVar(e.name)).map((e) => e.name!)
  return {
    processType,
    image: container?.image ?? '',
    command: container?.command,
    ...(container?.entryPoint?.length ? {entryPoint: container.entryPoint} : {}),
    size: size.includes('/') ? DEFAULT_SIZE : size,
    configKeys: (container?.secrets ?? []).map((s) => s.name!).filter(Boolean),
    ...(emptyKeys.length > 0 ? {emptyKeys} : {}),
    release: release ? Number(release.slice(1)) : undefined,
  }
}

/** Variables herogate itself puts in the environment (never config vars). */
function isHerogateVar(name: string): boolean {
  return name === 'PORT' || name.startsWith('HEROGATE_')
}
