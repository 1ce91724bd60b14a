import type { Context } from 'hono';

export type WaitUntil = (work: Promise<unknown>) => void;

/** Node, Bun and Deno keep running after the response on their own; just never leave a rejection unhandled. */
export const keepRunning: WaitUntil = (work) => void work.catch(() => {});

/**
 * The request's waitUntil on workerd (background work must be registered there or the isolate may
 * stop it after the response); the fallback elsewhere, where Hono has no execution context.
 */
export function waitUntilOf(c: Context, fallback: WaitUntil = keepRunning): WaitUntil {
  let ctx: { waitUntil(promise: Promise<unknown>): void } | undefined;
  try {
    ctx = c.executionCtx;
  } catch {
    return fallback;
  }
  return (work) => ctx.waitUntil(work.catch(() => {}));
}
