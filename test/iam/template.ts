import {readFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'
import {isMap, isScalar, isSeq, type Node, parseDocument, type YAMLMap, type YAMLSeq} from 'yaml'

/**
 * The IAM policies of a template's roles, resolved for one concrete stack: the intrinsic
 * functions (!Sub, !Ref, !GetAtt, !If...) are evaluated with the stack's parameters and its
 * resources' physical names, as CloudFormation would. Each grant keeps whether a comment
 * stands beside it (a grant no recorded call uses must say why it is there).
 */

export const TEMPLATES = fileURLToPath(new URL('../../templates/', import.meta.url))

export interface StackValues {
  partition: string
  region: string
  account: string
  stackName: string
  stackId: string
  parameters: Record<string, string>
  /** !Ref of each resource (its physical id). */
  refs: Record<string, string>
  /** !GetAtt values, "Resource.Attribute". */
  attributes: Record<string, string>
}

export interface PolicyStatement {
  Effect: 'Allow' | 'Deny'
  Action: string[]
  Resource: string[]
  Condition?: Record<string, Record<string, string | string[]>>
}

export interface RolePolicy {
  /** Logical id of the role. */
  role: string
  name: string
  document: {Version: string; Statement: PolicyStatement[]}
  /** Actions whose grant has a comment beside it (on the action or on its statement). */
  commented: Set<string>
}

type Intrinsic = {fn: string; arg: unknown}

/** The template as plain values, intrinsic tags kept as {fn, arg}. */
export function loadTemplate(file: string): {doc: ReturnType<typeof parseDocument>; body: Record<string, any>} {
  const doc = parseDocument(readFileSync(`${TEMPLATES}${file}`, 'utf8'), {logLevel: 'silent'})
  return {doc, body: toValue(doc.contents as Node) as Record<string, any>}
}

function toValue(node: Node | null | undefined): unknown {
  if (!node) return null
  let value: unknown
  if (isMap(node)) value = Object.fromEntries(node.items.map((pair) => [String((pair.key as {value?: unknown})?.value ?? pair.key), toValue(pair.value as Node)]))
  else if (isSeq(node)) value = node.items.map((item) => toValue(item as Node))
  else value = isScalar(node) ? node.value : null
  const tag = (node as {tag?: string}).tag
  return tag?.startsWith('!') ? {fn: tag.slice(1), arg: value} satisfies Intrinsic : value
}

function isIntrinsic(value: unknown): value is Intrinsic {
  return Boolean(value && typeof value === 'object' && 'fn' in value && 'arg' in value)
}

/**
 * Evaluates intrinsic functions; conditions come from the template's Conditions. `loose`
 * leaves a value nobody knows as <name> instead of failing (resource properties the tests
 * do not read, such as a load balancer's DNS name).
 */
export function resolver(body: Record<string, any>, values: StackValues, options: {loose?: boolean} = {}): (value: unknown) => unknown {
  const pseudo: Record<string, string> = {
    'AWS::Partition': values.partition,
    'AWS::Region': values.region,
    'AWS::AccountId': values.account,
    'AWS::StackName': values.stackName,
    'AWS::StackId': values.stackId,
    'AWS::URLSuffix': 'amazonaws.com',
    'AWS::NoValue': '',
  }
  const ref = (name: string): string => {
    const found = pseudo[name] ?? values.parameters[name] ?? values.refs[name]
    if (found === undefined && options.loose) return `<${name}>`
    if (found === undefined) throw new Error(`No value for !Ref ${name}`)
    return found
  }

  const attribute = (name: string): string => {
    const found = values.attributes[name]
    if (found === undefined && options.loose) return `<${name}>`
    if (found === undefined) throw new Error(`No value for !GetAtt ${name}`)
    return found
  }

  const condition = (name: string): boolean => Boolean(resolve(body.Conditions?.[name]))
  const resolve = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map((item) => resolve(item))
    if (isIntrinsic(value)) {
      const {fn, arg} = value
      switch (fn) {
        case 'Ref': return ref(String(arg))
        case 'GetAtt': return attribute(Array.isArray(arg) ? arg.join('.') : String(arg))
        case 'Sub': {
          const [text, locals] = Array.isArray(arg) ? [String(arg[0]), resolve(arg[1]) as Record<string, string>] : [String(arg), {}]
          return text.replaceAll(/\$\{([^}!]+)\}/g, (_, name: string) => locals[name] ?? (name.includes('.') && !name.startsWith('AWS::') ? attribute(name) : ref(name)))
        }

        case 'Join': {
          // A List<> parameter's !Ref is its comma-separated value here.
          const items = resolve((arg as unknown[])[1])
          return (typeof items === 'string' ? items.split(',') : (items as string[])).join(String((arg as unknown[])[0]))
        }
        case 'If': return condition(String((arg as unknown[])[0])) ? resolve((arg as unknown[])[1]) : resolve((arg as unknown[])[2])
        case 'Equals': return resolve((arg as unknown[])[0]) === resolve((arg as unknown[])[1])
        case 'Not': return !resolve((arg as unknown[])[0])
        case 'And': return (arg as unknown[]).every((item) => resolve(item))
        case 'Or': return (arg as unknown[]).some((item) => resolve(item))
        case 'Condition': return condition(String(arg))
        case 'Select': return (resolve((arg as unknown[])[1]) as unknown[])[Number(resolve((arg as unknown[])[0]))]
        case 'GetAZs': return ['a', 'b', 'c'].map((zone) => `${values.region}${zone}`)
        default: throw new Error(`!${fn} is not evaluated by test/iam/template.ts`)
      }
    }

    if (value && typeof value === 'object') {
      const entries = Object.entries(value).map(([key, item]) => [key, resolve(item)])
      return Object.fromEntries(entries)
    }

    return value
  }

  return resolve
}

/** The inline policies of every AWS::IAM::Role in a template, resolved for one stack. */
export function rolePolicies(file: string, values: StackValues): RolePolicy[] {
  const {doc, body} = loadTemplate(file)
  const resolve = resolver(body, values)
  const policies: RolePolicy[] = []
  for (const [id, resource] of Object.entries(body.Resources as Record<string, any>)) {
    if (resource.Type !== 'AWS::IAM::Role') continue
    const nodes = doc.getIn(['Resources', id, 'Properties', 'Policies'], true) as YAMLSeq | undefined
    for (const [index, policy] of ((resource.Properties.Policies ?? []) as any[]).entries()) {
      const statements = (resolve(policy.PolicyDocument.Statement) as any[]).map((s) => ({
        ...s,
        Action: [s.Action].flat(),
        Resource: [s.Resource].flat(),
      }))
      const statementNodes = (nodes?.items[index] as YAMLMap | undefined)?.getIn(['PolicyDocument', 'Statement'], true) as YAMLSeq | undefined
      policies.push({role: id, name: policy.PolicyName, document: {Version: '2012-10-17', Statement: statements}, commented: commentedActions(statementNodes)})
    }
  }

  return policies
}

/** Actions that have a comment on their own line or on their statement (just above "- Effect"). */
function commentedActions(statements: YAMLSeq | undefined): Set<string> {
  const commented = new Set<string>()
  for (const [index, item] of (statements?.items ?? []).entries()) {
    const statement = item as YAMLMap
    const actionPair = statement.items.find((pair) => (pair.key as {value?: unknown}).value === 'Action')
    const statementComment = statement.commentBefore ?? (index === 0 ? statements!.commentBefore : undefined) ?? (statement.items[0]?.key as Node | undefined)?.commentBefore
    const action = actionPair?.value as Node | undefined
    const scalars = isSeq(action) ? action.items : [action]
    for (const scalar of scalars) {
      if (!isScalar(scalar)) continue
      if (statementComment || scalar.commentBefore || scalar.comment || (actionPair?.key as Node | undefined)?.commentBefore) commented.add(String(scalar.value))
    }
  }

  return commented
}
