import type { TelemetryEvent } from '@twinscope/contract';
import type { JsonValue } from '@twinscope/twin';

/** Paths into a JSON body whose value is a number, in the order first met (`a.b`, depth ≤ 4). */
export function numericPaths(value: JsonValue, prefix = '', depth = 0, found: string[] = []) {
  if (typeof value === 'number' && Number.isFinite(value) && prefix) {
    if (!found.includes(prefix)) found.push(prefix);
  } else if (value !== null && typeof value === 'object' && !Array.isArray(value) && depth < 4) {
    for (const [key, inner] of Object.entries(value))
      numericPaths(inner, prefix ? `${prefix}.${key}` : key, depth + 1, found);
  }
  return found;
}

/** The number at a dotted path of a JSON value, if it is one. */
export function numberAt(value: JsonValue, path: string): number | null {
  let at: JsonValue | undefined = value;
  for (const key of path.split('.')) {
    if (at === null || typeof at !== 'object' || Array.isArray(at)) return null;
    at = at[key];
  }
  return typeof at === 'number' && Number.isFinite(at) ? at : null;
}

/**
 * The Plug and Play component that sent a message (IoT Hub's `dt-subject`), whose fields are
 * lines of their own: a controller's two thermostats both send `temperature`.
 */
const componentOf = (message: TelemetryEvent): string | undefined => message.system['dt-subject'];

/** A field as the plot names it: `thermostat1/temperature` for a component's, else its path. */
export function plotPath(component: string | undefined, path: string): string {
  return component === undefined ? path : `${component}/${path}`;
}

/** Every numeric path found in the messages' JSON bodies (what can be plotted). */
export function plottablePaths(messages: readonly TelemetryEvent[]): string[] {
  const found: string[] = [];
  for (const message of messages)
    if (message.body.kind === 'json') {
      const component = componentOf(message);
      for (const path of numericPaths(message.body.value)) {
        const named = plotPath(component, path);
        if (!found.includes(named)) found.push(named);
      }
    }
  return found;
}

/**
 * Columns for a line chart: times (epoch seconds, oldest first) and, per path, the value
 * each message carried (null where it carried none, so a line breaks rather than lies).
 */
export function plotColumns(
  messages: readonly TelemetryEvent[],
  paths: readonly string[],
): { times: number[]; values: (number | null)[][] } {
  const json = messages
    .filter((m) => m.body.kind === 'json')
    .map((m) => ({
      at: Date.parse(m.enqueuedTime) / 1000,
      component: componentOf(m),
      body: (m.body as { value: JsonValue }).value,
    }))
    .sort((a, b) => a.at - b.at);
  return {
    times: json.map((m) => m.at),
    values: paths.map((named) =>
      json.map((m) => {
        const prefix = plotPath(m.component, '');
        return named.startsWith(prefix) ? numberAt(m.body, named.slice(prefix.length)) : null;
      }),
    ),
  };
}
