import { describe, expect, test } from 'bun:test';
import { countJUnit } from '../../stack/test.ts';

describe('countJUnit', () => {
  test('derives passed from the totals on the root element', () => {
    const xml = '<?xml version="1.0"?><testsuites name="bun test" tests="7" assertions="9" failures="2" skipped="1" time="1"></testsuites>';
    expect(countJUnit(xml)).toEqual({ passed: 4, failed: 2, skipped: 1 });
  });

  test('counts errors as failures', () => {
    expect(countJUnit('<testsuites tests="3" failures="0" errors="1" skipped="0">')).toEqual({ passed: 2, failed: 1, skipped: 0 });
  });

  test('an empty report counts nothing', () => {
    expect(countJUnit('')).toEqual({ passed: 0, failed: 0, skipped: 0 });
  });
});
