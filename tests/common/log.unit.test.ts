import { describe, expect, test } from 'bun:test';
import { z } from 'zod';
import { ConfigError, parseConfig } from '../../common/config.ts';
import { createBatchedWriter, createLogger, redact, REDACTED } from '../../common/log.ts';

describe('logger', () => {
  test('one JSON line per event, secrets redacted at any depth', () => {
    const lines: string[] = [];
    const logger = createLogger({ service: 'svc', write: (line) => lines.push(line), now: () => new Date(0) }).child({ requestId: 'r1' });
    logger.info('thing.happened', { user: 'alice', password: 'hunter2', nested: { Authorization: 'Bearer x', clientSecret: 's', keep: 1 } });
    logger.debug('dropped');
    expect(lines).toHaveLength(1);
    const record = JSON.parse(lines[0]!);
    expect(record).toEqual({
      time: '1970-01-01T00:00:00.000Z',
      level: 'info',
      service: 'svc',
      event: 'thing.happened',
      requestId: 'r1',
      user: 'alice',
      password: REDACTED,
      nested: { Authorization: REDACTED, clientSecret: REDACTED, keep: 1 },
    });
    expect(lines[0]).not.toContain('hunter2');
  });
});

describe('redaction and batching', () => {
  test('redact copies only what it changes; errors, bigints, arrays and depth are handled', () => {
    const clean = { requestId: 'r', status: 200, nested: { a: [1, 2] } };
    expect(redact(clean)).toBe(clean);
    const dirty = { keep: { a: 1 }, list: [{ token: 't' }, { b: 2 }], big: 10n, error: new Error('boom') };
    const out = redact(dirty) as Record<string, unknown>;
    expect(out).not.toBe(dirty);
    expect(out.keep).toBe(dirty.keep);
    expect(out.list).toEqual([{ token: REDACTED }, { b: 2 }]);
    expect(out.big).toBe('10');
    expect(out.error).toMatchObject({ name: 'Error', message: 'boom' });
    expect((dirty.list[0] as { token: string }).token).toBe('t');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(JSON.stringify(redact(cyclic))).toContain('[depth]');
  });

  test('a field may override a bound one; the line stays valid JSON', () => {
    const lines: string[] = [];
    const logger = createLogger({ service: 's"q', write: (line) => lines.push(line) }).child({ runtime: 'node', who: 'bound' });
    logger.warn('e"v', { who: 'field' });
    logger.error('plain');
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'warn', service: 's"q', event: 'e"v', runtime: 'node', who: 'field' });
    expect(JSON.parse(lines[1]!)).toMatchObject({ level: 'error', event: 'plain', who: 'bound' });
  });

  test('batched writes: one write per turn, an error line at once, flush on demand', async () => {
    const writes: string[] = [];
    const turns: Array<() => void> = [];
    const batched = createBatchedWriter((text) => writes.push(text), { schedule: (run) => turns.push(run), maxLines: 3 });
    const logger = createLogger({ service: 'svc', write: batched.write });
    logger.info('a');
    logger.info('b');
    expect(writes).toHaveLength(0);
    turns.shift()!();
    expect(writes).toHaveLength(1);
    expect(writes[0]!.split('\n').map((line) => JSON.parse(line).event)).toEqual(['a', 'b']);
    logger.info('c');
    logger.error('d');
    expect(writes).toHaveLength(2);
    expect(writes[1]!.split('\n').map((line) => JSON.parse(line).event)).toEqual(['c', 'd']);
    for (const event of ['e', 'f', 'g']) logger.info(event);
    expect(writes).toHaveLength(3); // maxLines reached
    logger.info('h');
    batched.flush();
    expect(writes[3]).toContain('"event":"h"');
  });
});

describe('parseConfig', () => {
  const schema = z.object({ PORT: z.coerce.number().int().min(1), URL: z.url(), SECRET: z.string().min(16) });

  test('names every bad variable and never echoes values', () => {
    try {
      parseConfig('svc', schema, { PORT: 'abc', SECRET: 'short-secret' });
      throw new Error('expected ConfigError');
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const message = (error as ConfigError).message;
      expect(message).toContain('PORT');
      expect(message).toContain('URL');
      expect(message).toContain('SECRET');
      expect(message).not.toContain('short-secret');
    }
  });

  test('returns the parsed, coerced config', () => {
    expect(parseConfig('svc', schema, { PORT: '80', URL: 'http://x', SECRET: 'a'.repeat(16) })).toEqual({ PORT: 80, URL: 'http://x', SECRET: 'a'.repeat(16) });
  });
});
