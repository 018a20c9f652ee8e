import { gzipSync } from 'node:zlib';

/** Syslog severities, as the Edge agent's log filter counts them (3 error, 6 information). */
export type LogLevel = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7;

export interface LogLine {
  at: number;
  level: LogLevel;
  text: string;
}

/** A module's log, as Docker keeps a container's: the last lines it wrote, oldest first. */
export class ModuleLog {
  private readonly lines: LogLine[] = [];

  constructor(private readonly limit = 5000) {}

  write(text: string, level: LogLevel = 6, at = Date.now()): void {
    this.lines.push({ at, level, text });
    if (this.lines.length > this.limit) this.lines.splice(0, this.lines.length - this.limit);
  }

  all(): readonly LogLine[] {
    return this.lines;
  }
}

/** The largest response a direct method carries; the agent refuses bigger logs (400). */
export const MAX_LOGS_PAYLOAD_BYTES = 127_000;

export class LogsRequestError extends Error {}

export interface LogFilter {
  tail?: number;
  since?: number;
  until?: number;
  loglevel?: number;
  regex?: RegExp;
}

/**
 * `since` and `until` as the agent takes them: Unix seconds, an RFC 3339 time, or a duration
 * back from now (`90s`, `15m`, `2h`, `1d`, `1w`).
 */
export function parseTime(value: unknown, name: string, now = Date.now()): number {
  if (typeof value === 'number' && Number.isFinite(value)) return value * 1000;
  if (typeof value === 'string') {
    const text = value.trim();
    if (/^\d+$/.test(text)) return Number(text) * 1000;
    const duration = /^(\d+(?:\.\d+)?)\s*(s|m|h|d|w)$/i.exec(text);
    if (duration) {
      const unit = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 }[
        duration[2]!.toLowerCase() as 's'
      ];
      return now - Number(duration[1]) * unit * 1000;
    }
    const parsed = Date.parse(text);
    if (!Number.isNaN(parsed)) return parsed;
  }
  throw new LogsRequestError(
    `${name} "${String(value).slice(0, 40)}" is not a time: use Unix seconds, an RFC 3339 time or a duration like 15m.`,
  );
}

/** One item's filter from a GetModuleLogs request, checked. */
export function parseFilter(raw: unknown, now = Date.now()): LogFilter {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw))
    throw new LogsRequestError('filter must be an object.');
  const input = raw as Record<string, unknown>;
  const filter: LogFilter = {};
  if (input['tail'] !== undefined) {
    const tail = Number(input['tail']);
    if (!Number.isInteger(tail) || tail < 0)
      throw new LogsRequestError('filter.tail must be a whole number of lines.');
    filter.tail = tail;
  }
  if (input['since'] !== undefined) filter.since = parseTime(input['since'], 'since', now);
  if (input['until'] !== undefined) filter.until = parseTime(input['until'], 'until', now);
  if (input['loglevel'] !== undefined) {
    const level = Number(input['loglevel']);
    if (!Number.isInteger(level) || level < 0 || level > 7)
      throw new LogsRequestError('filter.loglevel is a syslog severity from 0 to 7.');
    filter.loglevel = level;
  }
  if (input['regex'] !== undefined) {
    try {
      filter.regex = new RegExp(String(input['regex']));
    } catch {
      throw new LogsRequestError(`filter.regex "${String(input['regex'])}" is not a regex.`);
    }
  }
  return filter;
}

export function filterLines(lines: readonly LogLine[], filter: LogFilter): LogLine[] {
  const kept = lines.filter(
    (line) =>
      (filter.since === undefined || line.at >= filter.since) &&
      (filter.until === undefined || line.at <= filter.until) &&
      (filter.loglevel === undefined || line.level <= filter.loglevel) &&
      (filter.regex === undefined || filter.regex.test(line.text)),
  );
  return filter.tail === undefined ? kept : kept.slice(Math.max(0, kept.length - filter.tail));
}

/** `<6> 2026-12-02 22:10:00.123 +00:00 text`: the format the Edge docs recommend. */
export function formatLine(line: LogLine): string {
  const at = new Date(line.at).toISOString().replace('T', ' ').replace('Z', ' +00:00');
  return `<${line.level}> ${at} ${line.text}`;
}

/**
 * The agent's GetModuleLogs: each item selects modules by a regex on their names, with a
 * filter; the answer holds one entry per module, as text or JSON lines, gzipped on request.
 */
export function getModuleLogs(
  payload: unknown,
  logs: ReadonlyMap<string, ModuleLog>,
  now = Date.now(),
): { id: string; payload?: string; payloadBytes?: string }[] {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload))
    throw new LogsRequestError(
      'The payload is {"schemaVersion": "1.0", "items": [{"id": "<module regex>", "filter": {…}}], "encoding": "none", "contentType": "text"}.',
    );
  const request = payload as Record<string, unknown>;
  const items = Array.isArray(request['items']) ? request['items'] : [request['items']];
  if (items.length === 0 || items.some((item) => typeof item !== 'object' || item === null))
    throw new LogsRequestError('items must name at least one module: [{"id": "<module regex>"}].');
  const encoding = request['encoding'] ?? 'none';
  const contentType = request['contentType'] ?? 'json';
  if (encoding !== 'none' && encoding !== 'gzip')
    throw new LogsRequestError('encoding is none or gzip.');
  if (contentType !== 'text' && contentType !== 'json')
    throw new LogsRequestError('contentType is text or json.');
  const answer: { id: string; payload?: string; payloadBytes?: string }[] = [];
  for (const item of items as Record<string, unknown>[]) {
    if (typeof item['id'] !== 'string' || item['id'] === '')
      throw new LogsRequestError('Each item needs an id: a regex on module names.');
    let pattern: RegExp;
    try {
      pattern = new RegExp(item['id']);
    } catch {
      throw new LogsRequestError(`id "${item['id']}" is not a regex.`);
    }
    const filter = parseFilter(item['filter'], now);
    for (const [id, log] of logs) {
      if (!pattern.test(id) || answer.some((entry) => entry.id === id)) continue;
      const lines = filterLines(log.all(), filter);
      const text =
        contentType === 'text'
          ? lines.map((line) => `${formatLine(line)}\n`).join('')
          : JSON.stringify(
              lines.map((line) => ({
                id,
                stream: line.level <= 3 ? 'stderr' : 'stdout',
                loglevel: line.level,
                timestamp: new Date(line.at).toISOString(),
                text: line.text,
              })),
            );
      answer.push(
        encoding === 'gzip'
          ? { id, payloadBytes: gzipSync(text).toString('base64') }
          : { id, payload: text },
      );
    }
  }
  const size = Buffer.byteLength(JSON.stringify(answer));
  if (size > MAX_LOGS_PAYLOAD_BYTES)
    throw new LogsRequestError(
      `The logs are ${size} bytes, more than a direct method carries (${MAX_LOGS_PAYLOAD_BYTES}): narrow them with tail, since or regex, or ask for gzip.`,
    );
  return answer;
}
