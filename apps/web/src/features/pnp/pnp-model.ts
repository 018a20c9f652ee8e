import type { PnpModel, PnpSchema, Twin } from '@twinscope/contract';
import {
  deepEqual,
  isJsonObject,
  objectOf,
  own,
  type JsonObject,
  type JsonValue,
} from '@twinscope/twin';

/** A component of a device's model: the default one (no name) first, then the named ones. */
export interface ComponentView {
  /** Undefined: the device's own interface (the default component). */
  name: string | undefined;
  title: string;
  interface: PnpModel['root'];
}

export function componentsOf(model: PnpModel): ComponentView[] {
  const own = model.root;
  const hasOwn = own.telemetry.length + own.properties.length + own.commands.length > 0;
  return [
    ...(hasOwn
      ? [{ name: undefined, title: own.displayName ?? 'This device', interface: own }]
      : []),
    ...model.components.map((c) => ({
      name: c.name,
      title: `${c.displayName ?? c.interface.displayName ?? c.name} (${c.name})`,
      interface: c.interface,
    })),
  ];
}

const UNITS: Record<string, string> = {
  degreeCelsius: '°C',
  degreeFahrenheit: '°F',
  kelvin: 'K',
  percent: '%',
  kilobyte: 'KB',
  megabyte: 'MB',
  gigabyte: 'GB',
  byte: 'B',
  second: 's',
  millisecond: 'ms',
  minute: 'min',
  hour: 'h',
  metrePerSecond: 'm/s',
  kilometrePerHour: 'km/h',
  watt: 'W',
  kilowatt: 'kW',
  volt: 'V',
  ampere: 'A',
  pascal: 'Pa',
  hectopascal: 'hPa',
};

/** A DTDL unit as it is written beside a value (°C for degreeCelsius). */
export function unitText(unit: string | undefined): string | undefined {
  return unit === undefined ? undefined : (UNITS[unit] ?? unit);
}

/** The command's name as the hub invokes it: `component*command`, or the command alone. */
export function commandName(component: string | undefined, name: string): string {
  return component === undefined ? name : `${component}*${name}`;
}

/**
 * The desired patch the Plug and Play convention prescribes for a writable property: at the
 * root for the default component; under the component, marked `"__t": "c"`, for a named one.
 */
export function writablePatch(
  component: string | undefined,
  name: string,
  value: JsonValue,
): JsonObject {
  return component === undefined ? { [name]: value } : { [component]: { __t: 'c', [name]: value } };
}

/** A component's part of a twin section (the section itself for the default component). */
const objectAt = (section: JsonObject, component: string | undefined): JsonObject =>
  component === undefined ? section : objectOf(own(section, component));

/** The desired version that last set this property (its `$metadata`), else the section's. */
function askedVersion(desired: JsonObject, component: string | undefined, name: string): number {
  const metadata = own(objectAt(objectOf(own(desired, '$metadata')), component), name);
  const version = isJsonObject(metadata) ? metadata['$lastUpdatedVersion'] : undefined;
  if (typeof version === 'number') return version;
  return typeof desired['$version'] === 'number' ? desired['$version'] : 0;
}

export type WritableState =
  | { kind: 'not-set'; reported?: JsonValue }
  | { kind: 'pending'; desired: JsonValue; since: number }
  | { kind: 'applied'; desired: JsonValue; description?: string }
  | { kind: 'refused'; desired: JsonValue; status: number; description?: string };

/**
 * Where a writable property stands: what was asked (desired) against the device's
 * acknowledgement (`{value, ac, av, ad}` in reported). Pending until the device acknowledges
 * the desired version that set it (its `$metadata.$lastUpdatedVersion`, so another
 * property's change does not reopen it), applied when it answers 200 with the value,
 * pending on 202 (accepted, under way), refused on a 4xx/5xx.
 */
export function writableState(
  twin: Twin,
  component: string | undefined,
  name: string,
): WritableState {
  const desiredSection = twin.properties.desired as JsonObject;
  const desired = own(objectAt(desiredSection, component), name);
  const version = askedVersion(desiredSection, component, name);
  const ack = own(objectAt(twin.properties.reported as JsonObject, component), name);
  const acked = isJsonObject(ack) ? ack : undefined;
  if (desired === undefined)
    return acked && 'value' in acked
      ? { kind: 'not-set', reported: acked['value']! }
      : { kind: 'not-set' };
  const status = typeof acked?.['ac'] === 'number' ? acked['ac'] : undefined;
  const ackVersion = typeof acked?.['av'] === 'number' ? acked['av'] : -1;
  const description = typeof acked?.['ad'] === 'string' ? { description: acked['ad'] } : {};
  // 200 with the value: applied. 202 means accepted and still under way: pending.
  const succeeded = status !== undefined && status >= 200 && status < 300 && status !== 202;
  if (succeeded && deepEqual(acked?.['value'], desired))
    return { kind: 'applied', desired, ...description };
  if (status !== undefined && status >= 400 && ackVersion >= version)
    return { kind: 'refused', desired, status, ...description };
  return { kind: 'pending', desired, since: version };
}

/** A read-only property's reported value (a component's under its name). */
export function reportedValue(twin: Twin, component: string | undefined, name: string) {
  return own(objectAt(twin.properties.reported as JsonObject, component), name);
}

/** What an operator typed, as the schema's value: numbers, booleans, text, or JSON for the rest. */
export function valueOf(schema: PnpSchema, text: string): { value: JsonValue } | { error: string } {
  const trimmed = text.trim();
  if (schema.type === 'primitive') {
    switch (schema.name) {
      case 'double':
      case 'float':
      case 'decimal':
      case 'integer':
      case 'long':
      case 'short':
      case 'byte':
      case 'unsignedByte':
      case 'unsignedShort':
      case 'unsignedInteger':
      case 'unsignedLong': {
        const n = Number(trimmed);
        if (trimmed === '' || !Number.isFinite(n)) return { error: `A number (${schema.name}).` };
        if (!['double', 'float', 'decimal'].includes(schema.name) && !Number.isInteger(n))
          return { error: `A whole number (${schema.name}).` };
        return { value: n };
      }
      case 'boolean':
        if (trimmed === 'true' || trimmed === 'false') return { value: trimmed === 'true' };
        return { error: 'true or false.' };
      default:
        return { value: text };
    }
  }
  if (schema.type === 'enum') {
    const match = schema.values.find((v) => v.name === trimmed || String(v.value) === trimmed);
    return match
      ? { value: match.value }
      : { error: `One of ${schema.values.map((v) => v.name).join(', ')}.` };
  }
  try {
    return { value: JSON.parse(trimmed) as JsonValue };
  } catch {
    return { error: 'JSON for this schema.' };
  }
}

/** A schema in a few words ("double", "object: maxTemp, minTemp", "enum: off, on"). */
export function schemaText(schema: PnpSchema): string {
  switch (schema.type) {
    case 'primitive':
      return schema.name;
    case 'object':
      return `object: ${schema.fields.map((f) => f.name).join(', ')}`;
    case 'enum':
      return `enum: ${schema.values.map((v) => v.name).join(', ')}`;
    case 'array':
      return `array of ${schemaText(schema.element)}`;
    case 'map':
      return `map of ${schemaText(schema.value)}`;
  }
}

/**
 * Names and units of telemetry fields for the plot, by the plot's path: `temperature` for
 * the default component's, `thermostat1/temperature` for a component's.
 */
export function telemetryFields(model: PnpModel): Record<string, { name?: string; unit?: string }> {
  const fields: Record<string, { name?: string; unit?: string }> = {};
  const parts = [
    { prefix: '', part: model.root },
    ...model.components.map((c) => ({ prefix: `${c.name}/`, part: c.interface })),
  ];
  for (const { prefix, part } of parts)
    for (const t of part.telemetry) {
      const unit = unitText(t.unit);
      // By the plot's path: a component's telemetry arrives with its name (`dt-subject`).
      fields[`${prefix}${t.name}`] ??= {
        ...(t.displayName ? { name: t.displayName } : {}),
        ...(unit ? { unit } : {}),
      };
    }
  return fields;
}
