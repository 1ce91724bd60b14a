/**
 * The CDN anchor: Debian's nginx with proxy_cache in front of the same S3 object the edge serves.
 * A private instance on a spare loopback port, with its own config, cache and temp folders,
 * removed when it stops. S3 is private (SigV4), so nginx fetches through a presigned URL: every
 * request for the object's path is a proxy_cache hit after the first.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { paths } from '../../tools/kit/paths.ts';
import { freePort } from '../../tests/helpers/free-port.ts';
import { waitForHttp } from './apps.ts';

export interface NginxCache {
  port: number;
  pid: number;
  /** The cached object's URL on this nginx. */
  objectUrl: string;
  stop(): Promise<void>;
}

export interface NginxCacheOptions {
  /** Path clients ask for, e.g. `/reports/<key>`. */
  path: string;
  /** Full presigned URL of the object on the S3 server. */
  upstreamUrl: string;
  /** nginx's own default is one per core ("auto"), as the anchor ran. */
  workers?: number | 'auto';
}

export function nginxConfig(dir: string, port: number, options: NginxCacheOptions): string {
  const upstream = new URL(options.upstreamUrl);
  const upstreamUri = `${upstream.pathname}${upstream.search}`;
  return `
worker_processes ${options.workers ?? 'auto'};
daemon off;
master_process on;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  # One line per request like the apps' request log, buffered as nginx does by default on busy sites.
  access_log ${dir}/access.log combined buffer=64k flush=1s;
  default_type application/json;
  client_body_temp_path ${dir}/temp/body;
  proxy_temp_path ${dir}/temp/proxy;
  fastcgi_temp_path ${dir}/temp/fastcgi;
  uwsgi_temp_path ${dir}/temp/uwsgi;
  scgi_temp_path ${dir}/temp/scgi;
  proxy_cache_path ${dir}/cache levels=1:2 keys_zone=reports:16m max_size=64m inactive=10m use_temp_path=off;
  gzip on;
  gzip_types application/json;
  gzip_min_length 256;
  gzip_proxied any;
  server {
    listen 127.0.0.1:${port} reuseport;
    location = ${options.path} {
      set $s3_uri "${upstreamUri.replace(/"/g, '\\"')}";
      proxy_pass http://${upstream.host}$s3_uri;
      proxy_set_header Host ${upstream.host};
      proxy_set_header Accept-Encoding "";
      proxy_http_version 1.1;
      proxy_cache reports;
      proxy_cache_key ${options.path};
      proxy_cache_valid 200 10m;
      proxy_cache_lock on;
      proxy_ignore_headers Cache-Control Expires Set-Cookie;
      proxy_hide_header x-amz-request-id;
      proxy_hide_header x-amz-id-2;
      add_header X-Cache-Status $upstream_cache_status;
      add_header Cache-Control "private, max-age=60";
    }
  }
}`;
}

export async function startNginxCache(options: NginxCacheOptions): Promise<NginxCache> {
  mkdirSync(paths.run, { recursive: true });
  const dir = mkdtempSync(join(paths.run, 'bench-nginx-'));
  for (const sub of ['cache', 'temp']) mkdirSync(join(dir, sub), { recursive: true });
  const port = await freePort();
  writeFileSync(join(dir, 'nginx.conf'), nginxConfig(dir, port, options));
  // As root nginx would switch workers to www-data, which cannot write this folder; stay root.
  const userArgs = process.getuid?.() === 0 ? ['-g', 'user root;'] : [];
  const child: ChildProcess = spawn('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf'), ...userArgs], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk) => (stderr += chunk));
  const objectUrl = `http://127.0.0.1:${port}${options.path}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGQUIT');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForHttp(objectUrl, { child, output: () => stderr + safeRead(join(dir, 'error.log')) });
    // First request fills the cache; the measurement then sees only hits.
    const first = await fetch(objectUrl);
    await first.arrayBuffer();
    if (first.status !== 200) throw new Error(`nginx answered ${first.status} for the object: ${safeRead(join(dir, 'error.log')).slice(-500)}`);
  } catch (error) {
    await stop();
    throw error;
  }
  return { port, pid: child.pid!, objectUrl, stop };
}

function safeRead(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}
