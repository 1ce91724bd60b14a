import { ClickHouseError } from '@clickhouse/client';
import { createClient as createFetchClient } from '@clickhouse/client-web';
import { withTimeout } from '../common/with-timeout.ts';
import { createClickHouseClient, type ClickHouseConfig } from '../db/clickhouse/client.ts';
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

/**
 * How core talks HTTP to ClickHouse. `node`: @clickhouse/client (node:http, keep-alive pool), used
 * by the Node entry. `fetch`: @clickhouse/client-web, same vendor and API over fetch, used under
 * Bun, whose node:http emulation occasionally loses a response of the node client for good (seen
 * here: ~1 query in 1 000 under load hung past every timeout; Bun's fetch never did).
 */
export type ClickHouseTransport = 'node' | 'fetch';

export function createClickHouseQueryClient(config: ClickHouseConfig, transport: ClickHouseTransport): ChQueryClient {
  if (transport === 'node') return createClickHouseClient(config) as unknown as ChQueryClient;
  return createFetchClient({
    url: config.url,
    username: config.username,
    password: config.password,
    database: config.database,
    request_timeout: config.requestTimeoutMs ?? 60_000,
    application: config.application ?? 'bionicpro',
  }) as unknown as ChQueryClient;
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
