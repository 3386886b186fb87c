import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { BUF, digestFile, hashChunks, READ_FLAGS, type WorkerJob } from './hash-thread.js';

/** Below this many files, hashing on the calling thread is cheaper than starting a worker. */
const INLINE_BELOW = 256;
/** Files per unit of work taken from the shared counter. */
const CHUNK = 32;

/**
 * sha256 (hex) of one regular file, read in 1 MiB chunks (any size, constant memory); null when it is missing or
 * not a regular file. Symbolic links are not followed: a vendored file replaced by a link is reported, not hashed.
 */
export function hashFileSync(abs: string, buf: Buffer = Buffer.allocUnsafe(BUF)): string | null {
  const d = digestFile(abs, buf, READ_FLAGS);
  return d === null ? null : d.toString('hex');
}

const cores = () => Math.max(1, Math.min(os.availableParallelism?.() ?? os.cpus().length, 8));
const warm: Worker[] = [];

/**
 * The worker is ./hash-worker.ts, bundled on its own next to the CLI as hash-worker.cjs: a worker thread boots a
 * CommonJS file without the ES module loader, ~15 ms sooner. Run from source (the unit tests), the built one is used:
 * a worker thread cannot load TypeScript.
 */
const WORKER_URL = new URL(import.meta.url.endsWith('.ts') ? '../../dist/hash-worker.cjs' : './hash-worker.cjs', import.meta.url);
const spawn = (): Worker => new Worker(WORKER_URL);

/**
 * Boots the hashing workers before the files are known (a worker takes ~30 ms to start, time the other cores have
 * while the CLI is still loading); `started` is one the launcher already started (bin/gen.cjs). Idle warm workers
 * never keep the process alive.
 */
export function prewarmHashing(started?: Worker): void {
  if (started) keepWarm(started);
  while (warm.length < cores() - 1) keepWarm(spawn());
}

function keepWarm(w: Worker): void {
  w.unref();
  // an error before the worker has a job is not one of ours to throw: its job's listeners report what follows, and a
  // worker that is gone by then is not taken (see `takeWarm`)
  w.on('error', () => {});
  warm.push(w);
}

/** A warm worker still running, if any. */
function takeWarm(): Worker | undefined {
  for (let w; (w = warm.pop());) if (w.threadId !== -1) return w;
  return undefined;
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
  /** Stops the workers (after an error elsewhere). */
  cancel(): void;
}

/**
 * Starts hashing `files` (absolute paths, or relative to the absolute folder `base`): one worker thread per core
 * but one, taking chunks from a shared counter; the calling thread joins in when it calls `finish()`, so all cores
 * are busy and nobody waits on a fixed split. The list goes over as one string, digests land in shared memory
 * (no per-file messages).
 */
export function startHashing(files: string[], base = ''): HashJob {
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
      cancel: () => {},
    };
  }
  const workers: Worker[] = [];
  const done: Array<Promise<void>> = [];
  let cancelled = false;
  const list = files.join('\0');
  for (let w = 0; w < Math.max(1, cores() - 1); w++) {
    const worker = takeWarm() ?? spawn();
    worker.ref();
    const job: WorkerJob = { ...own, list };
    worker.postMessage(job);
    workers.push(worker);
    done.push(
      new Promise((resolve, reject) => {
        worker.once('message', () => resolve());
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
    cancel() {
      cancelled = true;
      for (const w of workers) void w.terminate();
    },
  };
}
