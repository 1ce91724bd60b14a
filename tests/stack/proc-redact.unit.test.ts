import { describe, expect, test } from 'bun:test';
import { redact, run } from '../../tools/kit/proc.ts';

/**
 * Review finding: passwords passed as arguments (Kafka's StorageTool --add-scram, kafka-configs
 * --add-config) came back in run()'s error, which quotes the command line and the tool's output.
 */
describe('run() redacts secret arguments', () => {
  const secret = 's3cr3t-Pa55word';

  test('a failing command: neither its command line nor its echoed output shows the secret', async () => {
    const failure = await run('sh', ['-c', 'echo "bad credential [password=$1]" >&2; exit 3', 'sh', `name=alice,password=${secret}`], { secrets: [secret] }).then(
      () => undefined,
      (error: Error) => error,
    );
    expect(failure).toBeInstanceOf(Error);
    expect(failure!.message).toContain('exited 3');
    expect(failure!.message).toContain('password=***');
    expect(failure!.message).not.toContain(secret);
  });

  test('a command that cannot start: the spawn error does not show it either', async () => {
    const failure = await run(`/nonexistent/${secret}`, [], { secrets: [secret] }).then(() => undefined, (error: Error) => error);
    expect(failure!.message).not.toContain(secret);
    const probe = await run(`/nonexistent/${secret}`, [], { secrets: [secret], allowFailure: true });
    expect(probe.code).toBe(127);
    expect(probe.stderr).not.toContain(secret);
  });

  test('redact: longest secret first, empty secrets ignored', () => {
    expect(redact('a=abcdef b=abc', ['abc', 'abcdef', ''])).toBe('a=*** b=***');
    expect(redact('nothing here', [])).toBe('nothing here');
  });
});
