import { describe, expect, test } from 'bun:test';
import { dictionaries, pickLanguage, plural } from './dictionary.ts';
import { createFormatters } from './format.ts';

describe('dictionaries', () => {
  test('Russian and English have the same keys, of the same kinds, and nothing empty', () => {
    const { en, ru } = dictionaries;
    expect(Object.keys(ru).sort()).toEqual(Object.keys(en).sort());
    for (const key of Object.keys(en) as Array<keyof typeof en>) {
      expect([key, typeof ru[key]]).toEqual([key, typeof en[key]]);
      expect([key, Array.isArray(ru[key])]).toEqual([key, Array.isArray(en[key])]);
      if (typeof en[key] === 'string') expect([key, (ru[key] as string).length > 0]).toEqual([key, true]);
      if (typeof en[key] === 'function') {
        const sample = (fn: unknown) => (fn as (...args: unknown[]) => string)('X', 'Y', 'Z');
        expect([key, sample(ru[key]).length > 0]).toEqual([key, true]);
      }
    }
  });

  test('the language comes from the stored choice, then the browser, then English', () => {
    expect(pickLanguage('ru', ['en-US'])).toBe('ru');
    expect(pickLanguage(null, ['de-DE', 'ru-RU', 'en'])).toBe('ru');
    expect(pickLanguage(null, ['en-GB'])).toBe('en');
    expect(pickLanguage('fr', ['fr-FR', 'de'])).toBe('en');
    expect(pickLanguage(null, [])).toBe('en');
  });

  test('Russian plurals take their three forms', () => {
    const forms = dictionaries.ru.daysCount;
    expect(plural('ru', forms, 1, '1')).toBe('1 день с данными');
    expect(plural('ru', forms, 3, '3')).toBe('3 дня с данными');
    expect(plural('ru', forms, 5, '5')).toBe('5 дней с данными');
    expect(plural('ru', forms, 21, '21')).toBe('21 день с данными');
    expect(plural('ru', forms, 112, '112')).toBe('112 дней с данными');
    expect(plural('en', dictionaries.en.daysCount, 1, '1')).toBe('1 day with data');
    expect(plural('en', dictionaries.en.daysCount, 2, '2')).toBe('2 days with data');
  });
});

describe('formatters', () => {
  const fixedNow = () => new Date('2026-11-25T10:00:00Z');
  const en = createFormatters('en', fixedNow);
  const ru = createFormatters('ru', fixedNow);
  const compact = (text: string) => text.replace(/[\s\u00a0\u202f]+/g, ' ');

  test('report days are UTC calendar days, whatever the time zone of the browser', () => {
    // Punctuation between the parts varies with the ICU version; the date itself must not.
    expect(en.dayLong('2026-11-24')).toMatch(/^Tuesday,? 24 November 2026$/);
    expect(ru.dayShort('2026-01-01')).toBe('1 янв. 2026 г.');
    expect(en.hour('2026-11-24T00:00:00Z')).toBe('00:00');
    expect(en.hour('2026-11-24T23:00:00Z')).toBe('23:00');
    expect(en.dateTimeCompact('2026-11-24T23:59:00Z')).toMatch(/^24 Nov,? 23:59$/);
  });

  test('list days drop the current year and keep older ones', () => {
    expect(en.dayInList('2026-11-24')).toMatch(/^Tue,? 24 Nov$/);
    expect(en.dayInList('2025-11-24')).toMatch(/^Mon,? 24 Nov 2025$/);
    expect(en.dayRange('2026-11-21', '2026-11-24')).toMatch(/^21\s?–\s?24 Nov 2026$/);
    expect(en.dayRange('2026-11-24', '2026-11-24')).toBe('24 Nov 2026');
  });

  test('numbers follow the language; missing values show a dash, not zero', () => {
    expect(compact(ru.integer(12345))).toBe('12 345');
    expect(en.integer(12345)).toBe('12,345');
    expect(ru.percent(96.55)).toBe('96,6 %');
    expect(en.percent(100)).toBe('100 %');
    expect(en.percent(null)).toBe('—');
    expect(en.milliseconds(null)).toBe('—');
    expect(en.milliseconds(114.6)).toBe('115');
  });
});
