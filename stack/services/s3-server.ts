/**
 * The local S3 endpoint: versitygw (Versity S3 Gateway, Apache-2.0) with its POSIX backend, built
 * from the Go module proxy with `go install` into .stack/vendor and run by stack/services/s3.ts.
 *
 * versitygw is a real S3 server: it verifies SigV4 (header and presigned), serves only signed
 * requests to a private bucket, decodes aws-chunked uploads and checks the checksums the SDK sends.
 * Objects are plain files under .stack/data/s3/gateway/<bucket>/<key>, their metadata (content
 * type, ETag, ACL) in extended attributes, so the data folder must be on a filesystem with user
 * xattrs (ext4, xfs, btrfs, overlayfs all have them).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { StackEnv } from '../lib/env.ts';
import { log } from '../../tools/kit/log.ts';
import { paths } from '../../tools/kit/paths.ts';

export const VERSITYGW_MODULE = 'github.com/versity/versitygw';
export const VERSITYGW_VERSION = 'v1.8.0';
/** versitygw v1.8.0's go.mod asks for Go 1.25. */
const MIN_GO_MINOR = 25;
const HOME = join(paths.vendor, `versitygw-${VERSITYGW_VERSION}`);
export const VERSITYGW_BINARY = join(HOME, 'bin', 'versitygw');
/**
 * A cold build needs ≈3 min 15 s of CPU (downloads included): about 4 min of wall time on this 2-core
 * machine while others worked, 12 min at load average 20–30. The bound only stops a hung build.
 */
const BUILD_TIMEOUT_MS = 20 * 60_000;
const PROGRESS_EVERY_MS = 15_000;

export interface S3Settings {
  endpoint: string;
  host: string;
  port: number;
  region: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** versitygw's POSIX root: each sub-folder is a bucket. */
  directory: string;
  /** versitygw's internal IAM store (no users besides the root account). */
  iamDirectory: string;
}

/** S3 settings from the stack environment, naming every missing or bad variable. */
export function s3Settings(env: StackEnv): S3Settings {
  const problems: string[] = [];
  let url: URL | undefined;
  try {
    url = new URL(env.S3_ENDPOINT ?? '');
    if (url.protocol !== 'http:') problems.push(`S3_ENDPOINT must be http://, got ${url.protocol}`);
    if (!['127.0.0.1', 'localhost'].includes(url.hostname)) problems.push(`S3_ENDPOINT must be on loopback (127.0.0.1), got ${url.hostname}`);
    if (url.pathname !== '/' || url.search) problems.push(`S3_ENDPOINT must have no path or query, got ${url.pathname}${url.search}`);
  } catch {
    problems.push(`S3_ENDPOINT is not a URL: ${env.S3_ENDPOINT ?? '(unset)'}`);
  }
  const bucket = env.S3_BUCKET ?? '';
  // The subset of AWS bucket naming rules that also makes a safe folder name, checked here to fail early.
  if (!/^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/.test(bucket)) problems.push(`S3_BUCKET must be 3-63 lowercase letters, digits or hyphens, got "${bucket}"`);
  for (const name of ['S3_REGION', 'S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY']) if (!env[name]) problems.push(`${name} is not set`);
  if (env.S3_ACCESS_KEY_ID && !/^[A-Za-z0-9_-]+$/.test(env.S3_ACCESS_KEY_ID)) problems.push('S3_ACCESS_KEY_ID may hold only letters, digits, _ and -');
  if (problems.length > 0 || !url) throw new Error(`s3: ${problems.join('; ')}`);
  return {
    endpoint: url.origin,
    host: '127.0.0.1',
    port: Number(url.port || 80),
    region: env.S3_REGION!,
    bucket,
    accessKeyId: env.S3_ACCESS_KEY_ID!,
    secretAccessKey: env.S3_SECRET_ACCESS_KEY!,
    // Not data/s3 itself: that folder held s3rver's file store on machines that ran it.
    directory: join(paths.data('s3'), 'gateway'),
    iamDirectory: join(paths.data('s3'), 'iam'),
  };
}

/**
 * How the stack runs versitygw. The key pair goes in through the environment, not argv, so `ps`
 * does not show the secret; it is the root account. `--iam-dir` turns on versitygw's internal IAM
 * (an empty users.json): without an IAM service, single-account mode answers a request signed
 * with an unknown key id 404 XAdminUserNotFound instead of S3's 403 InvalidAccessKeyId.
 * `--keep-alive`: versitygw closes every connection after one response unless told otherwise,
 * which costs a TCP handshake per request. Access logging stays off (`--quiet`): one line per
 * request would dwarf the rest of .stack/logs; start-up messages and errors still reach the log.
 */
export function versitygwCommand(settings: S3Settings): { command: string; args: string[]; env: Record<string, string> } {
  return {
    command: VERSITYGW_BINARY,
    args: [
      '--port', `${settings.host}:${settings.port}`,
      '--region', settings.region,
      '--keep-alive',
      '--quiet',
      '--iam-dir', settings.iamDirectory,
      'posix', settings.directory,
    ],
    env: { ROOT_ACCESS_KEY_ID: settings.accessKeyId, ROOT_SECRET_ACCESS_KEY: settings.secretAccessKey },
  };
}

function findGo(env: StackEnv): string {
  if (env.GO) return env.GO;
  for (const dir of [...(process.env.PATH ?? '').split(delimiter), '/usr/local/go/bin']) {
    if (dir && existsSync(join(dir, 'go'))) return join(dir, 'go');
  }
  throw new Error('s3: the go command is missing (looked on PATH and in /usr/local/go/bin; set GO=/path/to/go); versitygw is built with go install');
}

interface Outcome {
  code: number | null;
  output: string;
  timedOut: boolean;
}

/** Runs a command with a hard time bound, printing a progress line while it runs. */
function runBounded(command: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number, progress: (elapsedMs: number, output: string) => string): Promise<Outcome> {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let output = '';
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.length > 400_000) output = output.slice(-200_000);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    let timedOut = false;
    const ticker = setInterval(() => log.progress('s3', progress(Date.now() - started, output)), PROGRESS_EVERY_MS);
    const killer = setTimeout(() => {
      timedOut = true;
      // The go command starts compilers as children; end the whole group it leads.
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }, timeoutMs);
    const finish = (code: number | null) => {
      clearInterval(ticker);
      clearTimeout(killer);
      log.endProgress();
      resolve({ code, output, timedOut });
    };
    child.on('error', (error) => {
      output += String(error);
      finish(127);
    });
    child.on('close', finish);
  });
}

/**
 * Builds versitygw once per machine. The binary is installed into a staging folder and renamed into
 * place only when the build succeeded, so an interrupted build is never mistaken for a finished one.
 * Go's module and build caches (~/go/pkg/mod, ~/.cache/go-build) make a second build after a version
 * bump fast; a fresh machine downloads the modules from the Go module proxy and compiles them.
 */
export async function installVersitygw(env: StackEnv): Promise<void> {
  if (existsSync(VERSITYGW_BINARY)) return;
  const go = findGo(env);
  const goEnv: NodeJS.ProcessEnv = { ...process.env, GOTOOLCHAIN: 'local', GOFLAGS: '-modcacherw -buildvcs=false' };
  const version = await runBounded(go, ['env', 'GOVERSION'], goEnv, 30_000, () => 'go env');
  const minor = Number(/^go1\.(\d+)/.exec(version.output.trim())?.[1] ?? 0);
  if (version.code !== 0 || minor < MIN_GO_MINOR) {
    throw new Error(`s3: versitygw ${VERSITYGW_VERSION} needs Go 1.${MIN_GO_MINOR}+, ${go} reports "${version.output.trim()}"`);
  }
  const staging = `${HOME}.building`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  log.step('s3', `building ${VERSITYGW_MODULE}/cmd/versitygw@${VERSITYGW_VERSION} with ${version.output.trim()} (first time only; a few minutes on 2 cores)`);
  const started = Date.now();
  const ldflags = `-s -w -X main.Version=${VERSITYGW_VERSION} -X main.Build=go-install`;
  const result = await runBounded(
    go,
    ['install', '-v', '-trimpath', `-ldflags=${ldflags}`, `${VERSITYGW_MODULE}/cmd/versitygw@${VERSITYGW_VERSION}`],
    { ...goEnv, GOBIN: staging },
    BUILD_TIMEOUT_MS,
    (elapsedMs, output) => {
      const downloaded = output.match(/^go: downloading /gm)?.length ?? 0;
      const compiled = output.split('\n').filter((line) => line && !line.startsWith('go: ')).length;
      return `building versitygw… ${Math.round(elapsedMs / 1000)}s, ${downloaded} modules downloaded, ${compiled} packages compiled`;
    },
  );
  if (result.code !== 0 || !existsSync(join(staging, 'versitygw'))) {
    rmSync(staging, { recursive: true, force: true });
    const why = result.timedOut ? `did not finish within ${BUILD_TIMEOUT_MS / 60_000} min` : `exited ${result.code}`;
    throw new Error(`s3: go install of versitygw ${VERSITYGW_VERSION} ${why}\n${result.output.trim().split('\n').slice(-30).join('\n')}`);
  }
  rmSync(HOME, { recursive: true, force: true });
  mkdirSync(HOME, { recursive: true });
  renameSync(staging, join(HOME, 'bin'));
  log.step('s3', `versitygw ${VERSITYGW_VERSION} built in ${((Date.now() - started) / 1000).toFixed(0)}s → ${VERSITYGW_BINARY}`);
}
