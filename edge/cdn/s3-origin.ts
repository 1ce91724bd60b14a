import { AwsClient } from 'aws4fetch';

/**
 * The CDN's origin: the private report bucket, read over plain HTTP with AWS SigV4 (aws4fetch:
 * Web Crypto and fetch only, so it runs on every edge runtime).
 */
export interface OriginObject {
  body: Uint8Array;
  contentType: string;
  /** The bucket's ETag, kept for conditional revalidation. */
  originEtag: string | null;
  lastModified: string | null;
}

export type OriginResult = { status: 'ok'; object: OriginObject } | { status: 'not_modified' } | { status: 'not_found' };

export interface ReportOrigin {
  /** Throws OriginUnavailable when the bucket cannot answer (network, timeout, 5xx, denied, too large). */
  fetch(key: string, ifNoneMatch?: string | null): Promise<OriginResult>;
}

export class OriginUnavailable extends Error {
  constructor(message: string, cause?: unknown) {
    super(message, { cause });
    this.name = 'OriginUnavailable';
  }
}

export interface S3OriginOptions {
  endpoint: string;
  region: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  timeoutMs: number;
  maxObjectBytes: number;
  fetch?: typeof fetch;
}

export function createS3Origin(options: S3OriginOptions): ReportOrigin {
  // No retries inside the signer: the cache decides between stale copies and errors itself.
  const client = new AwsClient({ accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey, region: options.region, service: 's3', retries: 0 });
  const send = options.fetch ?? ((request: Request) => fetch(request));
  const base = `${options.endpoint}/${encodeURIComponent(options.bucket)}`;

  return {
    async fetch(key, ifNoneMatch) {
      const url = `${base}/${key.split('/').map(encodeURIComponent).join('/')}`;
      const headers: Record<string, string> = {};
      if (ifNoneMatch) headers['if-none-match'] = ifNoneMatch;
      let response: Response;
      try {
        const signed = await client.sign(url, { method: 'GET', headers });
        response = await send(new Request(signed, { signal: AbortSignal.timeout(options.timeoutMs) }));
      } catch (error) {
        throw new OriginUnavailable(`S3 unreachable: ${error instanceof Error ? error.message : String(error)}`, error);
      }
      if (response.status === 304) {
        await response.body?.cancel();
        return { status: 'not_modified' };
      }
      if (response.status === 404) {
        await response.body?.cancel();
        return { status: 'not_found' };
      }
      if (response.status !== 200) {
        await response.body?.cancel();
        throw new OriginUnavailable(`S3 answered ${response.status}`);
      }
      const declared = Number(response.headers.get('content-length') ?? '0');
      if (declared > options.maxObjectBytes) {
        await response.body?.cancel();
        throw new OriginUnavailable(`object is ${declared} bytes, above the ${options.maxObjectBytes} byte limit`);
      }
      const body = new Uint8Array(await response.arrayBuffer());
      if (body.byteLength > options.maxObjectBytes) throw new OriginUnavailable(`object is above the ${options.maxObjectBytes} byte limit`);
      return {
        status: 'ok',
        object: {
          body,
          contentType: response.headers.get('content-type') ?? 'application/octet-stream',
          originEtag: response.headers.get('etag'),
          lastModified: response.headers.get('last-modified'),
        },
      };
    },
  };
}
