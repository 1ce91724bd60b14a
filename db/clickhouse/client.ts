import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { createClient as createFetchClient } from '@clickhouse/client-web';

/** Where and as whom to talk to ClickHouse over HTTP. */
export interface ClickHouseConfig {
  url: string;
  username: string;
  password: string;
  database: string;
  /** Per-request timeout; DDL on a cold server and big report queries can take a while. */
  requestTimeoutMs?: number;
  application?: string;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/**
 * Reads the admin (`default`) or the read-only ML account from a StackEnv-like record
 * (CLICKHOUSE_URL, CLICKHOUSE_USER/PASSWORD, CLICKHOUSE_ML_USER/ML_PASSWORD, CLICKHOUSE_DATABASE),
 * naming every missing or malformed variable at once.
 */
export function clickHouseConfigFromEnv(
  env: Record<string, string | undefined>,
  { account = 'admin', database }: { account?: 'admin' | 'ml'; database?: string } = {},
): ClickHouseConfig {
  const userVar = account === 'admin' ? 'CLICKHOUSE_USER' : 'CLICKHOUSE_ML_USER';
  const passwordVar = account === 'admin' ? 'CLICKHOUSE_PASSWORD' : 'CLICKHOUSE_ML_PASSWORD';
  const problems: string[] = [];
  const url = env.CLICKHOUSE_URL ?? '';
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') problems.push(`CLICKHOUSE_URL must be http(s), got ${parsed.protocol}`);
  } catch {
    problems.push(`CLICKHOUSE_URL is not a URL: "${url}"`);
  }
  const username = env[userVar] ?? '';
  if (username === '') problems.push(`${userVar} is not set`);
  const password = env[passwordVar];
  if (password === undefined || password === '') problems.push(`${passwordVar} is not set`);
  const db = database ?? env.CLICKHOUSE_DATABASE ?? '';
  if (!IDENTIFIER.test(db)) problems.push(`CLICKHOUSE_DATABASE must be a plain identifier, got "${db}"`);
  if (problems.length > 0) throw new Error(`ClickHouse configuration: ${problems.join('; ')}`);
  return { url, username, password: password ?? '', database: db };
}

/**
 * How to talk HTTP to ClickHouse. `node`: @clickhouse/client (node:http, keep-alive pool), under
 * Node. `fetch`: @clickhouse/client-web, same vendor and API over fetch, under Bun, whose node:http
 * emulation occasionally loses a response of the node client for good (seen in core: ~1 query in
 * 1 000 under load hung past every timeout; a jobs CDC test hung on one too; Bun's fetch never did).
 * The entry file picks; everything else sees one client type.
 */
export type ClickHouseTransport = 'node' | 'fetch';

/** `fetch` under Bun, `node` elsewhere. */
export function defaultTransport(): ClickHouseTransport {
  return typeof process !== 'undefined' && process.versions?.bun ? 'fetch' : 'node';
}

/**
 * A ClickHouse client for the config. Works against 18.16 and current servers: the project never
 * uses server-side query parameters (18.16 lacks them) — values go through db/clickhouse/sql.ts.
 */
export function createClickHouseClient(config: ClickHouseConfig, transport: ClickHouseTransport = 'node'): ClickHouseClient {
  const settings = {
    url: config.url,
    username: config.username,
    password: config.password,
    database: config.database,
    request_timeout: config.requestTimeoutMs ?? 60_000,
    application: config.application ?? 'bionicpro',
  };
  if (transport === 'node') return createClient(settings);
  // The web client has the same query/insert/command/close API (both wrap @clickhouse/client-common);
  // callers pass inserts as arrays, which both accept.
  return createFetchClient(settings) as unknown as ClickHouseClient;
}
