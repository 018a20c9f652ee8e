import type { InitialTwin } from '@twinscope/contract';
import { isJsonObject, validateSection, type JsonObject } from '@twinscope/twin';
import { parseJsonText } from '../../lib/json-text.ts';

/**
 * An enrollment's initial twin as the operator edits it: the shape of a twin document
 * (`{ "tags": {…}, "properties": { "desired": {…} } }`), so what is typed reads like the twin
 * the device will start from, and IoT Hub's rule violations point at the same places.
 */
export interface InitialTwinDoc {
  tags: JsonObject;
  properties: { desired: JsonObject };
}

/** Something that keeps the document from being saved, and where (for editor markers). */
export interface InitialTwinProblem {
  message: string;
  /** Where in the document, e.g. `properties.desired.telemetry`. */
  path?: string;
  /** Keys from the document root, for the editor's squiggle. */
  location?: (string | number)[];
  /** Or a character offset (a JSON syntax error). */
  offset?: number;
}

export type InitialTwinCheck =
  { ok: true; twin: InitialTwin } | { ok: false; problems: InitialTwinProblem[] };

export const docOfInitialTwin = (twin: InitialTwin): InitialTwinDoc => ({
  tags: twin.tags,
  properties: { desired: twin.desired },
});

/** The editor's text for an initial twin. */
export function initialTwinText(twin: InitialTwin): string {
  return `${JSON.stringify(docOfInitialTwin(twin), null, 2)}\n`;
}

const SHAPE = 'An initial twin is { "tags": {…}, "properties": { "desired": {…} } }.';

/** The keys of `value` other than `allowed`, each as a problem pointing at it. */
function extraKeys(
  value: JsonObject,
  allowed: readonly string[],
  at: string[],
  explain: (key: string) => string,
): InitialTwinProblem[] {
  return Object.keys(value)
    .filter((key) => !allowed.includes(key))
    .map((key) => ({
      message: explain(key),
      path: [...at, key].join('.'),
      location: [...at, key],
    }));
}

/**
 * Reads the editor's text back into an InitialTwin, checked as IoT Hub checks a twin it
 * stores: the same key, value, depth and size rules the twin editor pre-flights, on whole
 * sections (a stored twin has no null: null only deletes a key in a patch). Empty text is an
 * empty initial twin.
 */
export function checkInitialTwin(text: string): InitialTwinCheck {
  if (text.trim() === '') return { ok: true, twin: { tags: {}, desired: {} } };
  const parsed = parseJsonText(text, 'The initial twin');
  if (!parsed.ok) {
    const { message, offset } = parsed;
    return { ok: false, problems: [{ message, ...(offset !== undefined ? { offset } : {}) }] };
  }
  const doc = parsed.value;
  if (!isJsonObject(doc)) return { ok: false, problems: [{ message: SHAPE }] };
  const problems = extraKeys(
    doc,
    ['tags', 'properties'],
    [],
    (key) => `"${key}" is not part of an initial twin: only tags and properties.desired are.`,
  );
  const tags = doc['tags'] ?? {};
  const properties = doc['properties'] ?? {};
  const desired = isJsonObject(properties) ? (properties['desired'] ?? {}) : {};
  if (!isJsonObject(tags))
    problems.push({ message: 'tags is a JSON object.', path: 'tags', location: ['tags'] });
  if (!isJsonObject(properties))
    problems.push({
      message: 'properties is a JSON object holding desired.',
      path: 'properties',
      location: ['properties'],
    });
  else
    problems.push(
      ...extraKeys(properties, ['desired'], ['properties'], (key) =>
        key === 'reported'
          ? 'Reported properties come from the device: an initial twin sets only tags and desired properties.'
          : `"${key}" is not part of an initial twin: only properties.desired is.`,
      ),
    );
  if (!isJsonObject(desired))
    problems.push({
      message: 'properties.desired is a JSON object.',
      path: 'properties.desired',
      location: ['properties', 'desired'],
    });
  if (problems.length > 0 || !isJsonObject(tags) || !isJsonObject(desired))
    return { ok: false, problems };
  const violations = [...validateSection('tags', tags), ...validateSection('desired', desired)];
  if (violations.length > 0)
    return {
      ok: false,
      problems: violations.map(({ message, path, location }) => ({ message, path, location })),
    };
  return { ok: true, twin: { tags, desired } };
}

/** The first problem in words, naming where it is. */
export const describeProblem = (problem: InitialTwinProblem): string =>
  problem.path ? `${problem.path}: ${problem.message}` : problem.message;
