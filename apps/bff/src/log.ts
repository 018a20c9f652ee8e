import { traceFields } from './telemetry/instruments.ts';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

// Secrets that must never reach a log line, whatever a library puts in an error message.
const SECRETS = [
  /(SharedAccessKey=)[^;"\s]+/gi,
  // A storage account's key, as its connection strings carry it.
  /(AccountKey=)[^;"\s]+/gi,
  // Application Insights' connection string (OpenTelemetry's Azure Monitor exporter).
  /(InstrumentationKey=)[^;"\s]+/gi,
  /(SharedAccessSignature\s+)\S+/gi,
  /(sig=)[^&"\s]+/gi,
  /("?(?:primaryKey|secondaryKey|authorization)"?\s*[:=]\s*"?)[^",\s}]+/gi,
];

export function redact(text: string): string {
  return SECRETS.reduce((out, pattern) => out.replace(pattern, '$1[redacted]'), text);
}

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** JSON lines on stdout/stderr, redacted; with the trace id when written inside a span. */
export function createLogger(
  level: LogLevel,
  write: (line: string, isError: boolean) => void = defaultWrite,
): Logger {
  const emit =
    (at: LogLevel) =>
    (message: string, fields: Record<string, unknown> = {}) => {
      if (ORDER[at] < ORDER[level]) return;
      const line = redact(
        JSON.stringify({
          time: new Date().toISOString(),
          level: at,
          message,
          ...traceFields(),
          ...ownFields(fields),
        }),
      );
      write(line, ORDER[at] >= ORDER.warn);
    };
  return { debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error') };
}

/** A field cannot replace the line's own: an error's `message` is written as `detail`. */
function ownFields(fields: Record<string, unknown>): Record<string, unknown> {
  const { message, time, level, ...rest } = fields;
  return {
    ...rest,
    ...(message !== undefined ? { detail: message } : {}),
    ...(time !== undefined ? { fieldTime: time } : {}),
    ...(level !== undefined ? { fieldLevel: level } : {}),
  };
}

function defaultWrite(line: string, isError: boolean): void {
  (isError ? process.stderr : process.stdout).write(`${line}\n`);
}
