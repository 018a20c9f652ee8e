import {
  isJsonObject,
  own,
  type JsonObject,
  renderSection,
  type SectionState,
} from '@twinscope/twin';
import type { IdentityRecord } from '../store/model.ts';

/** A row a query reads: a device or module (its twin), or a JSON document (a devices.jobs row). */
export type Row = IdentityRecord | { doc: JsonObject };
import { TWIN_IDENTITY_FIELDS } from '../store/twin-render.ts';
import { QuerySyntaxError, type Expr, type Value } from './ast.ts';

/** Root names match case-insensitively and come back in IoT Hub's casing. */
const ROOTS = new Map(
  [...TWIN_IDENTITY_FIELDS, 'tags', 'properties'].map((name) => [name.toLowerCase(), name]),
);

export function canonicalRoot(name: string): string {
  return ROOTS.get(name.toLowerCase()) ?? name;
}

/** Walks a path through twin data: only its own members, never the prototype chain. */
function descend(value: Value, segments: readonly string[], from: number): Value {
  let current = value;
  for (let i = from; i < segments.length; i++) {
    if (!isJsonObject(current)) return undefined;
    current = own(current, segments[i]!);
  }
  return current;
}

function section(state: SectionState, segments: readonly string[], from: number): Value {
  const key = segments[from];
  if (key === undefined) return renderSection(state);
  if (key === '$version') return from + 1 === segments.length ? state.version : undefined;
  if (key === '$metadata') return descend(state.metadata, segments, from + 1);
  return descend(own(state.values, key), segments, from + 1);
}

/** Reads a dotted path from a twin without building the whole twin document. */
export function resolvePath(record: Row, segments: readonly string[]): Value {
  if ('doc' in record) {
    // `devices.jobs.deviceId` and `deviceId` name the same member of a job row.
    const from =
      segments[0]?.toLowerCase() === 'devices' && segments[1]?.toLowerCase() === 'jobs' ? 2 : 0;
    return from === segments.length ? record.doc : descend(record.doc, segments, from);
  }
  const root = canonicalRoot(segments[0] ?? '');
  const twin = record.twin;
  switch (root) {
    case 'tags':
      return descend(twin.tags, segments, 1);
    case 'properties': {
      const which = segments[1];
      if (which === undefined) {
        return { desired: renderSection(twin.desired), reported: renderSection(twin.reported) };
      }
      if (which === 'desired') return section(twin.desired, segments, 2);
      if (which === 'reported') return section(twin.reported, segments, 2);
      return undefined;
    }
    default: {
      const value = rootValue(record, root);
      return segments.length === 1 ? value : descend(value, segments, 1);
    }
  }
}

function rootValue(record: IdentityRecord, root: string): Value {
  switch (root) {
    case 'deviceId':
      return record.deviceId;
    case 'moduleId':
      return record.moduleId;
    case 'etag':
      return record.twin.etag;
    case 'deviceEtag':
      return record.etag;
    case 'version':
      return record.twin.version;
    case 'status':
      return record.status;
    case 'statusReason':
      return record.statusReason;
    case 'statusUpdateTime':
      return record.statusUpdatedTime;
    case 'connectionState':
      return record.connectionState;
    case 'lastActivityTime':
      return record.lastActivityTime;
    case 'cloudToDeviceMessageCount':
      return record.cloudToDeviceMessageCount;
    case 'authenticationType':
      return record.authentication.type;
    case 'x509Thumbprint':
      return { ...record.authentication.x509Thumbprint };
    case 'modelId':
      return record.twin.modelId;
    case 'capabilities':
      return record.moduleId === undefined
        ? { iotEdge: record.capabilities?.iotEdge ?? false }
        : undefined;
    case 'deviceScope':
      return record.deviceScope;
    case 'parentScopes':
      return record.parentScopes;
    default:
      return undefined;
  }
}

function isPrimitive(value: Value): value is string | number | boolean | null {
  return value === null || ['string', 'number', 'boolean'].includes(typeof value);
}

/** Comparison between primitives of one type; anything else is undefined (row dropped). */
function compare(left: Value, right: Value): number | undefined {
  if (!isPrimitive(left) || !isPrimitive(right)) return undefined;
  if (left === null || right === null) return left === right ? 0 : undefined;
  if (typeof left !== typeof right) return undefined;
  return left < right ? -1 : left > right ? 1 : 0;
}

function truth(value: Value): boolean | undefined {
  return typeof value === 'boolean' ? value : undefined;
}

const FUNCTIONS: Record<string, (args: Value[]) => Value> = Object.assign(Object.create(null), {
  IS_DEFINED: ([a]) => a !== undefined,
  IS_NULL: ([a]) => (a === undefined ? undefined : a === null),
  IS_STRING: ([a]) => typeof a === 'string',
  IS_NUMBER: ([a]) => typeof a === 'number',
  IS_BOOL: ([a]) => typeof a === 'boolean',
  IS_OBJECT: ([a]) => isJsonObject(a),
  IS_ARRAY: ([a]) => Array.isArray(a),
  IS_PRIMITIVE: ([a]) => a !== undefined && isPrimitive(a),
  STARTSWITH: ([a, b]) =>
    typeof a === 'string' && typeof b === 'string' ? a.startsWith(b) : undefined,
  ENDSWITH: ([a, b]) =>
    typeof a === 'string' && typeof b === 'string' ? a.endsWith(b) : undefined,
  CONTAINS: ([a, b]) =>
    typeof a === 'string' && typeof b === 'string' ? a.includes(b) : undefined,
  LOWER: ([a]) => (typeof a === 'string' ? a.toLowerCase() : undefined),
  UPPER: ([a]) => (typeof a === 'string' ? a.toUpperCase() : undefined),
  LENGTH: ([a]) => (typeof a === 'string' ? a.length : undefined),
  ABS: ([a]) => (typeof a === 'number' ? Math.abs(a) : undefined),
  ARRAY_CONTAINS: ([a, b]) =>
    Array.isArray(a) && isPrimitive(b) ? a.some((item) => compare(item, b) === 0) : undefined,
} satisfies Record<string, (args: Value[]) => Value>);
FUNCTIONS['STARTS_WITH'] = FUNCTIONS['STARTSWITH']!;
FUNCTIONS['ENDS_WITH'] = FUNCTIONS['ENDSWITH']!;

/** Fails at parse time on unknown functions, so a typo is a 400 rather than an empty result. */
export function checkFunctions(expr: Expr | undefined): void {
  if (!expr) return;
  switch (expr.kind) {
    case 'call':
      if (!FUNCTIONS[expr.name])
        throw new QuerySyntaxError(`unknown function ${expr.name}`, expr.position);
      expr.args.forEach(checkFunctions);
      return;
    case 'binary':
      checkFunctions(expr.left);
      checkFunctions(expr.right);
      return;
    case 'not':
    case 'negate':
      checkFunctions(expr.operand);
      return;
    case 'in':
      checkFunctions(expr.operand);
      expr.list.forEach(checkFunctions);
      return;
    case 'array':
      expr.items.forEach(checkFunctions);
      return;
    default:
      return;
  }
}

export function evaluate(expr: Expr, record: Row): Value {
  switch (expr.kind) {
    case 'literal':
      return expr.value;
    case 'path':
      return resolvePath(record, expr.segments);
    case 'array':
      return expr.items.map((item) => evaluate(item, record) ?? null);
    case 'not': {
      const value = truth(evaluate(expr.operand, record));
      return value === undefined ? undefined : !value;
    }
    case 'negate': {
      const value = evaluate(expr.operand, record);
      return typeof value === 'number' ? -value : undefined;
    }
    case 'in': {
      const value = evaluate(expr.operand, record);
      if (!isPrimitive(value)) return undefined;
      const found = expr.list.some((item) => compare(value, evaluate(item, record)) === 0);
      return expr.negated ? !found : found;
    }
    case 'call':
      return FUNCTIONS[expr.name]!(expr.args.map((arg) => evaluate(arg, record)));
    case 'binary':
      return binary(expr.operator, expr.left, expr.right, record);
  }
}

function binary(operator: string, leftExpr: Expr, rightExpr: Expr, record: Row): Value {
  if (operator === 'AND' || operator === 'OR') {
    const left = truth(evaluate(leftExpr, record));
    if (operator === 'AND' && left === false) return false;
    if (operator === 'OR' && left === true) return true;
    const right = truth(evaluate(rightExpr, record));
    if (operator === 'AND') return right === false ? false : left && right ? true : undefined;
    return right === true ? true : left === false && right === false ? false : undefined;
  }
  const left = evaluate(leftExpr, record);
  const right = evaluate(rightExpr, record);
  if (['+', '-', '*', '/', '%'].includes(operator)) {
    if (typeof left !== 'number' || typeof right !== 'number') return undefined;
    switch (operator) {
      case '+':
        return left + right;
      case '-':
        return left - right;
      case '*':
        return left * right;
      case '/':
        return right === 0 ? undefined : left / right;
      default:
        return right === 0 ? undefined : left % right;
    }
  }
  const order = compare(left, right);
  if (order === undefined) return undefined;
  switch (operator) {
    case '=':
      return order === 0;
    case '!=':
      return order !== 0;
    case '<':
      return order < 0;
    case '>':
      return order > 0;
    case '<=':
      return order <= 0;
    default:
      return order >= 0;
  }
}
