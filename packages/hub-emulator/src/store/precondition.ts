import { HubError } from '../errors.ts';

/** An If-Match value (or a bulk item's eTag): quotes and a weak `W/` prefix removed; `*` kept. */
export function parsePrecondition(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const value = header.trim().replace(/^W\//, '');
  const unquoted =
    value.startsWith('"') && value.endsWith('"') && value.length >= 2 ? value.slice(1, -1) : value;
  if (!unquoted) throw new HubError('ArgumentInvalid', 'If-Match is empty.');
  return unquoted;
}
