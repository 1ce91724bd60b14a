import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { CreateBucketCommand, HeadBucketCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import type { StackEnv } from '../lib/env.ts';
import { ROOT } from '../lib/paths.ts';
import { runningPid, startDaemon, stopDaemon } from '../lib/proc.ts';
import { waitForDaemon } from '../lib/wait.ts';
import { s3Settings, type S3Settings } from './s3-server.ts';
import type { StackService } from './service.ts';

const NAME = 's3';
const NODE = join(ROOT, 'node_modules', '.bin', 'node');
const LAUNCHER = join(ROOT, 'stack', 'services', 's3-server.ts');

/**
 * An S3 client for the local endpoint. Path-style because s3rver serves no virtual hosts here;
 * checksums only when an operation requires them, since newer SDKs otherwise send streaming bodies
 * as aws-chunked with trailing checksums, which s3rver 3.7 would store verbatim.
 */
export function localS3Client(settings: S3Settings, timeoutMs = 2_000): S3Client {
  return new S3Client({
    endpoint: settings.endpoint,
    region: settings.region,
    forcePathStyle: true,
    credentials: { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 1,
    requestHandler: { connectionTimeout: timeoutMs, requestTimeout: timeoutMs },
  });
}

/** HeadBucket with the stack's own key pair: proves the server answers, signatures verify and the bucket exists. */
async function headBucket(settings: S3Settings): Promise<boolean> {
  const client = localS3Client(settings);
  try {
    await client.send(new HeadBucketCommand({ Bucket: settings.bucket }));
    return true;
  } catch (error) {
    if (error instanceof S3ServiceException && error.$metadata.httpStatusCode === 404) return false;
    throw error;
  } finally {
    client.destroy();
  }
}

async function ensureBucket(settings: S3Settings): Promise<void> {
  if (await headBucket(settings)) return;
  const client = localS3Client(settings, 10_000);
  try {
    await client.send(new CreateBucketCommand({ Bucket: settings.bucket }));
  } finally {
    client.destroy();
  }
}

function createS3(): StackService {
  const isReady = async (env: StackEnv) => headBucket(s3Settings(env));
  return {
    name: NAME,
    ports: [9002],
    version: 's3rver 3.7.1 (npm) behind a SigV4 guard',
    async install() {
      if (!existsSync(NODE)) throw new Error(`s3: ${NODE} is missing; run npm install (the node devDependency provides Node 24)`);
      if (!existsSync(join(ROOT, 'node_modules', 's3rver', 'package.json'))) throw new Error('s3: the s3rver devDependency is missing; run npm install');
    },
    isReady,
    async start(env) {
      const settings = s3Settings(env);
      mkdirSync(settings.directory, { recursive: true });
      if (runningPid(NAME) === undefined) {
        startDaemon(NAME, NODE, [LAUNCHER], { cwd: ROOT });
      } else {
        // Ours and answering, but the bucket went missing (deleted by hand): put it back.
        await ensureBucket(settings).catch(() => undefined);
      }
      await waitForDaemon(NAME, () => isReady(env), {
        timeoutMs: 30_000,
        intervalMs: 100,
        exitedMessage: `s3rver exited during start (port ${settings.port} taken?)`,
      });
    },
    async provision(env) {
      await ensureBucket(s3Settings(env));
    },
    async stop() {
      await stopDaemon(NAME, 10_000);
    },
  };
}

export const services: StackService[] = [createS3()];
