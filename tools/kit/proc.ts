import { spawn, type SpawnOptions } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { paths } from './paths.ts';

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  input?: string;
  /** Return the failure instead of throwing (for probes). */
  allowFailure?: boolean;
  /**
   * Values (passwords passed as arguments) replaced by *** wherever run() reports the command: the
   * thrown error's command line and the captured output it quotes (tools echo their arguments).
   */
  secrets?: readonly string[];
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** `text` with every non-empty secret replaced by ***, longest first so a secret inside another is not left half-shown. */
export function redact(text: string, secrets: readonly string[] = []): string {
  return [...secrets].filter((secret) => secret.length > 0).sort((a, b) => b.length - a.length).reduce((out, secret) => out.split(secret).join('***'), text);
}

/** Runs a command to completion and captures its output; throws with the output (secrets redacted) on failure. */
export function run(command: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', (error) => {
      if (options.allowFailure) resolve({ code: 127, stdout, stderr: redact(String(error), options.secrets) });
      else reject(new Error(redact(`${command}: ${error.message}`, options.secrets), { cause: error }));
    });
    child.on('close', (code) => {
      const result = { code: code ?? 1, stdout, stderr };
      if (result.code !== 0 && !options.allowFailure) {
        reject(new Error(redact(`${command} ${args.join(' ')} exited ${result.code}\n${stderr || stdout}`, options.secrets).slice(0, 4000)));
      } else resolve(result);
    });
    // A child that exits without reading stdin makes this write fail with EPIPE; its exit code
    // (above) is what counts, so the pipe error must not crash the process.
    child.stdin.on('error', () => {});
    child.stdin.end(options.input ?? '');
  });
}

export function readPid(service: string): number | undefined {
  const file = paths.pid(service);
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A daemon that exited but was not yet reaped by init still answers kill(0); it is gone all the same.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

/** The pid of a daemon this stack started, if it is still running. */
export function runningPid(service: string): number | undefined {
  const pid = readPid(service);
  return pid !== undefined && isProcessAlive(pid) ? pid : undefined;
}

export interface DaemonOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

/**
 * Starts a long-running process detached from this one, with stdout and stderr appended to the
 * service's log and its pid recorded, so `stack down` later stops exactly what `stack up` started.
 */
export function startDaemon(service: string, command: string, args: string[], options: DaemonOptions = {}): number {
  for (const file of [paths.log(service), paths.pid(service)]) mkdirSync(dirname(file), { recursive: true });
  const logFd = openSync(paths.log(service), 'a');
  const spawnOptions: SpawnOptions = {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    detached: true,
    stdio: ['ignore', logFd, logFd],
  };
  const child = spawn(command, args, spawnOptions);
  closeSync(logFd);
  if (child.pid === undefined) throw new Error(`${service}: could not start ${command}`);
  child.unref();
  writeFileSync(paths.pid(service), `${child.pid}\n`);
  return child.pid;
}

/** Records the pid of a daemon that forks itself (pg_ctl, slapd) so it is stopped like the others. */
export function recordPid(service: string, pid: number): void {
  mkdirSync(dirname(paths.pid(service)), { recursive: true });
  writeFileSync(paths.pid(service), `${pid}\n`);
}

export function forgetPid(service: string): void {
  rmSync(paths.pid(service), { force: true });
}

/** Signals a process's whole group (daemons lead their own), or the process alone if it leads none. */
export function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      /* already gone */
    }
  }
}

/** SIGTERM to the whole process group, then SIGKILL after the grace period. */
export async function stopDaemon(service: string, graceMs = 20_000): Promise<boolean> {
  const pid = readPid(service);
  if (pid === undefined) return false;
  const signal = (sig: NodeJS.Signals) => signalGroup(pid, sig);
  if (isProcessAlive(pid)) {
    signal('SIGTERM');
    const deadline = Date.now() + graceMs;
    while (isProcessAlive(pid) && Date.now() < deadline) await sleep(200);
    if (isProcessAlive(pid)) signal('SIGKILL');
  }
  forgetPid(service);
  return true;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Every process below `root`, from /proc's parent links. */
export function descendantsOf(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
    } catch {
      /* exited while listing */
    }
  }
  const found: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    for (const child of children.get(queue.shift()!) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}
