import { parseJson, type JsonValue } from '@twinscope/twin';

/** JSON typed by a person: its value, or why it is not JSON and where (for editor markers). */
export type ParsedJson =
  { ok: true; value: JsonValue } | { ok: false; message: string; offset?: number };

export function parseJsonText(text: string, what: string): ParsedJson {
  try {
    return { ok: true, value: parseJson(text) };
  } catch (error) {
    const message = error instanceof Error ? error.message : 'not valid JSON';
    const position = /position (\d+)/.exec(message);
    return {
      ok: false,
      message: `${what} is not valid JSON: ${message}`,
      ...(position ? { offset: Number(position[1]) } : {}),
    };
  }
}
