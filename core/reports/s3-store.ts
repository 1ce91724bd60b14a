import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { DependencyUnavailable } from '../dependency.ts';

/** Where cached report documents live. Private objects; readers get signed CDN URLs. */
export interface ReportObjectStore {
  exists(key: string): Promise<boolean>;
  /** The object's text, or null when absent. */
  read(key: string): Promise<string | null>;
  write(key: string, body: string): Promise<void>;
  /** Deletes every object under the prefix ('' = the whole bucket); returns the deleted keys. */
  deletePrefix(prefix: string): Promise<string[]>;
  /** The first key segments ("folders") of the bucket, without the slash. */
  listTopLevelSegments(): Promise<string[]>;
  /** The same, a listing page (up to 1,000) at a time, so a walk over the bucket holds one page. */
  topLevelSegmentPages(): AsyncIterable<string[]>;
  /** Some key under the prefix, or undefined when there is none. */
  anyKeyUnder(prefix: string): Promise<string | undefined>;
  ping(): Promise<void>;
}

function statusOf(error: unknown): number | undefined {
  if (error instanceof S3ServiceException) return error.$metadata.httpStatusCode;
  const meta = (error as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata;
  return meta?.httpStatusCode;
}

/** 4xx answers are ours to handle; no answer or a 5xx means S3 is unavailable. */
function unavailable(error: unknown): never {
  const status = statusOf(error);
  if (status !== undefined && status < 500) throw error;
  throw new DependencyUnavailable('s3', error);
}

export function createS3ReportStore(client: S3Client, bucket: string): ReportObjectStore {
  async function* segmentPages(): AsyncGenerator<string[]> {
    let token: string | undefined;
    do {
      let page;
      try {
        page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Delimiter: '/', ContinuationToken: token, MaxKeys: 1000 }));
      } catch (error) {
        return unavailable(error);
      }
      yield (page.CommonPrefixes ?? []).flatMap((common) => (common.Prefix ? [common.Prefix.slice(0, -1)] : []));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async function keysUnder(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix || undefined, ContinuationToken: token, MaxKeys: 1000 }));
      for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return keys;
  }

  /**
   * Deleting is idempotent, so a 5xx is retried a few times (reads and writes fail fast instead, a
   * miss should answer 503 quickly). The local s3rver deletes a batch's keys in parallel and its
   * empty-folder cleanup races with itself, answering 500 now and then; a retry finishes the job.
   */
  async function deleteBatchWithRetry(keys: string[], attempts = 4) {
    for (let attempt = 1; ; attempt++) {
      try {
        return await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true } }));
      } catch (error) {
        const status = statusOf(error);
        if (attempt >= attempts || (status !== undefined && status < 500)) throw error;
        await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
      }
    }
  }

  return {
    async exists(key) {
      try {
        await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
        return true;
      } catch (error) {
        if (statusOf(error) === 404) return false;
        return unavailable(error);
      }
    },

    async read(key) {
      try {
        const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        return (await object.Body?.transformToString('utf-8')) ?? null;
      } catch (error) {
        if (statusOf(error) === 404) return null;
        return unavailable(error);
      }
    },

    async write(key, body) {
      try {
        await client.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: key,
            Body: body,
            ContentType: 'application/json; charset=utf-8',
            // The edge may cache, browsers and shared caches must not (the URL is per person).
            CacheControl: 'private, max-age=60',
          }),
        );
      } catch (error) {
        unavailable(error);
      }
    },

    async deletePrefix(prefix) {
      try {
        const keys = await keysUnder(prefix);
        for (let i = 0; i < keys.length; i += 1000) {
          const batch = keys.slice(i, i + 1000);
          const result = await deleteBatchWithRetry(batch);
          if (result.Errors?.length) throw new Error(`S3 refused to delete ${result.Errors.length} object(s): ${result.Errors[0]?.Code ?? ''} ${result.Errors[0]?.Key ?? ''}`);
        }
        return keys;
      } catch (error) {
        return unavailable(error);
      }
    },

    async listTopLevelSegments() {
      const segments: string[] = [];
      for await (const page of segmentPages()) segments.push(...page);
      return segments;
    },

    topLevelSegmentPages: segmentPages,

    async anyKeyUnder(prefix) {
      try {
        const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, MaxKeys: 1 }));
        return page.Contents?.[0]?.Key;
      } catch (error) {
        return unavailable(error);
      }
    },

    async ping() {
      try {
        await client.send(new HeadBucketCommand({ Bucket: bucket }));
      } catch (error) {
        throw new DependencyUnavailable('s3', error);
      }
    },
  };
}
