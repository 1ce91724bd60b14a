import { S3Client } from '@aws-sdk/client-s3';

/** What every S3 client of the project needs: the endpoint, one key pair and a per-request bound. */
export interface S3ClientSettings {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Bounds connecting and each request; a cache miss that cannot reach S3 should fail fast. */
  timeoutMs: number;
}

/**
 * The one place an @aws-sdk/client-s3 client is built (core's report store, the stack's bucket
 * provisioning and the tests share it), so every caller talks to the endpoint the same way.
 *
 * - Path-style addressing: the local endpoint (versitygw) and compose's MinIO serve buckets under
 *   the path; virtual hosts would need DNS names for 127.0.0.1.
 * - One attempt: callers decide themselves whether an operation is worth retrying (core retries
 *   idempotent deletes; a read that cannot reach S3 answers 503 at once).
 * - The SDK's default checksums stay on: versitygw verifies the CRC32 the SDK sends with each
 *   upload and decodes aws-chunked stream bodies, so data is checked end to end. (The old s3rver
 *   fake stored aws-chunked bodies verbatim and needed checksums switched to WHEN_REQUIRED.)
 */
export function createS3Client(settings: S3ClientSettings): S3Client {
  return new S3Client({
    endpoint: settings.endpoint,
    region: settings.region,
    forcePathStyle: true,
    credentials: { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey },
    maxAttempts: 1,
    requestHandler: { connectionTimeout: settings.timeoutMs, requestTimeout: settings.timeoutMs },
  });
}
