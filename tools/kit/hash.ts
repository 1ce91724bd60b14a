import { createHash } from 'node:crypto';

/** SHA-256 of UTF-8 text as lowercase hex: the password-hash form ClickHouse's users.xml and Redis ACLs (#<hash>) both take. */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
