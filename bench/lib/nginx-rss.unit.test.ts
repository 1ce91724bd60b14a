import { describe, expect, test } from 'bun:test';
import { nginxConfig } from './nginx.ts';
import { parseVmRssBytes, treeRssMiB } from './rss.ts';

describe('nginx anchor config', () => {
  const conf = nginxConfig('/tmp/x', 41234, { path: '/reports/u/daily/2026-11-24/report.json', upstreamUrl: 'http://127.0.0.1:9002/reports/u/daily/2026-11-24/report.json?X-Amz-Signature=abc&X-Amz-Expires=21600' });

  test('proxies the one path to the presigned S3 URL as is (a variable in proxy_pass keeps the query)', () => {
    expect(conf).toContain('location = /reports/u/daily/2026-11-24/report.json {');
    expect(conf).toContain('set $s3_uri "/reports/u/daily/2026-11-24/report.json?X-Amz-Signature=abc&X-Amz-Expires=21600";');
    expect(conf).toContain('proxy_pass http://127.0.0.1:9002$s3_uri;');
    expect(conf).toContain('proxy_set_header Host 127.0.0.1:9002;');
  });

  test('caches by path, compresses JSON, listens on loopback only, keeps its files in its own folder', () => {
    expect(conf).toContain('proxy_cache_key /reports/u/daily/2026-11-24/report.json;');
    expect(conf).toContain('proxy_cache_path /tmp/x/cache');
    expect(conf).toMatch(/gzip on;\s+gzip_types application\/json;/);
    expect(conf).toContain('listen 127.0.0.1:41234');
    expect(conf).toContain('pid /tmp/x/nginx.pid;');
    expect(conf).toContain('worker_processes auto;');
  });
});

describe('RSS', () => {
  test('VmRSS from /proc status text', () => {
    expect(parseVmRssBytes('Name:\tnode\nVmHWM:\t  300000 kB\nVmRSS:\t  123456 kB\n')).toBe(123456 * 1024);
    expect(parseVmRssBytes('Name:\tzombie\nState:\tZ (zombie)\n')).toBeNaN();
  });

  test('this process has a resident size; a pid that does not exist has none', () => {
    expect(treeRssMiB(process.pid)).toBeGreaterThan(1);
    expect(treeRssMiB(2 ** 22 + 12345)).toBeNaN();
  });
});
