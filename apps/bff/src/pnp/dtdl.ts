import { DTMI, type PnpInterface, type PnpModel, type PnpSchema } from '@twinscope/contract';
import { isJsonObject } from '@twinscope/twin';

/** A model that is not valid DTDL, with where (`contents[2].name`) and why. */
export class DtdlError extends Error {
  constructor(
    readonly modelId: string,
    readonly problems: string[],
  ) {
    super(`The model ${modelId} is not valid DTDL: ${problems.slice(0, 3).join('; ')}`);
  }
}

const CONTEXTS: Record<string, 2 | 3> = {
  'dtmi:dtdl:context;2': 2,
  'dtmi:dtdl:context;3': 3,
};
/** Content names: a letter first, letters, digits and `_`, not ending in `_` (v2: 64 long, v3: 512). */
const NAME = /^[A-Za-z](?:[A-Za-z0-9_]*[A-Za-z0-9])?$/;
const PRIMITIVES = new Set([
  'boolean',
  'date',
  'dateTime',
  'double',
  'duration',
  'float',
  'integer',
  'long',
  'string',
  'time',
  // DTDL v3
  'byte',
  'bytes',
  'decimal',
  'short',
  'uuid',
  'unsignedByte',
  'unsignedShort',
  'unsignedInteger',
  'unsignedLong',
]);

type Raw = Record<string, unknown>;
const isObject = (value: unknown): value is Raw => isJsonObject(value);
const typesOf = (value: unknown): string[] =>
  typeof value === 'string' ? [value] : Array.isArray(value) ? value.map(String) : [];
const text = (value: unknown): string | undefined => {
  if (typeof value === 'string') return value;
  // Localized: {"en": "…"}; English first, else any.
  if (isObject(value)) {
    const en = value['en'] ?? Object.values(value)[0];
    return typeof en === 'string' ? en : undefined;
  }
  return undefined;
};
const described = (raw: Raw) => {
  const displayName = text(raw['displayName']);
  const description = text(raw['description']);
  return {
    name: String(raw['name']),
    ...(displayName ? { displayName } : {}),
    ...(description ? { description } : {}),
  };
};

/** An interface's document, found in the files read (a file holds one, or an expanded array). */
export type InterfaceSource = (id: string) => Promise<Raw>;

/** The repository path of a DTMI, as Microsoft's model repository lays them out. */
export function modelPath(dtmi: string): string {
  if (!DTMI.test(dtmi)) throw new Error(`"${dtmi}" is not a DTMI.`);
  return `${dtmi.toLowerCase().replace(/:/g, '/').replace(';', '-')}.json`;
}

/**
 * Reads a device's model (DTDL v2 or v3) into what the console shows: its interface and
 * each component's, every schema resolved, and checked: the context, ids, names (unique,
 * well formed), types and schemas. Problems are listed with where they are.
 */
export async function parseModel(id: string, source: InterfaceSource): Promise<PnpModel> {
  const problems: string[] = [];
  const root = await withExtends(await source(id), source, problems, '');
  const context = typesOf(root['@context'])[0] ?? '';
  const version = CONTEXTS[context];
  if (!version) problems.push(`@context is "${context}", not dtmi:dtdl:context;2 or ;3`);
  // Components' interfaces are found first: a schema an interface lists under `schemas` is
  // referred to by its @id from anywhere in the model, as Microsoft's DTDL parser resolves it.
  // (What went wrong finding them is said after the root interface, in the order of contents.)
  const loading: string[] = [];
  const found: { content: Raw; schema: unknown; inner: Raw; at: string }[] = [];
  for (const [i, content] of (Array.isArray(root['contents']) ? root['contents'] : []).entries()) {
    if (!isObject(content) || !typesOf(content['@type']).includes('Component')) continue;
    const schema = content['schema'];
    const at = `contents[${i}]`;
    let inner: Raw | undefined;
    if (typeof schema === 'string') {
      if (!DTMI.test(schema)) loading.push(`${at}.schema "${schema}" is not a DTMI`);
      else
        inner = await source(schema).catch((error: Error) => {
          loading.push(`${at}.schema ${schema}: ${error.message}`);
          return undefined;
        });
    } else if (isObject(schema)) inner = schema;
    else loading.push(`${at}.schema names no interface`);
    if (!inner) continue;
    inner = await withExtends(inner, source, loading, `${at}.schema.`);
    found.push({ content, schema, inner, at });
  }
  const named = new Map<string, Raw>();
  collectSchemas(root, named, problems, '');
  for (const { inner, at } of found) collectSchemas(inner, named, loading, `${at}.schema.`);
  const read: Reading = {
    version: version ?? 3,
    problems,
    named,
    resolved: new Map(),
    resolving: new Set(),
    parts: 0,
  };
  const rootInterface = readInterface(root, id, read, '');
  problems.push(...loading);
  const components: PnpModel['components'] = found.map(({ content, schema, inner, at }) => {
    const displayName = text(content['displayName']);
    return {
      name: String(content['name']),
      ...(displayName ? { displayName } : {}),
      interface: readInterface(inner, String(inner['@id'] ?? schema), read, `${at}.schema.`),
    };
  });
  if (problems.length > 0) throw new DtdlError(id, problems);
  return { id, dtdlVersion: version!, root: rootInterface, components };
}

/** What reading an interface needs: the DTDL version, where problems go, reusable schemas. */
interface Reading {
  version: 2 | 3;
  problems: string[];
  /** An interface's `schemas` by @id (Object, Enum, Array, Map). */
  named: Map<string, Raw>;
  /** Those read so far, with how deep they nest and how many parts they expand to. */
  resolved: Map<string, { schema: PnpSchema; nesting: number; size: number }>;
  /** Those being read now (one met again inside itself refers to itself). */
  resolving: Set<string>;
  /** Schema parts the model expands to so far (a reusable schema counts at every use). */
  parts: number;
}

/**
 * Parts a model's schemas may expand to. A reusable schema used many times, inside others
 * used many times, multiplies: a few KB of model could otherwise ask for millions.
 */
const MAX_SCHEMA_PARTS = 20_000;

/** The reusable schemas an interface (its parents' included) lists, by their @id. */
function collectSchemas(raw: Raw, named: Map<string, Raw>, problems: string[], at: string): void {
  const schemas = raw['schemas'];
  if (schemas === undefined) return;
  if (!Array.isArray(schemas)) {
    problems.push(`${at}schemas is not an array`);
    return;
  }
  for (const [i, schema] of schemas.entries()) {
    const id = isObject(schema) ? schema['@id'] : undefined;
    if (typeof id !== 'string' || !DTMI.test(id)) {
      problems.push(`${at}schemas[${i}] has no @id that is a DTMI`);
      continue;
    }
    const known = named.get(id);
    if (known && JSON.stringify(known) !== JSON.stringify(schema))
      problems.push(`${at}schemas[${i}] defines ${id} a second time, differently`);
    named.set(id, schema as Raw);
  }
}

/** How deep `extends` may chain (DTDL allows 10), and schemas nest (v3 allows 8). */
const MAX_EXTENDS = 10;
const MAX_SCHEMA_DEPTH = 8;

/**
 * An interface with what it `extends` (a DTMI, an inline interface, or a list of them)
 * brought in: the parents' contents first, then its own, so nothing inherited is lost.
 */
async function withExtends(
  raw: Raw,
  source: InterfaceSource,
  problems: string[],
  at: string,
  depth = 0,
): Promise<Raw> {
  const parents = raw['extends'];
  if (parents === undefined) return raw;
  if (depth >= MAX_EXTENDS) {
    problems.push(`${at}extends chains deeper than ${MAX_EXTENDS} interfaces`);
    return raw;
  }
  const inherited: unknown[] = [];
  const inheritedSchemas: unknown[] = [];
  for (const parent of Array.isArray(parents) ? parents : [parents]) {
    let found: Raw | undefined;
    if (typeof parent === 'string' && DTMI.test(parent))
      found = await source(parent).catch((error: Error) => {
        problems.push(`${at}extends ${parent}: ${error.message}`);
        return undefined;
      });
    else if (isObject(parent)) found = parent;
    else problems.push(`${at}extends ${JSON.stringify(parent)} names no interface`);
    if (!found) continue;
    const expanded = await withExtends(found, source, problems, `${at}extends.`, depth + 1);
    if (Array.isArray(expanded['contents'])) inherited.push(...expanded['contents']);
    if (Array.isArray(expanded['schemas'])) inheritedSchemas.push(...expanded['schemas']);
  }
  const own = Array.isArray(raw['contents']) ? raw['contents'] : [];
  const merged: Raw = { ...raw, contents: [...inherited, ...own] };
  if (inheritedSchemas.length > 0 || raw['schemas'] !== undefined)
    merged['schemas'] = Array.isArray(raw['schemas'])
      ? [...inheritedSchemas, ...raw['schemas']]
      : raw['schemas'] === undefined
        ? inheritedSchemas
        : raw['schemas'];
  return merged;
}

function readInterface(raw: Raw, expected: string, read: Reading, at: string): PnpInterface {
  const { version, problems } = read;
  const id = String(raw['@id'] ?? '');
  if (!DTMI.test(id)) problems.push(`${at}@id "${id}" is not a DTMI`);
  else if (id !== expected) problems.push(`${at}@id is ${id}, but ${expected} was asked for`);
  if (!typesOf(raw['@type']).includes('Interface')) problems.push(`${at}@type is not Interface`);
  if (version === 2 && /;\d+\.\d+$/.test(id))
    problems.push(`${at}@id has a minor version, which DTDL v2 does not allow`);
  const contents = Array.isArray(raw['contents']) ? raw['contents'] : [];
  if (raw['contents'] !== undefined && !Array.isArray(raw['contents']))
    problems.push(`${at}contents is not an array`);
  const result: PnpInterface = {
    id,
    ...(text(raw['displayName']) ? { displayName: text(raw['displayName'])! } : {}),
    ...(text(raw['description']) ? { description: text(raw['description'])! } : {}),
    telemetry: [],
    properties: [],
    commands: [],
  };
  const names = new Set<string>();
  for (const [i, content] of contents.entries()) {
    const where = `${at}contents[${i}]`;
    if (!isObject(content)) {
      problems.push(`${where} is not an object`);
      continue;
    }
    const name = content['name'];
    if (typeof name !== 'string' || !NAME.test(name) || name.length > (version === 2 ? 64 : 512)) {
      problems.push(`${where}.name "${String(name)}" is not a valid name`);
      continue;
    }
    if (names.has(name)) problems.push(`${where}.name "${name}" is used twice`);
    names.add(name);
    const types = typesOf(content['@type']);
    const unit = typeof content['unit'] === 'string' ? { unit: content['unit'] } : {};
    if (types.includes('Telemetry'))
      result.telemetry.push({
        ...described(content),
        schema: readSchema(content['schema'], `${where}.schema`, read),
        ...unit,
      });
    else if (types.includes('Property'))
      result.properties.push({
        ...described(content),
        schema: readSchema(content['schema'], `${where}.schema`, read),
        ...unit,
        writable: content['writable'] === true,
      });
    else if (types.includes('Command')) {
      const payload = (key: 'request' | 'response') => {
        const part = content[key];
        if (part === undefined) return {};
        if (!isObject(part) || typeof part['name'] !== 'string') {
          problems.push(`${where}.${key} needs a name and a schema`);
          return {};
        }
        return {
          [key]: {
            ...described(part),
            schema: readSchema(part['schema'], `${where}.${key}.schema`, read),
          },
        };
      };
      result.commands.push({
        ...described(content),
        ...payload('request'),
        ...payload('response'),
      });
    } else if (!types.includes('Component') && !types.includes('Relationship'))
      problems.push(`${where}.@type ${JSON.stringify(content['@type'])} is not a DTDL content`);
  }
  return result;
}

/** How many levels a schema nests (a primitive or an enum: 0); shared parts walked once. */
function nestingOf(schema: PnpSchema, seen = new WeakMap<PnpSchema, number>()): number {
  const known = seen.get(schema);
  if (known !== undefined) return known;
  const nesting =
    schema.type === 'object'
      ? 1 + Math.max(0, ...schema.fields.map((f) => nestingOf(f.schema, seen)))
      : schema.type === 'array'
        ? 1 + nestingOf(schema.element, seen)
        : schema.type === 'map'
          ? 1 + nestingOf(schema.value, seen)
          : 0;
  seen.set(schema, nesting);
  return nesting;
}

const TOO_LARGE: PnpSchema = { type: 'primitive', name: 'string' };

/**
 * A reusable schema by its @id: read once however often the model uses it (the parts it
 * expands to counted at every use), and never through itself.
 */
function readNamed(id: string, raw: Raw, at: string, read: Reading, depth: number): PnpSchema {
  const known = read.resolved.get(id);
  if (known) {
    if (depth + known.nesting > MAX_SCHEMA_DEPTH)
      read.problems.push(`${at} nests deeper than DTDL allows (${MAX_SCHEMA_DEPTH})`);
    return spend(known.size, at, read) ? known.schema : TOO_LARGE;
  }
  if (read.resolving.has(id)) {
    read.problems.push(`${at} "${id}" refers to itself`);
    return { type: 'primitive', name: 'string' };
  }
  read.resolving.add(id);
  const before = read.parts;
  const schema = readSchema(raw, at, read, depth);
  read.resolving.delete(id);
  read.resolved.set(id, { schema, nesting: nestingOf(schema), size: read.parts - before });
  return schema;
}

/** Counts parts against the model's bound: false past it (the model is refused, once). */
function spend(parts: number, at: string, read: Reading): boolean {
  if (read.parts > MAX_SCHEMA_PARTS) return false;
  read.parts += parts;
  if (read.parts <= MAX_SCHEMA_PARTS) return true;
  read.problems.push(
    `${at}: the model's schemas expand to more than ${MAX_SCHEMA_PARTS} parts (reusable schemas used inside one another)`,
  );
  return false;
}

function readSchema(raw: unknown, at: string, read: Reading, depth = 0): PnpSchema {
  const { problems } = read;
  if (depth > MAX_SCHEMA_DEPTH) {
    problems.push(`${at} nests deeper than DTDL allows (${MAX_SCHEMA_DEPTH})`);
    return { type: 'primitive', name: 'string' };
  }
  if (typeof raw === 'string') {
    // A reusable schema, by the @id an interface's `schemas` gave it.
    const named = read.named.get(raw);
    if (named) return readNamed(raw, named, at, read, depth);
    if (!spend(1, at, read)) return TOO_LARGE;
    if (PRIMITIVES.has(raw)) return { type: 'primitive', name: raw };
    problems.push(
      DTMI.test(raw)
        ? `${at} "${raw}" is no schema the model’s interfaces list under schemas`
        : `${at} "${raw}" is not a DTDL schema`,
    );
    return { type: 'primitive', name: raw };
  }
  if (!isObject(raw)) {
    problems.push(`${at} is missing`);
    return { type: 'primitive', name: 'string' };
  }
  if (!spend(1, at, read)) return TOO_LARGE;
  const type = typesOf(raw['@type'])[0];
  switch (type) {
    case 'Object':
      return {
        type: 'object',
        fields: (Array.isArray(raw['fields']) ? raw['fields'] : [])
          .filter(isObject)
          .map((f, i) => ({
            name: String(f['name']),
            ...(text(f['displayName']) ? { displayName: text(f['displayName'])! } : {}),
            schema: readSchema(f['schema'], `${at}.fields[${i}].schema`, read, depth + 1),
          })),
      };
    case 'Enum': {
      const valueSchema = raw['valueSchema'] === 'integer' ? 'integer' : 'string';
      return {
        type: 'enum',
        valueSchema,
        values: (Array.isArray(raw['enumValues']) ? raw['enumValues'] : [])
          .filter(isObject)
          .map((v) => ({
            name: String(v['name']),
            value: typeof v['enumValue'] === 'number' ? v['enumValue'] : String(v['enumValue']),
            ...(text(v['displayName']) ? { displayName: text(v['displayName'])! } : {}),
          })),
      };
    }
    case 'Array':
      return {
        type: 'array',
        element: readSchema(raw['elementSchema'], `${at}.elementSchema`, read, depth + 1),
      };
    case 'Map': {
      const value = isObject(raw['mapValue']) ? raw['mapValue']['schema'] : undefined;
      return {
        type: 'map',
        value: readSchema(value, `${at}.mapValue.schema`, read, depth + 1),
      };
    }
    default:
      problems.push(`${at} @type ${JSON.stringify(raw['@type'])} is not a DTDL schema`);
      return { type: 'primitive', name: 'string' };
  }
}
