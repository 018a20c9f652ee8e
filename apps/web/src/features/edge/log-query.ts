import {
  ModuleLogsQuerySchema,
  type ModuleLogsQuery,
  type ModuleLogsResponse,
} from '@twinscope/contract';

/** The logs form as typed, checked into the query the Edge agent is asked with. */

export interface LogForm {
  /** How many last lines, as typed. */
  tail: string;
  /** A regular expression the lines must match, or empty. */
  filter: string;
  /** A duration back from now or a time, or empty. */
  since: string;
}

export interface CheckedLogForm {
  /** What to ask for: each field only when it is right, the tail 200 when it is not. */
  query: ModuleLogsQuery;
  tailOk: boolean;
  sinceOk: boolean;
  filterProblem?: string;
}

const LEVEL_NAMES = ['emerg', 'alert', 'crit', 'error', 'warn', 'notice', 'info', 'debug'];

export function checkLogForm(form: LogForm): CheckedLogForm {
  const tail = Number(form.tail);
  const tailOk = Number.isInteger(tail) && tail >= 1 && tail <= 5000;
  const sinceOk =
    form.since === '' || ModuleLogsQuerySchema.shape.since.safeParse(form.since).success;
  let filterProblem: string | undefined;
  try {
    new RegExp(form.filter);
  } catch {
    filterProblem = 'Not a regular expression.';
  }
  return {
    query: {
      tail: tailOk ? tail : 200,
      ...(form.filter && !filterProblem ? { filter: form.filter } : {}),
      ...(form.since && sinceOk ? { since: form.since } : {}),
    },
    tailOk,
    sinceOk,
    ...(filterProblem ? { filterProblem } : {}),
  };
}

/** Log lines as the viewer shows them: time, syslog level name, text. */
export function logText(lines: ModuleLogsResponse['lines']): string {
  return lines
    .map((line) => `${line.at}  ${LEVEL_NAMES[line.level] ?? line.level}  ${line.text}`)
    .join('\n');
}
