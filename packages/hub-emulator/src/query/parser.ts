import {
  QuerySyntaxError,
  type AggregateName,
  type BinaryOperator,
  type Expr,
  type Query,
  type SelectItem,
} from './ast.ts';
import { tokenize, type Token } from './lexer.ts';

/** Parentheses, lists, calls, NOT and unary minus nest at most this deep. */
export const MAX_NESTING = 50;

const AGGREGATES = new Set<AggregateName>(['COUNT', 'SUM', 'AVG', 'MIN', 'MAX']);
const COMPARISONS = new Set(['=', '!=', '<', '>', '<=', '>=']);

function describe(token: Token): string {
  return token.kind === 'end' ? 'the end of the query' : `'${token.text}'`;
}

class Parser {
  private index = 0;
  private depth = 0;
  constructor(private readonly tokens: Token[]) {}

  /** Parses one nested level; too deep a query is a syntax error at the level's token. */
  private nested<T>(token: Token, parse: () => T): T {
    if (++this.depth > MAX_NESTING) {
      throw new QuerySyntaxError(
        `the query nests deeper than ${MAX_NESTING} levels (parentheses, lists, calls, NOT or -)`,
        token.position,
      );
    }
    try {
      return parse();
    } finally {
      this.depth--;
    }
  }

  private get current(): Token {
    return this.tokens[this.index] ?? this.tokens[this.tokens.length - 1]!;
  }

  private fail(expected: string, token = this.current): never {
    throw new QuerySyntaxError(`expected ${expected} but found ${describe(token)}`, token.position);
  }

  private isKeyword(word: string): boolean {
    return this.current.kind === 'keyword' && this.current.text === word;
  }

  private isSymbol(symbol: string): boolean {
    return this.current.kind === 'symbol' && this.current.text === symbol;
  }

  private advance(): Token {
    const token = this.current;
    this.index++;
    return token;
  }

  private keyword(word: string): void {
    if (!this.isKeyword(word)) this.fail(word);
    this.advance();
  }

  private symbol(symbol: string): void {
    if (!this.isSymbol(symbol)) this.fail(`'${symbol}'`);
    this.advance();
  }

  parseQuery(): Query {
    this.keyword('SELECT');
    let top: number | undefined;
    if (this.isKeyword('TOP')) {
      this.advance();
      const token = this.advance();
      if (
        token.kind !== 'number' ||
        !Number.isInteger(token.value) ||
        (token.value as number) < 1
      ) {
        this.fail('a positive whole number after TOP', token);
      }
      top = token.value as number;
    }
    const items: SelectItem[] = [];
    if (this.isSymbol('*')) {
      this.advance();
    } else {
      do {
        if (items.length > 0) this.advance();
        items.push(this.selectItem());
      } while (this.isSymbol(','));
    }
    this.keyword('FROM');
    const source = this.source();
    let where: Expr | undefined;
    if (this.isKeyword('WHERE')) {
      this.advance();
      where = this.expression();
    }
    const groupBy: Expr[] = [];
    if (this.isKeyword('GROUP')) {
      this.advance();
      this.keyword('BY');
      do {
        if (groupBy.length > 0) this.advance();
        groupBy.push(this.path());
      } while (this.isSymbol(','));
    }
    if (this.current.kind !== 'end')
      this.fail(
        groupBy.length ? "',' or the end of the query" : 'WHERE, GROUP BY or the end of the query',
      );
    return {
      ...(top !== undefined ? { top } : {}),
      items,
      source,
      ...(where ? { where } : {}),
      groupBy,
    };
  }

  private source(): Query['source'] {
    const token = this.advance();
    if (token.kind !== 'identifier' || token.text.toLowerCase() !== 'devices')
      this.fail('devices', token);
    if (!this.isSymbol('.')) return 'devices';
    this.advance();
    const child = this.advance();
    const name = child.text.toLowerCase();
    if (child.kind === 'identifier' && name === 'modules') return 'devices.modules';
    if (child.kind === 'identifier' && name === 'jobs') return 'devices.jobs';
    this.fail('modules', child);
  }

  private selectItem(): SelectItem {
    let item: SelectItem;
    const token = this.current;
    const upper = token.text.toUpperCase();
    const next = this.tokens[this.index + 1];
    if (
      token.kind === 'identifier' &&
      AGGREGATES.has(upper as AggregateName) &&
      next?.text === '('
    ) {
      this.advance();
      this.advance();
      const name = upper as AggregateName;
      let arg: Expr | undefined;
      if (name !== 'COUNT') arg = this.path();
      this.symbol(')');
      item = {
        expr: { kind: 'literal', value: undefined },
        aggregate: arg ? { name, arg } : { name },
      };
    } else {
      item = { expr: this.expression() };
    }
    if (this.isKeyword('AS')) {
      this.advance();
      const alias = this.advance();
      if (alias.kind !== 'identifier') this.fail('a name after AS', alias);
      item.alias = alias.text;
    }
    return item;
  }

  private path(): Expr {
    const token = this.advance();
    if (token.kind !== 'identifier') this.fail('a property path', token);
    return this.pathRest(token);
  }

  private pathRest(first: Token): Expr {
    const segments = [first.text];
    for (;;) {
      if (this.isSymbol('.')) {
        this.advance();
        const token = this.advance();
        if (token.kind !== 'identifier' && token.kind !== 'keyword')
          this.fail('a property name after "."', token);
        segments.push(token.raw);
      } else if (this.isSymbol('[')) {
        this.advance();
        const token = this.advance();
        if (token.kind !== 'string') this.fail('a quoted property name inside [ ]', token);
        segments.push(String(token.value));
        this.symbol(']');
      } else {
        return { kind: 'path', segments, position: first.position };
      }
    }
  }

  expression(): Expr {
    let left = this.conjunction();
    while (this.isKeyword('OR')) {
      this.advance();
      left = { kind: 'binary', operator: 'OR', left, right: this.conjunction() };
    }
    return left;
  }

  private conjunction(): Expr {
    let left = this.negation();
    while (this.isKeyword('AND')) {
      this.advance();
      left = { kind: 'binary', operator: 'AND', left, right: this.negation() };
    }
    return left;
  }

  private negation(): Expr {
    if (this.isKeyword('NOT')) {
      const token = this.advance();
      return this.nested(token, () => ({ kind: 'not', operand: this.negation() }));
    }
    return this.comparison();
  }

  private comparison(): Expr {
    const left = this.additive();
    if (this.current.kind === 'symbol' && COMPARISONS.has(this.current.text)) {
      const operator = this.advance().text as BinaryOperator;
      return { kind: 'binary', operator, left, right: this.additive() };
    }
    if (
      this.isKeyword('IN') ||
      this.isKeyword('NIN') ||
      (this.isKeyword('NOT') && this.tokens[this.index + 1]?.text === 'IN')
    ) {
      const negated = this.advance().text !== 'IN';
      if (negated && this.isKeyword('IN')) this.advance();
      const list = this.arrayLiteral();
      return { kind: 'in', negated, operand: left, list: list.kind === 'array' ? list.items : [] };
    }
    return left;
  }

  private additive(): Expr {
    let left = this.multiplicative();
    while (this.isSymbol('+') || this.isSymbol('-')) {
      const operator = this.advance().text as BinaryOperator;
      left = { kind: 'binary', operator, left, right: this.multiplicative() };
    }
    return left;
  }

  private multiplicative(): Expr {
    let left = this.unary();
    while (this.isSymbol('*') || this.isSymbol('/') || this.isSymbol('%')) {
      const operator = this.advance().text as BinaryOperator;
      left = { kind: 'binary', operator, left, right: this.unary() };
    }
    return left;
  }

  private unary(): Expr {
    if (this.isSymbol('-')) {
      const token = this.advance();
      return this.nested(token, () => ({ kind: 'negate', operand: this.unary() }));
    }
    return this.primary();
  }

  private arrayLiteral(): Expr {
    const open = this.current;
    if (!this.isSymbol('[') && !this.isSymbol('(')) this.fail('a list in [ ]');
    const close = open.text === '[' ? ']' : ')';
    this.advance();
    return this.nested(open, () => {
      const items: Expr[] = [];
      if (!this.isSymbol(close)) {
        do {
          if (items.length > 0) this.advance();
          items.push(this.additive());
        } while (this.isSymbol(','));
      }
      this.symbol(close);
      return { kind: 'array', items };
    });
  }

  private primary(): Expr {
    const token = this.current;
    switch (token.kind) {
      case 'number':
      case 'string':
        this.advance();
        return { kind: 'literal', value: token.value };
      case 'keyword':
        if (token.text === 'TRUE' || token.text === 'FALSE') {
          this.advance();
          return { kind: 'literal', value: token.text === 'TRUE' };
        }
        if (token.text === 'NULL') {
          this.advance();
          return { kind: 'literal', value: null };
        }
        if (token.text === 'UNDEFINED') {
          this.advance();
          return { kind: 'literal', value: undefined };
        }
        return this.fail('a value or a property path');
      case 'symbol':
        if (token.text === '(') {
          this.advance();
          return this.nested(token, () => {
            const inner = this.expression();
            this.symbol(')');
            return inner;
          });
        }
        if (token.text === '[') return this.arrayLiteral();
        return this.fail('a value or a property path');
      case 'identifier': {
        this.advance();
        if (this.isSymbol('(')) {
          this.advance();
          return this.nested(token, () => {
            const args: Expr[] = [];
            if (!this.isSymbol(')')) {
              do {
                if (args.length > 0) this.advance();
                args.push(this.expression());
              } while (this.isSymbol(','));
            }
            this.symbol(')');
            return { kind: 'call', name: token.text.toUpperCase(), args, position: token.position };
          });
        }
        return this.pathRest(token);
      }
      default:
        return this.fail('a value or a property path');
    }
  }
}

export function parseQuery(text: string): Query {
  return new Parser(tokenize(text)).parseQuery();
}
