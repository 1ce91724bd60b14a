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

/** What a failing test should say about the page: its text, visibility, whether it still paints, its problems. */
export async function describePage(page: Page): Promise<string> {
  const probe = page
    .evaluate(async () => {
      const painted = await Promise.race([new Promise((resolve) => requestAnimationFrame(() => resolve(true))), new Promise((resolve) => setTimeout(() => resolve(false), 2_000))]);
      return { text: document.body.innerText.replace(/\s+/g, ' ').slice(0, 400), visibility: document.visibilityState, painted };
    })
    .catch((error: unknown) => ({ text: `(no answer: ${String(error).slice(0, 80)})`, visibility: '?', painted: '?' }));
  const state = await Promise.race([probe, new Promise<{ text: string; visibility: string; painted: string }>((resolve) => setTimeout(() => resolve({ text: '(page does not answer)', visibility: '?', painted: '?' }), 5_000))]);
  return `the page shows: ${state.text}; visibility ${state.visibility}, animation frames ${state.painted}; problems: ${JSON.stringify(problemsOf(page))}`;
}

/** Waits for an element to show; on timeout the error says what the page showed instead. */
export async function waitForSelector(page: Page, selector: string): Promise<void> {
  await page.bringToFront();
  try {
    await page.locator(selector).first().waitFor({ state: 'visible' });
  } catch (error) {
    throw new Error(`${selector} did not show at ${page.url()}; ${await describePage(page)}`, { cause: error });
  }
}

export function waitForTestId(page: Page, testId: string): Promise<void> {
  return waitForSelector(page, `[data-testid="${testId}"]`);
}

/** Waits for the app to finish its session check and show one of its screens. */
export async function waitForAppScreen(page: Page): Promise<'signed-out' | 'signed-in' | 'expired' | 'unavailable'> {
  const signedOut = page.getByTestId('sign-in');
  const signedIn = page.getByTestId('sign-out');
  const expired = page.getByTestId('session-expired');
  const unavailable = page.getByTestId('session-unavailable');
  const crashed = page.getByTestId('crash');
  await page.bringToFront();
  try {
    await signedOut.or(signedIn).or(expired).or(unavailable).or(crashed).first().waitFor({ state: 'visible' });
  } catch (error) {
    throw new Error(`no app screen at ${page.url()}; ${await describePage(page)}`, { cause: error });
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
