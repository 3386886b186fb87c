// A hashing worker thread (started by ./hash.ts): waits for one job, hashes chunks of it alongside the other threads.
import { parentPort } from 'node:worker_threads';
import { hashChunks, type WorkerJob } from './hash.js';

parentPort!.once('message', (job: WorkerJob) => {
  hashChunks(job);
  parentPort!.postMessage('done');
});
