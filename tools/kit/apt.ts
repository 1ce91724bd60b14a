import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { log } from './log.ts';
import { run } from './proc.ts';

async function isInstalled(pkg: string): Promise<boolean> {
  const { code, stdout } = await run('dpkg-query', ['-W', '-f=${Status}', pkg], { allowFailure: true });
  return code === 0 && stdout.includes('install ok installed');
}

let updated = false;
let aptQueue: Promise<unknown> = Promise.resolve();

/**
 * One apt/dpkg run at a time: services start in parallel, and some ask for the same packages at
 * once (both PostgreSQL clusters; Kafka and Keycloak both need maven). Two apt-get processes would
 * fail on dpkg's lock, so the second waits here and then finds the packages installed.
 */
export function oneAptRunAtATime<T>(task: () => Promise<T>): Promise<T> {
  const result = aptQueue.then(task, task);
  aptQueue = result.catch(() => undefined);
  return result;
}

async function missingOf(packages: string[]): Promise<string[]> {
  const missing: string[] = [];
  for (const pkg of packages) if (!(await isInstalled(pkg))) missing.push(pkg);
  return missing;
}

/**
 * Installs missing Debian packages. Their own init scripts are kept from starting system-wide
 * daemons (policy-rc.d answering 101), because the stack runs its own instances on its own ports.
 */
export async function ensureDebPackages(service: string, packages: string[]): Promise<void> {
  if ((await missingOf(packages)).length === 0) return;
  await oneAptRunAtATime(() => installMissing(service, packages));
}

async function installMissing(service: string, packages: string[]): Promise<void> {
  const missing = await missingOf(packages);
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) {
    throw new Error(`${service}: missing Debian packages ${missing.join(' ')}; run as root or install them: apt-get install ${missing.join(' ')}`);
  }
  const policy = '/usr/sbin/policy-rc.d';
  const ownsPolicy = !existsSync(policy);
  if (ownsPolicy) writeFileSync(policy, '#!/bin/sh\nexit 101\n', { mode: 0o755 });
  try {
    const env = { DEBIAN_FRONTEND: 'noninteractive' };
    if (!updated) {
      log.step(service, 'apt-get update');
      await run('apt-get', ['update'], { env });
      updated = true;
    }
    log.step(service, `apt-get install ${missing.join(' ')} (progress in the apt log below if slow)`);
    await run('apt-get', ['install', '-y', '--no-install-recommends', '-o', 'DPkg::Lock::Timeout=300', ...missing], { env });
  } finally {
    if (ownsPolicy) rmSync(policy, { force: true });
  }
}
