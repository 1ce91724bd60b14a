import { ClickHouseError } from '@clickhouse/client';
import { withTimeout } from '../common/with-timeout.ts';
import { createClickHouseClient, type ClickHouseConfig, type ClickHouseTransport } from '../db/clickhouse/client.ts';
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

/** What core needs from a ClickHouse client: a query with JSONEachRow rows, and closing. */
export interface ChQueryClient {
  query(params: { query: string; format: 'JSONEachRow' }): Promise<{ json<T>(): Promise<T[]> }>;
  close(): Promise<void>;
}

/** The client over the transport the entry file chose (db/clickhouse/client.ts#ClickHouseTransport). */
export function createClickHouseQueryClient(config: ClickHouseConfig, transport: ClickHouseTransport): ChQueryClient {
  return createClickHouseClient(config, transport) as unknown as ChQueryClient;
}

export type ChRows = <T>(query: ChFragment) => Promise<T[]>;

/**
 * Runs a binder-built query and returns its rows (JSONEachRow); maps outages to
 * DependencyUnavailable. `timeoutMs` bounds the whole call (request and body) whatever the client.
 */
export function createChRows(client: ChQueryClient, timeoutMs = 30_000): ChRows {
  return async <T>(query: ChFragment): Promise<T[]> => {
    try {
      return await withTimeout(
        client.query({ query: query.text, format: 'JSONEachRow' }).then((result) => result.json<T>()),
        timeoutMs,
        'clickhouse query',
      );
    } catch (error) {
      if (isServerSideError(error)) throw error;
      throw new DependencyUnavailable('clickhouse', error);
    }
  };
}
