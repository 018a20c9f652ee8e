import { QuerySyntaxError } from './ast.ts';

export type TokenKind = 'identifier' | 'keyword' | 'number' | 'string' | 'symbol' | 'end';

export interface Token {
  kind: TokenKind;
  /** Keywords are upper-cased; identifiers keep their case. */
  text: string;
  value?: string | number;
  /** The text as written (keywords may also be property names after a dot). */
  raw: string;
  position: number;
}

const KEYWORDS = new Set([
  'SELECT',
  'TOP',
  'FROM',
  'WHERE',
  'GROUP',
  'BY',
  'AS',
  'AND',
  'OR',
  'NOT',
  'IN',
  'NIN',
  'TRUE',
  'FALSE',
  'NULL',
  'UNDEFINED',
]);
const SYMBOLS = [
  '!=',
  '<>',
  '<=',
  '>=',
  '=',
  '<',
  '>',
  '*',
  ',',
  '.',
  '(',
  ')',
  '[',
  ']',
  '+',
  '-',
  '/',
  '%',
];

function readString(text: string, start: number): { value: string; end: number } {
  const quote = text[start];
  let value = '';
  let i = start + 1;
  while (i < text.length) {
    const c = text[i];
    if (c === quote) return { value, end: i + 1 };
    if (c === '\\') {
      const next = text[i + 1];
      if (next === 'u') {
        const hex = text.slice(i + 2, i + 6);
        if (!/^[0-9a-fA-F]{4}$/.test(hex))
          throw new QuerySyntaxError('bad \\u escape in string', i);
        value += String.fromCharCode(parseInt(hex, 16));
        i += 6;
        continue;
      }
      const escapes: Record<string, string> = {
        "'": "'",
        '"': '"',
        '\\': '\\',
        '/': '/',
        n: '\n',
        t: '\t',
        r: '\r',
        b: '\b',
        f: '\f',
      };
      const replacement = next === undefined ? undefined : escapes[next];
      if (replacement === undefined) throw new QuerySyntaxError('bad escape in string', i);
      value += replacement;
      i += 2;
      continue;
    }
    value += c;
    i++;
  }
  throw new QuerySyntaxError('unterminated string', start);
}

export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i] ?? '';
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const start = i;
    if (c === "'" || c === '"') {
      const { value, end } = readString(text, i);
      tokens.push({
        kind: 'string',
        text: text.slice(start, end),
        raw: text.slice(start, end),
        value,
        position: start,
      });
      i = end;
      continue;
    }
    const hex = /^0[xX][0-9a-fA-F]+/.exec(text.slice(i));
    if (hex) {
      tokens.push({
        kind: 'number',
        text: hex[0],
        raw: hex[0],
        value: parseInt(hex[0].slice(2), 16),
        position: start,
      });
      i += hex[0].length;
      continue;
    }
    const number = /^\d+(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i));
    if (number) {
      tokens.push({
        kind: 'number',
        text: number[0],
        raw: number[0],
        value: Number(number[0]),
        position: start,
      });
      i += number[0].length;
      continue;
    }
    const word = /^[A-Za-z_$][A-Za-z0-9_$]*/.exec(text.slice(i));
    if (word) {
      const upper = word[0].toUpperCase();
      const kind = KEYWORDS.has(upper) ? 'keyword' : 'identifier';
      tokens.push({
        kind,
        text: kind === 'keyword' ? upper : word[0],
        raw: word[0],
        position: start,
      });
      i += word[0].length;
      continue;
    }
    const symbol = SYMBOLS.find((s) => text.startsWith(s, i));
    if (symbol) {
      tokens.push({
        kind: 'symbol',
        text: symbol === '<>' ? '!=' : symbol,
        raw: symbol,
        position: start,
      });
      i += symbol.length;
      continue;
    }
    throw new QuerySyntaxError(`unexpected character '${c}'`, start);
  }
  tokens.push({ kind: 'end', text: 'end of query', raw: '', position: text.length });
  return tokens;
}
