import { isJsonObject, type JsonObject } from '@twinscope/twin';
import type { Found } from './edge-manifest-problem.ts';

const ROUTE_NAME = /^[^.$# ]+$/;
const ROUTE = /^\s*FROM\s+\S[\s\S]*\s+INTO\s+\S/i;

/** `$edgeHub`'s desired properties: the schema version and the routes with their options. */
export function checkHub(desired: JsonObject, problems: Found[]): void {
  const at = ['$edgeHub'];
  if (!['1.0', '1.1', '1.2', '1.3'].includes(String(desired['schemaVersion'])))
    problems.push({ at: [...at, 'schemaVersion'], message: 'schemaVersion is "1.0" to "1.3".' });
  const routes = desired['routes'] ?? {};
  if (!isJsonObject(routes)) {
    problems.push({ at: [...at, 'routes'], message: 'routes maps names to routes.' });
    return;
  }
  for (const [name, route] of Object.entries(routes)) {
    const where = [...at, 'routes', name];
    if (!ROUTE_NAME.test(name))
      problems.push({ at: where, message: 'Route names have no . $ # or spaces.' });
    const text =
      typeof route === 'string' ? route : isJsonObject(route) ? route['route'] : undefined;
    if (typeof text !== 'string' || !ROUTE.test(text))
      problems.push({ at: where, message: 'A route reads FROM <source> … INTO <sink>.' });
    if (isJsonObject(route)) {
      const priority = route['priority'];
      if (
        priority !== undefined &&
        !(Number.isInteger(priority) && Number(priority) >= 0 && Number(priority) <= 9)
      )
        problems.push({ at: [...where, 'priority'], message: 'priority is 0 to 9.' });
      const ttl = route['timeToLiveSecs'];
      if (ttl !== undefined && !(Number.isInteger(ttl) && Number(ttl) >= 0))
        problems.push({
          at: [...where, 'timeToLiveSecs'],
          message: 'timeToLiveSecs is a whole number of seconds.',
        });
    }
  }
}
