import { describe, expect, test } from 'bun:test';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../../tools/kit/paths.ts';
import { loadServices } from '../../stack/services/index.ts';

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
