import { describe, expect, test } from 'bun:test';
import { Hono } from 'hono';
import { createErrorHandler } from '../../common/http/errors.ts';
import { createMemoryLogger } from '../../common/log.ts';
import { assertVersion, requireIfMatch } from '../../core/crm/etag.ts';
import { isAllowedTransition, nextOrderStatuses } from '../../core/crm/order-workflow.ts';
import { ORDER_STATUSES } from '../../core/crm/schemas.ts';

describe('order workflow', () => {
  test('new → confirmed → manufacturing → fitted → closed, cancel before fitting, nothing after the end', () => {
    const allowed = Object.fromEntries(ORDER_STATUSES.map((from) => [from, ORDER_STATUSES.filter((to) => isAllowedTransition(from, to))]));
    expect(allowed).toEqual({
      new: ['confirmed', 'cancelled'],
      confirmed: ['manufacturing', 'cancelled'],
      manufacturing: ['fitted', 'cancelled'],
      fitted: ['closed'],
      closed: [],
      cancelled: [],
      paid: ['manufacturing', 'cancelled'],
      shipped: ['fitted', 'cancelled'],
    });
    for (const from of ORDER_STATUSES) expect(nextOrderStatuses(from)).toEqual(allowed[from]!);
  });

  test('nextOrderStatuses hands out a copy', () => {
    nextOrderStatuses('new').push('closed');
    expect(nextOrderStatuses('new')).toEqual(['confirmed', 'cancelled']);
  });
});

describe('If-Match', () => {
  const app = new Hono();
  app.onError(createErrorHandler(createMemoryLogger('test')));
  app.put('/', (c) => {
    assertVersion(c, requireIfMatch(c), '1733480000123456');
    return c.text('ok');
  });
  const put = (ifMatch?: string) => app.request('/', { method: 'PUT', headers: ifMatch === undefined ? {} : { 'if-match': ifMatch } });

  test('the current version passes (strong or weak form)', async () => {
    expect((await put('"1733480000123456"')).status).toBe(200);
    expect((await put('W/"1733480000123456"')).status).toBe(200);
  });

  test('missing or * is 428; another or unparsable version is 412 with the current ETag', async () => {
    expect((await put()).status).toBe(428);
    expect((await put('*')).status).toBe(428);
    const stale = await put('"1733480000000000"');
    expect(stale.status).toBe(412);
    expect(stale.headers.get('etag')).toBe('"1733480000123456"');
    expect(((await stale.json()) as any).error).toMatchObject({ code: 'precondition_failed', details: { current_etag: '"1733480000123456"' } });
    expect((await put('"abc"')).status).toBe(412);
    expect((await put('1733480000123456')).status).toBe(412);
  });
});
