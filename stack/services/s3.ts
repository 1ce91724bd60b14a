import { mkdirSync } from 'node:fs';
import { CreateBucketCommand, HeadBucketCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { createS3Client } from '../../common/s3/client.ts';
import type { StackEnv } from '../lib/env.ts';
import { runningPid, startDaemon, stopDaemon } from '../../tools/kit/proc.ts';
import { waitForDaemon } from '../../tools/kit/wait.ts';
import { installVersitygw, s3Settings, versitygwCommand, VERSITYGW_VERSION, type S3Settings } from './s3-server.ts';
import type { StackService } from './service.ts';

const NAME = 's3';

/** An S3 client for the stack's endpoint with the stack's key pair (the shared factory in common/s3). */
export function localS3Client(settings: S3Settings, timeoutMs = 2_000): S3Client {
  return createS3Client({ ...settings, timeoutMs });
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
    // Private (the default ACL): only signed requests by the stack's key pair are served.
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
    version: `versitygw ${VERSITYGW_VERSION} (POSIX backend, go install)`,
    async install(env) {
      await installVersitygw(env);
    },
    isReady,
    async start(env) {
      const settings = s3Settings(env);
      for (const dir of [settings.directory, settings.iamDirectory]) mkdirSync(dir, { recursive: true });
      if (runningPid(NAME) === undefined) {
        const { command, args, env: serverEnv } = versitygwCommand(settings);
        startDaemon(NAME, command, args, { env: serverEnv });
      }
      // A fresh data folder has no bucket, so readiness is "answers SigV4-signed requests";
      // ensureBucket then makes the bucket and isReady (HeadBucket) holds from here on.
      await waitForDaemon(
        NAME,
        async () => {
          await ensureBucket(settings);
          return true;
        },
        { timeoutMs: 30_000, intervalMs: 100, exitedMessage: `versitygw exited during start (port ${settings.port} taken?)` },
      );
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
