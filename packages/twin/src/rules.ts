import { joinPath, type JsonObject, type JsonValue } from './json.ts';

/** IoT Hub's limits for twin documents ("Tags and properties format", "Device twin size"). */
export const TWIN_LIMITS = {
  keyBytes: 1024,
  stringBytes: 4096,
  depth: 10,
  maxSafeInteger: 4503599627370495,
  minSafeInteger: -4503599627370496,
  sectionBytes: { tags: 8 * 1024, desired: 32 * 1024, reported: 32 * 1024 },
} as const;

export type TwinSectionName = keyof typeof TWIN_LIMITS.sectionBytes;

export type TwinRuleCode =
  | 'key-empty'
  | 'key-forbidden-character'
  | 'key-too-long'
  | 'depth-exceeded'
  | 'string-too-long'
  | 'integer-out-of-range'
  | 'number-not-finite'
  | 'null-not-allowed'
  | 'invalid-type'
  | 'section-too-large';

export interface TwinViolation {
  /** Where the problem is, e.g. `properties.desired.telemetry["send.rate"]`. */
  path: string;
  /** The same place as keys and indexes, from the twin root: `['properties', 'desired', 'a']`. */
  location: (string | number)[];
  code: TwinRuleCode;
  message: string;
}

const SECTION_PATH: Record<TwinSectionName, string> = {
  tags: 'tags',
  desired: 'properties.desired',
  reported: 'properties.reported',
};

const SECTION_LOCATION: Record<TwinSectionName, string[]> = {
  tags: ['tags'],
  desired: ['properties', 'desired'],
  reported: ['properties', 'reported'],
};

const encoder = new TextEncoder();
const utf8Length = (text: string): number => encoder.encode(text).length;

// C0 and C1 control characters, plus the characters IoT Hub reserves in property names.
// eslint-disable-next-line no-control-regex
const FORBIDDEN_KEY_CHARACTER = /[\u0000-\u001f\u007f-\u009f.$ ]/;
// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/g;

export function checkKey(
  key: string,
  path: string,
  location: (string | number)[] = [],
): TwinViolation | undefined {
  if (key.length === 0) {
    return { path, location, code: 'key-empty', message: 'Property names cannot be empty.' };
  }
  const bad = FORBIDDEN_KEY_CHARACTER.exec(key);
  if (bad) {
    const shown =
      bad[0] === ' ' ? 'a space' : /[.$]/.test(bad[0]) ? `"${bad[0]}"` : 'a control character';
    return {
      path,
      location,
      code: 'key-forbidden-character',
      message: `Property name "${key}" contains ${shown}; IoT Hub forbids ".", "$", spaces and control characters in names.`,
    };
  }
  if (utf8Length(key) > TWIN_LIMITS.keyBytes) {
    return { path, location, code: 'key-too-long', message: 'Property names are limited to 1 KB.' };
  }
  return undefined;
}

interface WalkOptions {
  /** Patches may carry null to delete a key; whole documents may not. */
  allowNull: boolean;
}

function checkValue(
  value: JsonValue,
  path: string,
  location: (string | number)[],
  depth: number,
  options: WalkOptions,
  out: TwinViolation[],
): void {
  if (value === null) {
    if (!options.allowNull) {
      out.push({
        path,
        location,
        code: 'null-not-allowed',
        message: 'null is only meaningful in a patch, where it deletes the key.',
      });
    }
    return;
  }
  switch (typeof value) {
    case 'boolean':
      return;
    case 'string':
      if (utf8Length(value) > TWIN_LIMITS.stringBytes) {
        out.push({
          path,
          location,
          code: 'string-too-long',
          message: 'String values are limited to 4 KB.',
        });
      }
      return;
    case 'number':
      if (!Number.isFinite(value)) {
        out.push({ path, location, code: 'number-not-finite', message: 'Numbers must be finite.' });
      } else if (
        Number.isInteger(value) &&
        (value > TWIN_LIMITS.maxSafeInteger || value < TWIN_LIMITS.minSafeInteger)
      ) {
        out.push({
          path,
          location,
          code: 'integer-out-of-range',
          message: `Integers must lie between ${TWIN_LIMITS.minSafeInteger} and ${TWIN_LIMITS.maxSafeInteger}.`,
        });
      }
      return;
    case 'object':
      break;
    default:
      out.push({
        path,
        location,
        code: 'invalid-type',
        message: `Values of type ${typeof value} are not JSON.`,
      });
      return;
  }
  if (depth > TWIN_LIMITS.depth) {
    out.push({
      path,
      location,
      code: 'depth-exceeded',
      message: `Objects may be nested at most ${TWIN_LIMITS.depth} levels deep.`,
    });
    return;
  }
  if (Array.isArray(value)) {
    // Array items are values, not patches: null inside an array is kept as data.
    value.forEach((item, i) =>
      checkValue(item, joinPath(path, i), [...location, i], depth + 1, { allowNull: true }, out),
    );
    return;
  }
  for (const [key, child] of Object.entries(value)) {
    const childPath = joinPath(path, key);
    const childLocation = [...location, key];
    const keyProblem = checkKey(key, childPath, childLocation);
    if (keyProblem) out.push(keyProblem);
    checkValue(child, childPath, childLocation, depth + 1, options, out);
  }
}

/**
 * The size IoT Hub charges a section: key lengths plus value sizes, with strings counted by
 * characters (control characters excluded), numbers as 8 bytes and booleans as 4.
 * `$metadata` and `$version` are read-only and not counted.
 */
export function sectionSize(values: JsonObject): number {
  let size = 0;
  for (const [key, value] of Object.entries(values)) {
    if (key === '$metadata' || key === '$version') continue;
    size += utf8Length(key) + valueSize(value);
  }
  return size;
}

function valueSize(value: JsonValue): number {
  if (value === null) return 0;
  if (typeof value === 'string') return utf8Length(value.replace(CONTROL_CHARACTERS, ''));
  if (typeof value === 'number') return 8;
  if (typeof value === 'boolean') return 4;
  if (Array.isArray(value)) return value.reduce<number>((sum, item) => sum + valueSize(item), 0);
  return sectionSize(value);
}

function sizeViolation(section: TwinSectionName, values: JsonObject): TwinViolation[] {
  const size = sectionSize(values);
  const limit = TWIN_LIMITS.sectionBytes[section];
  if (size <= limit) return [];
  return [
    {
      path: SECTION_PATH[section],
      location: SECTION_LOCATION[section],
      code: 'section-too-large',
      message: `${SECTION_PATH[section]} would be ${size} bytes; IoT Hub allows ${limit / 1024} KB.`,
    },
  ];
}

function checkMembers(
  section: TwinSectionName,
  values: JsonObject,
  options: WalkOptions,
): TwinViolation[] {
  const out: TwinViolation[] = [];
  const root = SECTION_PATH[section];
  for (const [key, child] of Object.entries(values)) {
    const path = joinPath(root, key);
    const location = [...SECTION_LOCATION[section], key];
    const keyProblem = checkKey(key, path, location);
    if (keyProblem) out.push(keyProblem);
    checkValue(child, path, location, 1, options, out);
  }
  return out;
}

/** Checks a whole section document (tags, desired or reported) as it would be stored. */
export function validateSection(section: TwinSectionName, values: JsonObject): TwinViolation[] {
  return [
    ...checkMembers(section, values, { allowNull: false }),
    ...sizeViolation(section, values),
  ];
}

/**
 * Checks a merge patch for one section, and the section that applying it would produce
 * (for size). `result` is the section after the patch; pass it when it is known.
 */
export function validateSectionPatch(
  section: TwinSectionName,
  patch: JsonObject,
  result?: JsonObject,
): TwinViolation[] {
  const out = checkMembers(section, patch, { allowNull: true });
  return result ? [...out, ...sizeViolation(section, result)] : out;
}
