/**
 * The deepest nesting a JSON body may have before it is parsed. Parsing, validating and
 * merging JSON all recurse, so a body nested thousands deep must be refused by a flat scan
 * first. Twin documents nest at most 10 levels below a section (IoT Hub's rule, checked
 * with its own message); the envelopes around them add a few more.
 */
export const MAX_JSON_DEPTH = 32;

const OPEN_OBJECT = 0x7b;
const OPEN_ARRAY = 0x5b;
const CLOSE_OBJECT = 0x7d;
const CLOSE_ARRAY = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * Scans JSON text (bytes or a string) without parsing it, and answers where it first nests
 * deeper than `maxDepth`, or undefined. Only ASCII brackets and quotes matter, so UTF-8
 * bytes can be scanned as they are. Malformed text is left for the parser to refuse.
 */
export function jsonNestingBeyond(
  text: Uint8Array | string,
  maxDepth = MAX_JSON_DEPTH,
): { position: number } | undefined {
  const at = typeof text === 'string' ? (i: number) => text.charCodeAt(i) : (i: number) => text[i]!;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = at(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      if (++depth > maxDepth) return { position: i };
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      depth--;
    }
  }
  return undefined;
}

/** A plain sentence for a refusal, naming the limit. */
export function jsonNestingMessage(position: number, maxDepth = MAX_JSON_DEPTH): string {
  return `The JSON nests deeper than ${maxDepth} levels (at byte ${position}); it was not read.`;
}
