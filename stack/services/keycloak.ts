import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StackEnv } from '../lib/env.ts';
import { ensureDebPackages } from '../../tools/kit/apt.ts';
import { log } from '../../tools/kit/log.ts';
import { copyMavenArtifact } from '../../tools/kit/maven.ts';
import { paths } from '../../tools/kit/paths.ts';
import { run, runningPid, startDaemon, stopDaemon } from '../../tools/kit/proc.ts';
import { waitForDaemon } from '../../tools/kit/wait.ts';
import { readerDn } from './ldap.ts';
import type { StackService } from './service.ts';

/**
 * Keycloak from Maven Central's keycloak-quarkus-dist tarball, unpacked under .stack/vendor and run
 * with `kc.sh start --optimized` on 127.0.0.1:8080. State (the H2 dev-file database, transaction
 * logs, the realm import folder) lives in .stack/data/keycloak through a `data` symlink, so the
 * unpacked distribution can be replaced without losing the realm.
 *
 * The realm comes from stack/config/keycloak/reports-realm.json, imported only while it does not
 * exist (Keycloak's --import-realm skips existing realms); provision() then reconciles what comes
 * from the environment (client secrets, LDAP bind credentials, BFF URLs, the Yandex IdP) through
 * the admin REST API, writing only what differs, and creates the roles and mappers the file declares
 * but an older imported realm lacks.
 */

export const KEYCLOAK_VERSION = '26.5.2';
const SERVICE = 'keycloak';
const HOME = join(paths.vendor, `keycloak-${KEYCLOAK_VERSION}`);
const DATA_DIR = paths.data(SERVICE);
const REALM_FILE = join(paths.config, 'keycloak', 'reports-realm.json');

/** Build-time options, baked into the server by `kc.sh build` so that start can be --optimized. */
const BUILD_OPTIONS = ['--db=dev-file', '--health-enabled=true', '--http-management-health-enabled=false'];

/** JDKs that run Keycloak 26 (Java 21+), in order of preference; KEYCLOAK_JAVA_HOME wins. */
const JAVA_HOMES = ['/usr/lib/jvm/temurin-25-jdk-amd64', '/usr/lib/jvm/temurin-21-jdk-amd64', '/usr/lib/jvm/java-21-openjdk-amd64'];

const LDAP_COMPONENTS = [
  { name: 'ldap-russia', urlVar: 'LDAP_RU_URL', baseDnVar: 'LDAP_RU_BASE_DN', passwordVar: 'LDAP_RU_READER_PASSWORD' },
  { name: 'ldap-europe', urlVar: 'LDAP_EU_URL', baseDnVar: 'LDAP_EU_BASE_DN', passwordVar: 'LDAP_EU_READER_PASSWORD' },
] as const;

/**
 * The federation links people by the directory's immutable entryUUID. Keycloak stores it as each
 * imported user's LDAP_ID; see reconcileLdap for switching an existing realm over.
 */
const LDAP_UUID_ATTRIBUTE = 'entryUUID';

/**
 * Federation settings reconciled from the realm file by reconcileLdapImport. The user cache keeps a
 * directory person (names, roles) for at most maxLifespan (60 s): with DEFAULT it kept them until
 * evicted, so a renamed or demoted person signed in with the old name and roles until Keycloak restarted.
 */
const LDAP_IMPORT_KEYS = ['importEnabled', 'changedSyncPeriod', 'cachePolicy', 'maxLifespan'] as const;

/**
 * Realm-level security settings that a realm imported before they changed must still get: taken from
 * the realm file (the one source) and applied by provision() when the running realm differs.
 */
const RECONCILED_REALM_SETTINGS = [
  'bruteForceProtected',
  'permanentLockout',
  'maxTemporaryLockouts',
  'failureFactor',
  'waitIncrementSeconds',
  'maxFailureWaitSeconds',
  'maxDeltaTimeSeconds',
  'quickLoginCheckMilliSeconds',
  'minimumQuickLoginWaitSeconds',
  'revokeRefreshToken',
  'refreshTokenMaxReuse',
  // No jboss-logging listener: it wrote each failed login's username and subject (f:<ldap>:<uid>) into
  // keycloak.log; events stay in Keycloak's own event store (eventsEnabled, 7 days).
  'eventsListeners',
] as const;

/** Variables the realm file refers to as ${NAME}; Keycloak substitutes them at import. */
const REALM_PLACEHOLDER_VARS = [
  'BFF_CLIENT_SECRET',
  'JOBS_CLIENT_SECRET',
  'BFF_PUBLIC_URL',
  ...LDAP_COMPONENTS.flatMap((c) => [c.urlVar, c.baseDnVar, c.passwordVar]),
];

function required(env: StackEnv, name: string): string {
  const value = env[name];
  if (!value) throw new Error(`${SERVICE}: ${name} is not set`);
  return value;
}

export function keycloakUrl(env: StackEnv): URL {
  const url = new URL(required(env, 'KEYCLOAK_URL'));
  if (url.protocol !== 'http:' || !['127.0.0.1', 'localhost'].includes(url.hostname) || !url.port || url.pathname !== '/') {
    throw new Error(`${SERVICE}: KEYCLOAK_URL=${url.href} must be http://127.0.0.1:<port> without a path (loopback only)`);
  }
  return url;
}

/** The issuer every token and the discovery document of the realm carry. */
export function realmIssuer(env: StackEnv): string {
  return `${keycloakUrl(env).origin}/realms/${required(env, 'KEYCLOAK_REALM')}`;
}

async function javaHome(env: StackEnv): Promise<string> {
  const candidates = env.KEYCLOAK_JAVA_HOME ? [env.KEYCLOAK_JAVA_HOME] : JAVA_HOMES;
  for (const home of candidates) {
    const java = join(home, 'bin', 'java');
    if (!existsSync(java)) continue;
    const { stderr } = await run(java, ['-version'], { allowFailure: true });
    const major = Number(/version "(\d+)/.exec(stderr)?.[1] ?? 0);
    if (major >= 21) return home;
  }
  throw new Error(`${SERVICE}: Keycloak ${KEYCLOAK_VERSION} needs Java 21+; none found in ${candidates.join(', ')} (set KEYCLOAK_JAVA_HOME)`);
}

async function fetchJson(url: string, init: RequestInit = {}, timeoutMs = 10_000): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    /* not JSON: keep the text for the error message */
  }
  return { status: response.status, body };
}

/** Protocol-level probe: the realm's OIDC discovery document answers with the expected issuer. */
async function isKeycloakReady(env: StackEnv): Promise<boolean> {
  const issuer = realmIssuer(env);
  const { status, body } = await fetchJson(`${issuer}/.well-known/openid-configuration`, {}, 3_000);
  return status === 200 && (body as { issuer?: string }).issuer === issuer;
}

/** The server itself answers (health is on the main port), whether or not the realm exists. */
async function isServerUp(env: StackEnv): Promise<boolean> {
  try {
    const { status } = await fetchJson(`${keycloakUrl(env).origin}/health/ready`, {}, 3_000);
    return status === 200;
  } catch {
    return false;
  }
}

/** Where Keycloak keeps its state (the H2 database under h2/): tests that audit what it stores read it. */
export const KEYCLOAK_DATA_DIR = DATA_DIR;

/** The JDK Keycloak runs on and the H2 jar it ships: enough to read its database offline (tests/stack/pii-scan). */
export async function keycloakH2Tools(env: StackEnv): Promise<{ java: string; h2Jar: string }> {
  return { java: join(await javaHome(env), 'bin', 'java'), h2Jar: h2JarPath() };
}

function h2JarPath(): string {
  const libDir = join(HOME, 'lib', 'lib', 'main');
  const jar = readdirSync(libDir).find((name) => /^com\.h2database\.h2-[\d.]+\.jar$/.test(name));
  if (!jar) throw new Error(`${SERVICE}: no com.h2database.h2 jar in ${libDir}`);
  return join(libDir, jar);
}

/** Unpacks the distribution once; a half-unpacked folder never takes the final name. */
async function installDistribution(): Promise<void> {
  if (existsSync(join(HOME, 'bin', 'kc.sh'))) return;
  await ensureDebPackages(SERVICE, ['maven', 'tar', 'gzip']);
  const tarball = await copyMavenArtifact(SERVICE, `org.keycloak:keycloak-quarkus-dist:${KEYCLOAK_VERSION}:tar.gz`, join(paths.vendor, 'downloads'));
  const staging = `${HOME}.unpacking`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  log.step(SERVICE, `unpacking ${tarball}`);
  await run('tar', ['-xzf', tarball, '-C', staging]);
  renameSync(join(staging, `keycloak-${KEYCLOAK_VERSION}`), HOME);
  rmSync(staging, { recursive: true, force: true });
  // Maven's local repository keeps the tarball; a second copy would only take 160 MB of disk.
  rmSync(tarball, { force: true });
}

/** `kc.sh build` only when the build options changed since the last build (first start: ~10-60 s). */
async function buildIfNeeded(java: string): Promise<void> {
  const marker = join(HOME, '.bionicpro-build');
  const fingerprint = BUILD_OPTIONS.join(' ');
  if (existsSync(marker) && readFileSync(marker, 'utf8') === fingerprint) return;
  const started = Date.now();
  log.step(SERVICE, `kc.sh build ${fingerprint}`);
  await run(join(HOME, 'bin', 'kc.sh'), ['build', ...BUILD_OPTIONS], { env: { JAVA_HOME: java } });
  writeFileSync(marker, fingerprint);
  log.step(SERVICE, `built in ${((Date.now() - started) / 1000).toFixed(1)}s`);
}

/** Points the distribution's data folder at .stack/data/keycloak and stages the realm file. */
function prepareData(): void {
  mkdirSync(join(DATA_DIR, 'import'), { recursive: true });
  const link = join(HOME, 'data');
  let isLink = false;
  try {
    isLink = lstatSync(link).isSymbolicLink();
    if (!isLink) throw new Error(`${SERVICE}: ${link} is a real folder; move its content to ${DATA_DIR} and remove it`);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  if (!isLink) symlinkSync(DATA_DIR, link);
  // Directory import insists on <realm>-realm.json as the file name.
  const staged = join(DATA_DIR, 'import', 'reports-realm-realm.json');
  if (!existsSync(staged) || !readFileSync(staged).equals(readFileSync(REALM_FILE))) copyFileSync(REALM_FILE, staged);
}

/**
 * Rewrites Keycloak's H2 file with its live data only, while Keycloak is stopped. MVStore appends
 * changes and leaves superseded chunks on disk until it happens to reuse the space, so a deleted row
 * (an imported person's name and e-mail dropped by reconcileLdapImport, an expired event) stays
 * readable in the file for a long time; measured on this stack: 48 stale e-mail copies, 10 MB → 2.9 MB.
 * MVStoreTool works on the file without the database credentials and swaps the result in by rename.
 */
async function compactDatabase(java: string): Promise<void> {
  const file = join(DATA_DIR, 'h2', 'keycloakdb.mv.db');
  if (!existsSync(file)) return;
  const started = Date.now();
  const { code, stdout, stderr } = await run(join(java, 'bin', 'java'), ['-cp', h2JarPath(), 'org.h2.mvstore.MVStoreTool', '-compact', file], { allowFailure: true });
  // The tool prints a failure and may still exit 0; either way Keycloak starts on the file as it was.
  const failed = code !== 0 || /exception/i.test(stdout + stderr);
  if (failed) log.warn(SERVICE, `H2 compaction skipped: ${(stderr || stdout).split('\n')[0]}`);
  else log.step(SERVICE, `H2 database compacted in ${((Date.now() - started) / 1000).toFixed(1)}s`);
}

async function startKeycloak(env: StackEnv): Promise<void> {
  const url = keycloakUrl(env);
  const java = await javaHome(env);
  await buildIfNeeded(java);
  prepareData();
  await compactDatabase(java);
  const processEnv: Record<string, string> = {
    JAVA_HOME: java,
    // kc.sh would otherwise size the heap at 70 % of the machine's memory.
    JAVA_OPTS_KC_HEAP: '-Xms64m -Xmx512m',
    // JBoss threads resets thread locals through reflection, which Java 24+ refuses unless opened.
    JAVA_OPTS_APPEND: '--add-opens=java.base/java.lang=ALL-UNNAMED',
    // Used only when the master realm has no admin yet (first start); see docs/identity.md.
    KC_BOOTSTRAP_ADMIN_USERNAME: required(env, 'KEYCLOAK_ADMIN_USER'),
    KC_BOOTSTRAP_ADMIN_PASSWORD: required(env, 'KEYCLOAK_ADMIN_PASSWORD'),
  };
  for (const name of REALM_PLACEHOLDER_VARS) processEnv[name] = required(env, name);
  startDaemon(
    SERVICE,
    join(HOME, 'bin', 'kc.sh'),
    [
      'start',
      '--optimized',
      // One node: no JGroups cluster (it would listen on 7800 on every interface).
      '--cache=local',
      '--http-enabled=true',
      `--http-host=${url.hostname}`,
      `--http-port=${url.port}`,
      // A fixed issuer, whichever address a request came through.
      `--hostname=${url.origin}`,
      '--import-realm',
      '--log-level=info',
    ],
    { env: processEnv },
  );
}

// ---------------------------------------------------------------------------------------------
// Admin REST API

export interface AdminClient {
  get<T>(path: string): Promise<T>;
  send(method: 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<{ status: number; body: unknown }>;
}

/** A token of the bootstrap admin (master realm, admin-cli) and a tiny client of /admin/realms/<realm>. */
export async function connectAdmin(env: StackEnv): Promise<AdminClient> {
  const origin = keycloakUrl(env).origin;
  const realm = required(env, 'KEYCLOAK_REALM');
  const { status, body } = await fetchJson(`${origin}/realms/master/protocol/openid-connect/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'password',
      client_id: 'admin-cli',
      username: required(env, 'KEYCLOAK_ADMIN_USER'),
      password: required(env, 'KEYCLOAK_ADMIN_PASSWORD'),
    }),
  });
  if (status !== 200) {
    throw new Error(
      `${SERVICE}: the bootstrap admin cannot log in (HTTP ${status}). KEYCLOAK_ADMIN_PASSWORD only applies when ` +
        `.stack/data/keycloak is created; after changing it, stop keycloak and remove that folder (the realm is re-imported).`,
    );
  }
  const token = (body as { access_token: string }).access_token;
  const base = `${origin}/admin/realms/${realm}`;
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  return {
    async get<T>(path: string): Promise<T> {
      const result = await fetchJson(`${base}${path}`, { headers });
      if (result.status !== 200) throw new Error(`${SERVICE}: GET ${path} answered ${result.status}: ${JSON.stringify(result.body)}`);
      return result.body as T;
    },
    async send(method, path, payload) {
      return fetchJson(`${base}${path}`, { method, headers, body: payload === undefined ? undefined : JSON.stringify(payload) }, 60_000);
    },
  };
}

async function mustSend(admin: AdminClient, method: 'POST' | 'PUT' | 'DELETE', path: string, payload?: unknown): Promise<void> {
  const { status, body } = await admin.send(method, path, payload);
  if (status >= 300) throw new Error(`${SERVICE}: ${method} ${path} answered ${status}: ${JSON.stringify(body)}`);
}

interface ClientRep {
  id: string;
  clientId: string;
  rootUrl?: string;
  redirectUris?: string[];
  webOrigins?: string[];
  attributes?: Record<string, string>;
  [key: string]: unknown;
}

interface ComponentRep {
  id: string;
  name: string;
  config: Record<string, string[]>;
  [key: string]: unknown;
}

interface IdentityProviderRep {
  alias: string;
  enabled: boolean;
  config: Record<string, string>;
  [key: string]: unknown;
}

export async function findClient(admin: AdminClient, clientId: string): Promise<ClientRep> {
  const [client] = await admin.get<ClientRep[]>(`/clients?clientId=${encodeURIComponent(clientId)}`);
  if (!client) throw new Error(`${SERVICE}: client ${clientId} is missing from the realm`);
  return client;
}

export async function findComponent(admin: AdminClient, name: string): Promise<ComponentRep> {
  const [component] = await admin.get<ComponentRep[]>(`/components?type=org.keycloak.storage.UserStorageProvider&name=${encodeURIComponent(name)}`);
  if (!component) throw new Error(`${SERVICE}: LDAP federation ${name} is missing from the realm`);
  return component;
}

function sameList(a: readonly string[] = [], b: readonly string[] = []): boolean {
  return a.length === b.length && [...a].sort().every((v, i) => v === [...b].sort()[i]);
}

/** Client secrets and the BFF's URLs follow the env; returns what changed. */
async function reconcileClients(admin: AdminClient, env: StackEnv): Promise<string[]> {
  const changed: string[] = [];
  const publicUrl = required(env, 'BFF_PUBLIC_URL').replace(/\/$/, '');
  for (const [clientId, secretVar] of [['reports-bff', 'BFF_CLIENT_SECRET'], ['reports-jobs', 'JOBS_CLIENT_SECRET']] as const) {
    const client = await findClient(admin, clientId);
    const update: ClientRep = { ...client };
    let dirty = false;
    const { value } = await admin.get<{ value?: string }>(`/clients/${client.id}/client-secret`);
    if (value !== required(env, secretVar)) {
      update.secret = required(env, secretVar);
      dirty = true;
      changed.push(`${clientId} secret`);
    }
    if (clientId === 'reports-bff') {
      const redirectUris = [`${publicUrl}/auth/callback`];
      const webOrigins = [publicUrl];
      // Exactly the BFF's landing route after Keycloak's logout (edge/bff/logout.ts), no wildcard.
      const postLogout = `${publicUrl}/auth/logged-out`;
      const backchannelLogout = `${publicUrl}/auth/backchannel-logout`;
      if (client.rootUrl !== publicUrl || !sameList(client.redirectUris, redirectUris) || !sameList(client.webOrigins, webOrigins) || client.attributes?.['post.logout.redirect.uris'] !== postLogout || client.attributes?.['backchannel.logout.url'] !== backchannelLogout) {
        Object.assign(update, { rootUrl: publicUrl, redirectUris, webOrigins, attributes: { ...client.attributes, 'post.logout.redirect.uris': postLogout, 'backchannel.logout.url': backchannelLogout } });
        dirty = true;
        changed.push(`${clientId} URLs`);
      }
    }
    if (dirty) await mustSend(admin, 'PUT', `/clients/${client.id}`, update);
  }
  return changed;
}

/**
 * LDAP connection settings follow the env. The stored bind password cannot be read back (the API
 * masks it), so it is tested against the directory instead and rewritten only when it fails.
 */
async function reconcileLdap(admin: AdminClient, env: StackEnv, file: RealmFile): Promise<string[]> {
  const changed: string[] = [];
  for (const spec of LDAP_COMPONENTS) {
    let component = await findComponent(admin, spec.name);
    const fileConfig = file.components?.['org.keycloak.storage.UserStorageProvider']?.find((c) => c.name === spec.name)?.config;
    if (!fileConfig) throw new Error(`${REALM_FILE}: LDAP federation ${spec.name} is missing`);
    const importChanges = await reconcileLdapImport(admin, component, fileConfig);
    if (importChanges.length > 0) {
      changed.push(...importChanges);
      component = await findComponent(admin, spec.name);
    }
    const baseDn = required(env, spec.baseDnVar);
    const wanted = {
      connectionUrl: required(env, spec.urlVar),
      bindDn: readerDn(baseDn),
      usersDn: `ou=people,${baseDn}`,
      uuidLDAPAttribute: LDAP_UUID_ATTRIBUTE,
    };
    const uuidChanged = component.config.uuidLDAPAttribute?.[0] !== LDAP_UUID_ATTRIBUTE;
    const stale = Object.entries(wanted).some(([key, value]) => component.config[key]?.[0] !== value);
    let credentialWorks = false;
    if (!stale) {
      const { status } = await admin.send('POST', '/testLDAPConnection', {
        action: 'testAuthentication',
        componentId: component.id,
        connectionUrl: wanted.connectionUrl,
        authType: 'simple',
        bindDn: wanted.bindDn,
        bindCredential: '**********',
        useTruststoreSpi: component.config.useTruststoreSpi?.[0] ?? 'always',
        connectionTimeout: component.config.connectionTimeout?.[0] ?? '5000',
        startTls: 'false',
      });
      credentialWorks = status === 204;
    }
    if (stale || !credentialWorks) {
      const config: Record<string, string[]> = { ...component.config, bindCredential: [required(env, spec.passwordVar)] };
      for (const [key, value] of Object.entries(wanted)) config[key] = [value];
      await mustSend(admin, 'PUT', `/components/${component.id}`, { ...component, config });
      changed.push(`${spec.name} ${stale ? 'connection' : 'bind credential'}`);
    }
    if (uuidChanged) {
      // Local copies carry the old LDAP_ID and would no longer match their directory entry. Dropping
      // them (only Keycloak's copies: the directory is untouched) lets the next lookup or login import
      // each person again under entryUUID; their Keycloak-side TOTP enrolment goes with the copy.
      await mustSend(admin, 'POST', `/user-storage/${component.id}/remove-imported-users`);
      changed.push(`${spec.name} re-linked by ${LDAP_UUID_ATTRIBUTE} (imported users dropped)`);
    }
  }
  return changed;
}

/**
 * Federation settings that decide what Keycloak keeps of a directory person (importEnabled, the
 * changed-users sync that only serves imported copies, the user cache): they follow the realm file.
 * Turning import off first drops the local copies (names, e-mails, usernames; the directory is
 * untouched); from then on Keycloak reads people from LDAP on every lookup and keeps only their TOTP
 * credential, required actions, sessions and login events, keyed by `f:<component id>:<uid>`
 * (Keycloak 26 takes the LDAP username, not LDAP_ID, as the external id; docs/identity.md).
 */
async function reconcileLdapImport(admin: AdminClient, component: ComponentRep, fileConfig: Record<string, string[]>): Promise<string[]> {
  const keys = LDAP_IMPORT_KEYS.filter((key) => fileConfig[key] && component.config[key]?.[0] !== fileConfig[key]![0]);
  if (keys.length === 0) return [];
  const droppingCopies = component.config.importEnabled?.[0] !== 'false' && fileConfig.importEnabled?.[0] === 'false';
  if (droppingCopies) {
    await mustSend(admin, 'POST', `/user-storage/${component.id}/remove-imported-users`);
    // The TOTP enrolments went with the copies: until each person signs in again, whoever holds
    // their password can enrol an authenticator, administrators included (issue 9's concern).
    log.warn('keycloak', `${component.name}: imported copies dropped with their TOTP enrolments; every person enrols TOTP again at the next sign-in — sign in as each administrator now`);
  }
  const config: Record<string, string[]> = { ...component.config };
  for (const key of keys) config[key] = fileConfig[key]!;
  await mustSend(admin, 'PUT', `/components/${component.id}`, { ...component, config });
  return [`${component.name} ${keys.map((key) => `${key}=${fileConfig[key]![0]}`).join(', ')}${droppingCopies ? ' (imported copies dropped)' : ''}`];
}

function secretFingerprint(secret: string): string {
  return createHash('sha256').update(secret).digest('hex').slice(0, 16);
}

/**
 * Yandex ID is enabled only when YANDEX_CLIENT_ID and YANDEX_CLIENT_SECRET are both set. The stored
 * secret cannot be read back either, so a fingerprint of it kept in the IdP config tells whether
 * it is current.
 */
async function reconcileYandex(admin: AdminClient, env: StackEnv): Promise<string[]> {
  const idp = await admin.get<IdentityProviderRep>('/identity-provider/instances/yandex');
  const clientId = env.YANDEX_CLIENT_ID;
  const clientSecret = env.YANDEX_CLIENT_SECRET;
  if (clientId && clientSecret) {
    const fingerprint = secretFingerprint(clientSecret);
    if (idp.enabled && idp.config.clientId === clientId && idp.config['bionicpro.secretFingerprint'] === fingerprint) return [];
    await mustSend(admin, 'PUT', '/identity-provider/instances/yandex', {
      ...idp,
      enabled: true,
      config: { ...idp.config, clientId, clientSecret, 'bionicpro.secretFingerprint': fingerprint },
    });
    return ['yandex enabled'];
  }
  if (!idp.enabled) return [];
  await mustSend(admin, 'PUT', '/identity-provider/instances/yandex', { ...idp, enabled: false });
  return ['yandex disabled (YANDEX_CLIENT_ID / YANDEX_CLIENT_SECRET not set)'];
}

/** The realm file's brute-force and refresh-token settings, applied to a realm imported before they changed. */
async function reconcileRealmSettings(admin: AdminClient, file: RealmFile): Promise<string[]> {
  const current = await admin.get<Record<string, unknown>>('');
  const update: Record<string, unknown> = {};
  for (const key of RECONCILED_REALM_SETTINGS) {
    if (file[key] === undefined) throw new Error(`${REALM_FILE}: "${key}" is missing`);
    if (JSON.stringify(current[key]) !== JSON.stringify(file[key])) update[key] = file[key];
  }
  if (Object.keys(update).length === 0) return [];
  await mustSend(admin, 'PUT', '', update);
  return [`realm ${Object.keys(update).join(', ')}`];
}

const LDAP_MAPPER_TYPE = 'org.keycloak.storage.ldap.mappers.LDAPStorageMapper';

/**
 * Mapper settings that follow the realm file even on an existing mapper, because a realm imported
 * earlier holds an older value that silently drops a role (crm_operator) otherwise. Everything else
 * on an existing mapper is left as it is: an operator may have tuned it.
 */
const RECONCILED_LDAP_MAPPER_KEYS: Record<string, readonly string[]> = {
  'roles from groups': ['roles.ldap.filter'],
  // Only meaningful while import is on, but kept true so that turning import back on never
  // shows a stale central copy of a name or e-mail.
  username: ['always.read.value.from.ldap'],
  'first name': ['always.read.value.from.ldap'],
  'last name': ['always.read.value.from.ldap'],
  email: ['always.read.value.from.ldap'],
};

interface RealmFile {
  [setting: string]: unknown;
  roles?: { realm?: Array<{ name: string; description?: string }> };
  clients?: Array<{ clientId: string; protocolMappers?: Array<{ name: string; [key: string]: unknown }> }>;
  components?: Record<string, Array<{ name: string; config?: Record<string, string[]>; subComponents?: Record<string, Array<{ name: string; providerId: string; config: Record<string, string[]> }>> }>>;
}

/** The realm file with ${NAME} filled from env, as Keycloak's import would see it. */
function realmFile(env: StackEnv): RealmFile {
  const text = readFileSync(REALM_FILE, 'utf8').replace(/\$\{([A-Z0-9_]+)\}/g, (_, name: string) => JSON.stringify(required(env, name)).slice(1, -1));
  return JSON.parse(text) as RealmFile;
}

/**
 * Realm roles, client protocol mappers and LDAP mappers the realm file declares: created when the
 * running realm lacks them (it was imported from an older file), matched by name, never deleted.
 */
async function reconcileRealmObjects(admin: AdminClient, file: RealmFile): Promise<string[]> {
  const changed: string[] = [];
  const roles = new Set((await admin.get<Array<{ name: string }>>('/roles')).map((r) => r.name));
  for (const role of file.roles?.realm ?? []) {
    if (roles.has(role.name)) continue;
    await mustSend(admin, 'POST', '/roles', { name: role.name, description: role.description });
    changed.push(`role ${role.name}`);
  }
  for (const fileClient of file.clients ?? []) {
    if (!fileClient.protocolMappers?.length) continue;
    const client = await findClient(admin, fileClient.clientId);
    const present = new Set((await admin.get<Array<{ name: string }>>(`/clients/${client.id}/protocol-mappers/models`)).map((m) => m.name));
    for (const mapper of fileClient.protocolMappers) {
      if (present.has(mapper.name)) continue;
      await mustSend(admin, 'POST', `/clients/${client.id}/protocol-mappers/models`, mapper);
      changed.push(`${fileClient.clientId} mapper ${mapper.name}`);
    }
  }
  for (const fileComponent of file.components?.['org.keycloak.storage.UserStorageProvider'] ?? []) {
    const component = await findComponent(admin, fileComponent.name);
    const existing = await admin.get<Array<ComponentRep & { providerId: string }>>(`/components?parent=${component.id}&type=${LDAP_MAPPER_TYPE}`);
    for (const mapper of fileComponent.subComponents?.[LDAP_MAPPER_TYPE] ?? []) {
      const current = existing.find((m) => m.name === mapper.name);
      if (!current) {
        await mustSend(admin, 'POST', '/components', { ...mapper, providerType: LDAP_MAPPER_TYPE, parentId: component.id });
        changed.push(`${fileComponent.name} mapper ${mapper.name}`);
        continue;
      }
      const keys = (RECONCILED_LDAP_MAPPER_KEYS[mapper.name] ?? []).filter((key) => !sameList(current.config[key], mapper.config[key]));
      if (keys.length === 0) continue;
      const config = { ...current.config };
      for (const key of keys) config[key] = mapper.config[key]!;
      await mustSend(admin, 'PUT', `/components/${current.id}`, { ...current, config });
      changed.push(`${fileComponent.name} mapper ${mapper.name} ${keys.join(', ')}`);
    }
  }
  return changed;
}

export async function reconcileRealm(env: StackEnv): Promise<string[]> {
  const admin = await connectAdmin(env);
  const file = realmFile(env);
  return [
    ...(await reconcileRealmSettings(admin, file)),
    ...(await reconcileRealmObjects(admin, file)),
    ...(await reconcileClients(admin, env)),
    ...(await reconcileLdap(admin, env, file)),
    ...(await reconcileYandex(admin, env)),
  ];
}

export const services: StackService[] = [
  {
    name: SERVICE,
    ports: [8080],
    dependsOn: ['ldap-ru', 'ldap-eu'],
    version: `Keycloak ${KEYCLOAK_VERSION} (keycloak-quarkus-dist, H2 dev-file)`,
    async install(env) {
      await javaHome(env);
      await installDistribution();
    },
    isReady: isKeycloakReady,
    async start(env) {
      if (runningPid(SERVICE) && (await isServerUp(env))) {
        // Ours and serving, yet without the realm (deleted by hand): a restart imports it again.
        log.step(SERVICE, 'running without the realm; restarting to import it');
        await stopDaemon(SERVICE, 30_000);
        await startKeycloak(env);
      } else if (runningPid(SERVICE)) {
        // Ours and still starting (or importing): wait for it rather than start a second one.
        log.step(SERVICE, 'already started by this stack; waiting for it');
      } else {
        await startKeycloak(env);
      }
      await waitForDaemon(SERVICE, () => isKeycloakReady(env), { timeoutMs: 300_000, intervalMs: 1_000, exitedMessage: `${SERVICE} exited while starting` });
    },
    async provision(env) {
      const changed = await reconcileRealm(env);
      if (changed.length > 0) log.step(SERVICE, `reconciled from env: ${changed.join(', ')}`);
    },
    async stop() {
      await stopDaemon(SERVICE, 30_000);
    },
  },
];
