/**
 * The local S3 endpoint: s3rver 3.7.1 on loopback, started by stack/services/s3.ts as
 *   node_modules/.bin/node stack/services/s3-server.ts
 *
 * What s3rver 3.7.1 does on its own (read from node_modules/s3rver/lib, checked against it):
 * - Credentials: one hard-coded account with the key pair S3RVER / S3RVER
 *   (lib/models/account.js, DUMMY_ACCOUNT). There is no option for others; the registry is a plain
 *   Map, so this launcher revokes S3RVER and registers S3_ACCESS_KEY_ID / S3_SECRET_ACCESS_KEY.
 * - Signatures: only SigV2 is verified. For SigV4 (what @aws-sdk/client-s3 v3 sends) it checks that
 *   the access key id exists and that the clock skew is under 15 minutes, then accepts the request
 *   whatever the signature ("Signature version 4 calculation is unimplemeneted"). Payload hashes
 *   are never checked.
 * - Anonymous requests (no Authorization header, no signed query) are served like signed ones:
 *   every bucket is effectively public, and there are no ACLs or bucket policies to change that.
 * - Bodies sent as aws-chunked (what SDK v3 does for streams unless requestChecksumCalculation is
 *   WHEN_REQUIRED) are stored verbatim, chunk headers and trailing checksum included.
 *
 * So the bucket is made private here: a guard runs before all of s3rver's middleware and lets a
 * request through only with a valid SigV4 signature (Authorization header or presigned query) by
 * the configured key pair. SigV2 and anonymous requests get 403 AccessDenied, like a private AWS
 * bucket. aws-chunked uploads get 501 NotImplemented instead of silently corrupt objects. Payload
 * hashes stay unverified (the body streams to s3rver's file store); this is a loopback development
 * endpoint, not a storage service.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders, Server } from 'node:http';
import { createRequire } from 'node:module';
import { loadStackEnv, type StackEnv } from '../lib/env.ts';
import { paths } from '../lib/paths.ts';

export interface S3Settings {
  endpoint: string;
  host: string;
  port: number;
  region: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  directory: string;
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
  // The subset of AWS bucket naming rules that s3rver also enforces, checked here to fail early.
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
    directory: paths.data('s3'),
  };
}

export type SignatureVerdict = { ok: true } | { ok: false; code: 'AccessDenied' | 'InvalidAccessKeyId' | 'SignatureDoesNotMatch'; message: string };

const ALGORITHM = 'AWS4-HMAC-SHA256';
const MAX_SKEW_MS = 15 * 60_000;

function encodeRfc3986(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

function hmac(key: string | Buffer, text: string): Buffer {
  return createHmac('sha256', key).update(text, 'utf8').digest();
}

function parseAmzDate(value: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  return m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])) : NaN;
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

const deny = (code: 'AccessDenied' | 'InvalidAccessKeyId' | 'SignatureDoesNotMatch', message: string): SignatureVerdict => ({ ok: false, code, message });

/**
 * Verifies an AWS Signature Version 4 (S3 flavour: the path is encoded once, the payload hash is
 * the x-amz-content-sha256 header, or UNSIGNED-PAYLOAD for presigned URLs) against one key pair.
 * The canonical request is rebuilt from what arrived on the wire, as S3 does.
 */
export function verifySigV4(
  request: { method: string; url: string; headers: IncomingHttpHeaders },
  credentials: { accessKeyId: string; secretAccessKey: string },
  now = Date.now(),
): SignatureVerdict {
  const queryStart = request.url.indexOf('?');
  const rawPath = queryStart === -1 ? request.url : request.url.slice(0, queryStart);
  const rawQuery = queryStart === -1 ? '' : request.url.slice(queryStart + 1);
  const query: [string, string][] = [];
  try {
    for (const part of rawQuery.split('&')) {
      if (!part) continue;
      const eq = part.indexOf('=');
      query.push(eq === -1 ? [decodeURIComponent(part), ''] : [decodeURIComponent(part.slice(0, eq)), decodeURIComponent(part.slice(eq + 1))]);
    }
  } catch {
    return deny('AccessDenied', 'Malformed query string');
  }
  const queryParam = (name: string) => query.find(([k]) => k === name)?.[1];
  const authorization = headerValue(request.headers, 'authorization');
  const presigned = queryParam('X-Amz-Algorithm') !== undefined;
  if (authorization === undefined && !presigned) return deny('AccessDenied', 'Access Denied: requests to this bucket must be signed (SigV4)');
  if (authorization !== undefined && presigned) return deny('AccessDenied', 'Only one auth mechanism allowed');

  let credential: string;
  let signedHeaders: string;
  let signature: string;
  let amzDate: string;
  let payloadHash: string;
  if (authorization !== undefined) {
    const m = /^AWS4-HMAC-SHA256 +Credential=([^,\s]+), *SignedHeaders=([^,\s]+), *Signature=([0-9a-f]{64})$/.exec(authorization.trim());
    if (!m) return deny('AccessDenied', 'Only AWS4-HMAC-SHA256 Authorization headers are accepted');
    [credential, signedHeaders, signature] = [m[1]!, m[2]!, m[3]!];
    amzDate = headerValue(request.headers, 'x-amz-date') ?? '';
    payloadHash = headerValue(request.headers, 'x-amz-content-sha256') ?? '';
    if (!payloadHash) return deny('AccessDenied', 'Missing x-amz-content-sha256 header');
    if (Math.abs(now - parseAmzDate(amzDate)) > MAX_SKEW_MS || Number.isNaN(parseAmzDate(amzDate))) {
      return deny('AccessDenied', 'x-amz-date is missing, malformed or more than 15 minutes off');
    }
  } else {
    if (queryParam('X-Amz-Algorithm') !== ALGORITHM) return deny('AccessDenied', `X-Amz-Algorithm must be ${ALGORITHM}`);
    credential = queryParam('X-Amz-Credential') ?? '';
    signedHeaders = queryParam('X-Amz-SignedHeaders') ?? '';
    signature = queryParam('X-Amz-Signature') ?? '';
    amzDate = queryParam('X-Amz-Date') ?? '';
    payloadHash = queryParam('X-Amz-Content-Sha256') ?? 'UNSIGNED-PAYLOAD';
    const expiresSeconds = Number(queryParam('X-Amz-Expires'));
    const signedAt = parseAmzDate(amzDate);
    if (!Number.isInteger(expiresSeconds) || expiresSeconds < 1 || expiresSeconds > 604_800) return deny('AccessDenied', 'X-Amz-Expires must be 1..604800 seconds');
    if (Number.isNaN(signedAt) || now > signedAt + expiresSeconds * 1000 || signedAt - now > MAX_SKEW_MS) return deny('AccessDenied', 'Request has expired or is not yet valid');
    if (!/^[0-9a-f]{64}$/.test(signature)) return deny('SignatureDoesNotMatch', 'Malformed X-Amz-Signature');
  }

  const [keyId, day, region, service, terminator, ...rest] = credential.split('/');
  if (rest.length > 0 || !keyId || !day || !region || service !== 's3' || terminator !== 'aws4_request') {
    return deny('AccessDenied', 'Malformed credential scope');
  }
  if (keyId !== credentials.accessKeyId) return deny('InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.');
  if (day !== amzDate.slice(0, 8)) return deny('AccessDenied', 'Credential date does not match the signing date');

  const headerNames = signedHeaders.split(';');
  if (!headerNames.includes('host') || headerNames.some((h) => !/^[a-z0-9-]+$/.test(h))) return deny('AccessDenied', 'SignedHeaders must be lowercase and include host');
  const canonicalHeaders: string[] = [];
  for (const name of headerNames) {
    const value = headerValue(request.headers, name);
    if (value === undefined) return deny('SignatureDoesNotMatch', `Signed header ${name} is missing`);
    canonicalHeaders.push(`${name}:${value.trim().replace(/\s+/g, ' ')}`);
  }
  let canonicalPath: string;
  try {
    canonicalPath = rawPath.split('/').map((segment) => encodeRfc3986(decodeURIComponent(segment))).join('/');
  } catch {
    return deny('AccessDenied', 'Malformed path');
  }
  const canonicalQuery = query
    .filter(([k]) => !(presigned && k === 'X-Amz-Signature'))
    .map(([k, v]) => [encodeRfc3986(k), encodeRfc3986(v)] as const)
    .sort(([ak, av], [bk, bv]) => (ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const canonicalRequest = [request.method, canonicalPath, canonicalQuery, `${canonicalHeaders.join('\n')}\n`, signedHeaders, payloadHash].join('\n');
  const scope = `${day}/${region}/s3/aws4_request`;
  const stringToSign = [ALGORITHM, amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
  const signingKey = hmac(hmac(hmac(hmac(`AWS4${credentials.secretAccessKey}`, day), region), 's3'), 'aws4_request');
  const expected = Buffer.from(hmac(signingKey, stringToSign).toString('hex'));
  const provided = Buffer.from(signature);
  if (expected.length !== provided.length || !timingSafeEqual(expected, provided)) {
    return deny('SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.');
  }
  return { ok: true };
}

/** Streaming SigV4 / trailing-checksum uploads, which newer SDKs send for streams unless told otherwise. */
export function isAwsChunked(headers: IncomingHttpHeaders): boolean {
  const encoding = headerValue(headers, 'content-encoding') ?? '';
  const payload = headerValue(headers, 'x-amz-content-sha256') ?? '';
  return /\baws-chunked\b/i.test(encoding) || payload.startsWith('STREAMING-');
}

interface KoaContext {
  method: string;
  req: { url?: string; headers: IncomingHttpHeaders };
}

interface S3rverInstance {
  middleware: ((ctx: KoaContext, next: () => Promise<void>) => Promise<void>)[];
  run(): Promise<{ address: string; port: number }>;
  httpServer?: Server;
}

async function main(): Promise<void> {
  const settings = s3Settings(loadStackEnv());
  // s3rver is CommonJS without type declarations; its internals are reached through require.
  const require = createRequire(import.meta.url);
  const S3rver = require('s3rver') as new (options: Record<string, unknown>) => S3rverInstance;
  const { DUMMY_ACCOUNT } = require('s3rver/lib/models/account.js') as {
    DUMMY_ACCOUNT: { createKeyPair(id: string, secret: string): void; revokeAccessKey(id: string): void };
  };
  const S3Error = require('s3rver/lib/models/error.js') as new (code: string, message: string) => Error;

  DUMMY_ACCOUNT.revokeAccessKey('S3RVER');
  DUMMY_ACCOUNT.createKeyPair(settings.accessKeyId, settings.secretAccessKey);

  const server = new S3rver({
    address: settings.host,
    port: settings.port,
    directory: settings.directory,
    silent: true,
    resetOnClose: false,
    vhostBuckets: false,
    allowMismatchedSignatures: false,
    configureBuckets: [{ name: settings.bucket }],
  });
  // Koa composes `middleware` per request, so a guard put first runs before s3rver's own routes.
  // CORS preflights carry no credentials by design; s3rver answers them from bucket CORS config (none here: 403).
  server.middleware.unshift(async (ctx, next) => {
    if (ctx.method !== 'OPTIONS') {
      const verdict = verifySigV4({ method: ctx.method, url: ctx.req.url ?? '/', headers: ctx.req.headers }, settings);
      if (!verdict.ok) throw new S3Error(verdict.code, verdict.message);
      // s3rver stores aws-chunked bodies verbatim (chunk sizes and trailing checksum included), so refuse them loudly.
      if (isAwsChunked(ctx.req.headers)) {
        throw new S3Error('NotImplemented', "aws-chunked uploads are not supported by this endpoint; create the S3Client with requestChecksumCalculation: 'WHEN_REQUIRED'");
      }
    }
    await next();
  });
  const address = await server.run();
  console.log(`s3rver listening on http://${address.address}:${address.port}, bucket "${settings.bucket}" (private), data in ${settings.directory}`);

  const shutdown = (signal: string) => {
    console.log(`s3rver: ${signal}, closing`);
    server.httpServer?.close(() => process.exit(0));
    server.httpServer?.closeAllConnections();
    setTimeout(() => process.exit(0), 5_000).unref();
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

if (import.meta.main) {
  main().catch((error: unknown) => {
    console.error(`s3rver failed to start: ${error instanceof Error ? error.stack : String(error)}`);
    process.exit(1);
  });
}
