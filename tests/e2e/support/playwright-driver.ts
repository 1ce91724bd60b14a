import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { BrowserType } from 'playwright-core';
import { ROOT } from '../../../tools/kit/paths.ts';

/**
 * playwright-core with its browser-side half in a Node process. Under Bun, Playwright's own
 * launcher fails now and then: it talks to Chromium over extra stdio pipes (fds 3 and 4), which
 * Bun's child_process emulation mishandles under load (known: oven-sh/bun#34785 "connect ENOENT in
 * #createStdioObject", microsoft/playwright#42801 "DevTools pipe terminates … under Bun"; seen
 * here as launches that fail, clicks and navigations whose answers never come back), and its
 * websocket transport does not connect from Bun at all.
 *
 * So the tests keep Playwright's client API in Bun and run Playwright's driver — the same
 * `cli.js run-driver` the Python and Java clients use — under Node 24 (node_modules/.bin/node),
 * speaking Playwright's protocol over the driver's stdin/stdout. This is what
 * playwright-core/lib/outofprocess.js does, except that it forks with the current runtime (Bun);
 * its two internal classes are used as is, pinned by the exact playwright-core version.
 */

const requireFromHere = createRequire(import.meta.url);
const PLAYWRIGHT_DIR = dirname(requireFromHere.resolve('playwright-core/package.json'));
const NODE = join(ROOT, 'node_modules', '.bin', 'node');

interface Transport {
  send(message: string): void;
  onmessage?: (message: string) => void;
  onclose?: () => void;
}
interface ClientConnection {
  onmessage: (message: object) => void;
  dispatch(message: object): void;
  initializePlaywright(): Promise<{ chromium: BrowserType }>;
}

const { Connection } = requireFromHere(join(PLAYWRIGHT_DIR, 'lib', 'client', 'connection.js')) as {
  Connection: new (platform: unknown) => ClientConnection;
};
const { PipeTransport } = requireFromHere(join(PLAYWRIGHT_DIR, 'lib', 'server', 'utils', 'pipeTransport.js')) as {
  PipeTransport: new (write: NodeJS.WritableStream, read: NodeJS.ReadableStream) => Transport;
};
const { nodePlatform } = requireFromHere(join(PLAYWRIGHT_DIR, 'lib', 'server', 'utils', 'nodePlatform.js')) as { nodePlatform: unknown };

export interface PlaywrightDriver {
  chromium: BrowserType;
  /** Ends the driver process (and with it any browser it still runs). */
  stop(): Promise<void>;
}

export async function startPlaywrightDriver(): Promise<PlaywrightDriver> {
  const driver: ChildProcess = spawn(NODE, [join(PLAYWRIGHT_DIR, 'cli.js'), 'run-driver'], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, NODE_ENV: 'production' },
  });
  const exited = new Promise<void>((resolve) => driver.once('exit', () => resolve()));
  const connection = new Connection(nodePlatform);
  const transport = new PipeTransport(driver.stdin!, driver.stdout!);
  connection.onmessage = (message) => transport.send(JSON.stringify(message));
  transport.onmessage = (message) => connection.dispatch(JSON.parse(message) as object);

  const failedToStart = exited.then(() => {
    throw new Error('the Playwright driver (node cli.js run-driver) exited at start');
  });
  const playwright = await Promise.race([connection.initializePlaywright(), failedToStart]);
  return {
    chromium: playwright.chromium,
    async stop() {
      if (driver.exitCode !== null || driver.signalCode !== null) return;
      // Closing its stdin is the driver's signal to close its browsers and exit.
      driver.stdin!.end();
      const timedOut = await Promise.race([exited.then(() => false), new Promise<boolean>((resolve) => setTimeout(() => resolve(true), 10_000))]);
      if (timedOut) driver.kill('SIGKILL');
    },
  };
}
