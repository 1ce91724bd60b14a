import { describe, expect, test } from 'bun:test';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { appRuntime, appsFor } from '../../stack/dev.ts';
import { ROOT } from '../../tools/kit/paths.ts';

describe('dev: which runtime the apps run on', () => {
  test('bun run dev → Bun, npm run dev → Node; DEV_RUNTIME wins; anything else is refused', () => {
    expect(appRuntime({ npm_config_user_agent: 'bun/1.3.2 npm/? node/v24.3.0 linux x64' })).toBe('bun');
    expect(appRuntime({ npm_config_user_agent: 'npm/11.19.1 node/v24.11.1 linux x64 workspaces/false' })).toBe('node');
    expect(appRuntime({})).toBe('node');
    expect(appRuntime({ npm_config_user_agent: 'bun/1.3.2', DEV_RUNTIME: 'node' })).toBe('node');
    expect(appRuntime({ DEV_RUNTIME: 'bun' })).toBe('bun');
    expect(() => appRuntime({ DEV_RUNTIME: 'deno' })).toThrow('DEV_RUNTIME must be node or bun');
  });

  test("each runtime starts the apps' own entry files with the pinned binary, and those files exist", () => {
    for (const runtime of ['node', 'bun'] as const) {
      const apps = appsFor(runtime);
      expect(apps.map((a) => a.name)).toEqual(['core', 'jobs', 'edge', 'frontend']);
      for (const app of apps.slice(0, 3)) {
        expect(app.args[0]).toBe(join(ROOT, 'node_modules', '.bin', runtime));
        expect(existsSync(join(ROOT, app.args[1]!))).toBe(true);
      }
    }
    expect(appsFor('bun').map((a) => a.args[1])).toEqual(['core/serve-bun.ts', 'jobs/serve-bun.ts', 'edge/runtime/bun.ts', 'node_modules/vite/bin/vite.js']);
  });
});
