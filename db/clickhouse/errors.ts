import { ClickHouseError } from '@clickhouse/client';

/**
 * The one ClickHouse error classifier of the project (core's reports and jobs' CDC/ETL use it).
 * 18.16 formats errors as "Code: 27, e.displayText() = …", which @clickhouse/client's parser does
 * not recognise, hence the message fallback beside ClickHouseError's own code.
 */
export function clickHouseErrorCode(error: unknown): number | undefined {
  if (error instanceof ClickHouseError) {
    const code = Number(error.code);
    if (Number.isFinite(code)) return code;
  }
  if (error instanceof Error) {
    const match = /Code: (\d+)/.exec(error.message);
    if (match) return Number(match[1]);
  }
  return undefined;
}

/** The server's transient refusals: too many simultaneous queries, out of time or memory. A retry may pass. */
const TRANSIENT_CODES = new Set([
  159, // TIMEOUT_EXCEEDED
  202, // TOO_MANY_SIMULTANEOUS_QUERIES
  241, // MEMORY_LIMIT_EXCEEDED
]);

/**
 * Codes that mean "this data cannot be stored" (parse failures, type mismatches, out-of-range
 * values): retrying the same rows cannot succeed.
 */
const DATA_ERROR_CODES = new Set([
  6, // CANNOT_PARSE_TEXT
  26, // CANNOT_PARSE_QUOTED_STRING
  27, // CANNOT_PARSE_INPUT_ASSERTION_FAILED
  32, // ATTEMPT_TO_READ_AFTER_EOF
  33, // CANNOT_READ_ALL_DATA
  38, // CANNOT_PARSE_DATE
  41, // CANNOT_PARSE_DATETIME
  53, // TYPE_MISMATCH
  69, // ARGUMENT_OUT_OF_BOUND
  70, // CANNOT_CONVERT_TYPE
  72, // CANNOT_PARSE_NUMBER
  117, // INCORRECT_DATA
  131, // TOO_LARGE_STRING_SIZE
  190, // SIZES_OF_ARRAYS_DOESNT_MATCH
  376, // CANNOT_PARSE_UUID
  407, // DECIMAL_OVERFLOW
]);

export type ClickHouseErrorKind =
  /** No answer (refused, reset, timed out) or a transient refusal: ClickHouse is unavailable for now. */
  | 'unavailable'
  /** The server refused the data itself: retrying the same rows cannot pass (dead-letter them). */
  | 'data'
  /** Any other server error: a bug in our SQL or schema, not the dependency's fault. */
  | 'query';

export function classifyClickHouseError(error: unknown): ClickHouseErrorKind {
  const code = clickHouseErrorCode(error);
  if (code === undefined || TRANSIENT_CODES.has(code)) return 'unavailable';
  return DATA_ERROR_CODES.has(code) ? 'data' : 'query';
}

export function isClickHouseDataError(error: unknown): boolean {
  return classifyClickHouseError(error) === 'data';
}
