import { chownSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StackEnv } from '../lib/env.ts';
import { ensureDebPackages } from '../../tools/kit/apt.ts';
import { sha256Hex } from '../../tools/kit/hash.ts';
import { log } from '../../tools/kit/log.ts';
import { paths } from '../../tools/kit/paths.ts';
import { runningPid, startDaemon, stopDaemon } from '../../tools/kit/proc.ts';
import { systemUser } from '../../tools/kit/user.ts';
import { waitForDaemon } from '../../tools/kit/wait.ts';
import type { StackService } from './service.ts';

const NAME = 'clickhouse';
const OS_USER = 'clickhouse';
/** Debian's 18.16 package ships the server as its own binary (no multi-tool `clickhouse server`). */
const SERVER = '/usr/sbin/clickhouse-server';
const HTTP_PORT = 8123;
const TCP_PORT = 9000;

export interface ClickHouseSettings {
  url: URL;
  user: string;
  password: string;
  database: string;
  mlUser: string;
  mlPassword: string;
  /** Reads the report database only (readonly=1): what core needs. */
  coreUser: string;
  corePassword: string;
  /** Writes the report database (ETL, CDC apply, retention) and nothing else: what jobs needs. */
  jobsUser: string;
  jobsPassword: string;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The stack's ClickHouse settings, failing with the name of every missing or bad variable. */
export function clickHouseSettings(env: StackEnv): ClickHouseSettings {
  const problems: string[] = [];
  let url: URL | undefined;
  try {
    url = new URL(env.CLICKHOUSE_URL ?? '');
    if (url.protocol !== 'http:') problems.push(`CLICKHOUSE_URL must be http://, got ${url.protocol}`);
  } catch {
    problems.push(`CLICKHOUSE_URL is not a URL: ${env.CLICKHOUSE_URL ?? '(unset)'}`);
  }
  for (const name of ['CLICKHOUSE_PASSWORD', 'CLICKHOUSE_ML_PASSWORD', 'CLICKHOUSE_CORE_PASSWORD', 'CLICKHOUSE_JOBS_PASSWORD']) if (!env[name]) problems.push(`${name} is not set`);
  for (const name of ['CLICKHOUSE_USER', 'CLICKHOUSE_DATABASE', 'CLICKHOUSE_ML_USER', 'CLICKHOUSE_CORE_USER', 'CLICKHOUSE_JOBS_USER']) {
    if (!IDENTIFIER.test(env[name] ?? '')) problems.push(`${name} must be an identifier ([A-Za-z_][A-Za-z0-9_]*), got "${env[name] ?? ''}"`);
  }
  if (env.CLICKHOUSE_USER !== 'default') problems.push(`CLICKHOUSE_USER must be "default" (the admin user this stack configures), got "${env.CLICKHOUSE_USER ?? ''}"`);
  if (problems.length > 0 || !url) throw new Error(`clickhouse: ${problems.join('; ')}`);
  return {
    url,
    user: env.CLICKHOUSE_USER!,
    password: env.CLICKHOUSE_PASSWORD!,
    database: env.CLICKHOUSE_DATABASE!,
    mlUser: env.CLICKHOUSE_ML_USER!,
    mlPassword: env.CLICKHOUSE_ML_PASSWORD!,
    coreUser: env.CLICKHOUSE_CORE_USER!,
    corePassword: env.CLICKHOUSE_CORE_PASSWORD!,
    jobsUser: env.CLICKHOUSE_JOBS_USER!,
    jobsPassword: env.CLICKHOUSE_JOBS_PASSWORD!,
  };
}


/** Fills {{NAME}} placeholders; an unknown or unfilled placeholder is a bug in the template. */
export function renderTemplate(template: string, values: Record<string, string>): string {
  return template.replace(/\{\{([A-Z0-9_]+)\}\}/g, (_, key: string) => {
    const value = values[key];
    if (value === undefined) throw new Error(`clickhouse config template uses {{${key}}}, which has no value`);
    if (/[<>&]/.test(value)) throw new Error(`clickhouse config value for {{${key}}} contains XML markup: ${value}`);
    return value;
  });
}

/**
 * Runs one statement over HTTP as the given user and returns the body. 18.16 answers errors as
 * "Code: N, e.displayText() = DB::Exception: …" with a non-200 status.
 */
async function queryHttp(url: URL, user: string, password: string, sql: string, timeoutMs = 5_000): Promise<string> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` },
    body: sql,
    signal: AbortSignal.timeout(timeoutMs),
  });
  const body = await response.text();
  if (!response.ok) throw new Error(`clickhouse HTTP ${response.status}: ${body.trim().slice(0, 300)}`);
  return body;
}

/** As root the server drops to the package's system user; setpriv execs, so the recorded pid is the server's. */
function serverCommand(configFile: string): { command: string; args: string[] } {
  const serverArgs = [`--config-file=${configFile}`];
  if (process.getuid?.() !== 0) return { command: SERVER, args: serverArgs };
  return { command: 'setpriv', args: [`--reuid=${OS_USER}`, `--regid=${OS_USER}`, '--init-groups', SERVER, ...serverArgs] };
}

/** Writes a file only when its content changes, so a second `up` leaves mtimes (and 18.16's config reloader) alone. */
function writeIfChanged(file: string, content: string, mode: number, owner?: { uid: number; gid: number }): boolean {
  const same = existsSync(file) && readFileSync(file, 'utf8') === content;
  if (!same) writeFileSync(file, content, { mode });
  if (owner) chownSync(file, owner.uid, owner.gid);
  return !same;
}

function createClickHouse(): StackService {
  const dir = paths.data(NAME);
  const configFile = join(dir, 'config.xml');

  /** Renders config.xml and users.xml from stack/config/clickhouse; passwords only as SHA-256. */
  const renderConfigs = (settings: ClickHouseSettings): void => {
    const owner = process.getuid?.() === 0 ? systemUser(OS_USER, 'clickhouse-server') : undefined;
    for (const sub of ['', 'data', 'tmp', 'user_files', 'format_schemas']) {
      mkdirSync(join(dir, sub), { recursive: true });
      if (owner) chownSync(join(dir, sub), owner.uid, owner.gid);
    }
    const template = (file: string) => readFileSync(join(paths.config, 'clickhouse', file), 'utf8');
    const port = Number(settings.url.port || HTTP_PORT);
    if (port !== HTTP_PORT) throw new Error(`clickhouse: CLICKHOUSE_URL must use port ${HTTP_PORT} (the port in stack/config/clickhouse/config.xml), got ${port}`);
    const configChanged = writeIfChanged(configFile, renderTemplate(template('config.xml'), { DIR: dir }), 0o640, owner);
    if (configChanged && runningPid(NAME)) log.warn(NAME, 'config.xml changed; restart to apply it: stack/cli.ts down clickhouse && stack/cli.ts up clickhouse');
    const usersChanged = writeIfChanged(
      join(dir, 'users.xml'),
      renderTemplate(template('users.xml'), {
        DEFAULT_PASSWORD_SHA256: sha256Hex(settings.password),
        ML_USER: settings.mlUser,
        ML_PASSWORD_SHA256: sha256Hex(settings.mlPassword),
        DATABASE: settings.database,
        CORE_USER: settings.coreUser,
        CORE_PASSWORD_SHA256: sha256Hex(settings.corePassword),
        JOBS_USER: settings.jobsUser,
        JOBS_PASSWORD_SHA256: sha256Hex(settings.jobsPassword),
      }),
      0o600,
      owner,
    );
    if (usersChanged && runningPid(NAME)) log.step(NAME, 'users.xml changed; the running server reloads it within a few seconds');
  };

  const isReady = async (env: StackEnv) => {
    const settings = clickHouseSettings(env);
    return (await queryHttp(settings.url, settings.user, settings.password, 'SELECT 1', 2_000)).trim() === '1';
  };

  const ensureDatabase = async (env: StackEnv) => {
    const settings = clickHouseSettings(env);
    // The name passed IDENTIFIER above; 18.16 has no server-side parameters for DDL anyway.
    await queryHttp(settings.url, settings.user, settings.password, `CREATE DATABASE IF NOT EXISTS ${settings.database}`);
  };

  return {
    name: NAME,
    ports: [HTTP_PORT, TCP_PORT],
    version: 'ClickHouse 18.16.1 (Debian clickhouse-server)',
    async install() {
      await ensureDebPackages(NAME, ['clickhouse-server', 'clickhouse-client']);
    },
    isReady,
    async start(env) {
      const settings = clickHouseSettings(env);
      renderConfigs(settings);
      // Already ours but not answering (still starting, or a password just changed): wait for it.
      if (runningPid(NAME) === undefined) {
        const { command, args } = serverCommand(configFile);
        startDaemon(NAME, command, args, { cwd: dir });
      }
      await waitForDaemon(NAME, () => isReady(env), {
        timeoutMs: 60_000,
        intervalMs: 100,
        exitedMessage: `clickhouse-server exited during start (ports ${HTTP_PORT}/${TCP_PORT} taken?)`,
      });
      // Migrations run before provision(), and they need the database to exist.
      await ensureDatabase(env);
    },
    async provision(env) {
      // `up` skips start() for a server that already answers; rendering here lets a changed users.xml
      // (a new password, a narrowed allow_databases) reach it too: 18.16 reloads the file by itself.
      renderConfigs(clickHouseSettings(env));
      await ensureDatabase(env);
    },
    async stop() {
      await stopDaemon(NAME, 30_000);
    },
  };
}

export const services: StackService[] = [createClickHouse()];
