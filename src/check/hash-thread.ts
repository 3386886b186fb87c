// What every thread taking part in a hashing job runs (the calling thread, and each worker: ./hash-worker.ts,
// bundled on its own as dist/hash-worker.cjs). Nothing here may use import.meta: the worker's bundle is CommonJS.
import crypto from 'node:crypto';
import fs from 'node:fs';

/** No symlink as the last component, and a FIFO cannot block the open. */
export const READ_FLAGS = fs.constants.O_RDONLY | (fs.constants.O_NOFOLLOW ?? 0) | (fs.constants.O_NONBLOCK ?? 0);
/** The read buffer of one thread. */
export const BUF = 1 << 20;

/** One-shot sha256 where Node has it (20.12+): no Hash object for the common single-read file. */
const oneShot = (crypto as { hash?: (alg: string, data: Buffer, enc: 'buffer') => Buffer }).hash;

export function digestFile(abs: string, buf: Buffer, flags: number): Buffer | null {
  let fd: number;
  try {
    fd = fs.openSync(abs, flags);
  } catch {
    return null;
  }
  try {
    let n = fs.readSync(fd, buf, 0, buf.length, null);
    // a regular file's read comes back short only at its end, which saves the read that would return 0
    if (n < buf.length && oneShot) return oneShot('sha256', buf.subarray(0, n), 'buffer');
    // a full buffer: make sure this is a regular file before reading on (a link to /dev/zero never ends)
    if (n === buf.length && !fs.fstatSync(fd).isFile()) return null;
    const h = crypto.createHash('sha256');
    for (; n > 0; n = fs.readSync(fd, buf, 0, buf.length, null)) {
      h.update(n === buf.length ? buf : buf.subarray(0, n));
      if (n < buf.length) break;
    }
    return h.digest();
  } catch {
    return null; // EISDIR and the like: not a regular file
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Takes chunks of `job`'s files from its shared counter until none is left, writing each digest (or a failure) into
 * its shared memory: what every worker and the calling thread run, side by side.
 */
export function hashChunks(job: HashShare, files: string[]): void {
  const prefix = job.base === '' ? '' : `${job.base}/`;
  const counter = new Int32Array(job.next);
  const out = Buffer.from(job.digests);
  const state = new Uint8Array(job.status);
  const buf = Buffer.allocUnsafe(BUF);
  const chunks = Math.ceil(files.length / job.chunk);
  for (let c; (c = Atomics.add(counter, 0, 1)) < chunks;) {
    for (let i = c * job.chunk, end = Math.min(files.length, (c + 1) * job.chunk); i < end; i++) {
      const d = digestFile(prefix + files[i]!, buf, job.flags);
      if (d) {
        d.copy(out, i * 32);
        state[i] = 1;
      } else state[i] = 2;
    }
  }
}

/** What each thread taking part in a job hashes with: the shared counter and where digests and statuses land. */
export interface HashShare {
  base: string;
  next: ArrayBufferLike;
  digests: ArrayBufferLike;
  status: ArrayBufferLike;
  chunk: number;
  flags: number;
}

/** The job a worker receives (one message, before or after it booted). */
export interface WorkerJob extends HashShare {
  list: string;
}
