import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page, type Response as PwResponse } from 'playwright-core';
import { ROOT } from '../../../stack/lib/paths.ts';

/**
 * Debian's Chromium driven by playwright-core (never a downloaded browser), headless, one fresh
 * empty profile per browser, every response the browser receives recorded with its body so a
 * test can prove that no token ever reached the browser.
 */

export const CHROMIUM = '/usr/bin/chromium';
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
export const SCREENSHOT_DIR = join(ROOT, 'artifacts', 'screenshots');

export interface RecordedResponse {
  url: string;
  status: number;
  headers: Record<string, string>;
  /** The body as the browser got it; undefined for redirects and bodies Chromium no longer holds. */
  body: string | undefined;
}

export interface E2eBrowser {
  context: BrowserContext;
  page: Page;
  responses: RecordedResponse[];
  /** Waits until every response seen so far has its body recorded. */
  settled(): Promise<void>;
  screenshot(name: string, options?: { fullPage?: boolean }): Promise<string>;
  close(): Promise<void>;
}

export interface BrowserOptions {
  /** Browser language, e.g. 'ru-RU' or 'en-GB': the app picks its language from it. */
  locale: string;
  viewport?: { width: number; height: number };
  isMobile?: boolean;
}

const pageProblems = new WeakMap<Page, string[]>();

/** Script errors, crashes and console errors a page had: the first thing to read when a test fails. */
export function problemsOf(page: Page): string[] {
  return pageProblems.get(page) ?? [];
}

function watchProblems(page: Page): void {
  const problems: string[] = [];
  pageProblems.set(page, problems);
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('crash', () => problems.push('the page crashed'));
  const at = () => new Date().toISOString().slice(11, 23);
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') problems.push(`${at()} console ${message.type()}: ${message.text().slice(0, 200)}`);
  });
  page.on('response', (response) => {
    if (response.status() >= 400) problems.push(`${at()} ${response.status()} ${response.request().method()} ${response.url().slice(0, 120)}`);
  });
  page.on('requestfailed', (request) => problems.push(`${at()} failed ${request.method()} ${request.url().slice(0, 120)}: ${request.failure()?.errorText}`));
  page.on('framenavigated', (frame) => {
    if (frame === page.mainFrame()) problems.push(`${at()} navigated to ${frame.url().slice(0, 120)}`);
  });
}

/**
 * Responses whose bodies are scanned: everything dynamic (documents, fetch/XHR, redirects' pages,
 * scripts) — not the static theme and app assets (styles, fonts, images), which are built before
 * any sign-in and cannot hold a token. Reading those bodies too (megabytes of Keycloak's
 * PatternFly CSS and fonts per sign-in, base64 over Playwright's pipe) made Bun's pipe to Chromium
 * stall under load.
 */
function carriesDynamicContent(response: PwResponse): boolean {
  return !['stylesheet', 'font', 'image', 'media'].includes(response.request().resourceType());
}

function within<T>(ms: number, work: Promise<T>): Promise<T> {
  return Promise.race([work, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms))]);
}

/**
 * One Chromium per test file, each person in a context of their own. A context is an isolated
 * profile (own cookies, storage, cache) on top of the fresh, empty user-data-dir Playwright gives
 * the browser, so nothing leaks between people. Fewer launches is also a matter of reliability:
 * Playwright talks to Chromium over extra stdio pipes, which Bun's child_process emulation
 * occasionally fails to set up after many launches in one process (seen: EBADF, "Failed to
 * connect ENOENT"); over a websocket, Playwright does not connect from Bun at all.
 */
let sharedBrowser: Promise<Browser> | undefined;

async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`e2e: ${CHROMIUM} is missing; npm test installs Debian's chromium (or: apt-get install chromium)`);
  // Well inside the tests' own timeouts: a hung launch must fail here, not make bun test kill
  // every process the file started (its apps included).
  const options = { executablePath: CHROMIUM, headless: true, args: FLAGS, timeout: 30_000 };
  try {
    return await chromium.launch(options);
  } catch (error) {
    console.warn(`e2e: chromium launch failed, retrying once: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    return chromium.launch(options);
  }
}

function browserForFile(): Promise<Browser> {
  sharedBrowser ??= launchChromium().catch((error: unknown) => {
    sharedBrowser = undefined;
    throw error;
  });
  return sharedBrowser;
}

/** Closes the file's Chromium (afterAll); the next openBrowser starts a new one. */
export async function closeBrowsers(): Promise<void> {
  const pending = sharedBrowser;
  sharedBrowser = undefined;
  if (!pending) return;
  const browser = await pending.catch(() => undefined);
  if (browser) await within(10_000, browser.close()).catch(() => undefined);
}

export async function openBrowser(options: BrowserOptions): Promise<E2eBrowser> {
  const browser = await browserForFile();
  const context = await browser.newContext({
    locale: options.locale,
    timezoneId: 'Europe/Moscow',
    viewport: options.viewport ?? { width: 1280, height: 860 },
    isMobile: options.isMobile ?? false,
    hasTouch: options.isMobile ?? false,
    deviceScaleFactor: 1,
  });
  context.setDefaultTimeout(20_000);
  context.setDefaultNavigationTimeout(30_000);

  const responses: RecordedResponse[] = [];
  const pending = new Set<Promise<void>>();
  const record = async (response: PwResponse) => {
    const status = response.status();
    let body: string | undefined;
    if ((status < 300 || status >= 400) && carriesDynamicContent(response)) {
      // Undefined when the page navigated away before the body was read (or Chromium never says).
      body = await within(5_000, response.body().then((bytes) => bytes.toString('latin1'))).catch(() => undefined);
    }
    const headers = await within(5_000, response.allHeaders()).catch(() => response.headers());
    responses.push({ url: response.url(), status, headers, body });
  };
  context.on('response', (response) => {
    const work = record(response).finally(() => pending.delete(work));
    pending.add(work);
  });

  const page = await context.newPage();
  watchProblems(page);
  return {
    context,
    page,
    responses,
    async settled() {
      while (pending.size > 0) await Promise.all([...pending]);
    },
    async screenshot(name, shotOptions = {}) {
      mkdirSync(SCREENSHOT_DIR, { recursive: true });
      const path = join(SCREENSHOT_DIR, `${name}.png`);
      await page.screenshot({ path, fullPage: shotOptions.fullPage ?? true, animations: 'disabled' });
      return path;
    },
    async close() {
      // A wedged page must not hold up the clean-up that follows.
      await within(10_000, context.close()).catch(() => undefined);
    },
  };
}
