/**
 * `npm run bench`: every pair of issue 12's table in one run on this machine, anchors included,
 * printed as a table with ratios and goals and written to docs/performance.md with the command.
 *
 *   npm run bench -- [--seconds=10] [--rounds=3] [--only=cdn,core,bff,miss,rss,ingest,etl,cdc]
 *                    [--warmup=2] [--settle=5] [--etl-rows=1000000] [--cdc-seconds=60] [--cdc-rate=1000]
 *                    [--doc=docs/performance.md | --no-doc]
 *
 * How: the HTTP paths (CDN hit, core warm summary, BFF → core, cache miss, RSS) are measured here
 * with wrk (bench/lib/wrk.ts) against apps this runner starts from their real entry files on spare
 * loopback ports; every round runs each side once, the order reversed on every other round so
 * drift on a busy machine does not favour one side (A, B, anchor, then anchor, B, A, …); cells are
 * the median with the range over rounds. Ingest, ETL and CDC run as child processes owned by their
 * own files and are parsed from their last JSON line; a missing or failing one prints
 * "n/a (why)" in its row, the run goes on.
 *
 * The interface expected from those files (flags, then the last stdout line, one JSON object):
 *   bench/ingest.bench.ts --runtime node|bun --seconds S --rounds R
 *     {"bench":"ingest","events_per_s":n,"events_per_s_range":[min,max],"anchor_rows_per_s":n,
 *      "server_rss_mib":{"before":n,"after":n}}       (anchor: bare PostgreSQL COPY of the same rows)
 *   bench/etl.bench.ts --rows N
 *     {"bench":"etl","raw_rows_per_s":n,"peak_rss_mib":n,"anchor_rows_per_s":n}
 *                                                        (anchor: the bare aggregation query)
 *   bench/cdc-lag.bench.ts --rate 1000 --seconds S
 *     {"bench":"cdc-lag","rate_per_s":n,"p50_ms":n,"p90_ms":n,"p99_ms":n}
 * Until a file prints that line, the runner reads the figures from its human output (the text
 * those files print today); fields it cannot find are shown as n/a.
 */
import { PutObjectCommand, DeleteObjectCommand } from '@aws-sdk/client-s3';
import { AwsClient } from 'aws4fetch';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { signReportUrl } from '../common/cdn/signing.ts';
import { createOwnerRefs } from '../common/identity/owner-ref.ts';
import { chDateTime, chSql } from '../db/clickhouse/sql.ts';
import { ensureDebPackages } from '../tools/kit/apt.ts';
import { loadStackEnv, type StackEnv } from '../stack/lib/env.ts';
import { ROOT } from '../tools/kit/paths.ts';
import { localS3Client } from '../stack/services/s3.ts';
import { s3Settings } from '../stack/services/s3-server.ts';
import { createMartSeeder, type HourRow } from '../tests/core/support/harness.ts';
import { serviceAccountToken } from '../tests/core/support/keycloak-people.ts';
import { addDirectoryPerson } from '../tests/helpers/directory-person.ts';
import { fetchUserTokens, forgetTotpSecret, loginThroughBff, TestBrowser } from '../tests/helpers/keycloak-login.ts';
import { RUNTIME_BIN, startApp, type Runtime, type RunningApp } from './lib/apps.ts';
import { startNginxCache } from './lib/nginx.ts';
import { treeRssMiB } from './lib/rss.ts';
import { preservedProfiles, renderDocument } from './lib/doc.ts';
import { num, parseCdcOutput, parseEtlOutput, runSubBench } from './lib/sub-bench.ts';
import { figure, formatCell, formatMet, formatRatio, medianOf, meets, na, renderMarkdownTable, type Cell, type TableRow } from './lib/table.ts';
import { runWrk, type WrkOptions, type WrkResult } from './lib/wrk.ts';

// ---------------------------------------------------------------------------------------------
// Options

const PATHS = ['cdn', 'core', 'bff', 'miss', 'rss', 'ingest', 'etl', 'cdc'] as const;
type PathId = (typeof PATHS)[number];

export interface RunOptions {
  seconds: number;
  rounds: number;
  warmupSeconds: number;
  settleSeconds: number;
  only: PathId[];
  doc: string | null;
  etlRows: number;
  cdcSeconds: number;
  cdcRate: number;
}

function parseOptions(argv: string[]): RunOptions {
  const args = new Map<string, string>();
  for (const arg of argv) {
    const match = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!match) throw new Error(`bench: unexpected argument ${arg} (flags are --name=value)`);
    args.set(match[1]!, match[2] ?? 'true');
  }
  const known = new Set(['seconds', 'rounds', 'warmup', 'settle', 'only', 'doc', 'no-doc', 'etl-rows', 'cdc-seconds', 'cdc-rate']);
  for (const name of args.keys()) if (!known.has(name)) throw new Error(`bench: unknown flag --${name}`);
  const positive = (name: string, fallback: number, min = 1) => {
    const value = Number(args.get(name) ?? fallback);
    if (!Number.isFinite(value) || value < min) throw new Error(`bench: --${name} must be a number ≥ ${min}`);
    return value;
  };
  const only = (args.get('only') ?? PATHS.join(',')).split(',').filter(Boolean);
  for (const id of only) if (!PATHS.includes(id as PathId)) throw new Error(`bench: unknown path ${id} in --only (known: ${PATHS.join(', ')})`);
  return {
    seconds: Math.round(positive('seconds', 10)),
    rounds: Math.round(positive('rounds', 3)),
    warmupSeconds: Math.round(positive('warmup', 2, 0)),
    settleSeconds: Math.round(positive('settle', 5, 0)),
    only: PATHS.filter((id) => only.includes(id)),
    doc: args.has('no-doc') ? null : resolve(ROOT, args.get('doc') ?? 'docs/performance.md'),
    etlRows: Math.round(positive('etl-rows', 1_000_000)),
    cdcSeconds: Math.round(positive('cdc-seconds', 60)),
    cdcRate: Math.round(positive('cdc-rate', 1000)),
  };
}

// ---------------------------------------------------------------------------------------------
// Shared fixture: one report person with seeded mart rows, the apps, one S3 object for the CDN

const PERSON_DAYS = 1000;
const FIRST_DAY_MS = Date.UTC(2023, 0, 1);
const DAY_MS = 86_400_000;
const days = Array.from({ length: PERSON_DAYS }, (_, d) => new Date(FIRST_DAY_MS + d * DAY_MS).toISOString().slice(0, 10));

const log = (message: string) => console.log(`[bench] ${message}`);
const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error)).split('\n')[0]!.slice(0, 200);

interface Person {
  uid: string;
  /** The person's report owner ref: the mart's user_id and core's invalidation key (docs/data-model.md). */
  ownerRef: string;
  password: string;
  browser: TestBrowser;
  accessToken(): Promise<string>;
}

class Fixture {
  readonly cleanups: Array<() => Promise<unknown>> = [];
  private readonly memo = new Map<string, Promise<unknown>>();
  /** RSS per app: before any load, after the load, after settling. */
  readonly rss = new Map<string, { before: number; after?: number; settled?: number }>();
  readonly apps = new Map<string, RunningApp>();

  readonly env: StackEnv;

  constructor(env: StackEnv) {
    this.env = env;
  }

  private once<T>(key: string, make: () => Promise<T>): Promise<T> {
    let value = this.memo.get(key) as Promise<T> | undefined;
    if (!value) {
      value = make();
      this.memo.set(key, value);
    }
    return value;
  }

  person(): Promise<Person> {
    return this.once('person', async () => {
      log('seeding a report person (LDAP + Keycloak TOTP login) and 1,000 days of mart rows');
      const directory = await addDirectoryPerson(this.env, { uidPrefix: 'bench', roles: ['prothetic_user'], givenName: 'Bench', surname: 'Runner' });
      this.cleanups.push(async () => {
        await directory.remove();
        await forgetTotpSecret(directory.uid);
      });
      const seeder = createMartSeeder(this.env);
      this.cleanups.push(() => seeder.cleanup());
      const ownerRef = await (await createOwnerRefs(this.env.OWNER_REF_KEY!)).of(directory.uid);
      const rows: HourRow[] = [];
      for (const day of days) {
        for (let h = 0; h < 24; h++) {
          rows.push({ user_id: ownerRef, hour: `${day} ${String(h).padStart(2, '0')}:00:00`, movements: 50 + h, successful_movements: 45 + h, errors_total: h % 3, error_codes: h % 3 ? ['E_GRIP'] : [], error_counts: h % 3 ? [h % 3] : [] });
        }
      }
      for (let i = 0; i < rows.length; i += 6000) await seeder.insert(rows.slice(i, i + 6000));
      const browser = new TestBrowser();
      let token: { value: string; renewAtMs: number } | undefined;
      const accessToken = async () => {
        if (!token || Date.now() > token.renewAtMs) {
          const tokens = await fetchUserTokens({ env: this.env, username: directory.uid, password: directory.password, browser });
          token = { value: tokens.access_token, renewAtMs: Date.now() + (tokens.expires_in * 1000) / 2 };
        }
        return token.value;
      };
      await accessToken();
      return { uid: directory.uid, ownerRef, password: directory.password, browser, accessToken };
    });
  }

  private track(key: string, app: RunningApp): RunningApp {
    this.apps.set(key, app);
    this.cleanups.push(() => app.stop());
    return app;
  }

  /** Records the RSS an app has once started and answering, before any measured load. */
  private recordBefore(key: string, app: RunningApp): void {
    this.rss.set(key, { before: treeRssMiB(app.pid) });
  }

  core(runtime: Runtime): Promise<RunningApp> {
    return this.once(`core-${runtime}`, async () => {
      const app = this.track(`core-${runtime}`, await startApp({ name: 'core', runtime, env: this.env }));
      this.recordBefore(`core-${runtime}`, app);
      return app;
    });
  }

  cdn(runtime: Runtime): Promise<RunningApp> {
    return this.once(`cdn-${runtime}`, async () => {
      const app = this.track(`cdn-${runtime}`, await startApp({ name: 'cdn', runtime, env: this.env, extraEnv: { CDN_FRESH_SECONDS: '3600' } }));
      this.recordBefore(`cdn-${runtime}`, app);
      return app;
    });
  }

  /**
   * A BFF in front of core on Node, and a real session on it (login with TOTP through Keycloak).
   * The per-session API limit (600 a minute by default) is raised out of the way; it is still
   * counted in Redis on every request, as in production.
   */
  bff(runtime: Runtime): Promise<{ app: RunningApp; cookie: string }> {
    return this.once(`bff-${runtime}`, async () => {
      const core = await this.core('node');
      const person = await this.person();
      const app = this.track(`bff-${runtime}`, await startApp({ name: 'bff', runtime, env: this.env, extraEnv: { CORE_URL: core.url, AUTH_RATE_LIMIT: '100000', API_RATE_LIMIT: '100000000' } }));
      this.recordBefore(`bff-${runtime}`, app);
      const login = await loginThroughBff({ bffUrl: app.url, username: person.uid, password: person.password, env: this.env, browser: person.browser });
      return { app, cookie: login.cookie };
    });
  }

  /** The 2.9 KB daily report object the CDN serves, in the stack's S3 bucket. */
  cdnObject(): Promise<{ key: string; body: string }> {
    return this.once('cdn-object', async () => {
      const s3 = localS3Client(s3Settings(this.env), 10_000);
      const key = `bench-run-${process.pid}/daily/2026-11-24/report.json`;
      const body = JSON.stringify({
        user_id: 'bench.runner',
        date: '2026-11-24',
        generated_at: '2026-11-25T00:00:00.000Z',
        hours: Array.from({ length: 24 }, (_, hour) => ({ hour, movements: 40 + hour * 7, successful_movements: 38 + hour * 7, avg_response_ms: 112.5 + hour, battery_min_pct: 100 - hour * 3, error_codes: hour % 5 === 0 ? ['E12'] : [] })),
      });
      await s3.send(new PutObjectCommand({ Bucket: this.env.S3_BUCKET, Key: key, Body: body, ContentType: 'application/json' }));
      this.cleanups.push(async () => {
        await s3.send(new DeleteObjectCommand({ Bucket: this.env.S3_BUCKET, Key: key })).catch(() => undefined);
        s3.destroy();
      });
      return { key, body };
    });
  }

  /** Drops the person's cached reports everywhere core keeps them (S3, in-process, edge), as jobs do after a load. */
  async invalidatePerson(core: RunningApp): Promise<void> {
    const person = await this.person();
    const token = await this.once('jobs-token', () => serviceAccountToken(this.env));
    const response = await fetch(`${core.url}/api/reports/invalidate`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ user_ids: [person.ownerRef] }),
    });
    await response.arrayBuffer();
    if (response.status !== 200) throw new Error(`invalidate answered ${response.status}`);
  }

  async close(): Promise<void> {
    for (const cleanup of this.cleanups.splice(0).reverse()) await cleanup().catch((error) => log(`cleanup: ${errorText(error)}`));
  }
}

// ---------------------------------------------------------------------------------------------
// Alternating rounds

/** What wrk is pointed at; connections and duration come from the measurement. */
type Target = Omit<WrkOptions, 'seconds' | 'connections'>;

interface Side {
  label: string;
  prepare?: () => Promise<Target>;
  /** Before every measured run of this side (e.g. dropping caches for a miss measurement). */
  beforeEach?: () => Promise<void>;
}

type SideResults = Map<string, { results: WrkResult[]; error?: string }>;

/**
 * Each round runs every side once; odd rounds run them in reverse order, so a machine getting
 * busier or quieter during the run does not favour whichever side goes first.
 */
async function alternate(sides: Side[], opts: RunOptions, connections: number, name: string): Promise<SideResults> {
  const out: SideResults = new Map(sides.map((s) => [s.label, { results: [] }]));
  const prepared = new Map<string, Omit<WrkOptions, 'seconds'>>();
  for (const side of sides) {
    try {
      const target = await side.prepare?.();
      if (!target) throw new Error('nothing to measure');
      const options = { ...target, connections };
      prepared.set(side.label, options);
      // A warm-up that completes nothing (a slow anchor under c=32) is no reason to skip the side.
      if (opts.warmupSeconds > 0 && !options.paths) await runWrk({ ...options, seconds: opts.warmupSeconds }).catch(() => undefined);
    } catch (error) {
      out.get(side.label)!.error = errorText(error);
      log(`${name}: ${side.label} not measured: ${errorText(error)}`);
    }
  }
  for (let round = 0; round < opts.rounds; round++) {
    const order = round % 2 === 0 ? sides : [...sides].reverse();
    for (const side of order) {
      const options = prepared.get(side.label);
      const entry = out.get(side.label)!;
      if (!options) continue;
      try {
        await side.beforeEach?.();
        const result = await runWrk({ ...options, seconds: opts.seconds });
        // Error responses are cheap and fast: a run with more than 1 % of them is not the path's figure.
        if (result.errors > result.requests * 0.01) throw new Error(`${result.errors} of ${result.requests} responses were errors (non-2xx/3xx or socket)`);
        entry.results.push(result);
        log(`${name} round ${round + 1} ${side.label}: ${Math.round(result.requestsPerSecond)} req/s, p50 ${result.p50Ms.toFixed(2)} ms, p99 ${result.p99Ms.toFixed(2)} ms, ${Math.round(result.bytesPerRequest)} B/response${result.errors ? `, ${result.errors} errors` : ''}`);
      } catch (error) {
        entry.error = errorText(error);
        log(`${name} round ${round + 1} ${side.label}: ${entry.error}`);
      }
    }
  }
  return out;
}

function cellOf(results: SideResults, label: string, pick: (r: WrkResult) => number, unit: 'req/s' | 'ms'): Cell {
  const entry = results.get(label);
  if (!entry) return na('not run');
  if (entry.results.length === 0) return na(entry.error ?? 'no result');
  return figure(entry.results.map(pick), unit);
}

const rps = (r: WrkResult) => r.requestsPerSecond;
const p50 = (r: WrkResult) => r.p50Ms;
const p99 = (r: WrkResult) => r.p99Ms;

/** Details printed under the table: per side, per round. */
const details: string[] = [];
function recordDetails(name: string, results: SideResults): void {
  for (const [label, entry] of results) {
    const rounds = entry.results.map((r) => `${Math.round(r.requestsPerSecond)} req/s p50 ${r.p50Ms.toFixed(2)} p99 ${r.p99Ms.toFixed(2)} ms ${Math.round(r.bytesPerRequest)} B${r.errors ? ` ${r.errors} err` : ''}`);
    details.push(`- ${name}, ${label}: ${rounds.length ? rounds.join('; ') : `n/a (${entry.error ?? 'not run'})`}`);
  }
}

const versus = (node: Cell, bun: Cell, anchor: Cell, anchorName: string) => {
  const n = formatRatio(node, anchor);
  const b = formatRatio(bun, anchor);
  return n || b ? `Node ${n || 'n/a'} / Bun ${b || 'n/a'} of ${anchorName}` : '';
};

// ---------------------------------------------------------------------------------------------
// ClickHouse anchors: the bare query over the HTTP interface, measured by the same client

function clickHousePath(env: StackEnv, query: string): string {
  return `/?${new URLSearchParams({ database: env.CLICKHOUSE_DATABASE ?? 'reports', query: `${query} FORMAT JSONEachRow` })}`;
}

/** Credentials as headers, so no URL (logged, printed in errors) carries the password. */
function clickHouseHeaders(env: StackEnv): Record<string, string> {
  return { 'x-clickhouse-user': env.CLICKHOUSE_USER ?? 'default', 'x-clickhouse-key': env.CLICKHOUSE_PASSWORD ?? '' };
}

const BARE_AGGREGATES = chSql`sum(event_count) AS events, sum(movements) AS mov, sum(least(successful_movements, movements)) AS successful,
  sum(response_time_sum_ms) AS rt_sum, sum(response_time_count) AS rt_count, max(response_time_max_ms) AS rt_max,
  min(battery_min_pct) AS battery_min, sum(battery_sum_pct) AS battery_sum, sum(errors_total) AS errors,
  sum(active_minutes) AS active_min, sum(charging_minutes) AS charging_min`;

/** The summary's figures in one query, no FINAL: what a warm path would have to beat if it asked ClickHouse. */
function bareSummaryQuery(userId: string): string {
  return chSql`SELECT uniqExact(toDate(hour)) AS active_days, toUnixTimestamp(min(hour)) AS first_ts, toUnixTimestamp(max(hour)) AS last_ts,
    argMax(model_name, hour) AS latest_model, ${BARE_AGGREGATES}
    FROM report_hourly WHERE user_id = ${userId} AND event_count > 0`.text;
}

/** One day's 24 hourly points in one query: the physical floor of a daily report miss. */
function bareDailyQuery(userId: string, day: string): string {
  const from = new Date(`${day}T00:00:00Z`);
  return chSql`SELECT toUnixTimestamp(hour) AS ts, ${BARE_AGGREGATES}
    FROM report_hourly WHERE user_id = ${userId} AND event_count > 0 AND hour >= ${chDateTime(from)} AND hour < ${chDateTime(new Date(from.getTime() + DAY_MS))}
    GROUP BY hour ORDER BY hour`.text;
}

// ---------------------------------------------------------------------------------------------
// The paths: one function each, each returning its table rows

type PathRun = (fx: Fixture, opts: RunOptions) => Promise<TableRow[]>;

const CDN_GOAL = 'Bun ≥ 0.9×, Node ≥ 0.5× of nginx';

async function cdnHit(fx: Fixture, opts: RunOptions): Promise<TableRow[]> {
  const { key, body } = await fx.cdnObject();
  const exp = Math.floor(Date.now() / 1000) + 6 * 3600;
  const nginxSide: Side = {
    label: 'nginx',
    prepare: async () => {
      const aws = new AwsClient({ accessKeyId: fx.env.S3_ACCESS_KEY_ID!, secretAccessKey: fx.env.S3_SECRET_ACCESS_KEY!, service: 's3', region: fx.env.S3_REGION ?? 'us-east-1' });
      const presigned = await aws.sign(`${fx.env.S3_ENDPOINT}/${fx.env.S3_BUCKET}/${key}?X-Amz-Expires=21600`, { method: 'GET', aws: { signQuery: true } });
      const nginx = await startNginxCache({ path: `/reports/${key}`, upstreamUrl: presigned.url });
      fx.cleanups.push(() => nginx.stop());
      return { url: nginx.objectUrl };
    },
  };
  const edgeSide = (runtime: Runtime): Side => ({
    label: runtime,
    prepare: async () => {
      const app = await fx.cdn(runtime);
      const url = await signReportUrl({ cdnUrl: app.url, key, expiresAtSeconds: exp, signingKey: fx.env.CDN_SIGNING_KEY! });
      const first = await fetch(url);
      await first.arrayBuffer();
      if (first.status !== 200) throw new Error(`the CDN edge answered ${first.status}`);
      return { url };
    },
  });
  const rows: TableRow[] = [];
  // Prepared once: nginx and the edges are started by the first encoding's run and reused.
  const sides = [edgeSide('node'), edgeSide('bun'), nginxSide];
  const preparedOnce = new Map<string, Promise<Target>>();
  const shared = sides.map((side) => ({ ...side, prepare: () => preparedOnce.get(side.label) ?? (preparedOnce.set(side.label, side.prepare!()), preparedOnce.get(side.label)!) }));
  for (const encoding of ['gzip', 'identity'] as const) {
    const withHeader = shared.map((side) => ({ ...side, prepare: async () => ({ ...(await side.prepare()), headers: { 'accept-encoding': encoding } }) }));
    const results = await alternate(withHeader, opts, 32, `CDN ${encoding}`);
    recordDetails(`CDN hit ${encoding} c=32`, results);
    const node = cellOf(results, 'node', rps, 'req/s');
    const bun = cellOf(results, 'bun', rps, 'req/s');
    const nginx = cellOf(results, 'nginx', rps, 'req/s');
    rows.push({
      path: `CDN hit, ${body.length.toLocaleString('en-US')} B JSON, ${encoding}, c=32 (req/s)`,
      node,
      bun,
      anchor: { label: 'nginx 1.22 proxy_cache', cell: nginx },
      ratio: versus(node, bun, nginx, 'nginx'),
      goal: CDN_GOAL,
      met: formatMet([
        { label: 'Node', met: meets(node, (v) => v >= 0.5 * medianOf(nginx)) },
        { label: 'Bun', met: meets(bun, (v) => v >= 0.9 * medianOf(nginx)) },
      ]),
    });
  }
  return rows;
}

async function coreWarmSummary(fx: Fixture, opts: RunOptions): Promise<TableRow[]> {
  const person = await fx.person();
  const coreSide = (runtime: Runtime): Side => ({
    label: runtime,
    prepare: async () => {
      const core = await fx.core(runtime);
      const headers = { authorization: `Bearer ${await person.accessToken()}` };
      const warm = await fetch(`${core.url}/api/reports/summary`, { headers });
      await warm.arrayBuffer();
      if (warm.status !== 200) throw new Error(`summary answered ${warm.status}`);
      return { url: `${core.url}/api/reports/summary`, headers };
    },
  });
  const anchorSide: Side = { label: 'clickhouse', prepare: async () => ({ url: `${fx.env.CLICKHOUSE_URL}${clickHousePath(fx.env, bareSummaryQuery(person.ownerRef))}`, headers: clickHouseHeaders(fx.env) }) };
  const sides = [coreSide('node'), coreSide('bun'), anchorSide];
  const c32 = await alternate(sides, opts, 32, 'core summary c=32');
  const c1 = await alternate(sides, opts, 1, 'core summary c=1');
  recordDetails('core warm summary c=32', c32);
  recordDetails('core warm summary c=1', c1);
  return warmSummaryRows(c32, c1, {
    path: 'core direct',
    anchor: { side: 'clickhouse', label: 'bare ClickHouse summary query', name: 'ClickHouse' },
    goals: { rps: ['≥ 4,400 req/s (10× Python 440)', 4400], p50: ['≤ 0.4 ms (Python 1.95 ms)', 0.4] },
  });
}

async function bffToCore(fx: Fixture, opts: RunOptions): Promise<TableRow[]> {
  const person = await fx.person();
  const bffSide = (runtime: Runtime): Side => ({
    label: runtime,
    prepare: async () => {
      const { app, cookie } = await fx.bff(runtime);
      const warm = await fetch(`${app.url}/api/reports/summary`, { headers: { cookie } });
      await warm.arrayBuffer();
      if (warm.status !== 200) throw new Error(`BFF summary answered ${warm.status}`);
      return { url: `${app.url}/api/reports/summary`, headers: { cookie } };
    },
  });
  const coreSide: Side = {
    label: 'core',
    prepare: async () => {
      const core = await fx.core('node');
      return { url: `${core.url}/api/reports/summary`, headers: { authorization: `Bearer ${await person.accessToken()}` } };
    },
  };
  const sides = [bffSide('node'), bffSide('bun'), coreSide];
  const c32 = await alternate(sides, opts, 32, 'BFF c=32');
  const c1 = await alternate(sides, opts, 1, 'BFF c=1');
  recordDetails('BFF → core (Node) warm summary c=32', c32);
  recordDetails('BFF → core (Node) warm summary c=1', c1);
  return warmSummaryRows(c32, c1, {
    path: 'BFF → core',
    anchor: { side: 'core', label: 'core (Node) direct', name: 'core' },
    goals: { rps: ['≥ 3,200 req/s (10× Python 317)', 3200], p50: ['≤ 1.2 ms (Python 5.5 ms)', 1.2] },
  });
}

/**
 * The two rows of a warm-summary path: req/s at c=32 and p50 at c=1, Node and Bun beside the
 * anchor side, each runtime held to the goal (a floor for req/s, a ceiling for p50).
 */
function warmSummaryRows(
  c32: SideResults,
  c1: SideResults,
  row: { path: string; anchor: { side: string; label: string; name: string }; goals: { rps: [goal: string, floor: number]; p50: [goal: string, ceiling: number] } },
): TableRow[] {
  const [n32, b32, a32] = [cellOf(c32, 'node', rps, 'req/s'), cellOf(c32, 'bun', rps, 'req/s'), cellOf(c32, row.anchor.side, rps, 'req/s')];
  const [n1, b1, a1] = [cellOf(c1, 'node', p50, 'ms'), cellOf(c1, 'bun', p50, 'ms'), cellOf(c1, row.anchor.side, p50, 'ms')];
  const [rpsGoal, floor] = row.goals.rps;
  const [p50Goal, ceiling] = row.goals.p50;
  return [
    {
      path: `${row.path}, warm summary, c=32 (req/s)`,
      node: n32,
      bun: b32,
      anchor: { label: row.anchor.label, cell: a32 },
      ratio: versus(n32, b32, a32, row.anchor.name),
      goal: rpsGoal,
      met: formatMet([
        { label: 'Node', met: meets(n32, (v) => v >= floor) },
        { label: 'Bun', met: meets(b32, (v) => v >= floor) },
      ]),
    },
    {
      path: `${row.path}, warm summary, c=1, p50`,
      node: n1,
      bun: b1,
      anchor: { label: row.anchor.label, cell: a1 },
      ratio: versus(n1, b1, a1, row.anchor.name),
      goal: p50Goal,
      met: formatMet([
        { label: 'Node', met: meets(n1, (v) => v <= ceiling) },
        { label: 'Bun', met: meets(b1, (v) => v <= ceiling) },
      ]),
    },
  ];
}

async function cacheMiss(fx: Fixture, opts: RunOptions): Promise<TableRow[]> {
  const person = await fx.person();
  // One client, every request a different day nobody asked for since the last invalidation.
  const coreSide = (runtime: Runtime): Side => ({
    label: runtime,
    prepare: async () => {
      const core = await fx.core(runtime);
      return { url: core.url, headers: { authorization: `Bearer ${await person.accessToken()}` }, paths: days.map((d) => `/api/reports/${d}`) };
    },
    beforeEach: async () => {
      const core = await fx.core(runtime);
      await fx.invalidatePerson(core);
    },
  });
  const anchorSide: Side = { label: 'clickhouse', prepare: async () => ({ url: fx.env.CLICKHOUSE_URL!, headers: clickHouseHeaders(fx.env), paths: days.map((d) => clickHousePath(fx.env, bareDailyQuery(person.ownerRef, d))) }) };
  const results = await alternate([coreSide('node'), coreSide('bun'), anchorSide], opts, 1, 'cache miss c=1');
  recordDetails('cache miss (daily report) c=1', results);
  const pair = (label: string): Cell => {
    const a = cellOf(results, label, p50, 'ms');
    const b = cellOf(results, label, p99, 'ms');
    return 'na' in a ? a : { text: `${formatCell(a)} / ${formatCell(b)}` };
  };
  const [n50, b50, a50] = [cellOf(results, 'node', p50, 'ms'), cellOf(results, 'bun', p50, 'ms'), cellOf(results, 'clickhouse', p50, 'ms')];
  const [n99, b99] = [cellOf(results, 'node', p99, 'ms'), cellOf(results, 'bun', p99, 'ms')];
  const met = (a: Cell, b: Cell) => {
    const x = meets(a, (v) => v <= 6);
    const y = meets(b, (v) => v <= 12);
    return x === undefined || y === undefined ? undefined : x && y;
  };
  return [
    {
      path: 'cache miss (daily report), c=1, p50 / p99',
      node: pair('node'),
      bun: pair('bun'),
      anchor: { label: 'bare ClickHouse daily query', cell: pair('clickhouse') },
      ratio: versus(n50, b50, a50, 'ClickHouse (p50)'),
      goal: 'p50 ≤ 6 ms, p99 ≤ 12 ms (Python 13.2 / 17.5)',
      met: formatMet([
        { label: 'Node', met: met(n50, n99) },
        { label: 'Bun', met: met(b50, b99) },
      ]),
    },
  ];
}

/** RSS of the apps the other paths loaded: before, right after, and some seconds later. */
async function rssAfterLoad(fx: Fixture, opts: RunOptions): Promise<TableRow[]> {
  for (const [key, app] of fx.apps) {
    const entry = fx.rss.get(key);
    if (entry) entry.after = treeRssMiB(app.pid);
  }
  if (opts.settleSeconds > 0) await new Promise((r) => setTimeout(r, opts.settleSeconds * 1000));
  for (const [key, app] of fx.apps) {
    const entry = fx.rss.get(key);
    if (entry) entry.settled = treeRssMiB(app.pid);
  }
  const cell = (key: string): Cell => {
    const entry = fx.rss.get(key);
    if (!entry) return na('not started: its load paths did not run');
    const f = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? 'n/a' : Math.round(v).toString());
    return { text: `${f(entry.before)} → ${f(entry.after)} → ${f(entry.settled)} MiB` };
  };
  const verdict = (key: string) => {
    const entry = fx.rss.get(key);
    if (!entry || entry.after === undefined || entry.settled === undefined || !Number.isFinite(entry.after)) return undefined;
    return entry.after <= 128 && entry.settled <= 128;
  };
  return (['core', 'cdn', 'bff'] as const).map((name) => ({
    path: `RSS, ${name === 'cdn' ? 'CDN edge' : name === 'bff' ? 'BFF edge' : 'core'}: before → after load → ${opts.settleSeconds} s later`,
    node: cell(`${name}-node`),
    bun: cell(`${name}-bun`),
    anchor: { label: 'Python (issue)', cell: { text: name === 'core' ? '119 MiB' : '124 MiB' } },
    goal: '≤ 128 MiB each, returned after load',
    met: formatMet([
      { label: 'Node', met: verdict(`${name}-node`) },
      { label: 'Bun', met: verdict(`${name}-bun`) },
    ]),
  }));
}


async function ingest(_fx: Fixture, opts: RunOptions): Promise<TableRow[]> {
  const cells: Record<Runtime, Cell> = { node: na('not run'), bun: na('not run') };
  const anchorValues: number[] = [];
  for (const runtime of ['node', 'bun'] as const) {
    const outcome = await runSubBench('bench/ingest.bench.ts', ['--runtime', runtime, '--seconds', String(opts.seconds), '--rounds', String(opts.rounds)], { timeoutSeconds: 120 + opts.seconds * opts.rounds * 4, echo: (l) => log(`ingest ${runtime}: ${l}`) });
    if (!outcome.ok) {
      cells[runtime] = na(outcome.reason);
      continue;
    }
    const json = outcome.json;
    const median = num(json?.events_per_s);
    if (!Number.isFinite(median)) {
      cells[runtime] = na('ingest.bench.ts printed no events_per_s');
      continue;
    }
    const rangeValues = Array.isArray(json?.events_per_s_range) ? (json.events_per_s_range as unknown[]).map(num) : [];
    // Median and range are what the sub-bench reports; [min, median, max] renders the same cell.
    cells[runtime] = figure(rangeValues.length === 2 ? [rangeValues[0]!, median, rangeValues[1]!] : [median], 'events/s');
    const anchor = num(json?.anchor_rows_per_s);
    if (Number.isFinite(anchor)) anchorValues.push(anchor);
    details.push(`- ingest (${runtime}): ${outcome.stdout.trim().split('\n').filter((l) => l.startsWith('round')).join('; ') || JSON.stringify(json)}`);
  }
  const anchor: Cell = anchorValues.length ? figure(anchorValues, 'rows/s') : na('ingest.bench.ts reported no COPY anchor');
  return [
    {
      path: 'telemetry ingest (events/s)',
      node: cells.node,
      bun: cells.bun,
      anchor: { label: 'bare PostgreSQL COPY of the same rows', cell: anchor },
      ratio: versus(cells.node, cells.bun, anchor, 'COPY'),
      goal: '≥ 100,000 events/s on both',
      met: formatMet([
        { label: 'Node', met: meets(cells.node, (v) => v >= 100_000) },
        { label: 'Bun', met: meets(cells.bun, (v) => v >= 100_000) },
      ]),
    },
  ];
}


async function etl(_fx: Fixture, opts: RunOptions): Promise<TableRow[]> {
  const outcome = await runSubBench('bench/etl.bench.ts', ['--rows', String(opts.etlRows)], { timeoutSeconds: 900, echo: (l) => log(`etl: ${l}`) });
  const row: TableRow = { path: `ETL, ${opts.etlRows.toLocaleString('en-US')} raw rows: raw rows/s, peak RSS (Node)`, goal: '≥ 1,000,000 raw rows/s, RSS ≤ 128 MiB', met: 'n/a' };
  if (!outcome.ok) return [{ ...row, node: na(outcome.reason), anchor: { label: 'bare aggregation query', cell: na(outcome.reason) } }];
  const figures = parseEtlOutput(outcome.stdout, outcome.json);
  const rate: Cell = Number.isFinite(figures.rowsPerS) ? figure([figures.rowsPerS], 'rows/s') : na('no raw rows/s in its output');
  const node: Cell = Number.isFinite(figures.rowsPerS) ? { text: `${formatCell(rate)}, peak ${Number.isFinite(figures.peakRssMiB) ? Math.round(figures.peakRssMiB) : 'n/a'} MiB` } : rate;
  const anchor: Cell = Number.isFinite(figures.anchorRowsPerS) ? figure([figures.anchorRowsPerS], 'rows/s') : na('etl.bench.ts reports no bare aggregation figure yet');
  details.push(`- ETL: ${outcome.stdout.trim().split('\n').filter((l) => l.startsWith('[')).join(' ')}`);
  const rateOk = meets(rate, (v) => v >= 1_000_000);
  const rssOk = Number.isFinite(figures.peakRssMiB) ? figures.peakRssMiB <= 128 : undefined;
  return [{ ...row, node, anchor: { label: 'bare aggregation query', cell: anchor }, ratio: formatRatio(rate, anchor) ? `${formatRatio(rate, anchor)} of the bare query` : '', met: formatMet([{ label: 'Node', met: rateOk === undefined || rssOk === undefined ? undefined : rateOk && rssOk }]) }];
}


async function cdcLag(_fx: Fixture, opts: RunOptions): Promise<TableRow[]> {
  const outcome = await runSubBench('bench/cdc-lag.bench.ts', ['--rate', String(opts.cdcRate), '--seconds', String(opts.cdcSeconds)], { timeoutSeconds: opts.cdcSeconds + 300, echo: (l) => log(`cdc: ${l}`) });
  const row: TableRow = { path: `CDC lag p50 / p90 / p99 at ${opts.cdcRate.toLocaleString('en-US')} changes/s for ${opts.cdcSeconds} s (Node)`, goal: 'p99 < 500 ms at 1,000 changes/s for 60 s', met: 'n/a' };
  if (!outcome.ok) return [{ ...row, node: na(outcome.reason) }];
  const lag = parseCdcOutput(outcome.stdout, outcome.json);
  if (!Number.isFinite(lag.p99)) return [{ ...row, node: na('no lag percentiles in its output') }];
  details.push(`- CDC: ${outcome.stdout.trim().split('\n').find((l) => l.startsWith('cdc lag')) ?? ''} p50 ${lag.p50} ms, p90 ${lag.p90} ms, p99 ${lag.p99} ms`);
  const sustained = lag.ratePerS >= 0.95 * 1000 && opts.cdcSeconds >= 60;
  return [{ ...row, node: { text: `${lag.p50} / ${lag.p90} / ${lag.p99} ms at ${Number.isFinite(lag.ratePerS) ? lag.ratePerS.toFixed(0) : 'n/a'} changes/s` }, met: lag.p99 < 500 ? (sustained ? 'yes' : 'yes at this rate/duration, not the goal’s') : 'no' }];
}

const RUNS: Record<PathId, { title: string; run: PathRun }> = {
  cdn: { title: 'CDN hit', run: cdnHit },
  core: { title: 'core direct, warm summary', run: coreWarmSummary },
  bff: { title: 'BFF → core', run: bffToCore },
  miss: { title: 'cache miss', run: cacheMiss },
  rss: { title: 'RSS after load', run: rssAfterLoad },
  ingest: { title: 'telemetry ingest', run: ingest },
  etl: { title: 'ETL', run: etl },
  cdc: { title: 'CDC lag', run: cdcLag },
};

// ---------------------------------------------------------------------------------------------
// Machine facts and the document

/** First line a tool prints about its version (nginx -v writes to stderr; wrk --version exits 1). */
function versionOf(command: string, args: string[]): string {
  const result = spawnSync(command, args, { encoding: 'utf8', timeout: 10_000 });
  const line = `${result.stdout ?? ''}\n${result.stderr ?? ''}`.split('\n').find((l) => l.trim());
  return line?.trim() ?? 'n/a';
}

async function machineFacts(env: StackEnv): Promise<Record<string, string>> {
  let clickhouse = 'n/a';
  try {
    const response = await fetch(`${env.CLICKHOUSE_URL}${clickHousePath(env, 'SELECT version() AS v')}`, { headers: clickHouseHeaders(env) });
    clickhouse = ((await response.json()) as { v: string }).v;
  } catch {
    /* shown as n/a */
  }
  return {
    date: new Date().toISOString(),
    nproc: String(availableParallelism()),
    cpu: cpus()[0]?.model ?? 'unknown',
    'load average at start': loadavg().map((l) => l.toFixed(2)).join(' '),
    node: process.versions.node,
    bun: versionOf(RUNTIME_BIN.bun, ['--version']),
    nginx: versionOf('nginx', ['-v']).replace(/^nginx version: /, ''),
    wrk: versionOf('wrk', ['--version']).split(' [')[0]!,
    clickhouse,
  };
}

const NOTES_FILE = join(ROOT, 'docs', 'performance-notes.md');

// ---------------------------------------------------------------------------------------------

function commandLine(argv: string[]): string {
  return argv.length ? `npm run bench -- ${argv.join(' ')}` : 'npm run bench';
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const opts = parseOptions(argv);
  const env = loadStackEnv();
  const needsHttp = opts.only.some((id) => id === 'cdn' || id === 'core' || id === 'bff' || id === 'miss');
  let toolsError: string | undefined;
  if (needsHttp) await ensureDebPackages('bench', ['wrk', 'nginx']).catch((error) => (toolsError = errorText(error)));
  const facts = await machineFacts(env);
  log(`${commandLine(argv)}: ${opts.only.join(', ')}; ${opts.rounds} round(s) × ${opts.seconds} s; ${facts.nproc} cores, load ${facts['load average at start']}`);
  const fx = new Fixture(env);
  const rows: TableRow[] = [];
  const stop = () => {
    void fx.close().finally(() => process.exit(130));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    for (const id of opts.only) {
      log(`— ${RUNS[id].title}`);
      try {
        if (toolsError && id !== 'rss' && id !== 'ingest' && id !== 'etl' && id !== 'cdc') throw new Error(toolsError);
        rows.push(...(await RUNS[id].run(fx, opts)));
      } catch (error) {
        log(`${RUNS[id].title}: ${errorText(error)}`);
        rows.push({ path: RUNS[id].title, node: na(errorText(error)), goal: '', met: 'n/a' });
      }
    }
  } finally {
    await fx.close();
  }
  facts['load average at end'] = loadavg().map((l) => l.toFixed(2)).join(' ');
  const table = renderMarkdownTable(rows);
  console.log(`\n${table}\n`);
  console.log(Object.entries(facts).map(([k, v]) => `${k}: ${v}`).join('; '));
  if (opts.doc) {
    const existing = existsSync(opts.doc) ? readFileSync(opts.doc, 'utf8') : '';
    const notes = existsSync(NOTES_FILE) ? readFileSync(NOTES_FILE, 'utf8') : '';
    mkdirSync(dirname(opts.doc), { recursive: true });
    writeFileSync(opts.doc, renderDocument({ table, command: commandLine(argv), facts, opts, details, notes, profiles: preservedProfiles(existing) }));
    log(`wrote ${opts.doc}`);
  }
  // The last line, for tools: every row with its cells as printed.
  console.log(JSON.stringify({ bench: 'run', command: commandLine(argv), rows: rows.map((r) => ({ path: r.path, node: formatCell(r.node), bun: formatCell(r.bun), anchor: r.anchor ? formatCell(r.anchor.cell) : '', ratio: r.ratio ?? '', goal: r.goal, met: r.met })) }));
}

if (import.meta.main) await main();
