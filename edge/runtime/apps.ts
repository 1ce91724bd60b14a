import { createBffApp } from '../bff/app.ts';
import { createCdnApp } from '../cdn/app.ts';
import { loadEdgeConfig } from '../config.ts';
import { buildEdgeDeps } from '../deps.ts';

export type EdgeAppName = 'bff' | 'cdn';

export interface EdgeListener {
  name: EdgeAppName;
  port: number;
  host: string;
  fetch: (request: Request) => Response | Promise<Response>;
}

/** Which apps to serve: `--app=bff`, `--app=cdn` or (default) both. */
export function selectEdgeApps(argv: string[]): EdgeAppName[] {
  const flag = argv.find((arg) => arg.startsWith('--app='))?.slice('--app='.length) ?? 'all';
  if (flag === 'all') return ['bff', 'cdn'];
  if (flag === 'bff' || flag === 'cdn') return [flag];
  throw new Error(`edge: unknown --app=${flag} (expected bff, cdn or all)`);
}

/** Builds the selected apps from an env record; shared by the Node and Bun entry files. */
export function buildEdgeListeners(env: Record<string, string | undefined>, names: EdgeAppName[]): EdgeListener[] {
  const config = loadEdgeConfig(env);
  return names.map((name) => {
    const deps = buildEdgeDeps(config, name);
    const app = name === 'bff' ? createBffApp(deps) : createCdnApp(deps);
    return { name, port: name === 'bff' ? config.BFF_PORT : config.CDN_PORT, host: config.HOST, fetch: app.fetch };
  });
}
