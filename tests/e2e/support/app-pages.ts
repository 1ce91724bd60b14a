import type { Page } from 'playwright-core';
import { problemsOf } from './browser.ts';

/** Small readers of the app's own pages (by test ids and roles, never by layout). */

/** Text without the spaces Intl puts in numbers ("1 234", "1 234", "95,5 %"), for exact comparisons. */
export function compact(text: string): string {
  return text.replace(/[\s\u00a0\u202f]+/g, '');
}

export async function metricValue(page: Page, testId: string): Promise<string> {
  return compact(await page.getByTestId(testId).locator('.metric__value').innerText());
}

/** Waits for a test id to show; on timeout the error says what the page showed instead. */
export async function waitForTestId(page: Page, testId: string): Promise<void> {
  try {
    await page.getByTestId(testId).first().waitFor({ state: 'visible' });
  } catch (error) {
    const text = await page.locator('body').innerText().catch(() => '(page gone)');
    throw new Error(`[data-testid=${testId}] did not show at ${page.url()}; the page shows: ${text.replace(/\s+/g, ' ').slice(0, 400)}; problems: ${JSON.stringify(problemsOf(page))}`, { cause: error });
  }
}

/** Waits for the app to finish its session check and show one of its screens. */
export async function waitForAppScreen(page: Page): Promise<'signed-out' | 'signed-in' | 'expired' | 'unavailable'> {
  const signedOut = page.getByTestId('sign-in');
  const signedIn = page.getByTestId('sign-out');
  const expired = page.getByTestId('session-expired');
  const unavailable = page.getByTestId('session-unavailable');
  const crashed = page.getByTestId('crash');
  try {
    await signedOut.or(signedIn).or(expired).or(unavailable).or(crashed).first().waitFor({ state: 'visible' });
  } catch (error) {
    const text = await page.locator('body').innerText().catch(() => '');
    throw new Error(`no app screen at ${page.url()}: ${text.replace(/\s+/g, ' ').slice(0, 300)}; problems: ${JSON.stringify(problemsOf(page))}`, { cause: error });
  }
  if (await crashed.isVisible()) throw new Error(`the app crashed at ${page.url()}: ${JSON.stringify(problemsOf(page))}`);
  if (await unavailable.isVisible()) return 'unavailable';
  if (await expired.isVisible()) return 'expired';
  if (await signedIn.isVisible()) return 'signed-in';
  return 'signed-out';
}

/** Formats like the app does for a language (integers), compacted for comparison. */
export function integerIn(language: 'ru' | 'en', value: number): string {
  return compact(new Intl.NumberFormat(language === 'ru' ? 'ru-RU' : 'en-GB', { maximumFractionDigits: 0 }).format(value));
}

export function percentIn(language: 'ru' | 'en', value: number): string {
  return compact(`${new Intl.NumberFormat(language === 'ru' ? 'ru-RU' : 'en-GB', { maximumFractionDigits: 1 }).format(value)} %`);
}
