/** What a deployment manifest's checks find, and where an editor marks it. */

export interface ManifestProblem {
  /** Where, e.g. `$edgeAgent.modules.sensor.settings.createOptions`. */
  path: string;
  /** The same place as keys and indexes from the manifest's root, for an editor's markers. */
  location: (string | number)[];
  message: string;
}

/** A problem found, at a module and the keys inside its desired properties. */
export interface Found {
  at: (string | number)[];
  message: string;
}

/** The one key a manifest sets per module: its desired properties. */
export const DESIRED = 'properties.desired';

/** Problems found as the operator reads them and as the editor marks them. */
export function manifestProblems(found: Found[]): ManifestProblem[] {
  return found.map(({ at, message }) => ({
    path: at.join('.'),
    // modulesContent.<module>["properties.desired"].<rest>
    location: ['modulesContent', at[0]!, ...(at.length > 1 ? [DESIRED, ...at.slice(1)] : [])],
    message,
  }));
}
