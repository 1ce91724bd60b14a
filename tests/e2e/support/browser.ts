import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page, Response as PwResponse } from 'playwright-core';
import { ROOT } from '../../../tools/kit/paths.ts';
import { startPlaywrightDriver, type PlaywrightDriver } from './playwright-driver.ts';

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
 * Responses whose bodies are scanned: everything dynamic (documents, fetch/XHR, scripts) — not the
 * static theme and app assets (styles, fonts, images), built before any sign-in: they cannot hold
 * a token, and reading them is megabytes of Keycloak's PatternFly CSS and fonts per sign-in.
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
 * the browser, so nothing leaks between people. Playwright's browser side runs under Node (see
 * playwright-driver.ts for why not under Bun).
 */
let shared: Promise<{ driver: PlaywrightDriver; browser: Browser }> | undefined;

async function launchChromium(): Promise<{ driver: PlaywrightDriver; browser: Browser }> {
  if (!existsSync(CHROMIUM)) throw new Error(`e2e: ${CHROMIUM} is missing; npm test installs Debian's chromium (or: apt-get install chromium)`);
  const driver = await startPlaywrightDriver();
  try {
    // Well inside the tests' own timeouts: a hung launch must fail here, not make bun test kill
    // every process the file started (its apps included).
    const browser = await driver.chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS, timeout: 30_000 });
    return { driver, browser };
  } catch (error) {
    await driver.stop();
    throw error;
  }
}

function browserForFile(): Promise<Browser> {
  shared ??= launchChromium().catch((error: unknown) => {
    shared = undefined;
    throw error;
  });
  return shared.then(({ browser }) => browser);
}

/** Closes the file's Chromium and its driver (afterAll); the next openBrowser starts new ones. */
export async function closeBrowsers(): Promise<void> {
  const pending = shared;
  shared = undefined;
  if (!pending) return;
  const started = await pending.catch(() => undefined);
  if (!started) return;
  await within(10_000, started.browser.close()).catch(() => undefined);
  await started.driver.stop();
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
