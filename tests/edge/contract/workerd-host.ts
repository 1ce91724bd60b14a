import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { convertV4MiniflareOptions, Miniflare } from 'miniflare';
import { unstable_getDurableObjectClassNameToUseSQLiteMap, unstable_readConfig } from 'wrangler';
import { paths, ROOT } from '../../../tools/kit/paths.ts';

/**
 * Serves one worker of edge/wrangler.jsonc (`--env bff|cdn`) on workerd through Miniflare, for the
 * edge contract tests: the bundle wrangler builds for deployment (`wrangler deploy --dry-run`), the
 * config's vars, compatibility date and Durable Objects, plus the settings and secrets the test
 * hands over in EDGE_WORKER_BINDINGS (JSON, so secrets stay out of argv). State is in memory.
 *
 * Why not `wrangler dev`: it puts a proxy worker, in a second workerd process, in front of the
 * worker, and that proxy can end the whole dev server when one proxied request fails
 * (cloudflare/workers-sdk#15317, #15451, reported on 2-core CI machines). A CI run here lost the
 * workerd CDN in the middle of its tests that way: one request hung, every later one was refused.
 * Miniflare serves the worker from a single workerd process, with the same runtime and bundle.
 *
 * Run with Node: `node tests/edge/contract/workerd-host.ts --env cdn --port 8792`. Prints
 * `workerd-host: ready <url>` and serves until SIGTERM or SIGINT.
 */
const { values } = parseArgs({ options: { env: { type: 'string' }, port: { type: 'string' } }, strict: true });
const app = values.env;
const port = Number(values.port);
if (app !== 'bff' && app !== 'cdn') throw new Error(`workerd-host: --env must be bff or cdn, got ${JSON.stringify(app)}`);
if (!Number.isInteger(port) || port < 1 || port > 65_535) throw new Error(`workerd-host: --port must be a TCP port, got ${JSON.stringify(values.port)}`);
const bindings = JSON.parse(process.env.EDGE_WORKER_BINDINGS ?? '{}') as Record<string, string>;
if (typeof bindings !== 'object' || Object.values(bindings).some((value) => typeof value !== 'string')) {
  throw new Error('workerd-host: EDGE_WORKER_BINDINGS must be a JSON object of strings');
}

const configPath = join(ROOT, 'edge', 'wrangler.jsonc');
const config = unstable_readConfig({ config: configPath, env: app } as never, { hideWarnings: true });

mkdirSync(paths.data('edge-workerd'), { recursive: true });
const bundleDir = mkdtempSync(join(paths.data('edge-workerd'), `bundle-${app}-`));
const build = spawnSync(
  process.execPath,
  [join(ROOT, 'node_modules', 'wrangler', 'bin', 'wrangler.js'), 'deploy', '--dry-run', '--outdir', bundleDir, '-c', configPath, '--env', app],
  { cwd: ROOT, encoding: 'utf8', env: { PATH: process.env.PATH, HOME: process.env.HOME, CI: 'true', WRANGLER_LOG: 'warn', WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false' } },
);
if (build.status !== 0) {
  rmSync(bundleDir, { recursive: true, force: true });
  throw new Error(`workerd-host: wrangler could not bundle the ${app} worker:\n${build.stdout}\n${build.stderr}`);
}

// Miniflare reads the bundle into workerd's config at start; the folder goes once it is ready.
const sqliteClasses = unstable_getDurableObjectClassNameToUseSQLiteMap(config.migrations);
const miniflare = new Miniflare(
  convertV4MiniflareOptions({
    name: config.name,
    modules: true,
    modulesRoot: bundleDir,
    scriptPath: join(bundleDir, 'workerd.js'),
    compatibilityDate: config.compatibility_date,
    compatibilityFlags: config.compatibility_flags,
    bindings: { ...config.vars, ...bindings },
    durableObjects: Object.fromEntries(
      config.durable_objects.bindings.map(({ name, class_name }: { name: string; class_name: string }) => [name, { className: class_name, useSQLite: sqliteClasses.get(class_name) ?? false }]),
    ),
    host: '127.0.0.1',
    port,
    // No network here: never ask Cloudflare for a Request.cf sample.
    cf: false,
  } as Parameters<typeof convertV4MiniflareOptions>[0]),
);

const url = await miniflare.ready.finally(() => rmSync(bundleDir, { recursive: true, force: true }));
console.log(`workerd-host: ready ${url.href}`);

let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    if (stopping) return;
    stopping = true;
    void miniflare.dispose().finally(() => process.exit(0));
  });
}
