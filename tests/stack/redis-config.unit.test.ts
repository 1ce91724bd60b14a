import { describe, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../../tools/kit/paths.ts';
import { REDIS_CONFIG_FILE, renderRedisConfig } from '../../stack/services/redis.ts';

const compose = Bun.YAML.parse(readFileSync(join(ROOT, 'compose.yaml'), 'utf8')) as {
  services: Record<string, { command?: string[]; volumes?: string[] }>;
};

describe('redis: one configuration for both stacks', () => {
  test('compose.yaml starts redis-server with the committed config file', () => {
    const redis = compose.services.redis!;
    const mount = (redis.volumes ?? []).find((v) => v.startsWith('./stack/config/redis/redis.conf:'));
    expect(mount).toBeDefined();
    const target = mount!.split(':')[1]!;
    expect(redis.command?.[0]).toBe('redis-server');
    expect(redis.command?.[1]).toBe(target);
    // Options on the command line override the file: none may weaken persistence.
    expect(redis.command?.join(' ')).not.toMatch(/appendonly|appendfsync|save/);
  });

  test('the native config is the committed file plus port and data folder', () => {
    const rendered = renderRedisConfig('/tmp/x', 6390);
    expect(rendered).toContain(readFileSync(REDIS_CONFIG_FILE, 'utf8').trimEnd());
    expect(rendered).toMatch(/^appendonly yes$/m);
    expect(rendered).toMatch(/^appendfsync everysec$/m);
    expect(rendered.trimEnd().split('\n').slice(-2)).toEqual(['port 6390', 'dir /tmp/x']);
  });
});
