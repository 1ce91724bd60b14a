import { describe, expect, test } from 'bun:test';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../../tools/kit/paths.ts';
import { loadServices } from '../../stack/services/index.ts';
import kafkajs from 'kafkajs';
import { DEFAULT_ACL_NAMES, desiredKafkaAcls } from '../../stack/services/kafka-acls.ts';

interface ComposeService {
  image?: string;
  network_mode?: string;
  labels?: Record<string, string>;
  volumes?: string[];
  [key: string]: unknown;
}

const compose = Bun.YAML.parse(readFileSync(join(ROOT, 'compose.yaml'), 'utf8')) as { services: Record<string, ComposeService> };
const native = await loadServices();

function hostMounts(service: ComposeService): string[] {
  return (service.volumes ?? []).map((v) => v.split(':')[0]!).filter((source) => source.startsWith('./'));
}

/** The service definition plus the repository files it mounts: where its ports must be configured. */
function configurationText(service: ComposeService): string {
  const files = hostMounts(service)
    .map((source) => join(ROOT, source))
    .filter((file) => existsSync(file) && !file.endsWith('/'))
    .map((file) => {
      try {
        return readFileSync(file, 'utf8');
      } catch {
        return '';
      }
    });
  return [JSON.stringify(service), ...files].join('\n');
}

describe('compose.yaml mirrors the native stack', () => {
  test('every native service exists in compose.yaml under the same name', () => {
    const missing = native.map((s) => s.name).filter((name) => !compose.services[name]);
    expect(missing).toEqual([]);
  });

  for (const service of native) {
    test(`${service.name}: same loopback ports, configured, on the host network`, () => {
      const composed = compose.services[service.name]!;
      expect(composed.network_mode).toBe('host');
      const labelled = (composed.labels?.['bionicpro.ports'] ?? '').split(',').map(Number).sort();
      expect(labelled).toEqual([...service.ports].sort());
      const text = configurationText(composed);
      for (const port of service.ports) expect(text).toContain(String(port));
    });
  }

  test('every mounted repository path exists', () => {
    const missing = Object.values(compose.services).flatMap(hostMounts).filter((source) => source !== './' && !existsSync(join(ROOT, source)));
    expect(missing).toEqual([]);
  });

  test('images are pinned to a version', () => {
    const unpinned = Object.entries(compose.services)
      .filter(([, s]) => s.image !== undefined)
      .filter(([, s]) => !/:[\w.-]+$/.test(s.image!) || s.image!.endsWith(':latest'))
      .map(([name]) => name);
    expect(unpinned).toEqual([]);
  });

  test('Keycloak imports the same realm file as the native stack', () => {
    expect(hostMounts(compose.services.keycloak!)).toContain('./stack/config/keycloak/reports-realm.json');
    expect(readFileSync(join(ROOT, 'stack/services/keycloak.ts'), 'utf8')).toContain('reports-realm.json');
  });

  test('the init service provisions with the native stack code (migrations, seeds, connector)', () => {
    expect(JSON.stringify(compose.services.init!.command)).toContain('stack/cli.ts provision');
  });
});

/** `acl --allow-principal "User:$$C" --topic x --resource-pattern-type prefixed --operation Write …` lines as rule keys. */
function composeAclKeys(script: string, users: Record<string, string>): string[] {
  const keys: string[] = [];
  for (const line of script.split('\n').filter((l) => l.trim().startsWith('acl --'))) {
    const principal = /--allow-principal "User:\$\$(\w)"/.exec(line)?.[1];
    const resource = /--(topic|group) (\S+)/.exec(line);
    const pattern = /--resource-pattern-type (\w+)/.exec(line)?.[1];
    const operations = [...line.matchAll(/--operation (\w+)/g)].map((m) => m[1]!);
    if (!principal || !resource || !pattern || operations.length === 0) throw new Error(`unparsed ACL line: ${line}`);
    for (const operation of operations) {
      keys.push([`User:${users[principal]}`, resource[1]!.toUpperCase(), resource[2], pattern.toUpperCase(), operation.replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase()].join('|'));
    }
  }
  return keys.sort();
}

describe('compose.yaml: Kafka with SASL/SCRAM and ACLs, as the native stack', () => {
  const kafka = compose.services.kafka!;
  const template = readFileSync(join(ROOT, 'stack/config/kafka/server.properties'), 'utf8');

  test('the broker runs the native server.properties with every placeholder filled and every principal formatted in', () => {
    expect(hostMounts(kafka)).toContain('./stack/config/kafka/server.properties');
    const script = JSON.stringify(kafka.command);
    for (const [, name] of template.matchAll(/\{\{([A-Z_]+)\}\}/g)) expect(script).toContain(`{{${name}}}`);
    for (const user of ['ADMIN', 'CONNECT', 'JOBS']) expect(script).toContain(`--add-scram \\"SCRAM-SHA-512=[name=$$KAFKA_${user}_USER,password=$$KAFKA_${user}_PASSWORD]`);
    expect(template).toMatch(/^allow\.everyone\.if\.no\.acl\.found=false$/m);
    expect(template).toMatch(/^super\.users=User:\{\{ADMIN_USER\}\}$/m);
    expect(template).not.toMatch(/PLAINTEXT:\/\/|:PLAINTEXT\b/);
  });

  test('kafka-acls grants exactly the rules of stack/services/kafka-acls.ts, before Connect starts', () => {
    const service = compose.services['kafka-acls']!;
    const env = service.environment as Record<string, string>;
    expect(env.C).toContain('connect');
    expect(env.J).toContain('jobs');
    const keys = composeAclKeys(String((service.command as string[])[0]), { C: 'connect', J: 'jobs' });
    const desired = desiredKafkaAcls({ ...DEFAULT_ACL_NAMES, connectUser: 'connect', jobsUser: 'jobs' }).map((acl) =>
      [acl.principal, nameOf(kafkajs.AclResourceTypes, acl.resourceType), acl.resourceName, nameOf(kafkajs.ResourcePatternTypes, acl.patternType), nameOf(kafkajs.AclOperationTypes, acl.operation)].join('|'),
    );
    expect(keys).toEqual(desired.sort());
    expect(JSON.stringify(compose.services['kafka-connect']!.depends_on)).toContain('kafka-acls');
  });

  test('the Connect worker signs in as connect for itself and its producers, consumers and admin clients', () => {
    const env = compose.services['kafka-connect']!.environment as Record<string, string>;
    const worker = readFileSync(join(ROOT, 'stack/config/kafka/connect-distributed.properties'), 'utf8');
    const saslKeys = [...worker.matchAll(/^((?:producer\.|consumer\.|admin\.)?(?:security\.protocol|sasl\.mechanism|sasl\.jaas\.config))=/gm)].map((m) => m[1]!);
    expect(saslKeys).toHaveLength(12);
    for (const key of saslKeys) {
      const variable = `CONNECT_${key.toUpperCase().replace(/\./g, '_')}`;
      expect(env[variable]).toBeDefined();
      if (key.endsWith('jaas.config')) expect(env[variable]).toContain('username="${KAFKA_CONNECT_USER:-connect}" password="${KAFKA_CONNECT_PASSWORD');
    }
  });

  test('the Kafka admin client properties are written by one script, for the healthcheck and kafka-acls alike', () => {
    const script = 'stack/config/kafka/admin-client.sh';
    for (const name of ['kafka', 'kafka-acls']) {
      const service = compose.services[name]!;
      expect(hostMounts(service), name).toContain(`./${script}`);
      expect(JSON.stringify(service), name).not.toContain('sasl.jaas.config');
    }
    expect(JSON.stringify(compose.services.kafka!.healthcheck)).toContain('admin-client.sh /tmp/admin.properties');
    const dir = mkdtempSync(join(tmpdir(), 'admin-client-'));
    try {
      const file = join(dir, 'admin.properties');
      execFileSync('bash', [join(ROOT, script), file], { env: { ...process.env, KAFKA_ADMIN_USER: 'admin', KAFKA_ADMIN_PASSWORD: 'pw-admin' } });
      expect(readFileSync(file, 'utf8')).toBe('security.protocol=SASL_PLAINTEXT\nsasl.mechanism=SCRAM-SHA-512\nsasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="pw-admin";\n');
      expect(statSync(file).mode & 0o777).toBe(0o600);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('Keycloak gets the variables its realm file names, not the whole .env', () => {
    const keycloak = compose.services.keycloak!;
    expect(keycloak.env_file).toBeUndefined();
    const realm = readFileSync(join(ROOT, 'stack/config/keycloak/reports-realm.json'), 'utf8');
    const placeholders = [...new Set([...realm.matchAll(/\$\{([A-Z][A-Z0-9_]*)\}/g)].map((m) => m[1]!))].sort();
    expect(placeholders.length).toBeGreaterThan(0);
    const env = keycloak.environment as Record<string, string>;
    expect(Object.keys(env).filter((name) => !name.startsWith('KC_')).sort()).toEqual(placeholders);
  });

  test('each app container reads only its own env file (stack/app-env.ts allow-list), never the shared .env', () => {
    // .env holds every admin credential; the app files hold only the app's secrets (tests/stack/app-env.unit.test.ts).
    for (const app of ['core', 'jobs', 'edge', 'frontend']) {
      const service = compose.services[app]!;
      expect(service.env_file, app).toEqual([`.env.${app}`]);
      // A secret set in `environment:` would bypass the allow-list.
      const env = (service.environment ?? {}) as Record<string, string>;
      expect(Object.keys(env).filter((name) => /PASSWORD|SECRET|_KEY$|_URL$/.test(name)), app).toEqual([]);
    }
  });
});

/** The name of a kafkajs ACL enum value (READ, DESCRIBE_CONFIGS, TOPIC, PREFIXED …), kafka-acls' spelling upper-cased. */
function nameOf(enumeration: object, value: number): string {
  const name = Object.entries(enumeration).find(([, v]) => v === value)?.[0];
  if (!name) throw new Error(`no name for ${value}`);
  return name;
}
