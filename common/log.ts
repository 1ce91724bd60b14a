/**
 * Structured logging: one JSON line per event on stdout. Portable (no node:*), so edge code can
 * use it too. Keys that name secrets are redacted wherever they appear in the fields.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(event: string, fields?: LogFields): void;
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
  /** A logger that adds these fields to every line. */
  child(fields: LogFields): Logger;
}

const LEVEL_ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

const SECRET_KEY = /pass(word)?|secret|token|authorization|cookie|api[-_]?key|signing[-_]?key|private|credential|^sig$/i;
export const REDACTED = '[redacted]';

/**
 * Secret-looking keys replaced at any depth; Errors become { name, message, stack }; bounded depth
 * so a cyclic value cannot hang. Copies only what changes: a record with nothing to redact (the
 * common case, a request's wide event) is returned as it is, so logging it costs no allocation.
 */
export function redact(value: unknown, depth = 0): unknown {
  if (depth > 8) return '[depth]';
  if (typeof value === 'bigint') return value.toString();
  if (!value || typeof value !== 'object') return value;
  if (value instanceof Error) return { name: value.name, message: value.message, stack: value.stack };
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item = value[i] as unknown;
      const next = redact(item, depth + 1);
      if (next !== item) (out ??= value.slice())[i] = next;
    }
    return out ?? value;
  }
  let out: Record<string, unknown> | undefined;
  for (const key of Object.keys(value)) {
    const inner = (value as Record<string, unknown>)[key];
    const next = SECRET_KEY.test(key) ? REDACTED : redact(inner, depth + 1);
    if (next !== inner) (out ??= { ...(value as Record<string, unknown>) })[key] = next;
  }
  return out ?? value;
}

export interface LoggerOptions {
  service: string;
  level?: LogLevel;
  /** Where lines go; defaults to console.log (stdout on every runtime). */
  write?: (line: string) => void;
  now?: () => Date;
}

const noop = () => {};

/**
 * The logger of every runtime: one JSON line per event through `write`. The Node, Bun and Deno
 * edge servers give it a batched writer (createBatchedWriter, edge/runtime/apps.ts), measured
 * cheaper per line than pino. Levels below the threshold cost one call to a no-op.
 */
export function createLogger(options: LoggerOptions, bound: LogFields = {}): Logger {
  const threshold = LEVEL_ORDER[options.level ?? 'info'];
  const write = options.write ?? ((line: string) => console.log(line));
  const now = options.now ?? (() => new Date());
  // The bound fields are redacted and serialised once, not per line.
  const boundJson = JSON.stringify(redact(bound)).slice(1, -1);
  const head = `,"service":${JSON.stringify(options.service)}`;
  const method = (level: LogLevel) => {
    if (LEVEL_ORDER[level] < threshold) return noop;
    const levelJson = `{"time":"`;
    const tail = `","level":"${level}"${head},"event":`;
    return (event: string, fields?: LogFields) => {
      const own = fields ? JSON.stringify(redact(fields)).slice(1, -1) : '';
      const rest = boundJson && own ? `${boundJson},${own}` : boundJson || own;
      write(`${levelJson}${now().toISOString()}${tail}${JSON.stringify(event)}${rest ? `,${rest}` : ''}}`);
    };
  };
  return {
    debug: method('debug'),
    info: method('info'),
    warn: method('warn'),
    error: method('error'),
    child: (fields) => createLogger(options, { ...bound, ...fields }),
  };
}

/**
 * Collects lines and hands them to `write` in one call per turn of the event loop (joined by
 * newlines), so a busy server makes one write per batch rather than one per request. `flush`
 * writes what is pending at once (before exit; and after an error line, which is never held).
 */
export function createBatchedWriter(write: (text: string) => void, options: { maxLines?: number; schedule?: (run: () => void) => void } = {}): { write: (line: string) => void; flush: () => void } {
  const maxLines = options.maxLines ?? 256;
  const schedule = options.schedule ?? ((run: () => void) => setTimeout(run, 0));
  let pending: string[] = [];
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (pending.length === 0) return;
    const lines = pending;
    pending = [];
    write(lines.join('\n'));
  };
  return {
    write(line) {
      pending.push(line);
      if (pending.length >= maxLines || line.includes('"level":"error"')) flush();
      else if (!scheduled) {
        scheduled = true;
        schedule(flush);
      }
    },
    flush,
  };
}

/** A logger that keeps lines in memory, for tests that assert on what was logged. */
export function createMemoryLogger(service = 'test'): Logger & { lines: LogFields[] } {
  const lines: LogFields[] = [];
  const logger = createLogger({ service, level: 'debug', write: (line) => lines.push(JSON.parse(line) as LogFields) });
  return Object.assign(logger, { lines });
}
