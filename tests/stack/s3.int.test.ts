import { afterAll, describe, expect, test } from 'bun:test';
import { randomUUID } from 'node:crypto';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3ServiceException,
} from '@aws-sdk/client-s3';
// The SDK's own signer (a dependency of @aws-sdk/client-s3) makes the presigned URLs, exactly as
// @aws-sdk/s3-request-presigner would, so the endpoint's verifier is checked against AWS's code.
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { loadStackEnv } from '../../stack/lib/env.ts';
import { s3Settings } from '../../stack/services/s3-server.ts';
import { localS3Client } from '../../stack/services/s3.ts';

// Runs against the stack's S3 endpoint, versitygw (`node stack/cli.ts up s3`); every key lives under a prefix unique to this run.
const env = loadStackEnv();
const settings = s3Settings(env);
const s3 = localS3Client(settings, 10_000);
const prefix = `stack-test/${randomUUID()}/`;

afterAll(async () => {
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: settings.bucket, Prefix: prefix }));
  for (const object of listed.Contents ?? []) await s3.send(new DeleteObjectCommand({ Bucket: settings.bucket, Key: object.Key! }));
  s3.destroy();
});

function objectUrl(key: string): string {
  return `${settings.endpoint}/${settings.bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
}

async function statusOf(promise: Promise<unknown>): Promise<{ status: number | undefined; code: string }> {
  try {
    await promise;
    return { status: 200, code: 'OK' };
  } catch (error) {
    if (error instanceof S3ServiceException) return { status: error.$metadata.httpStatusCode, code: error.name };
    throw error;
  }
}

async function putText(key: string, body: string): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: settings.bucket, Key: key, Body: body, ContentType: 'application/json' }));
}

function signer(secret = settings.secretAccessKey): SignatureV4 {
  return new SignatureV4({
    service: 's3',
    region: settings.region,
    credentials: { accessKeyId: settings.accessKeyId, secretAccessKey: secret },
    sha256: Sha256,
    uriEscapePath: false,
  });
}

/** A request signed in the Authorization header by the SDK's signer, sent with fetch as-is. */
async function signedFetch(method: string, key: string, { body, headers = {} }: { body?: string; headers?: Record<string, string> }): Promise<Response> {
  const url = new URL(objectUrl(key));
  const signed = await signer().sign({
    method,
    protocol: url.protocol,
    hostname: url.hostname,
    port: Number(url.port),
    path: url.pathname,
    query: {},
    headers: { host: url.host, ...headers },
    body,
  });
  const { host: _host, ...sendHeaders } = signed.headers;
  return fetch(url, { method, headers: sendHeaders, body });
}

async function presign(method: 'GET' | 'PUT', key: string, { expiresIn = 60, signingDate = new Date(), secret = settings.secretAccessKey } = {}): Promise<string> {
  const url = new URL(objectUrl(key));
  const signed = await signer(secret).presign(
    {
      method,
      protocol: url.protocol,
      hostname: url.hostname,
      port: Number(url.port),
      path: url.pathname,
      query: {},
      headers: { host: url.host, 'X-Amz-Content-Sha256': 'UNSIGNED-PAYLOAD' },
    },
    { expiresIn, signingDate },
  );
  const query = Object.entries(signed.query ?? {})
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
    .join('&');
  return `${url.origin}${url.pathname}?${query}`;
}

describe('s3 (stack): signed access', () => {
  test('put, head, get and delete an object with the stack key pair', async () => {
    const key = `${prefix}ivanov/2025-01-02 (daily)+ü.json`;
    const body = JSON.stringify({ user_id: 'ivanov', hours: [1, 2, 3] });
    await putText(key, body);
    const head = await s3.send(new HeadObjectCommand({ Bucket: settings.bucket, Key: key }));
    expect(head.ContentLength).toBe(Buffer.byteLength(body));
    expect(head.ContentType).toBe('application/json');
    const got = await s3.send(new GetObjectCommand({ Bucket: settings.bucket, Key: key }));
    expect(await got.Body!.transformToString()).toBe(body);
    await s3.send(new DeleteObjectCommand({ Bucket: settings.bucket, Key: key }));
    expect(await statusOf(s3.send(new HeadObjectCommand({ Bucket: settings.bucket, Key: key })))).toEqual({ status: 404, code: 'NotFound' });
  });

  test('an aws-chunked upload with a trailing checksum (what SDK v3 sends for streams) is decoded and stored as its payload', async () => {
    const key = `${prefix}chunked.txt`;
    const body = '5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n';
    const response = await signedFetch('PUT', key, {
      body,
      headers: {
        'content-encoding': 'aws-chunked',
        'content-length': String(Buffer.byteLength(body)),
        'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
        'x-amz-decoded-content-length': '5',
        'x-amz-trailer': 'x-amz-checksum-crc32',
      },
    });
    expect(response.status).toBe(200);
    const got = await s3.send(new GetObjectCommand({ Bucket: settings.bucket, Key: key }));
    expect(await got.Body!.transformToString()).toBe('hello');
    expect(got.ContentLength).toBe(5);
  });

  test('an upload whose checksum does not match its body is refused and stores nothing', async () => {
    const key = `${prefix}corrupt.txt`;
    // CRC32 of "hello" (NhCmhg==) sent with the body "hellO".
    const response = await signedFetch('PUT', key, { body: 'hellO', headers: { 'x-amz-checksum-crc32': 'NhCmhg==' } });
    expect(response.status).toBe(400);
    expect(await response.text()).toContain('<Code>BadDigest</Code>');
    expect((await statusOf(s3.send(new HeadObjectCommand({ Bucket: settings.bucket, Key: key })))).status).toBe(404);
  });

  test('a presigned GET works until it expires, and only for the key it was signed for', async () => {
    const key = `${prefix}presigned/report.json`;
    await putText(key, '{"ok":true}');
    const url = await presign('GET', key);
    const ok = await fetch(url);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe('{"ok":true}');

    const otherKey = `${prefix}presigned/other.json`;
    await putText(otherKey, '{"secret":true}');
    const retargeted = url.replace('/report.json?', '/other.json?');
    expect(retargeted).not.toBe(url);
    const denied = await fetch(retargeted);
    expect(denied.status).toBe(403);
    expect(await denied.text()).toContain('<Code>SignatureDoesNotMatch</Code>');

    const expired = await fetch(await presign('GET', key, { expiresIn: 60, signingDate: new Date(Date.now() - 120_000) }));
    expect(expired.status).toBe(403);
    expect(await expired.text()).toContain('<Code>AccessDenied</Code>');

    const forged = await fetch(await presign('GET', key, { secret: 'not-the-secret' }));
    expect(forged.status).toBe(403);
  });
});

describe('s3 (stack): the bucket is private', () => {
  test('anonymous GET, listing, PUT and DELETE are refused with AccessDenied and change nothing', async () => {
    const key = `${prefix}private/report.json`;
    await putText(key, '{"private":true}');

    const get = await fetch(objectUrl(key));
    expect(get.status).toBe(403);
    expect(await get.text()).toContain('<Code>AccessDenied</Code>');

    const list = await fetch(`${settings.endpoint}/${settings.bucket}?list-type=2`);
    expect(list.status).toBe(403);
    expect(await list.text()).not.toContain('report.json');

    const buckets = await fetch(`${settings.endpoint}/`);
    expect(buckets.status).toBe(403);

    const put = await fetch(objectUrl(`${prefix}private/planted.json`), { method: 'PUT', body: '{}' });
    expect(put.status).toBe(403);
    expect((await statusOf(s3.send(new HeadObjectCommand({ Bucket: settings.bucket, Key: `${prefix}private/planted.json` })))).status).toBe(404);

    const del = await fetch(objectUrl(key), { method: 'DELETE' });
    expect(del.status).toBe(403);
    const still = await s3.send(new GetObjectCommand({ Bucket: settings.bucket, Key: key }));
    expect(await still.Body!.transformToString()).toBe('{"private":true}');
  });

  test('a SigV4 request with the right key id but the wrong secret, or an unknown key id, is refused', async () => {
    const key = `${prefix}private/forged.json`;
    await putText(key, '{"forged":false}');
    const forger = localS3Client({ ...settings, secretAccessKey: `${settings.secretAccessKey}x` });
    const unknown = localS3Client({ ...settings, accessKeyId: `${settings.accessKeyId}-unknown` });
    try {
      expect(await statusOf(forger.send(new GetObjectCommand({ Bucket: settings.bucket, Key: key })))).toEqual({ status: 403, code: 'SignatureDoesNotMatch' });
      expect(await statusOf(forger.send(new PutObjectCommand({ Bucket: settings.bucket, Key: key, Body: 'overwritten' })))).toEqual({
        status: 403,
        code: 'SignatureDoesNotMatch',
      });
      expect(await statusOf(unknown.send(new GetObjectCommand({ Bucket: settings.bucket, Key: key })))).toEqual({ status: 403, code: 'InvalidAccessKeyId' });
      const intact = await s3.send(new GetObjectCommand({ Bucket: settings.bucket, Key: key }));
      expect(await intact.Body!.transformToString()).toBe('{"forged":false}');
    } finally {
      forger.destroy();
      unknown.destroy();
    }
  });

  test('SigV2 and malformed Authorization headers are refused', async () => {
    const key = `${prefix}private/v2.json`;
    await putText(key, '{}');
    for (const authorization of [`AWS ${settings.accessKeyId}:c2lnbmF0dXJl`, 'Bearer x', `AWS4-HMAC-SHA256 Credential=${settings.accessKeyId}`]) {
      const response = await fetch(objectUrl(key), { headers: { authorization, 'x-amz-date': '20250101T000000Z', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } });
      expect(response.status).toBe(403);
    }
  });
});


describe('s3 (stack): what core and the CDN edge rely on', () => {
  test('ListObjectsV2 lists only under the prefix, page by page with continuation tokens', async () => {
    const listPrefix = `${prefix}list/`;
    const keys = ['a/1.json', 'a/2.json', 'a/3.json', 'b/1.json'].map((k) => `${listPrefix}${k}`);
    for (const key of keys) await putText(key, '{}');
    await putText(`${prefix}listx/a/1.json`, '{}');

    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: settings.bucket, Prefix: `${listPrefix}a/`, MaxKeys: 2, ContinuationToken: token }));
      pages++;
      seen.push(...(page.Contents ?? []).map((o) => o.Key!));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token && pages < 10);
    expect(pages).toBe(2);
    expect(seen.sort()).toEqual(keys.slice(0, 3));

    const all = await s3.send(new ListObjectsV2Command({ Bucket: settings.bucket, Prefix: listPrefix }));
    expect((all.Contents ?? []).map((o) => o.Key!).sort()).toEqual(keys);
    expect(all.KeyCount).toBe(4);
  });

  test('DeleteObjects removes a batch in one call, absent keys included, and leaves other keys alone', async () => {
    const batchPrefix = `${prefix}batch/`;
    const doomed = Array.from({ length: 25 }, (_, i) => `${batchPrefix}user/daily/2025-01-${String(i + 1).padStart(2, '0')}/report.json`);
    for (const key of doomed) await putText(key, '{}');
    await putText(`${batchPrefix}keep.json`, '{"kept":true}');
    const result = await s3.send(
      new DeleteObjectsCommand({ Bucket: settings.bucket, Delete: { Objects: [...doomed, `${batchPrefix}never-written.json`].map((Key) => ({ Key })), Quiet: true } }),
    );
    expect(result.Errors ?? []).toEqual([]);
    const left = await s3.send(new ListObjectsV2Command({ Bucket: settings.bucket, Prefix: batchPrefix }));
    expect((left.Contents ?? []).map((o) => o.Key)).toEqual([`${batchPrefix}keep.json`]);
  });

  test('ETag is the quoted MD5 of the body; If-None-Match answers 304 and If-Match 412; Cache-Control is kept', async () => {
    const key = `${prefix}conditional/report.json`;
    const body = '{"hours":[1,2,3]}';
    const md5 = new Bun.CryptoHasher('md5').update(body).digest('hex');
    await s3.send(new PutObjectCommand({ Bucket: settings.bucket, Key: key, Body: body, ContentType: 'application/json; charset=utf-8', CacheControl: 'private, max-age=60' }));
    const head = await s3.send(new HeadObjectCommand({ Bucket: settings.bucket, Key: key }));
    expect(head.ETag).toBe(`"${md5}"`);
    expect(head.CacheControl).toBe('private, max-age=60');
    expect(head.ContentType).toBe('application/json; charset=utf-8');
    expect(head.LastModified).toBeInstanceOf(Date);

    const fresh = await signedFetch('GET', key, { headers: { 'if-none-match': head.ETag! } });
    expect(fresh.status).toBe(304);
    expect(await fresh.text()).toBe('');
    const changed = await signedFetch('GET', key, { headers: { 'if-none-match': '"0123456789abcdef0123456789abcdef"' } });
    expect(changed.status).toBe(200);
    expect(changed.headers.get('etag')).toBe(`"${md5}"`);
    expect(await changed.text()).toBe(body);
    expect(await statusOf(s3.send(new GetObjectCommand({ Bucket: settings.bucket, Key: key, IfMatch: '"0123456789abcdef0123456789abcdef"' })))).toMatchObject({ status: 412 });

    await putText(key, '{"hours":[4]}');
    const after = await signedFetch('GET', key, { headers: { 'if-none-match': head.ETag! } });
    expect(after.status).toBe(200);
    expect(await after.text()).toBe('{"hours":[4]}');
  });

  test('a bucket is created private, answers HeadBucket, and a missing one answers 404', async () => {
    const scratch = `stack-test-${randomUUID().slice(0, 8)}`;
    expect((await statusOf(s3.send(new HeadBucketCommand({ Bucket: scratch })))).status).toBe(404);
    await s3.send(new CreateBucketCommand({ Bucket: scratch }));
    try {
      expect(await statusOf(s3.send(new HeadBucketCommand({ Bucket: scratch })))).toEqual({ status: 200, code: 'OK' });
      const anonymous = await fetch(`${settings.endpoint}/${scratch}?list-type=2`);
      expect(anonymous.status).toBe(403);
    } finally {
      await s3.send(new DeleteBucketCommand({ Bucket: scratch }));
    }
    expect((await statusOf(s3.send(new HeadBucketCommand({ Bucket: scratch })))).status).toBe(404);
  });
});
