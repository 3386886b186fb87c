import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import { Worker } from 'node:worker_threads';

/** Below this many files, hashing on the calling thread is cheaper than starting a worker. */
const INLINE_BELOW = 256;
/** No symlink as the last component, and a FIFO cannot block the open. */
const READ_FLAGS = fs.constants.O_RDONLY | (fs.constants.O_NOFOLLOW ?? 0) | (fs.constants.O_NONBLOCK ?? 0);
/** Files per unit of work taken from the shared counter. */
const CHUNK = 32;
const BUF = 1 << 20;

/**
 * sha256 (hex) of one regular file, read in 1 MiB chunks (any size, constant memory); null when it is missing or
 * not a regular file. Symbolic links are not followed: a vendored file replaced by a link is reported, not hashed.
 */
export function hashFileSync(abs: string, buf: Buffer = Buffer.allocUnsafe(BUF)): string | null {
  const d = digestFile(abs, buf, READ_FLAGS);
  return d === null ? null : d.toString('hex');
}

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

const cores = () => Math.max(1, Math.min(os.availableParallelism?.() ?? os.cpus().length, 8));
const warm: Worker[] = [];

/**
 * The worker is ./hash-worker.ts (built next to the bundle as hash-worker.js). Run from source (the unit tests), the
 * built one is used: a worker thread cannot load TypeScript.
 */
const WORKER_URL = new URL(import.meta.url.endsWith('.ts') ? '../../dist/hash-worker.js' : './hash-worker.js', import.meta.url);
const spawn = (): Worker => new Worker(WORKER_URL);

/**
 * Boots the hashing workers before the files are known (a worker takes ~20 ms to start, time the other cores
 * have while the CLI is still loading). Idle warm workers never keep the process alive.
 */
export function prewarmHashing(): void {
  while (warm.length < cores() - 1) {
    const w = spawn();
    w.unref();
    warm.push(w);
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
  /** This worker also lists the folders of the files once no chunk is left (see `listFolders`). */
  listFolders: boolean;
}

/**
 * A folder as read from disk: its names joined by NUL and how many there are; null when it is not a real folder
 * (a link, a file, gone). Joined, so that the listing crosses to the calling thread as a few hundred strings.
 */
export type FolderNames = { count: number; joined: string } | null;

/** The names in one folder, as `readdirSync` gives them. */
export const folderNames = (f: { count: number; joined: string }): string[] => (f.count === 0 ? [] : f.joined.split('\0'));

/**
 * Reads every folder holding one of `files` and every folder above it below `base` (one lstat and one readdir
 * each, names only), keyed by its path relative to `base`: what verify needs to find files the lock does not list,
 * read on a worker thread that has finished its share of the hashing.
 */
export function listFolders(files: string[], base: string): Array<[string, FolderNames]> {
  const prefix = base === '' ? '' : `${base}/`;
  const seen = new Set<string>();
  const out: Array<[string, FolderNames]> = [];
  for (const f of files) {
    for (let d = f.slice(0, Math.max(0, f.lastIndexOf('/'))); d !== '' && !seen.has(d); d = d.slice(0, Math.max(0, d.lastIndexOf('/')))) {
      seen.add(d);
      try {
        out.push([d, readFolder(prefix + d)]);
      } catch {
        // a folder that cannot be read is left out: the calling thread reads it again and fails as it always did
      }
    }
  }
  return out;
}

/**
 * The names in one folder, joined (see `FolderNames`); null when it is not a real folder (a link would let files
 * outside the snapshot pass as its own) or is gone. A real folder that cannot be read throws.
 */
export function readFolder(abs: string): FolderNames {
  let real = false;
  try {
    real = fs.lstatSync(abs).isDirectory();
  } catch {
    /* gone */
  }
  if (!real) return null;
  const list = fs.readdirSync(abs);
  return { count: list.length, joined: list.join('\0') };
}

/**
 * The digests of a job's files, by index. Held as one hex string: `is` compares a recorded digest in place, so a
 * 10,000-file check makes no string per file (only a file that differs is ever cut out, by `get`).
 */
export interface Digests {
  readonly length: number;
  /** sha256 hex of file `i`; null when it is missing or not a regular file. */
  get(i: number): string | null;
  /** Whether file `i` hashed to `hex` (64 lower-case hex digits). */
  is(i: number, hex: string): boolean;
}

/** `Digests` over `n` raw digests laid end to end (32 bytes each) and a status per file (1 = hashed). */
function digestsOf(raw: Buffer, state: Uint8Array, n: number): Digests {
  // one hex conversion for all: 10,000 small ones cost more
  const hex = raw.toString('hex', 0, n * 32);
  return {
    length: n,
    get: (i) => (state[i] === 1 ? hex.slice(i * 64, i * 64 + 64) : null),
    is: (i, want) => state[i] === 1 && want.length === 64 && hex.startsWith(want, i * 64),
  };
}

export interface HashJob {
  /** Hashes what the workers have not taken yet on this thread too, waits for them. */
  finish(): Promise<Digests>;
  /**
   * After `finish()`: the folders a worker read (see `listFolders`), by path relative to the job's base; null when
   * no worker did (a small job is hashed on the calling thread alone).
   */
  folders(): Map<string, FolderNames> | null;
  /** Stops the workers (after an error elsewhere). */
  cancel(): void;
}

/**
 * Starts hashing `files` (absolute paths, or relative to the absolute folder `base`): one worker thread per core
 * but one, taking chunks from a shared counter; the calling thread joins in when it calls `finish()`, so all cores
 * are busy and nobody waits on a fixed split. The list goes over as one string, digests land in shared memory
 * (no per-file messages). With `listFolders`, a worker then reads the files' folders too (`folders()`).
 */
export function startHashing(files: string[], base = '', opts: { listFolders?: boolean } = {}): HashJob {
  const n = files.length;
  const inline = n < INLINE_BELOW;
  // the calling thread's share: the same loop as a worker's, over shared memory when workers take part
  const memory = (size: number) => (inline ? new ArrayBuffer(size) : new SharedArrayBuffer(size));
  const own = { base, next: memory(4), digests: memory(n * 32), status: memory(n), chunk: CHUNK, flags: READ_FLAGS };
  const digests = () => digestsOf(Buffer.from(own.digests), new Uint8Array(own.status), n);
  if (inline) {
    return {
      finish: async () => {
        hashChunks(own, files);
        return digests();
      },
      folders: () => null,
      cancel: () => {},
    };
  }
  const workers: Worker[] = [];
  const done: Array<Promise<void>> = [];
  let cancelled = false;
  const list = files.join('\0');
  let folders: Map<string, FolderNames> | null = null;
  for (let w = 0; w < Math.max(1, cores() - 1); w++) {
    const worker = warm.pop() ?? spawn();
    worker.ref();
    const job: WorkerJob = { ...own, list, listFolders: w === 0 && opts.listFolders === true };
    worker.postMessage(job);
    workers.push(worker);
    done.push(
      new Promise((resolve, reject) => {
        worker.once('message', (m: { folders?: Array<[string, FolderNames]> }) => {
          if (m.folders) folders = new Map(m.folders);
          resolve();
        });
        worker.once('error', reject);
        worker.once('exit', (code) => (code === 0 || cancelled ? resolve() : reject(new Error(`hashing worker exited with code ${code}`))));
      }),
    );
    done[done.length - 1]!.catch(() => {}); // reported by finish(); never an unhandled rejection
  }
  return {
    async finish() {
      hashChunks(own, files);
      await Promise.all(done);
      return digests();
    },
    folders: () => folders,
    cancel() {
      cancelled = true;
      for (const w of workers) void w.terminate();
    },
  };
}
