import { existsSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ensureDebPackages } from '../../tools/kit/apt.ts';
import { paths, ROOT } from '../../tools/kit/paths.ts';
import { run } from '../../tools/kit/proc.ts';

/**
 * Checks ClickHouse SQL on a current engine through chdb (PyPI), since the stack's server is 18.16
 * and the project's SQL must run on both. chdb lives in a venv under .stack/vendor, created on first
 * use; the pinned version is the one tests were written against (`pip index versions chdb`).
 */
export const CHDB_VERSION = '4.4.0';

const VENV = join(paths.vendor, 'chdb-venv');
const PYTHON = join(VENV, 'bin', 'python');
const CHECK_SCRIPT = join(ROOT, 'tools', 'chdb-check', 'check.py');

export interface ChdbStatement {
  name: string;
  sql: string;
}

export interface ChdbResult {
  name: string;
  ok: boolean;
  error?: string;
}

export interface ChdbReport {
  /** ClickHouse version inside chdb. */
  engine: string;
  chdb: string;
  results: ChdbResult[];
}

async function hasChdb(): Promise<boolean> {
  if (!existsSync(PYTHON)) return false;
  const { code, stdout } = await run(PYTHON, ['-c', 'import chdb; print(chdb.__version__)'], { allowFailure: true });
  return code === 0 && stdout.trim() === CHDB_VERSION;
}

/** Creates the venv with chdb if it is missing; built beside and renamed so a half install never counts. */
export async function ensureChdb(): Promise<string> {
  if (await hasChdb()) return PYTHON;
  const staging = `${VENV}.tmp-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  try {
    const venv = await run('python3', ['-m', 'venv', staging], { allowFailure: true });
    if (venv.code !== 0) {
      // Debian's python3 ships without ensurepip until python3-venv is installed.
      await ensureDebPackages('chdb-check', ['python3', 'python3-venv']);
      rmSync(staging, { recursive: true, force: true });
      await run('python3', ['-m', 'venv', staging]);
    }
    await run(join(staging, 'bin', 'python'), ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', `chdb==${CHDB_VERSION}`]);
    rmSync(VENV, { recursive: true, force: true });
    renameSync(staging, VENV);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  if (!(await hasChdb())) throw new Error(`chdb ${CHDB_VERSION} is still not importable from ${PYTHON}`);
  return PYTHON;
}

/** Runs the statements in order in one chdb session with `database` selected; reports each one. */
export async function checkWithChdb(statements: ChdbStatement[], { database = 'reports', setup = [] as string[] } = {}): Promise<ChdbReport> {
  const python = await ensureChdb();
  const { code, stdout, stderr } = await run(python, [CHECK_SCRIPT], {
    input: JSON.stringify({ database, setup, statements }),
    allowFailure: true,
  });
  let parsed: (ChdbReport & { error?: string }) | undefined;
  try {
    parsed = JSON.parse(stdout) as ChdbReport & { error?: string };
  } catch {
    /* reported below */
  }
  if (code !== 0 || !parsed || parsed.error) {
    throw new Error(`chdb check failed (exit ${code}): ${parsed?.error ?? (stderr || stdout).slice(0, 2000)}`);
  }
  return parsed;
}
