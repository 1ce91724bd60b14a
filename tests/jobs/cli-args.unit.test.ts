import { describe, expect, test } from 'bun:test';
import { parseCliArgs, UsageError } from '../../jobs/cli-args.ts';

describe('jobs CLI arguments', () => {
  test('run-once, with and without invalidation', () => {
    expect(parseCliArgs(['run-once']).command).toEqual({ command: 'run-once', invalidate: true });
    expect(parseCliArgs(['run-once', '--no-invalidate', '--json'])).toEqual({ command: { command: 'run-once', invalidate: false }, json: true, stackEnv: false });
  });

  test('backfill covers whole UTC days, the last one included', () => {
    const { command } = parseCliArgs(['backfill', '--from', '2026-11-01', '--to=2026-11-03', '--chip', 'CHIP-0001', '--chip', 'CHIP-0002']);
    expect(command).toEqual({
      command: 'backfill',
      from: new Date('2026-11-01T00:00:00Z'),
      to: new Date('2026-11-04T00:00:00Z'),
      days: 3,
      chips: ['CHIP-0001', 'CHIP-0002'],
      invalidate: true,
    });
  });

  test('runs and retention', () => {
    expect(parseCliArgs(['runs']).command).toEqual({ command: 'runs', limit: 20 });
    expect(parseCliArgs(['runs', '--limit', '5', '--job', 'retention']).command).toEqual({ command: 'runs', limit: 5, job: 'retention' });
    expect(parseCliArgs(['retention', '--dry-run', '--stack-env'])).toEqual({ command: { command: 'retention', dryRun: true }, json: false, stackEnv: true });
    expect(parseCliArgs([]).command).toEqual({ command: 'help' });
  });

  const bad: Array<[string[], RegExp]> = [
    [['explode'], /unknown command/],
    [['run-once', '--from', '2026-01-01'], /does not take --from/],
    [['backfill', '--from', '2026-11-01'], /needs --from .* and --to/],
    [['backfill', '--from', '2026-02-30', '--to', '2026-03-01'], /not a calendar day/],
    [['backfill', '--from', '2026-11-05', '--to', '2026-11-01'], /before from/],
    [['backfill', '--from', '1999-01-01', '--to', '2026-11-01'], /longer than/],
    [['backfill', '--from', '2026-11-01', '--to', '2026-11-01', '--chip', '../etc'], /not a chip id/],
    [['backfill', '--from', '2026-11-01', '--from', '2026-11-02', '--to', '2026-11-03'], /more than once/],
    [['backfill', '--from'], /needs a value/],
    [['backfill', '--from', '--to', '2026-11-01'], /needs a value/],
    [['runs', '--limit', '0'], /--limit/],
    [['runs', '--limit', '12abc'], /--limit/],
    [['runs', '--job', 'cdc'], /--job must be one of/],
    [['retention', '--dry-run=yes'], /takes no value/],
    [['retention', '--no-invalidate'], /does not take --no-invalidate/],
  ];
  for (const [argv, message] of bad) {
    test(`refuses ${argv.join(' ')}`, () => {
      expect(() => parseCliArgs(argv)).toThrow(UsageError);
      expect(() => parseCliArgs(argv)).toThrow(message);
    });
  }
});
