import { readFile, realpath, stat } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { ConfigError } from '../../common/config.ts';
import type { FrontendAssetReader } from '../bff/frontend-asset-reader.ts';

/** Node, Bun and Deno: FRONTEND_DIST_DIR checked at start (a directory holding index.html), then read with node:fs. */
export async function openFrontendDist(dir: string): Promise<FrontendAssetReader> {
  const problem = (text: string) => new ConfigError('edge (bff)', [`FRONTEND_DIST_DIR: ${text} (${resolve(dir)}; build it with npm run frontend:build)`]);
  const root = await realpath(dir).catch(() => undefined);
  if (!root || !(await stat(root)).isDirectory()) throw problem('not a directory');
  if (!(await stat(join(root, 'index.html')).catch(() => undefined))?.isFile()) throw problem('has no index.html');
  return createDistReader(root);
}

const MISSING = new Set(['ENOENT', 'ENOTDIR', 'EISDIR']);

/**
 * Reads files under `root` (itself a real path) only. The portable layer already refuses `..`
 * and the like; this checks again after resolving, and after following symlinks, so a link in
 * the build that points outside it is refused too.
 */
export function createDistReader(root: string): FrontendAssetReader {
  const inside = (path: string) => path.startsWith(root + sep);
  return {
    async read(path) {
      const target = resolve(root, path);
      if (!inside(target)) return undefined;
      try {
        const real = await realpath(target);
        if (!inside(real)) return undefined;
        return await readFile(real);
      } catch (error) {
        if (MISSING.has((error as NodeJS.ErrnoException).code ?? '')) return undefined;
        throw error;
      }
    },
  };
}
