import { ClickHouseError, type ClickHouseClient } from '@clickhouse/client';
import type { ChFragment } from '../db/clickhouse/sql.ts';
import { DependencyUnavailable } from './dependency.ts';

/** ClickHouse's transient refusals: overloaded or out of time/memory, worth a retry. */
const TRANSIENT_SERVER_CODES = new Set([159, 202, 241]);

/**
 * A server-side error (the server answered "Code: N, …") is a bug in our SQL and surfaces as 500;
 * anything else (refused, reset, timed out) or a transient refusal means ClickHouse is unavailable.
 * 18.16's error text does not match the client's ClickHouseError parser, hence the message check.
 */
function isServerSideError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = error instanceof ClickHouseError ? Number(error.code) : Number(/^Code: (\d+)/.exec(error.message)?.[1] ?? NaN);
  return Number.isFinite(code) && !TRANSIENT_SERVER_CODES.has(code);
}

export type ChRows = <T>(query: ChFragment) => Promise<T[]>;

/** Runs a binder-built query and returns its rows (JSONEachRow); maps outages to DependencyUnavailable. */
export function createChRows(client: ClickHouseClient): ChRows {
  return async <T>(query: ChFragment): Promise<T[]> => {
    try {
      const result = await client.query({ query: query.text, format: 'JSONEachRow' });
      return await result.json<T>();
    } catch (error) {
      if (isServerSideError(error)) throw error;
      throw new DependencyUnavailable('clickhouse', error);
    }
  };
}
