/**
 * The native stack and the two developer commands.
 *   node stack/cli.ts up [service…] | down [service…] | restart service… | status | provision | env | logs [service] | dev | test [bun test args]
 */
import { existsSync, readFileSync } from 'node:fs';
import { loadStackEnv, type StackEnv } from './lib/env.ts';
import { log } from '../tools/kit/log.ts';
import { paths, STACK_DIR } from '../tools/kit/paths.ts';
import { ensureTraversable } from '../tools/kit/traversable.ts';
import { runningPid } from '../tools/kit/proc.ts';
import { loadServices } from './services/index.ts';
import type { StackService } from './services/service.ts';

/** Brings up every service, or only the named ones and what they depend on. */
async function up(env: StackEnv, only: string[] = []): Promise<StackService[]> {
  const started = Date.now();
  const all = await loadServices();
  const unknown = only.filter((name) => !all.some((s) => s.name === name));
  if (unknown.length > 0) throw new Error(`unknown service(s): ${unknown.join(', ')}; known: ${all.map((s) => s.name).join(', ')}`);
  const wanted = new Set<string>();
  const want = (name: string): void => {
    if (wanted.has(name)) return;
    wanted.add(name);
    for (const dep of all.find((s) => s.name === name)?.dependsOn ?? []) want(dep);
  };
  for (const name of only.length > 0 ? only : all.map((s) => s.name)) want(name);
  const services = all.filter((s) => wanted.has(s.name));
  ensureTraversable(STACK_DIR);
  // Installs run one after another: apt and Maven both hold locks on shared state.
  for (const service of services) await service.install(env);
  const byName = new Map(services.map((s) => [s.name, s]));
  const tasks = new Map<string, Promise<void>>();
  const startOne = (service: StackService): Promise<void> => {
    let task = tasks.get(service.name);
    if (!task) {
      task = (async () => {
        for (const dep of service.dependsOn ?? []) {
          const depService = byName.get(dep);
          if (!depService) throw new Error(`${service.name} depends on unknown service ${dep}`);
          await startOne(depService);
        }
        if (await service.isReady(env).catch(() => false)) {
          log.step(service.name, 'already running');
          return;
        }
        log.step(service.name, 'starting');
        await service.start(env);
        log.step(service.name, `ready on ${service.ports.join(', ')}`);
      })();
      tasks.set(service.name, task);
    }
    return task;
  };
  await Promise.all(services.map(startOne));
  const { migrateAll } = await import('../db/migrate.ts');
  await migrateAll(env);
  for (const service of services) {
    if (service.provision) {
      await service.provision(env);
    }
  }
  log.step('stack', `up in ${((Date.now() - started) / 1000).toFixed(1)}s`);
  return services;
}

/**
 * Migrations and every service's provisioning against services that are already running — the
 * native ones, or the containers of compose.yaml (its `init` service runs this).
 */
async function provision(env: StackEnv): Promise<void> {
  const services = await loadServices();
  for (const service of services) {
    if (!(await service.isReady(env).catch(() => false))) throw new Error(`${service.name} is not answering on ${service.ports.join(', ')}`);
  }
  const { migrateAll } = await import('../db/migrate.ts');
  await migrateAll(env);
  for (const service of services) await service.provision?.(env);
  log.step('stack', 'provisioned');
}

async function down(env: StackEnv, only: string[] = []): Promise<void> {
  const services = (await loadServices()).filter((s) => only.length === 0 || only.includes(s.name));
  for (const service of services.reverse()) {
    await service.stop(env);
    log.step(service.name, 'stopped');
  }
}

async function status(env: StackEnv): Promise<boolean> {
  const services = await loadServices();
  let allReady = true;
  for (const service of services) {
    const ready = await service.isReady(env).catch(() => false);
    allReady &&= ready;
    const pid = runningPid(service.name);
    console.log(`${service.name.padEnd(18)} ${(ready ? 'ready' : 'down').padEnd(6)} ports ${service.ports.join(',').padEnd(12)} ${pid ? `pid ${pid}` : 'not started by this stack'}  ${service.version ?? ''}`);
  }
  return allReady;
}

async function logs(service?: string): Promise<void> {
  const services = await loadServices();
  for (const s of services) {
    if (service && s.name !== service) continue;
    const file = paths.log(s.name);
    if (!existsSync(file)) continue;
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n').slice(-40);
    console.log(`==> ${file} <==\n${lines.join('\n')}\n`);
  }
}

async function main(): Promise<void> {
  const [command = 'status', ...rest] = process.argv.slice(2);
  const env = loadStackEnv();
  switch (command) {
    case 'up':
      await up(env, rest);
      break;
    case 'down':
      await down(env, rest);
      break;
    case 'provision':
      await provision(env);
      break;
    case 'restart': {
      if (rest.length === 0) throw new Error('restart: name the service(s), e.g. `node stack/cli.ts restart redis`');
      const { restartService } = await import('./restart.ts');
      for (const name of rest) await restartService(env, name);
      break;
    }
    case 'env':
      // For compose.yaml: `node stack/cli.ts env --write .env` (0600, plus one file per app); plain
      // `env` prints the settings for a shell's eval.
      if (rest[0] === '--write') {
        const { writeEnvFiles } = await import('./env-files.ts');
        console.log(`wrote ${writeEnvFiles(rest[1] ?? '', env).join(', ')} (mode 0600)`);
      } else if (rest.length > 0) throw new Error(`env: unknown argument "${rest[0]}"; use \`env\` or \`env --write <file>\``);
      else for (const [key, value] of Object.entries(env)) console.log(`${key}=${value}`);
      break;
    case 'status':
      process.exitCode = (await status(env)) ? 0 : 1;
      break;
    case 'logs':
      await logs(rest[0]);
      break;
    case 'dev': {
      await up(env);
      const { runDev } = await import('./dev.ts');
      await runDev(env);
      break;
    }
    case 'test': {
      await up(env);
      const { runTests } = await import('./test.ts');
      process.exitCode = await runTests(env, rest);
      break;
    }
    default:
      console.error(`unknown command "${command}"; use up | down | restart <service…> | status | logs [service] | provision | env [--write <file>] | dev | test`);
      process.exitCode = 2;
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
