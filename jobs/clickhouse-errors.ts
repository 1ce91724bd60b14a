import { ClickHouseError } from '@clickhouse/client';

/**
 * The server's error code, if the server answered at all. 18.16 formats errors as
 * "Code: 27, e.displayText() = …", which @clickhouse/client's parser does not recognise, hence
 * the message fallback.
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

/**
 * Codes that mean "this data cannot be stored" (parse failures, type mismatches, out-of-range
 * values): retrying the same rows cannot succeed. Everything else — no answer, timeouts, too many
 * parts, memory — may pass on a later attempt.
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

export function isClickHouseDataError(error: unknown): boolean {
  const code = clickHouseErrorCode(error);
  return code !== undefined && DATA_ERROR_CODES.has(code);
}
