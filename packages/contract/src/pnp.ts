/**
 * A Digital Twin Model Identifier: `dtmi:<segments>;<version>` (DTDL v2 and v3; v3 allows a
 * minor version). Segments start with a letter and do not end with `_`.
 */
export const DTMI =
  /^dtmi:[A-Za-z](?:[A-Za-z0-9_]*[A-Za-z0-9])?(?::[A-Za-z](?:[A-Za-z0-9_]*[A-Za-z0-9])?)*;[1-9][0-9]{0,8}(?:\.[1-9][0-9]{0,5})?$/;

/** A DTDL schema as the console draws a form or a value for it. */
export type PnpSchema =
  | { type: 'primitive'; name: string }
  | { type: 'object'; fields: { name: string; displayName?: string; schema: PnpSchema }[] }
  | {
      type: 'enum';
      valueSchema: 'integer' | 'string';
      values: { name: string; value: string | number; displayName?: string }[];
    }
  | { type: 'array'; element: PnpSchema }
  | { type: 'map'; value: PnpSchema };

interface Described {
  name: string;
  displayName?: string;
  description?: string;
}

/** An interface's telemetry, properties and commands, as the console shows and fills them. */
export interface PnpInterface {
  id: string;
  displayName?: string;
  description?: string;
  telemetry: (Described & { schema: PnpSchema; unit?: string })[];
  properties: (Described & { schema: PnpSchema; unit?: string; writable: boolean })[];
  commands: (Described & {
    request?: Described & { schema: PnpSchema };
    response?: Described & { schema: PnpSchema };
  })[];
}

/** A device's model: its own interface (the default component) and its components. */
export interface PnpModel {
  id: string;
  dtdlVersion: 2 | 3;
  root: PnpInterface;
  components: { name: string; displayName?: string; interface: PnpInterface }[];
}
