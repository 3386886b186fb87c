import { createHash } from 'node:crypto';

/** sha256 of bytes or text (UTF-8), lower-case hex. */
export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}
