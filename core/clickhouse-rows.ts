import { withTimeout } from '../common/with-timeout.ts';
import { createClickHouseClient, type ClickHouseConfig, type ClickHouseTransport } from '../db/clickhouse/client.ts';
import { classifyClickHouseError } from '../db/clickhouse/errors.ts';
import type { ChFragment } from '../db/clickhouse/sql.ts';
import { DependencyUnavailable } from './dependency.ts';

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
      // A server error about our SQL surfaces as 500; no answer or a transient refusal as 503.
      if (classifyClickHouseError(error) !== 'unavailable') throw error;
      throw new DependencyUnavailable('clickhouse', error);
    }
  };
}
