import type { StackEnv } from './lib/env.ts';
import { log } from '../tools/kit/log.ts';
import { descendantsOf, isProcessAlive, readPid, sleep } from '../tools/kit/proc.ts';
import { loadServices } from './services/index.ts';
import type { StackService } from './services/service.ts';

/**
 * Restarting one service of the native stack without touching the others: what a person does after
 * a daemon died (`node stack/cli.ts restart redis`) and what the chaos suite (tests/chaos) does after
 * it SIGKILLed one. Dependencies are not restarted; the service's own start() and provision() run,
 * both idempotent, so a stale pid file or a half-written lock left by a crash is handled where the
 * service knows how.
 */
export async function findService(name: string): Promise<StackService> {
  const all = await loadServices();
  const service = all.find((s) => s.name === name);
  if (!service) throw new Error(`unknown service ${name}; known: ${all.map((s) => s.name).join(', ')}`);
  return service;
}

export interface RestartResult {
  name: string;
  /** Wall time of stop (if it was running) + start + provision. */
  ms: number;
}

/** Stops the service if it still runs (its own stop: graceful), then starts and provisions it. */
export async function restartService(env: StackEnv, name: string, options: { stopFirst?: boolean } = {}): Promise<RestartResult> {
  const service = await findService(name);
  const started = Date.now();
  if (options.stopFirst !== false) await service.stop(env);
  await service.start(env);
  await service.provision?.(env);
  log.step(name, `restarted in ${((Date.now() - started) / 1000).toFixed(1)}s`);
  return { name, ms: Date.now() - started };
}

/**
 * SIGKILL to the daemon's whole process group (a crash: no shutdown hook, no flush), then waits
 * until the recorded pid is gone. Returns the pid killed, or undefined if the stack runs no such
 * daemon (then nothing is touched).
 */
export async function killService(name: string, timeoutMs = 10_000): Promise<number | undefined> {
  await findService(name);
  const pid = readPid(name);
  if (pid === undefined || !isProcessAlive(pid)) return undefined;
  // The whole tree goes, as in a machine crash: startDaemon's daemons lead their own process group
  // (kc.sh and its java), but PostgreSQL's backends each call setsid, so the group alone would leave
  // them running, holding the shared memory the next postmaster refuses to start beside.
  const tree = [pid, ...descendantsOf(pid)];
  for (const target of [-pid, ...tree]) {
    try {
      process.kill(target, 'SIGKILL');
    } catch {
      /* gone already, or no such group */
    }
  }
  const deadline = Date.now() + timeoutMs;
  while (tree.some(isProcessAlive)) {
    if (Date.now() > deadline) throw new Error(`${name}: pid ${pid} or a child still alive ${timeoutMs} ms after SIGKILL`);
    await sleep(50);
  }
  return pid;
}
