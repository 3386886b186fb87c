// A hashing worker thread (started by ./hash.ts, or by bin/gen.cjs before the CLI loads; bundled alone as
// dist/hash-worker.cjs): waits for one job and hashes chunks of it alongside the other threads.
import { parentPort } from 'node:worker_threads';
import { hashChunks, type WorkerJob } from './hash-thread.js';

parentPort!.once('message', (job: WorkerJob) => {
  hashChunks(job, job.list.split('\0'));
  parentPort!.postMessage({});
});
