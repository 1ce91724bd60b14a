import { describe, expect, test } from 'bun:test';
import { z } from 'zod';
import { ConfigError, parseConfig } from '../../common/config.ts';
import { createLogger, REDACTED } from '../../common/log.ts';

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
