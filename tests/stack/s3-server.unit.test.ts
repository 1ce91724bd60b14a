import { describe, expect, test } from 'bun:test';
import { s3Settings, versitygwCommand } from '../../stack/services/s3-server.ts';

const good = {
  S3_ENDPOINT: 'http://127.0.0.1:9002',
  S3_REGION: 'us-east-1',
  S3_BUCKET: 'reports',
  S3_ACCESS_KEY_ID: 'bionicpro-dev',
  S3_SECRET_ACCESS_KEY: 'not-a-real-secret-but-long-enough',
};

describe('s3 settings and the versitygw command line', () => {
  test('settings come from the stack environment; the port from the endpoint', () => {
    const settings = s3Settings(good);
    expect(settings).toMatchObject({ endpoint: 'http://127.0.0.1:9002', host: '127.0.0.1', port: 9002, bucket: 'reports' });
    expect(settings.directory).not.toBe(settings.iamDirectory);
  });

  test('every bad or missing variable is named at once', () => {
    const bad = { S3_ENDPOINT: 'https://s3.example.com/x', S3_BUCKET: 'Reports_', S3_ACCESS_KEY_ID: 'a key' };
    let message = '';
    try {
      s3Settings(bad);
    } catch (error) {
      message = (error as Error).message;
    }
    for (const part of ['must be http://', 'on loopback', 'no path', 'S3_BUCKET', 'S3_REGION is not set', 'S3_SECRET_ACCESS_KEY is not set', 'S3_ACCESS_KEY_ID may hold only']) {
      expect(message).toContain(part);
    }
  });

  test('versitygw listens on loopback only, keeps connections alive, and gets the secret through its environment, not argv', () => {
    const settings = s3Settings(good);
    const { args, env } = versitygwCommand(settings);
    expect(args.slice(args.indexOf('--port'), args.indexOf('--port') + 2)).toEqual(['--port', '127.0.0.1:9002']);
    expect(args).toContain('--keep-alive');
    expect(args.slice(args.indexOf('--iam-dir'), args.indexOf('--iam-dir') + 2)).toEqual(['--iam-dir', settings.iamDirectory]);
    expect(args.slice(-2)).toEqual(['posix', settings.directory]);
    expect(args.join(' ')).not.toContain(good.S3_SECRET_ACCESS_KEY);
    expect(env).toEqual({ ROOT_ACCESS_KEY_ID: good.S3_ACCESS_KEY_ID, ROOT_SECRET_ACCESS_KEY: good.S3_SECRET_ACCESS_KEY });
  });
});
