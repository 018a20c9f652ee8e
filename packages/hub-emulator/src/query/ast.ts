import type { JsonValue } from '@twinscope/twin';

/** A query value: JSON, or undefined for a property that is not there. */
export type Value = JsonValue | undefined;

export type BinaryOperator =
  'AND' | 'OR' | '=' | '!=' | '<' | '>' | '<=' | '>=' | '+' | '-' | '*' | '/' | '%';

export type Expr =
  | { kind: 'literal'; value: Value }
  | { kind: 'path'; segments: string[]; position: number }
  | { kind: 'array'; items: Expr[] }
  | { kind: 'not'; operand: Expr }
  | { kind: 'negate'; operand: Expr }
  | { kind: 'binary'; operator: BinaryOperator; left: Expr; right: Expr }
  | { kind: 'in'; negated: boolean; operand: Expr; list: Expr[] }
  | { kind: 'call'; name: string; args: Expr[]; position: number };

export type AggregateName = 'COUNT' | 'SUM' | 'AVG' | 'MIN' | 'MAX';

export interface SelectItem {
  expr: Expr;
  alias?: string;
  aggregate?: { name: AggregateName; arg?: Expr };
}

export type QuerySource = 'devices' | 'devices.modules' | 'devices.jobs';

export interface Query {
  top?: number;
  /** `SELECT *` when empty. */
  items: SelectItem[];
  source: QuerySource;
  where?: Expr;
  groupBy: Expr[];
}

export class QuerySyntaxError extends Error {
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(message);
  }
}
