import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Attribute, Change, Client, InvalidCredentialsError, NoSuchObjectError } from 'ldapts';
import { demoPassword, type Region } from '../../demo/people.ts';
import { BASE_DN, PASSWORD_PLACEHOLDER, readSeedLdif, type LdifEntry } from '../config/ldap/seed.ts';
import type { StackEnv } from '../lib/env.ts';
import { ensureDebPackages } from '../../tools/kit/apt.ts';
import { log } from '../../tools/kit/log.ts';
import { paths } from '../../tools/kit/paths.ts';
import { runningPid, startDaemon, stopDaemon } from '../../tools/kit/proc.ts';
import { systemUser } from '../../tools/kit/user.ts';
import { waitForDaemon } from '../../tools/kit/wait.ts';
import type { StackService } from './service.ts';

/**
 * Two OpenLDAP directories, one per region (personal data stays regional): Debian's slapd run
 * twice with its own slapd.conf, an MDB database under .stack/data/ldap-<region>, listening only
 * on ldap://127.0.0.1:<port>/. Seeded from stack/config/ldap/seed-<region>.ldif (generated from
 * demo/people.ts); passwords come from the stack environment.
 */

const OS_USER = 'openldap';
const SLAPD = '/usr/sbin/slapd';

interface DirectorySpec {
  region: Region;
  name: string;
  urlVar: string;
  baseDnVar: string;
  passwordVar: string;
  readerPasswordVar: string;
}

const SPECS: DirectorySpec[] = [
  { region: 'ru', name: 'ldap-ru', urlVar: 'LDAP_RU_URL', baseDnVar: 'LDAP_RU_BASE_DN', passwordVar: 'LDAP_RU_ADMIN_PASSWORD', readerPasswordVar: 'LDAP_RU_READER_PASSWORD' },
  { region: 'eu', name: 'ldap-eu', urlVar: 'LDAP_EU_URL', baseDnVar: 'LDAP_EU_BASE_DN', passwordVar: 'LDAP_EU_ADMIN_PASSWORD', readerPasswordVar: 'LDAP_EU_READER_PASSWORD' },
];

/** The admin (root) DN of a directory: the stack's provisioning only, never a running service. */
export function adminDn(baseDn: string): string {
  return `cn=admin,${baseDn}`;
}

/** The read-only account Keycloak's federation binds as (slapd.conf.template grants it read on people and groups). */
export function readerDn(baseDn: string): string {
  return `cn=keycloak-reader,${baseDn}`;
}

/** Salted SHA-1 in the `{SSHA}` form slapd and slappasswd use. */
export function hashSsha(password: string, salt: Buffer = randomBytes(8)): string {
  const digest = createHash('sha1').update(password, 'utf8').update(salt).digest();
  return `{SSHA}${Buffer.concat([digest, salt]).toString('base64')}`;
}

export function verifySsha(password: string, hashed: string): boolean {
  if (!hashed.startsWith('{SSHA}')) return false;
  const raw = Buffer.from(hashed.slice(6), 'base64');
  if (raw.length <= 20) return false;
  const expected = hashSsha(password, raw.subarray(20));
  return expected.length === hashed.length && timingSafeEqual(Buffer.from(expected), Buffer.from(hashed));
}

interface Directory {
  url: string;
  port: number;
  baseDn: string;
  adminPassword: string;
}

function directoryOf(spec: DirectorySpec, env: StackEnv): Directory {
  const url = env[spec.urlVar];
  const baseDn = env[spec.baseDnVar];
  const adminPassword = env[spec.passwordVar];
  if (!url || !baseDn || !adminPassword) throw new Error(`${spec.name}: ${spec.urlVar}, ${spec.baseDnVar} and ${spec.passwordVar} must be set`);
  const parsed = new URL(url);
  if (parsed.protocol !== 'ldap:' || !['127.0.0.1', 'localhost'].includes(parsed.hostname) || !parsed.port) {
    throw new Error(`${spec.name}: ${spec.urlVar}=${url} must be ldap://127.0.0.1:<port> (the stack listens on loopback only)`);
  }
  // The seed files are written for the default suffixes; another base DN would leave them unused.
  if (baseDn !== BASE_DN[spec.region]) throw new Error(`${spec.name}: ${spec.baseDnVar}=${baseDn} differs from the seed's ${BASE_DN[spec.region]}`);
  return { url, port: Number(parsed.port), baseDn, adminPassword };
}

async function withClient<T>(url: string, use: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ url, timeout: 5_000, connectTimeout: 2_000 });
  try {
    return await use(client);
  } finally {
    await client.unbind().catch(() => {});
  }
}

/**
 * The template's `access to … by …` rules as cn=config `olcAccess` values, in order. compose.yaml's
 * directories (bitnami/openldap) keep their configuration in cn=config, so provision() writes these
 * there; the native stack has them in its rendered slapd.conf.
 */
export function accessRules(template: string, values: { SUFFIX: string; READER_DN: string }): string[] {
  const rules: string[] = [];
  for (const line of template.split('\n')) {
    if (line.startsWith('access to ')) rules.push(line.slice('access '.length).trim());
    else if (/^\s+by\s/.test(line) && rules.length > 0) rules[rules.length - 1] += ` ${line.trim()}`;
  }
  return rules.map((rule, i) => `{${i}}${rule.replace(/\{\{(SUFFIX|READER_DN)\}\}/g, (_, key: 'SUFFIX' | 'READER_DN') => values[key])}`);
}

/** Replaces the olcAccess of the directory's database in cn=config when it differs from the template's. */
async function applyAccessRulesOverConfig(service: string, dir: Directory, configAdminDn: string, password: string): Promise<void> {
  const template = readFileSync(join(paths.config, 'ldap', 'slapd.conf.template'), 'utf8');
  const wanted = accessRules(template, { SUFFIX: dir.baseDn, READER_DN: readerDn(dir.baseDn) });
  await withClient(dir.url, async (client) => {
    await client.bind(configAdminDn, password);
    const { searchEntries } = await client.search('cn=config', { scope: 'one', filter: `(olcSuffix=${dir.baseDn})`, attributes: ['olcAccess'] });
    const database = searchEntries[0];
    if (!database) throw new Error(`${service}: no database with suffix ${dir.baseDn} in cn=config`);
    const current = [database.olcAccess ?? []].flat().map(String);
    if (current.length === wanted.length && current.every((rule, i) => rule === wanted[i])) return;
    await client.modify(database.dn, new Change({ operation: 'replace', modification: new Attribute({ type: 'olcAccess', values: wanted }) }));
    log.step(service, `access rules written to ${database.dn}`);
  });
}

/** Protocol-level probe: the admin binds and the root DSE names this directory's suffix. */
async function isDirectoryReady(dir: Directory): Promise<boolean> {
  return withClient(dir.url, async (client) => {
    await client.bind(adminDn(dir.baseDn), dir.adminPassword);
    const { searchEntries } = await client.search('', { scope: 'base', filter: '(objectClass=*)', attributes: ['namingContexts'] });
    const contexts = searchEntries[0]?.namingContexts;
    return (Array.isArray(contexts) ? contexts.map(String) : [String(contexts)]).includes(dir.baseDn);
  });
}

/** As root, slapd's files go to the package's system user; otherwise they stay the current user's. */
function osUser(): { uid: number; gid: number } | undefined {
  return process.getuid?.() === 0 ? systemUser(OS_USER, 'slapd') : undefined;
}

/** Keeps the existing root password hash while it still matches, so an unchanged env rewrites nothing. */
function rootPasswordHash(confPath: string, password: string): string {
  if (existsSync(confPath)) {
    const current = /^rootpw\s+(\S+)/m.exec(readFileSync(confPath, 'utf8'))?.[1];
    if (current && verifySsha(password, current)) return current;
  }
  return hashSsha(password);
}

function writeSlapdConf(dataDir: string, dir: Directory): string {
  const confPath = join(dataDir, 'slapd.conf');
  const values: Record<string, string> = {
    DATA_DIR: dataDir,
    SUFFIX: dir.baseDn,
    ROOT_DN: adminDn(dir.baseDn),
    ROOT_PW_HASH: rootPasswordHash(confPath, dir.adminPassword),
    READER_DN: readerDn(dir.baseDn),
  };
  const template = readFileSync(join(paths.config, 'ldap', 'slapd.conf.template'), 'utf8');
  const conf = template.replace(/\{\{([A-Z_]+)\}\}/g, (_, key: string) => {
    const value = values[key];
    if (value === undefined) throw new Error(`slapd.conf.template: unknown placeholder {{${key}}}`);
    return value;
  });
  if (!existsSync(confPath) || readFileSync(confPath, 'utf8') !== conf) writeFileSync(confPath, conf, { mode: 0o600 });
  return confPath;
}

function prepareDataDir(dataDir: string): void {
  const owner = osUser();
  for (const dir of [join(dataDir, '..'), dataDir, join(dataDir, 'db')]) {
    mkdirSync(dir, { recursive: true });
    // Only the directory's own folders go to the openldap user; .stack/data stays as it is.
    if (owner && dir !== join(dataDir, '..')) chownSync(dir, owner.uid, owner.gid);
  }
}

function sameValues(a: readonly string[], b: readonly string[]): boolean {
  const left = [...a].sort();
  const right = [...b].sort();
  return left.length === right.length && left.every((v, i) => v === right[i]);
}

/**
 * Group membership is shared: people added at run time (temporary test people, an operator's
 * additions) sit in the same role groups as the seed's. For these attributes the seed only makes
 * sure its own values are present and never removes values it does not know.
 */
const ADDITIVE_ATTRIBUTES = new Set(['member']);

/** Wanted values absent from the current ones (DNs compared case-insensitively, as LDAP does). */
function missingValues(current: readonly string[], wanted: readonly string[]): string[] {
  const present = new Set(current.map((v) => v.toLowerCase()));
  return wanted.filter((v) => !present.has(v.toLowerCase()));
}

/** Does the directory accept this person's password already? (Binds compare against the hash.) */
async function acceptsPassword(url: string, dn: string, password: string): Promise<boolean> {
  return withClient(url, async (client) => {
    try {
      await client.bind(dn, password);
      return true;
    } catch (error) {
      if (error instanceof InvalidCredentialsError) return false;
      throw error;
    }
  });
}

/**
 * Brings the directory to the seed: adds missing entries, replaces attributes that differ (group
 * `member` only gains the seed's missing members; others' members stay), and re-hashes a
 * person's password only when their own password (`passwordOf(uid)`, or one string for every
 * entry) no longer binds. A second run with the same seed and env writes nothing. Entries not in
 * the seed are left alone.
 */
export async function applySeed(
  service: string,
  url: string,
  baseDn: string,
  adminPassword: string,
  entries: LdifEntry[],
  passwordOf: string | ((uid: string) => string),
): Promise<{ added: number; updated: number }> {
  let added = 0;
  let updated = 0;
  await withClient(url, async (client) => {
    await client.bind(adminDn(baseDn), adminPassword);
    for (const entry of entries) {
      const wanted = Object.fromEntries(Object.entries(entry.attributes).filter(([name]) => name !== 'userPassword'));
      const hasPassword = entry.attributes.userPassword?.[0] === PASSWORD_PLACEHOLDER;
      const personPassword = !hasPassword ? '' : typeof passwordOf === 'string' ? passwordOf : passwordOf(String(entry.attributes.uid?.[0] ?? entry.dn));
      let existing: Record<string, unknown> | undefined;
      try {
        const { searchEntries } = await client.search(entry.dn, { scope: 'base', filter: '(objectClass=*)', attributes: Object.keys(wanted) });
        existing = searchEntries[0];
      } catch (error) {
        if (!(error instanceof NoSuchObjectError)) throw error;
      }
      if (!existing) {
        await client.add(entry.dn, hasPassword ? { ...wanted, userPassword: [hashSsha(personPassword)] } : wanted);
        added++;
        continue;
      }
      const changes: Change[] = [];
      for (const [name, values] of Object.entries(wanted)) {
        const raw = existing[name];
        const current = raw === undefined ? [] : (Array.isArray(raw) ? raw : [raw]).map(String);
        if (ADDITIVE_ATTRIBUTES.has(name)) {
          const missing = missingValues(current, values);
          if (missing.length > 0) changes.push(new Change({ operation: 'add', modification: new Attribute({ type: name, values: missing }) }));
        } else if (!sameValues(current, values)) {
          changes.push(new Change({ operation: 'replace', modification: new Attribute({ type: name, values }) }));
        }
      }
      if (hasPassword && !(await acceptsPassword(url, entry.dn, personPassword))) {
        changes.push(new Change({ operation: 'replace', modification: new Attribute({ type: 'userPassword', values: [hashSsha(personPassword)] }) }));
      }
      if (changes.length > 0) {
        await client.modify(entry.dn, changes);
        updated++;
      }
    }
  });
  if (added + updated > 0) log.step(service, `seed applied: ${added} added, ${updated} updated`);
  return { added, updated };
}

function required(env: StackEnv, name: string, service: string): string {
  const value = env[name];
  if (!value) throw new Error(`${service}: ${name} is not set`);
  return value;
}

/** The read-only bind account: added if missing, its password re-hashed only when the env's no longer binds. */
export async function ensureReader(service: string, dir: Directory, password: string): Promise<void> {
  const dn = readerDn(dir.baseDn);
  if (await acceptsPassword(dir.url, dn, password)) return;
  await withClient(dir.url, async (client) => {
    await client.bind(adminDn(dir.baseDn), dir.adminPassword);
    const userPassword = new Attribute({ type: 'userPassword', values: [hashSsha(password)] });
    try {
      await client.modify(dn, new Change({ operation: 'replace', modification: userPassword }));
      log.step(service, `${dn}: password updated`);
    } catch (error) {
      if (!(error instanceof NoSuchObjectError)) throw error;
      await client.add(dn, {
        objectClass: ['top', 'organizationalRole', 'simpleSecurityObject'],
        cn: 'keycloak-reader',
        description: 'Keycloak user federation: read-only bind (people and groups)',
        userPassword: hashSsha(password),
      });
      log.step(service, `${dn}: added`);
    }
  });
}

function createDirectory(spec: DirectorySpec): StackService {
  const dataDir = paths.data(spec.name);
  return {
    name: spec.name,
    ports: [spec.region === 'ru' ? 1389 : 2389],
    version: 'OpenLDAP slapd 2.5 (Debian)',
    async install() {
      await ensureDebPackages(spec.name, ['slapd', 'ldap-utils']);
    },
    async isReady(env) {
      return isDirectoryReady(directoryOf(spec, env));
    },
    async start(env) {
      const dir = directoryOf(spec, env);
      if (runningPid(spec.name)) {
        // Ours but not answering (e.g. the admin password changed): restart with the current config.
        log.step(spec.name, 'running but not ready for the current env; restarting');
        await stopDaemon(spec.name);
      }
      prepareDataDir(dataDir);
      const confPath = writeSlapdConf(dataDir, dir);
      const owner = osUser();
      if (owner) chownSync(confPath, owner.uid, owner.gid);
      const dropPrivileges = owner ? ['-u', OS_USER, '-g', OS_USER] : [];
      // `-d 0` keeps slapd in the foreground (its pid is the one recorded) with errors on stderr.
      startDaemon(spec.name, SLAPD, ['-d', '0', '-f', confPath, '-h', `ldap://127.0.0.1:${dir.port}/`, ...dropPrivileges]);
      // Ends the wait when slapd died, so a bad config is reported at once.
      await waitForDaemon(spec.name, () => isDirectoryReady(dir), { timeoutMs: 30_000, exitedMessage: `${spec.name}: slapd exited while starting` });
    },
    async provision(env) {
      const dir = directoryOf(spec, env);
      // Each demo person their own generated password (demo/people.ts), never one shared by all.
      await applySeed(spec.name, dir.url, dir.baseDn, dir.adminPassword, readSeedLdif(spec.region), (uid) => demoPassword(env, uid));
      await ensureReader(spec.name, dir, required(env, spec.readerPasswordVar, spec.name));
      if (runningPid(spec.name) === undefined) {
        // Not ours: compose.yaml's container, whose config admin (LDAP_CONFIG_ADMIN_*) shares the admin password.
        await applyAccessRulesOverConfig(spec.name, dir, 'cn=admin,cn=config', dir.adminPassword);
      }
    },
    async stop() {
      await stopDaemon(spec.name);
    },
  };
}

export const services: StackService[] = SPECS.map(createDirectory);
